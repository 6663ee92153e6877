"""Seed 004's pyramid: users move through layers, each with its own touchpoint mix (DOMAIN §2.3,
§2.4).

004 splits a knowledge-business's users by the product that drew them in: new users of the lead
product, to convert (service account + personal account + group); the pool of users who have
been through at least one conversion push, paid or not, for retention and periodic marketing
washes (mini-program + official account); and the core buyers of the high-price product, fewer
than 1,000, for activity and cross-sell (personal account + group).

Transition rules (`pool.layers`):
- new -> pool `to_pool_days` after joining, bought or not: 004's pool is "users who have been
  through at least one conversion push, paid or not", and that push is ~7 days. Rows are in
  joining order, so the users who move on a day are one contiguous slice (one cohort).
- new or pool -> core on a premium order (004: the core layer is the buyers of the high-price
  product), while the core has room (`core_max`, 004: < 1,000).
- Nobody moves down: churned users stay counted in the layer they left from.
- Conversion camps (`pool.layers.camps`, 004: ~100 new users converted over ~7 days with
  concentrated operator effort): each day the users who arrived since the last touch are cut
  into camps of `size`, each run by the arrived operator with the most free camp slots (an
  operator runs at most 1 / `effort_share` camps). A running camp takes `effort_share` of its
  operator's 1:1 capacity (left for everyone else: capacity ÷ load on the rest) and spreads it
  over its live members as extra 1:1 attention, capped at `max_touches_per_user_day`. After
  `days` days its members join the pool, bought or not; users no camp had room for follow
  `to_pool_days`. Loops run over camps (tens), never over users.
- Pool washes (`pool.layers.washes`, 004: the pool is washed periodically for payment or
  cross-sell; keep asks infrequent, since asking every user in every push wears their
  tolerance): every `every_days` days a wash draws a share `reach` of the pool layer's live
  users and, for `days` days, those still there get `promo_share` of every touch as asks. The
  wash adds no rule of its own: the asks are the model's promotion rule (§2.1) — they convert
  ready non-buyers (first orders), spend trust, crowd out value, and above `promo_tolerance`
  raise the churn hazard — so over-washing drives churn by the same mechanism as an over-selling
  pool.

Each user's entry day into the pool and core layers is kept (`Population.pool_day`,
`core_day`) for the cohort table's layers reached within 30/90 days (`metrics.cohort_layers`).

A move redraws the user's touchpoint memberships from the new layer's mix (bulk, per move) and
re-gathers their rows of the per-user effects. The layers are stacked pool tables
(`sim.core.pool.stack_tables`), indexed by `Population.pyramid_layer` × `MASKS` + mask, the same
per-user pool machinery a place test uses; a layered pool cannot also be place-tested.
"""

from __future__ import annotations

import numpy as np

from sim.core.params import Pool, Pyramid
from sim.core.pool import MASKS, MemberEffects, PoolMix, PoolTables, stack_tables
from sim.core.stage import Stage
from sim.core.team import attention

_CHURNED = Stage.CHURNED

LAYERS = ("new", "pool", "core")  # codes 0, 1, 2 in `Population.pyramid_layer`
NEW, POOL, CORE = range(3)


