"""The core circle (DOMAIN §2.3): KOCs chosen from users, capped, re-selected periodically.

Core users are chosen by payment, frequency and loyalty; each operator can hold deep
relationships with only ~15–20 of them (001), and a group holds ~10 core per 500 members (003),
so the circle is capped by both. Each KOC maintains a set of users, extending the operators'
reach at lower strength, posts content (raising the pool's potential) and refers warm users
with "dozens of times" an ordinary user's weight (001). Re-selection recruits the newly
qualified and drops the unqualified.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.core.params import CoreCircle
from sim.core.population import Population, User
from sim.core.stage import Stage


class KOC(mesa.Agent):
    """A user promoted into the core circle: a full Mesa agent wrapping the user's row."""

    def __init__(self, model, uid: int):
        super().__init__(model)
        self.uid = int(uid)

    @property
    def user(self) -> User:
        return User(self.model.population, self.uid)


def circle_cap(params: CoreCircle, operators_arrived: int, deep_limit: int, live: int) -> int:
    """Core-circle size: operators' deep-relationship limit and the core share of the pool."""
    return int(min(operators_arrived * deep_limit, params.max_share * live))


def select_core(
    pop: Population, live: np.ndarray, cap: int, params: CoreCircle, among: np.ndarray | None = None
) -> np.ndarray:
    """User ids of the `cap` best qualified buyers by payment, frequency and loyalty (trust);
    `among`: a mask of the users who may qualify at all (the pyramid's core layer, 004)."""
    qualified = live if among is None else live & among
    eligible = np.flatnonzero(qualified & (pop.orders > 0) & (pop.trust >= params.min_trust))
    if cap <= 0 or eligible.size == 0:
        return np.empty(0, dtype=np.int64)
    spend = pop.spend[eligible]
    orders = pop.orders[eligible].astype(np.float64)
    score = spend / spend.mean() + orders / orders.mean() + pop.trust[eligible]
    if eligible.size > cap:
        keep = np.argpartition(-score, cap - 1)[:cap]
        eligible, score = eligible[keep], score[keep]
    return np.sort(eligible)


def assign_maintained(
    rng: np.random.Generator, pop: Population, live: np.ndarray, n_koc: int, capacity: int
) -> np.ndarray:
    """Give each KOC up to `capacity` non-core live users, chosen at random; returns loads."""
    pop.koc[:] = -1
    if n_koc == 0 or capacity == 0:
        return np.zeros(n_koc, dtype=np.int64)
    candidates = np.flatnonzero(live & (pop.layer != 2))
    slots = n_koc * capacity
    if candidates.size > slots:
        candidates = candidates[rng.random(candidates.size) < slots / candidates.size]
    pop.koc[candidates] = rng.integers(0, n_koc, size=candidates.size, dtype=np.int32)
    return np.bincount(pop.koc[candidates], minlength=n_koc)


def update_layers(pop: Population, live: np.ndarray, core: np.ndarray, params: CoreCircle):
    """Periphery / influence / core layers (003: 20 % active, 80 % silent): the influence layer
    (talkers, sharers: trusting buyers) refers at the full rate, the periphery less (`_refer`)."""
    layer = pop.layer
    layer[:] = 0
    layer[live & (pop.stage >= Stage.BUY) & (pop.trust >= params.influence_trust)] = 1
    layer[core] = 2
