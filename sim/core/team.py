"""Operators with limited 1:1 service capacity (DOMAIN §2.2).

"3 people serving 5,000 users can greet them morning and evening and conversion is high; at
50,000 you can't serve them" (001). An operator's daily capacity is shared over the users
assigned to them, so the 1:1 attention a user gets is capacity ÷ load: this is the mechanism of
conversion decay. Hires arrive after a lead time and ramp up; both are shorter once the hiring
capability was prepared in an earlier phase ("takes at least a quarter", 001).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.core.params import Staffing


class Operator(mesa.Agent):
    """One operator: a Mesa agent, since there are few and each has its own ramp and load.
    Its arrival and ramp days live in the team's arrays (`Team`), read here by index."""

    def __init__(self, model, team: Team, index: int):
        super().__init__(model)
        self.team = team
        self.index = index

    @property
    def arrival_day(self) -> int:
        return int(self.team.arrival[self.index])

    @property
    def ramp_days(self) -> int:
        return int(self.team.ramp[self.index])

    def capacity_on(self, day: int) -> float:
        """1:1 touches per day: zero before arrival, rising linearly over the ramp."""
        return float(self.team.capacities(day)[self.index])


class Team:
    """The operators (Mesa agents) with their arrival and ramp days as arrays, so which have
    arrived and their (ramped) capacities are computed once a day, vectorised: every phase that
    needs them (assignment, touches, the circle's cap, the account) reads the same arrays."""

    def __init__(self, model, params: Staffing):
        self.model = model
        self.params = params
        self.operators: list[Operator] = []
        self.arrival = np.zeros(0, dtype=np.int64)
        self.ramp = np.zeros(0, dtype=np.int64)
        self._day: tuple[int, int] | None = None  # (day, headcount) of the cached arrays
        self._arrived = np.zeros(0, dtype=bool)
        self._caps = np.zeros(0, dtype=np.float64)
        self._counted = -1  # operators arrived at the last `arrivals` count
        self._before: np.ndarray | None = None  # which had arrived then

    def __len__(self) -> int:
        return len(self.operators)

    def add(self, n: int, arrival_day: int, ramp_days: int) -> None:
        """`n` operators arriving on `arrival_day`, ramping up over `ramp_days`."""
        for _ in range(n):
            self.operators.append(Operator(self.model, self, len(self.operators)))
        self.arrival = np.concatenate((self.arrival, np.full(n, arrival_day, dtype=np.int64)))
        self.ramp = np.concatenate((self.ramp, np.full(n, ramp_days, dtype=np.int64)))

    def hire(self, target: int, day: int, prepared: bool) -> int:
        """Hire up to `target` headcount (capped by `max_count`); returns how many were hired."""
        p = self.params
        if p.max_count is not None:
            target = min(target, p.max_count)
        lead, ramp = (
            (p.prepared_lead_days, p.prepared_ramp_days) if prepared else (p.lead_days, p.ramp_days)
        )
        n = max(0, target - len(self.operators))
        self.add(n, day + lead, ramp)
        return n

    def _count(self, day: int) -> None:
        if self._day == (day, len(self.operators)):
            return
        self._day = day, len(self.operators)
        cap = self.params.capacity
        arrived = self.arrival <= day
        frac = np.minimum(1.0, (day - self.arrival + 1) / np.maximum(self.ramp, 1))
        caps = np.where(self.ramp == 0, cap, cap * frac)
        caps[~arrived] = 0.0
        arrived.flags.writeable = caps.flags.writeable = False
        self._arrived, self._caps = arrived, caps

    def arrived(self, day: int) -> np.ndarray:
        """Which operators have started work by `day` (hires may still be in their lead time);
        read-only."""
        self._count(day)
        return self._arrived

    def capacities(self, day: int) -> np.ndarray:
        """Each operator's 1:1 touches on `day`: zero before arrival, rising linearly over the
        ramp (a ramping hire takes new users as they ramp up); read-only."""
        self._count(day)
        return self._caps

    def arrivals(self, day: int) -> np.ndarray | None:
        """The arrival mask when the number arrived changed since the last call, else None."""
        arrived = self.arrived(day)
        count = int(arrived.sum())
        if count == self._counted:
            return None
        self._counted = count
        return arrived

    def hand_over(self, rng: np.random.Generator, pop, arrived: np.ndarray) -> None:
        """New hires take a share of existing users (`operators.handover_share`, default 0:
        relationships are continuous); a handed-over user loses `handover_trust_cost` of trust,
        built with the person they knew (§2.1: trust comes from 1:1 touches; 004)."""
        o = self.params
        before = self._before
        self._before = arrived
        if o.handover_share <= 0 or before is None:
            return
        before = np.concatenate((before, np.zeros(arrived.size - before.size, dtype=bool)))
        moved = handover(
            rng,
            pop.operator,
            pop.live(),
            before,
            np.flatnonzero(arrived & ~before),
            o.handover_share,
            o.friend_cap,
        )
        trust = pop.trust[moved] - np.float32(o.handover_trust_cost)
        pop.trust[moved] = np.maximum(trust, 0.0)


