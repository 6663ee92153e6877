"""The core circle (DOMAIN §2.3): KOCs chosen from users, capped, re-selected periodically.

Core users are chosen by payment, frequency and loyalty; each operator can hold deep
relationships with only ~15–20 of them (001), and a group holds ~10 core per 500 members (003),
so the circle is capped by both. Each KOC maintains a set of users, extending the operators'
reach at lower strength, posts content (raising the pool's potential) and refers warm users
with "dozens of times" an ordinary user's weight (001). Re-selection recruits the newly
qualified and drops the unqualified.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from sim.core.mechanism import Day, Mechanism
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
    """User ids of the `cap` best qualified buyers by payment, frequency and loyalty (trust)
    among the live users `live` (sorted ids); `among`: a mask of the users who may qualify at
    all (the pyramid's core layer, 004)."""
    qualified = live if among is None else live[among[live]]
    ok = (pop.orders[qualified] > 0) & (pop.trust[qualified] >= params.min_trust)
    eligible = qualified[ok]
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
    rng: np.random.Generator,
    pop: Population,
    live: np.ndarray,
    n_koc: int,
    capacity: int,
    before: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Give each KOC up to `capacity` non-core live users (of `live`, sorted ids), chosen at
    random, in place of the users `before` maintained (the only rows with a KOC); returns
    (their ids, sorted; the KOCs' loads)."""
    pop.koc[before] = -1
    if n_koc == 0 or capacity == 0:
        return before[:0], np.zeros(n_koc, dtype=np.int64)
    candidates = live[pop.layer[live] != 2]
    slots = n_koc * capacity
    if candidates.size > slots:
        candidates = candidates[rng.random(candidates.size) < slots / candidates.size]
    pop.koc[candidates] = rng.integers(0, n_koc, size=candidates.size, dtype=np.int32)
    return candidates, np.bincount(pop.koc[candidates], minlength=n_koc)


def update_layers(
    pop: Population, live: np.ndarray, core: np.ndarray, params: CoreCircle, before: np.ndarray
) -> np.ndarray:
    """Periphery / influence / core layers (003: 20 % active, 80 % silent): the influence layer
    (talkers, sharers: trusting buyers) refers at the full rate, the periphery less (`_refer`).
    `before`: the rows the last call layered (the only rows not in the periphery); returns
    this call's."""
    layer = pop.layer
    layer[before] = 0
    influence = live[(pop.stage[live] >= Stage.BUY) & (pop.trust[live] >= params.influence_trust)]
    layer[influence] = 1
    layer[core] = 2
    return np.concatenate((influence, core))


class Circle(Mechanism):
    """The core circle of a run: its KOC agents and the users they maintain (DOMAIN §2.3).

    Hooks: a phase without a KOC programme dissolves the circle (strategy), KOCs who churned
    since the last re-selection maintain no one (touch), every `koc.reselect_days` the circle
    is re-selected (circle), its size and reach go in the daily table (account). The model asks
    it for KOC touches (`ids`, `touch_today`), pool potential (`potential`), word of mouth
    (`referral`) and the KOC rewards (`cost_per_day`).
    """

    name = "circle"
    state = ("koc", "layer")

    def __init__(
        self,
        params: CoreCircle,
        deep_limit: int,
        eligible: Callable[[Population], np.ndarray] | None = None,
    ):
        self.params = params
        self.deep_limit = deep_limit
        self.eligible = eligible  # users who may join at all (the pyramid's core layer, 004)
        self.kocs: list[KOC] = []
        self.uids = np.empty(0, dtype=np.int64)  # the KOCs' users, as `kocs` lists them
        self.ids = np.empty(0, dtype=np.int64)  # users a KOC maintains (sparse KOC touches)
        self._maintainer = np.empty(0, dtype=np.int32)  # their KOCs' indices (`pop.koc[ids]`)
        self._live: np.ndarray | None = None  # which KOCs `touch_today` was made for
        self._touch = np.empty(0, dtype=np.float32)  # their KOC touches at full strength
        self.touch_today = self._touch  # today's, KOCs who churned giving none
        self._layered = np.empty(0, dtype=np.int64)  # rows out of the periphery (`update_layers`)

    # --- hooks -------------------------------------------------------------------------------

    def strategy(self, model, day: Day) -> None:
        if day.entered and not day.phase.koc_programme and self.kocs:
            self.reselect(model, False)

    def touch(self, model, day: Day) -> None:
        live = self.live(model.population)
        day.live_kocs = int(live.sum())
        if not np.array_equal(live, self._live):  # a KOC churned (or a new circle)
            self.touch_today = self._touch * live[self._maintainer]
            self._live = live

    def circle(self, model, day: Day) -> None:
        every = self.params.reselect_days
        if every and day.d % every == 0:
            self.reselect(model, day.phase.koc_programme)

    def account(self, model, day: Day) -> None:
        pop = model.population
        by_live_koc = self.live(pop)[self._maintainer]
        model.today["koc_count"] = len(self.kocs)
        model.today["koc_maintained"] = int(
            ((pop.stage[self.ids] != Stage.CHURNED) & by_live_koc).sum()
        )

    # --- what the model asks -----------------------------------------------------------------

    def live(self, pop: Population) -> np.ndarray:
        """Which KOCs are still members (a KOC may churn between re-selections)."""
        return pop.stage[self.uids] != Stage.CHURNED

    def potential(self, content_quality: float, n_live: int, n_koc: int) -> float:
        """Pool potential: value content plus KOC activity (social proof), DOMAIN §2.1/§2.3."""
        activity = min(1.0, n_koc * self.params.capacity / n_live) if n_live else 0.0
        return content_quality + self.params.potential_boost * activity

    def referral(self, pop: Population) -> tuple[float, float]:
        """(the weight the KOCs add to members' word of mouth, their whole word of mouth)."""
        if not self.kocs:
            return 0.0, 0.0
        alive = pop.stage[self.uids] != Stage.CHURNED
        koc_trust = float(pop.trust[self.uids][alive].sum())
        extra = (self.params.referral_multiplier - 1.0) * koc_trust
        return extra, self.params.referral_multiplier * koc_trust

    def cost_per_day(self) -> float:
        return self.params.reward_per_day * len(self.kocs)

    def reselect(self, model, programme: bool) -> None:
        """Re-select the circle (none without a programme), its layers and maintained users."""
        pop, p = model.population, self.params
        live = model.user_ids()  # sorted ids
        arrived = int(model.team.arrived(model.day).sum())
        cap = circle_cap(p, arrived, self.deep_limit, live.size)
        among = None if self.eligible is None else self.eligible(pop)
        core = select_core(pop, live, cap if programme else 0, p, among)
        keep = {k.uid: k for k in self.kocs}
        chosen = set(core.tolist())
        for uid, agent in keep.items():
            if uid not in chosen:
                agent.remove()
        self.kocs = [keep.get(uid) or KOC(model, uid) for uid in core.tolist()]
        self.uids = np.array([k.uid for k in self.kocs], dtype=np.int64)
        self._layered = update_layers(pop, live, core, p, self._layered)
        self.ids, loads = assign_maintained(
            model.rng, pop, live, len(self.kocs), p.capacity, self.ids
        )
        per = p.strength * np.minimum(1.0, p.capacity / np.maximum(loads, 1))
        attention = np.concatenate((per, [0.0])).astype(np.float32)
        # only re-selection writes `koc`: the maintained users' KOCs hold until the next one
        self._maintainer = pop.koc[self.ids]
        self._touch = attention[self._maintainer]
        self._live = None  # `touch_today` is made afresh
