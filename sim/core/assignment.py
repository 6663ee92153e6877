"""Who gets an operator, and when (DOMAIN §2.2): the run's `Assignment` mechanism.

Relationships are continuous: a user keeps their operator (unless a hand-over moves them,
`sim.core.team.Team.hand_over`). Two rules decide the first assignment:

- `Continuous` (no friend cap): each new user goes at once to an arrived operator in proportion
  to current (ramped) capacity; users who joined while no operator had arrived are assigned
  when the first ones arrive.
- `FriendCap` (`operators.friend_cap`): an operator's account holds at most that many friends,
  so every new user waits unassigned and, each day once loads are counted, the waiting are
  served first come, first served: as many of the longest-waiting as the arrived accounts have
  room for go to them, in proportion to capacity; the rest keep waiting (and count in the daily
  table's `unassigned_users`). Only those served draw an operator, so a long queue costs
  nothing a day.
"""

from __future__ import annotations

import numpy as np

from sim.core import kernels, team
from sim.core.mechanism import Day, Mechanism


class Assignment(Mechanism):
    """The role the model asks: `joined` (new rows), `arrived` (the arrived count changed,
    before loads are counted); the `staff` hook runs once loads are counted."""

    name = "assignment"
    state = ("operator",)

    def joined(self, model, rows: slice) -> None:
        """Operators of users who joined just now."""

    def arrived(self, model, day: Day) -> None:
        """Operators arrived (or left their lead time) today: assign who waits for them."""


class Continuous(Assignment):
    """Assign at once in proportion to capacity; orphans when operators first arrive."""

    def joined(self, model, rows: slice) -> None:
        caps = model.team.capacities(model.day)
        model.population.operator[rows] = team.assign(model.rng, rows.stop - rows.start, caps)

    def arrived(self, model, day: Day) -> None:
        pop = model.population
        orphans = np.flatnonzero(pop.live() & (pop.operator < 0))
        caps = model.team.capacities(day.d)
        pop.operator[orphans] = team.assign(model.rng, orphans.size, caps)


class FriendCap(Assignment):
    """New users wait; each day the waiting fill the arrived accounts' room (§2.2)."""

    name = "friend_cap"
    features = ("friend_cap",)

    def __init__(self, cap: int):
        self.cap = cap

    def staff(self, model, day: Day) -> None:
        pop = model.population
        room = self.cap - day.load
        caps = model.team.capacities(day.d)
        free = int(np.maximum(room, 0)[caps > 0].sum())  # what the arrived accounts can take
        # rows are in joining order: the longest-waiting first
        waiting, _ = kernels.unassigned(day.live_rows, pop.operator, free)
        got = team.assign_capped(model.rng, waiting.size, caps, room)
        pop.operator[waiting] = got
        day.load = day.load + np.bincount(got[got >= 0], minlength=len(model.team))

    def account(self, model, day: Day) -> None:
        _, waiting = kernels.unassigned(day.live_rows, model.population.operator, 0)
        model.today["unassigned_users"] = int(waiting)  # live rows at the account