def assign(rng: np.random.Generator, n: int, capacity: np.ndarray) -> np.ndarray:
    """Operator index for `n` users, in proportion to each operator's current capacity."""
    total = capacity.sum()
    if n == 0 or total <= 0:
        return np.full(n, -1, dtype=np.int32)
    # inverse CDF of one uniform per user: `rng.choice(len, n, p=...)`'s own draws, without
    # its checks of `p` (twice the cost at a day's arrivals)
    cdf = (capacity / total).cumsum()
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(n), side="right").astype(np.int32)


def attention(
    capacity: np.ndarray, load: np.ndarray, max_per_user: float, worth: float | np.ndarray = 1.0
) -> np.ndarray:
    """1:1 touches per user per day under each operator: capacity shared over load, each touch
    worth `worth` (per operator: its capability, `sim.core.capability`; 1 without it)."""
    per_user = capacity / np.maximum(load, 1)
    # a trailing zero: operator index -1 (no operator) gets no attention
    return np.concatenate((np.minimum(per_user, max_per_user) * worth, [0.0])).astype(np.float32)


def assign_capped(
    rng: np.random.Generator, n: int, capacity: np.ndarray, room: np.ndarray
) -> np.ndarray:
    """Like `assign`, but an operator takes at most `room` more users (an account's friend cap,
    `operators.friend_cap`); users beyond every operator's room stay unassigned (-1).

    Rounds over operators, never users: each round draws the still unassigned users in
    proportion to the capacity of operators with room, and an operator keeps the first of its
    draws up to its room.
    """
    out = np.full(n, -1, dtype=np.int32)
    if n == 0:
        return out
    room = np.maximum(room.astype(np.int64), 0)
    for _ in range(len(capacity)):  # each round fills at least one operator or everyone
        todo = np.flatnonzero(out < 0)
        weights = np.where(room > 0, capacity, 0.0)
        if todo.size == 0 or weights.sum() <= 0:
            break
        pick = assign(rng, todo.size, weights)
        order = np.argsort(pick, kind="stable")
        sorted_pick = pick[order]
        starts = np.searchsorted(sorted_pick, np.arange(len(capacity)))
        rank = np.arange(todo.size) - starts[sorted_pick]  # place among the operator's draws
        keep = rank < room[sorted_pick]
        out[todo[order[keep]]] = sorted_pick[keep]
        if keep.all():  # everyone placed: the next round would find no one
            break
        room -= np.bincount(sorted_pick[keep], minlength=len(capacity))
    return out


def handover(
    rng: np.random.Generator,
    operator: np.ndarray,
    live: np.ndarray,
    before: np.ndarray,
    new: np.ndarray,
    share: float,
    room: int | None = None,
) -> np.ndarray:
    """Hand a share of existing users to newly arrived hires (`operators.handover_share`):
    each hire in `new` (operator indices) takes each live user of the operators in `before`
    (a mask over operators) with probability `share`, at most `room` users each (an account's
    friend cap). One uniform per candidate user, no loop over users; returns the moved ids
    (`operator` is updated in place)."""
    if share <= 0 or new.size == 0 or not before.any():
        return np.zeros(0, dtype=np.int64)
    ok = np.concatenate((before, [False]))  # index -1 (no operator) is never handed over
    ids = np.flatnonzero(live & ok[operator])
    u = rng.random(ids.size)
    hit = u < min(1.0, share * new.size)
    ids, pick = ids[hit], np.minimum((u[hit] / share).astype(np.int64), new.size - 1)
    if room is not None:  # a hire takes at most `room`: the oldest (rows in joining order)
        order = np.argsort(pick, kind="stable")
        rank = np.arange(pick.size) - np.searchsorted(pick[order], pick[order])
        keep = np.zeros(pick.size, dtype=bool)
        keep[order[rank < room]] = True
        ids, pick = ids[keep], pick[keep]
    operator[ids] = new[pick]
    return ids
