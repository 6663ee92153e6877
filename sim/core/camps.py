"""Seed 004's conversion camps: ~100 new users converted over ~7 days with concentrated
operator effort (`pool.layers.camps`, DOMAIN §2.3); a mechanism of a layered pool.

Each day the users who arrived since the last touch are cut into camps of `size`, each run by
the arrived operator with the most free camp slots (an operator runs at most 1 / `effort_share`
camps). A running camp takes `effort_share` of its operator's 1:1 capacity (left for everyone
else: capacity ÷ load on the rest) and spreads it over its live members as extra 1:1
attention, capped at `max_touches_per_user_day`. After `days` days its members join the pool
(`sim.core.pyramid.Layers.move` asks `graduate`), bought or not; users no camp had room for
follow `to_pool_days`. Loops run over camps (tens), never over users.
"""

from __future__ import annotations

import numpy as np

from sim.core.mechanism import Day, Mechanism
from sim.core.params import Camps as CampsParams
from sim.core.pyramid import NEW
from sim.core.stage import Stage
from sim.core.team import attention

_CHURNED = Stage.CHURNED


class Camps(Mechanism):
    """Running camps: hooks touch (form camps, split capacity) and account (their counts)."""

    name = "camps"
    features = ("camps",)

    def __init__(self, params: CampsParams, max_per_user: float):
        self.params = params
        self.max_per_user = max_per_user  # `operators.max_touches_per_user_day`
        self._next_row = 0  # first user row not yet offered a camp
        self._in_camp = np.zeros(0, dtype=bool)  # per user row: member of a running camp
        self._running: list[tuple[np.ndarray, int, int]] = []  # (members, operator, last day)
        self.ended = np.zeros(2, dtype=np.int64)  # today's ended camps: members, buyers

    def touch(self, model, day: Day) -> None:
        day.caps, day.extra = self.camp_touch(model.population, day.caps, day.load, day.d)

    def account(self, model, day: Day) -> None:
        t = model.today
        t["camps_running"], t["camp_members"] = self.counts(model.population)
        t["camp_graduates"], t["camp_buyers"] = (int(k) for k in self.ended)

    def camp_touch(self, pop, caps: np.ndarray, load: np.ndarray, d: int):
        """Form today's camps and split the team's capacity (§2.3): returns the capacity left
        for 1:1 attention by load, and (rows, touches) of camp members' extra 1:1 attention."""
        c, max_per_user = self.params, self.max_per_user
        if self._in_camp.size < pop.n:
            self._in_camp = np.concatenate(
                (self._in_camp, np.zeros(pop.n - self._in_camp.size, dtype=bool))
            )
        rows = np.arange(self._next_row, pop.n)
        self._next_row = pop.n
        rows = rows[(pop.pyramid_layer[rows] == NEW) & (pop.stage[rows] != _CHURNED)]
        slots = np.where(caps > 0, int(1.0 / c.effort_share + 1e-9), 0)
        for _, op, _ in self._running:
            slots[op] -= 1
        for lo in range(0, rows.size, c.size):
            op = int(np.argmax(slots))
            if slots[op] <= 0:
                break  # no operator has room: the rest follow `to_pool_days`
            slots[op] -= 1
            members = rows[lo : lo + c.size]
            self._in_camp[members] = True
            self._running.append((members, op, d + c.days - 1))
        if not self._running:
            return caps, None
        ops = np.array([op for _, op, _ in self._running])
        share = np.float64(c.effort_share) * caps[ops]  # each camp's capacity
        left = np.maximum(caps - np.bincount(ops, weights=share, minlength=caps.size), 0.0)
        regular = attention(left, load, max_per_user)
        ids, touch = [], []
        for (members, _, _), cap in zip(self._running, share, strict=True):
            m = members[(pop.pyramid_layer[members] == NEW) & (pop.stage[members] != _CHURNED)]
            ids.append(m)
            extra = np.float32(cap / max(m.size, 1))
            touch.append(np.clip(max_per_user - regular[pop.operator[m]], 0.0, extra))
        return left, (np.concatenate(ids), np.concatenate(touch).astype(np.float32))

    def graduate(self, pop, day: int, ids: np.ndarray) -> np.ndarray:
        """Of `ids` (today's cohort leaving the new layer), those in no camp, plus the live
        new-layer members of the camps that ended today: who joins the pool now."""
        ids = ids[~self._in_camp[ids]]
        ended = [m for m, _, last in self._running if last <= day]
        self._running = [r for r in self._running if r[2] > day]
        self.ended[:] = 0
        if ended:
            done = np.concatenate(ended)
            self._in_camp[done] = False
            self.ended[:] = done.size, np.count_nonzero(pop.first_buy_day[done] >= 0)
            done = done[(pop.pyramid_layer[done] == NEW) & (pop.stage[done] != _CHURNED)]
            ids = np.concatenate((ids, done))
        return ids

    def counts(self, pop) -> tuple[int, int]:
        """Camps running and their live members in the new layer, at the end of the day."""
        n = sum(
            int(np.count_nonzero((pop.pyramid_layer[m] == NEW) & (pop.stage[m] != _CHURNED)))
            for m, _, _ in self._running
        )
        return len(self._running), n