class Layers:
    """The pyramid's mixes, tables and moves; one per model run with `pool.layers`."""

    def __init__(self, pool: Pool, catalogue):
        p: Pyramid = pool.layers
        self.params = p
        self.pools = [
            Pool(
                name=f"{pool.name}.{name}",
                touchpoints=list(getattr(p, name).touchpoints),
                promo_share=getattr(p, name).promo_share,
                promo_tolerance=pool.promo_tolerance,
                content_quality=getattr(p, name).content_quality,
            )
            for name in LAYERS
        ]
        self.mixes = [PoolMix(q, catalogue) for q in self.pools]
        self.core_live = 0  # live core members at the last count (the core's room)
        self.moved = np.zeros(len(LAYERS), dtype=np.int64)  # users who entered each layer today
        c = p.camps
        self.camps = c if c is not None and c.enabled else None  # None: no camps run
        self._next_row = 0  # first user row not yet offered a camp
        self._in_camp = np.zeros(0, dtype=bool)  # per user row: member of a running camp
        self._running: list[tuple[np.ndarray, int, int]] = []  # (members, operator, last day)
        self.camp_ended = np.zeros(2, dtype=np.int64)  # today's ended camps: members, buyers
        w = p.washes
        self.washes = w if w is not None and w.enabled else None  # None: no washes run
        # a wash's asks above the tolerated share, in tolerance widths (as `pool.stack_tables`)
        tol = pool.promo_tolerance
        self.wash_excess = 0.0 if w is None else max(0.0, w.promo_share - tol) / tol
        self._washed = np.zeros(0, dtype=np.int64)  # rows the running wash reached
        self.wash_running = False
        self.users_washed = 0  # live pool-layer users the wash reached today

    def camp_touch(self, pop, caps: np.ndarray, load: np.ndarray, d: int, max_per_user: float):
        """Form today's camps and split the team's capacity (§2.3): returns the capacity left
        for 1:1 attention by load, and (rows, touches) of camp members' extra 1:1 attention."""
        c = self.camps
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

    def wash(self, rng: np.random.Generator, pop, d: int) -> np.ndarray | None:
        """Rows today's wash reaches (§2.3: periodic washes of the pool), or None on a day
        without one. A wash starts every `every_days` days (the first on day `every_days`),
        draws its reach among the pool layer's live users then, and runs `days` days over
        those of them still live in the pool layer."""
        w = self.washes
        self.wash_running = d >= w.every_days and d % w.every_days < w.days
        if not self.wash_running:
            self.users_washed = 0
            return None
        if d % w.every_days == 0:
            rows = np.flatnonzero((pop.pyramid_layer == POOL) & (pop.stage != _CHURNED))
            self._washed = rows[rng.random(rows.size, dtype=np.float32) < np.float32(w.reach)]
        ids = self._washed
        ids = ids[(pop.pyramid_layer[ids] == POOL) & (pop.stage[ids] != _CHURNED)]
        self._washed = ids
        self.users_washed = int(ids.size)
        return ids

    def camp_counts(self, pop) -> tuple[int, int]:
        """Camps running and their live members in the new layer, at the end of the day."""
        n = sum(
            int(np.count_nonzero((pop.pyramid_layer[m] == NEW) & (pop.stage[m] != _CHURNED)))
            for m, _, _ in self._running
        )
        return len(self._running), n

    def tables(self, reach_multiplier: float, fitted, phi: float) -> PoolTables:
        """Per-(layer, mask) effects; `fitted(tables, phi)` folds in the pool's place fit."""
        return stack_tables(
            [
                fitted(m.tables(reach_multiplier, q.promo_share / q.promo_tolerance), phi)
                for m, q in zip(self.mixes, self.pools, strict=True)
            ],
            self.pools,
            [phi] * len(LAYERS),
        )

    def draw_new(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.mixes[NEW].draw_membership(rng, n)

    def potential(self, potential: float, content_quality: float, effects) -> np.ndarray:
        """Each user's layer content plus the pool-wide KOC boost, × place fit."""
        return (effects.content + np.float32(potential - content_quality)) * effects.gain

    def move(
        self,
        rng: np.random.Generator,
        pop,
        day: int,
        premium_buyers: np.ndarray | None,
        effects: MemberEffects,
        tables: PoolTables,
    ) -> None:
        """Today's moves: the cohort whose push ended joins the pool; premium buyers the core."""
        self.moved[:] = 0
        rows = pop.slice_joined(day - self.params.to_pool_days, day - self.params.to_pool_days)
        layer = pop.pyramid_layer[rows]
        ids = rows.start + np.flatnonzero((layer == NEW) & (pop.stage[rows] != _CHURNED))
        if self.camps is not None:  # camp members join the pool when their camp ends
            ids = ids[~self._in_camp[ids]]
            ended = [m for m, _, last in self._running if last <= day]
            self._running = [r for r in self._running if r[2] > day]
            self.camp_ended[:] = 0
            if ended:
                done = np.concatenate(ended)
                self._in_camp[done] = False
                self.camp_ended[:] = done.size, np.count_nonzero(pop.first_buy_day[done] >= 0)
                done = done[(pop.pyramid_layer[done] == NEW) & (pop.stage[done] != _CHURNED)]
                ids = np.concatenate((ids, done))
        self._enter(rng, pop, ids, POOL, day, effects, tables)
        if premium_buyers is not None and premium_buyers.size:
            up = premium_buyers[
                (pop.pyramid_layer[premium_buyers] != CORE)
                & (pop.stage[premium_buyers] != _CHURNED)
            ]
            if self.params.core_max is not None:
                up = up[: max(0, self.params.core_max - self.core_live - int(self.moved[CORE]))]
            self._enter(rng, pop, up, CORE, day, effects, tables)

    def _enter(self, rng, pop, ids, layer: int, day: int, effects: MemberEffects, tables) -> None:
        if ids.size == 0:
            return
        pop.pyramid_layer[ids] = layer
        (pop.pool_day if layer == POOL else pop.core_day)[ids] = day
        pop.touchpoints[ids] = self.mixes[layer].draw_membership(rng, ids.size)
        effects.refresh(tables, ids, pop.touchpoints, pop.pyramid_layer)
        self.moved[layer] += ids.size

    def counts(self, by_key: np.ndarray) -> np.ndarray:
        """Live users per layer from live users per (layer, mask) row."""
        per = by_key.reshape(len(LAYERS), MASKS).sum(axis=1)
        self.core_live = int(per[CORE])
        return per
