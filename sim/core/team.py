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
    """One operator: a Mesa agent, since there are few and each has its own ramp and load."""

    def __init__(self, model, arrival_day: int, ramp_days: int, params: Staffing):
        super().__init__(model)
        self.arrival_day = arrival_day
        self.ramp_days = ramp_days
        self.params = params

    def capacity_on(self, day: int) -> float:
        """1:1 touches per day: zero before arrival, rising linearly over the ramp."""
        if day < self.arrival_day:
            return 0.0
        if self.ramp_days == 0:
            return self.params.capacity
        return self.params.capacity * min(1.0, (day - self.arrival_day + 1) / self.ramp_days)


def hire(model, target: int, day: int, prepared: bool) -> int:
    """Hire up to `target` headcount (capped by `max_count`); returns how many were hired."""
    p = model.operators_params
    if p.max_count is not None:
        target = min(target, p.max_count)
    lead, ramp = (
        (p.prepared_lead_days, p.prepared_ramp_days) if prepared else (p.lead_days, p.ramp_days)
    )
    n = max(0, target - len(model.operators))
    for _ in range(n):
        model.operators.append(Operator(model, day + lead, ramp, p))
    return n


def arrived(operators: list[Operator], day: int) -> np.ndarray:
    """Which operators have started work by `day` (hired ones may still be in their lead time)."""
    return np.array([o.arrival_day <= day for o in operators], dtype=bool)


def capacities(operators: list[Operator], day: int) -> np.ndarray:
    return np.array([o.capacity_on(day) for o in operators], dtype=np.float64)


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


def attention(capacity: np.ndarray, load: np.ndarray, max_per_user: float) -> np.ndarray:
    """1:1 touches per user per day under each operator: capacity shared over load."""
    per_user = capacity / np.maximum(load, 1)
    # a trailing zero: operator index -1 (no operator) gets no attention
    return np.concatenate((np.minimum(per_user, max_per_user), [0.0])).astype(np.float32)


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
