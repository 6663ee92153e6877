"""The Mesa model of a brand's private domain.

One day (one Mesa step) runs these phases in order (DOMAIN §6):

1. Strategy — the active phase sets acquisition volume and mix, team target, KOC programme,
   systems level; entering a phase hires up to its team size.
2. Acquire — arrivals per channel (Poisson, thinned by the unacquired share of the market),
   unit cost rising with time and volume, arrival stage and intent by channel; each arrival's
   repeat-rate multiplier (Gamma, mean by intent) and dropout propensity (Beta), BG/NBD (§5).
3. Staff — hires arrive after their lead time and ramp up; users keep their operator (unless
   `operators.handover_share` hands a share to an arriving hire, at a trust cost), each new
   user goes to an arrived operator in proportion to current (ramped) capacity, and users who
   joined while no operator had arrived are assigned when the first ones arrive.
4. Touch — 1:1 attention = operator capacity ÷ load (carried by the pool's 1:1 touchpoints;
   a phase that builds capability spends a share of capacity on it),
   KOC touches, broadcast value and asks by the pool's touchpoint mix and promo share.
5. Trust — value raises it (saturating, scaled by pool potential), asks spend it, neglect
   decays it.
6. Advance — aware → familiar → trust by thresholds; purchase hazards (first order, repeat).
7. Churn — hazard from excess asks, low trust, low intent, bans. Churn and purchase compete on
   one uniform draw per user; orders are booked; deal hunters drop after the bait, and after
   a repeat order a customer stops buying for good with their own dropout propensity (BG/NBD
   dropout, §5: a lapsed buyer, still in the pool).
8. Refer — trusting members and KOCs bring warm users (thinned like acquisition); the silent
   periphery refers less than the influence layer.
9. Circle — every `koc.reselect_days`: re-select KOCs, reassign maintained users, layers.
10. Account — revenue, margin, spend, team cost; Mesa's DataCollector records the day.

The phase may then end, or its failed gate hold it or stop its acquisition (strategy gate,
`sim.core.strategy`), effective from the next day. A phase's rules on its measured cohorts
(spend per channel, pace, stop-loss: `sim.core.rules`) act through the hooks below.

Each phase is the model's own rule plus the hooks of the run's mechanisms (`sim.core.mechanism`),
called at one documented point of the phase in the order of `mechanisms()`:

| phase    | where the hooks run                                 | mechanisms with a hook        |
|----------|-----------------------------------------------------|-------------------------------|
| strategy | after a starting phase's hires, before its tables   | fit, circle, capability,      |
|          |                                                     | rules                         |
| acquire  | before the channels' arrivals (none once stopped)   | market, reputation, rules     |
| staff    | after loads are counted                             | friend cap                    |
| touch    | after capacity and pool effects, before touches     | camps, washes, circle,        |
|          |                                                     | capability                    |
| advance  | after the purchase hazards                          | fit                           |
| churn    | after orders, bait dropouts and lapses              | fit, layers (camps within),   |
|          |                                                     | reputation                    |
| circle   | the whole phase                                     | circle                        |
| account  | after the model's own columns                       | all that add columns, rules   |

Steps 4-6's per-user rules (`sim.core.dynamics`) run fused into one compiled pass over the live
rows, and step 7's churn hazard and events into another (`sim.core.kernels`, bit for
bit the numpy rules; issue #24); the live users' ids are kept as an index (`_live_rows`), so
the tallies never scan the churned rows, most rows of a long run.

Values the model needs from a mechanism come from the one holding the role: the pool source
(`fit.Brand`, or `pyramid.Layers` for a layered pool) gives the tables, pool index, new users'
memberships, potential, promo share and excess asks; the assignment (`assignment.Continuous`
or `assignment.FriendCap`) assigns operators to new users and to those waiting when operators
arrive; the circle (`circle.Circle`) gives KOC touches, potential and word of mouth; brand fit
(`fit.Brand`, DOMAIN §3.1) gives the channel mix, arms and intent of new users, and whether its
0-1 test has matured (which holds the phase's gate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim.core import acquisition, dynamics, kernels, results, team, truth
from sim.core.assignment import Assignment, Continuous, FriendCap
from sim.core.camps import Camps
from sim.core.capability import Capability
from sim.core.circle import Circle
from sim.core.fit import Brand
from sim.core.ledger import (
    MarginByAge,
    TransactionLog,
    customer_frame,
    record_orders,
    transaction_frames,
)
from sim.core.market import Market
from sim.core.mechanism import PHASES, Day, Mechanism, PoolSource
from sim.core.metrics import (
    CONVERSION_WINDOW,
    cohorts,
    conversion_30d,
    daily_discount,
    matured_rows,
    rfm_counts,
    summary,
    window_ltv_cac,
)
from sim.core.params import IMPORTED, REFERRAL, Scenario, scenario
from sim.core.pool import MemberEffects, PoolTables, member_key
from sim.core.population import Population, User
from sim.core.pyramid import Layers
from sim.core.reputation import Reputation
from sim.core.rules import Rules
from sim.core.stage import Stage
from sim.core.strategy import PhaseClock
from sim.core.washes import Washes

__all__ = ["Day", "Mechanisms", "PrivateDomainModel", "mechanisms"]

_STAGE_COLUMNS = [s.name.lower() for s in Stage]  # the daily table's users per stage


@dataclass
class Mechanisms:
    """A run's mechanisms by the roles the model asks for values, and all of them in hook
    order (which is also the order of their random draws)."""

    brand: Brand  # brand fit (§3.1): channel mix, arms and intent of new users, test maturity
    source: PoolSource  # whose pool tables each user reads: the brand's, or the pyramid's
    assignment: Assignment  # who gets an operator when
    circle: Circle  # KOC touches, potential, word of mouth
    ordered: list[Mechanism]


def mechanisms(sc: Scenario, channel_names: list[str], seed: int | None) -> Mechanisms:
    """The run's mechanisms, built once from the scenario: a new mechanism is a line here."""
    brand = Brand(sc, channel_names, seed)  # latent fit and 0-1 tests (§3.1), own generators
    layers = None if sc.pool.layers is None else Layers(sc.pool, sc.touchpoints, brand)
    extra: list[Mechanism] = []
    if layers is not None:  # seed 004's pyramid and what runs on it (§2.3)
        p = sc.pool.layers
        if p.camps is not None and p.camps.enabled:
            layers.camps = Camps(p.camps, sc.operators.max_touches_per_user_day)
            extra.append(layers.camps)
        if p.washes is not None and p.washes.enabled:
            extra.append(Washes(p.washes, sc.pool.promo_tolerance))
    cap = sc.operators.friend_cap
    assignment = Continuous() if cap is None else FriendCap(cap)
    in_core = layers is not None and layers.params.circle_in_core
    circle = Circle(sc.koc, sc.operators.deep_limit, layers.core_members if in_core else None)
    # issue #22's mechanisms, each built only when enabled (none draws random numbers)
    more: list[Mechanism] = []
    if Rules.wanted(sc.strategy):  # phase rules on measured cohorts (§3.2, issue #23); first:
        codes = {name: i for i, name in enumerate(channel_names)}  # its hires before capability's
        more.append(Rules(sc.strategy, dict(sorted(sc.channels.items())), codes, sc.operators))
    if sc.capability.enabled:  # capability as effectiveness (001 ~545-595)
        more.append(Capability(sc.capability))
    if sc.market.enabled:  # a finite market per channel that burns (§5, §3.2)
        more.append(Market(sc.market, channel_names))
    if sc.reputation.enabled:  # negative word of mouth of bad experiences (§2.1, §3.2)
        more.append(Reputation(sc.reputation, sc.churn))
    return Mechanisms(
        brand=brand,
        source=brand if layers is None else layers,
        assignment=assignment,
        circle=circle,
        ordered=[brand, *([] if layers is None else [layers]), *extra, assignment, circle, *more],
    )


class PrivateDomainModel(mesa.Model):
    """A brand's private domain: users in numpy arrays, operators and KOCs as Mesa agents.

    Takes a checked `sim.core.params.Scenario` (`scenario(...)` builds one from a composed
    config or plain mappings; `from_config` does both) and uses it as it is: `self.params`.
    """

    def __init__(self, scenario: Scenario):
        if not isinstance(scenario, Scenario):
            raise TypeError(
                f"scenario: expected a checked sim.core.params.Scenario, got "
                f"{type(scenario).__name__}; build one with sim.core.params.scenario(...) or "
                "use PrivateDomainModel.from_config(cfg)"
            )
        sc = self.params = scenario
        # sorted: draws and channel codes must not depend on the order keys were written in
        # (the config hash sorts keys, so two orders would be "the same config")
        self.channels = dict(sorted(sc.channels.items()))
        # every order, only when asked (no cost otherwise): ledger.TransactionLog
        self.transaction_log = TransactionLog() if sc.outputs.transactions else None

        super().__init__(rng=sc.seed)
        self.seed = sc.seed
        self.horizon_days = sc.horizon_days
        self.day = 0
        self.channel_names = [*self.channels, REFERRAL, IMPORTED]
        self._code = {name: i for i, name in enumerate(self.channel_names)}
        self.imported = self._code[IMPORTED]
        built = mechanisms(sc, self.channel_names, sc.seed)
        self.brand, self.source, self.circle = built.brand, built.source, built.circle
        self.assignment, self.mechanisms = built.assignment, built.ordered
        self._hooks = {
            p: [h for m in self.mechanisms if (h := m.hooks().get(p)) is not None] for p in PHASES
        }
        self._features = [f for m in self.mechanisms for f in m.features]
        if sc.outputs.spend_by_channel:  # an optional output: results.SPEND_BY_CHANNEL
            self._features.append(results.SPEND_BY_CHANNEL)
        self._bought = dict.fromkeys(self.channels, 0.0)  # cumulative users bought per channel
        self._daily_discount = daily_discount(sc.economics.discount_rate_annual)
        self._by_age = MarginByAge(  # LTV at fixed ages (metrics.ltv_at_ages)
            max(sc.economics.ltv_horizons_days), self.imported, sc.horizon_days
        )

        self.population = Population(capacity=max(1024, sc.initial_users * 5 // 4))
        # `_live_rows`: the index in one of two buffers (`_churn` compacts into the other)
        self._live_bufs = [np.empty(1024, dtype=np.intp), np.empty(1024, dtype=np.intp)]
        self._live, self._live_n = self._live_bufs[0][:0], 0
        self.team = team.Team(self, sc.operators)
        self.effects = MemberEffects()  # pool effects per user, gathered once per phase
        self.tables: PoolTables | None = None  # the pool source's, set when a phase starts
        self._capability_days = 0
        self._truth: list | None = None  # [candidate values] once the summary asked
        self.clock = PhaseClock(sc.strategy)

        o = sc.operators
        start = o.count if o.max_count is None else min(o.count, o.max_count)
        self.team.add(start if o.fixed is None else o.fixed, 0, 0)  # a fixed team: all day 0
        if sc.initial_users:
            ch = self.channels[sc.initial_channel]
            self._add_users(
                sc.initial_users,
                IMPORTED,
                ch.arrival_stage,
                ch.intent_mean,
                ch.intent_concentration,
                cac=0.0,
            )

        self.today: dict[str, float] = {}  # today's row of the daily table
        self._daily: tuple[int, pd.DataFrame] | None = None  # (days collected, `daily()`)
        self.datacollector = results.DailyCollector(
            self.today, self.channels, self.brand.arm_columns(), self._features
        )

    @classmethod
    def from_config(cls, cfg) -> PrivateDomainModel:
        """A model from a composed config or plain mappings (its model keys: the experiment
        floor drops the others, `sim.experiment.config.NON_MODEL_KEYS`), checked once."""
        return cls(scenario(cfg))

    def mechanism(self, name: str) -> Mechanism | None:
        """The run's mechanism called `name` (`Mechanism.name`), None if it has none."""
        return next((m for m in self.mechanisms if m.name == name), None)

    # --- the Mesa-facing user API ----------------------------------------------------------

    def user(self, uid: int) -> User:
        """A view of one user (see `sim.core.population` for why users are not stored agents)."""
        return User(self.population, uid)

    def user_ids(self, stage: Stage | None = None) -> np.ndarray:
        """Ids of users in `stage` (all live users if None), sorted."""
        if stage is None:  # from the live index: no scan of the churned rows
            return self._live_rows().copy()
        return np.flatnonzero(self.population.stage == stage)

    @property
    def operators(self) -> list:
        """The operator agents (`sim.core.team.Operator`), hired order."""
        return self.team.operators

    @property
    def kocs(self) -> list:
        """The KOC agents of the core circle (`sim.core.circle.KOC`)."""
        return self.circle.kocs

    # --- one day -----------------------------------------------------------------------------

    def step(self) -> None:
        """One day: the phases of the module docstring, in order (DOMAIN §6)."""
        day = Day(self.day, self.clock.phase, entered=self.day == self.clock.started_day)
        self._strategy(day)
        self._acquire(day)
        self._staff(day)
        self._touch(day)
        self._trust(day)
        self._advance(day)
        self._churn(day)
        self._refer(day)
        self._circle(day)
        self._account(day)
        self.clock.end_of_day(
            self.day, self.window_conversion, self.brand.ready(self.day), self.window_ltv_cac
        )
        self.day += 1

    def _run_hooks(self, phase: str, day: Day) -> None:
        for hook in self._hooks[phase]:
            hook(self, day)

    def _strategy(self, day: Day) -> None:
        """A starting phase hires up to its team size, starts its mechanisms' settings (a 0-1
        test, the circle) and sets the pool tables; count capability building (DOMAIN §3)."""
        phase = day.phase
        if day.entered and phase.team_size is not None:
            self.hire(phase.team_size, day.d)
        self._run_hooks("strategy", day)
        if day.entered:
            reach = 1.0 + self.params.systems.reach_boost * phase.systems
            self.tables = self.source.tables(reach)
        if phase.build_capability:
            self._capability_days += 1

    def _acquire(self, day: Day) -> None:
        """Arrivals per channel at today's unit cost (DOMAIN §2.5); none once a gate stopped it."""
        if self.clock.stopped:
            return
        self._run_hooks("acquire", day)  # today's cost, intent and room per channel
        mix = self.brand.channel_mix(day.phase.channel_mix)  # people: the candidate run
        for name, ch in self.channels.items():
            dearer = day.cost_factor.get(name, 1.0)
            if ch.budget_per_day is not None:  # a stated budget: volume follows from the cost
                expected = (
                    acquisition.users_for_budget(ch, day.d, self._bought[name], ch.budget_per_day)
                    / dearer
                )
            elif (share := mix.get(name, 0.0)) > 0:
                expected = self.brand.daily_users(day.phase) * share * ch.volume_scale
            else:
                continue
            expected *= day.volume.get(name, 1.0)
            n = acquisition.draw_arrivals(self.rng, expected, self._remaining_share())
            n = min(n, day.room.get(name, n))
            cost = acquisition.unit_cost(ch, day.d, self._bought[name]) * dearer
            self._bought[name] += n
            day.spend += n * cost
            day.spend_by[name] = n * cost
            intent = ch.intent_mean * day.intent_factor.get(name, 1.0)
            self._add_users(n, name, ch.arrival_stage, intent, ch.intent_concentration, cost)
            day.new[name] = n

    def _staff(self, day: Day) -> None:
        """Arriving operators may take a share of users and take those waiting for one; live
        users per operator (§2.2)."""
        pop = self.population
        arrived = self.team.arrivals(day.d)
        if arrived is not None:  # the number arrived changed
            self.team.hand_over(self.rng, pop, arrived)
            self.assignment.arrived(self, day)
        day.live_rows = live = self._live_rows()
        by_operator = pop.stage_counts_of(pop.operator, len(self.team) + 1, live, offset=1)
        day.load = by_operator[1:, : Stage.CHURNED].sum(axis=1)  # live users per operator
        day.live_n = int(by_operator[:, : Stage.CHURNED].sum())
        self._run_hooks("staff", day)

    def _touch(self, day: Day) -> None:
        """1:1 attention = capacity ÷ load, KOC touches, broadcast value and asks (§2.2, §2.4).
        Capability building takes `operators.capability_share` of the team's capacity (001).
        Sets today's inputs; `_trust` gives the touches in its pass."""
        pop, o = self.population, self.params.operators
        day.caps = self.team.capacities(day.d)
        if day.phase.build_capability:
            day.caps = day.caps * (1.0 - o.capability_share)
        day.effects = self.effects.sync(self.tables, pop.touchpoints, self.source.pool_index(pop))
        day.promo = self.source.promo(day.effects)
        day.excess = self.source.excess(day.effects)
        self._run_hooks("touch", day)
        day.capacity = float(day.caps.sum())
        day.attention = team.attention(day.caps, day.load, o.max_touches_per_user_day, day.worth)

    def _trust(self, day: Day) -> None:
        """Value raises trust scaled by pool potential, asks spend it, neglect decays it (§2.1);
        then stage thresholds and today's purchase hazards (§2.6): the rules of
        `sim.core.dynamics` in one pass over the live rows (`dynamics.day_pass`): the day's
        hazards are theirs, aligned with `day.live_rows`."""
        quality = self.brand.pool.content_quality
        potential = self.source.potential(  # x place fit of each user's pool
            self.circle.potential(quality, day.live_n, day.live_kocs), quality, day.effects
        )
        p = self.params
        day.buy_hazard = dynamics.day_pass(
            self.population,
            day.live_rows,  # the live index: no one has joined or left since `_staff`
            day.attention,
            self.circle.ids,
            self.circle.touch_today,
            day.effects,
            day.promo,
            day.extra,
            p.trust,
            potential,
            day.d,
            p.business,
            p.purchase,
        )

    def _advance(self, day: Day) -> None:
        """Stages and purchase hazards moved in `_trust`'s pass (DOMAIN §2.1, §2.6); the
        mechanisms' hooks on the hazards."""
        self._run_hooks("advance", day)

    def _churn(self, day: Day) -> None:
        """Churn vs purchase on one draw, orders booked, bait takers drop (DOMAIN §2.5, §2.6)."""
        pop, c = self.population, self.params.churn
        events = dynamics.churn_events(
            self.rng, pop, day.live_rows, day.effects.ban_risk, day.excess, c, day.buy_hazard
        )
        pop.stage[events.churned] = Stage.CHURNED
        pop.churn_day[events.churned] = day.d
        day.orders = record_orders(
            self.rng,
            pop,
            events.bought,
            day.d,
            self.params.business,
            self._daily_discount,
            self._by_age,
            self.transaction_log,
        )
        first = events.bought[pop.orders[events.bought] == 1]
        bait = first[self.rng.random(first.size) < c.bait_dropout * (1 - pop.intent[first])]
        pop.stage[bait] = Stage.CHURNED
        pop.churn_day[bait] = day.d
        lapsed = dynamics.repeat_dropout(self.rng, pop, events.bought, c)
        pop.repeat_rate[lapsed] = 0.0
        day.first = first
        day.left = events.churned
        day.churned = int(events.churned.size + bait.size)
        self._run_hooks("churn", day)
        # the live index (`_live_rows`) less today's churned, a hook's included
        out = self._live_bufs[1]
        if out.size < self._live.size:
            out = np.empty(self._live_bufs[0].size, dtype=np.intp)
        self._live = out[: kernels.still_live(self._live, pop.stage, out)]
        self._live_bufs = [out, self._live_bufs[0]]

    def _refer(self, day: Day) -> None:
        """Trusting members and KOCs bring warm users, thinned like acquisition (§2.3, §5).
        Talkers and sharers (influence layer and core) refer at the full rate, the silent
        periphery at `referral.periphery_weight` of it (001, 003)."""
        pop, r = self.population, self.params.referral
        # live rows only (their sums per bin are the same, in the same order; churned rows'
        # bins are never read)
        by_layer = kernels.trust_by_layer_stage(
            self._live_rows(), pop.layer, pop.stage, pop.trust, len(Stage)
        )
        trust_sum = by_layer.sum(axis=0)
        referring = by_layer[:, Stage.parse(r.min_stage) : Stage.CHURNED].sum(axis=1)
        weight = float(r.periphery_weight * referring[0] + referring[1])
        extra, koc_weight = self.circle.referral(pop)  # the KOCs' whole word of mouth
        weight += extra
        n = acquisition.draw_arrivals(self.rng, r.rate_per_day * weight, self._remaining_share())
        self._add_users(
            n, REFERRAL, r.arrival_stage, r.intent_mean, r.intent_concentration, r.reward
        )
        day.referred = n
        day.word = weight
        if n and koc_weight > 0:
            day.referred_koc = int(self.rng.binomial(n, min(1.0, koc_weight / weight)))
        day.live_trust = float(trust_sum[: Stage.CHURNED].sum() + pop.trust[pop.n - n :].sum())

    def _circle(self, day: Day) -> None:
        """Every `koc.reselect_days`, re-select the core circle (DOMAIN §2.3)."""
        self._run_hooks("circle", day)

    def _account(self, day: Day) -> None:
        """Fill today's row of the daily table (`sim.core.results`) and collect it (§2.7, §4)."""
        pop, phase, p = self.population, day.phase, self.params
        day.live_rows = live = self._live_rows()  # counted; the churned are the rest
        index = self.source.pool_index(pop)
        if index is None:  # one pool: a user's row of the tables is their mask
            by_mask = pop.stage_counts_of(pop.touchpoints, len(self.tables.cost), live)
        else:
            key = member_key(pop.touchpoints[live], index[live])
            by_mask = pop.stage_counts_by(key, len(self.tables.cost), live)
        counts = by_mask.sum(axis=0)
        counts[Stage.CHURNED] = pop.n - live.size
        day.live_by_key = by_mask[:, : Stage.CHURNED].sum(axis=1)
        live_n = int(counts[: Stage.CHURNED].sum())
        day.arrived = self.team.arrived(day.d)
        arrived = int(day.arrived.sum())
        team_cost = (
            p.operators.salary_per_day * arrived
            + self.circle.cost_per_day()
            + p.systems.cost_per_day * phase.systems
            + self.brand.mix.members_cost(self.tables, day.live_by_key)
        )
        acquisition_spend = day.spend + day.referred * p.referral.reward
        t = self.today
        t.clear()
        t.update(zip(_STAGE_COLUMNS, counts.tolist(), strict=True))
        t.update({f"new_{c}": day.new.get(c, 0) for c in self.channels})
        if self.params.outputs.spend_by_channel:
            t.update({f"spend_{c}": day.spend_by.get(c, 0.0) for c in self.channels})
        t.update(
            day=day.d,
            phase=self.clock.index,
            phase_name=phase.name,
            live_users=live_n,
            new_users=sum(day.new.values()) + day.referred,
            new_referral=day.referred,
            new_referral_koc=day.referred_koc,
            first_purchases=day.orders.first_purchases,
            orders=day.orders.orders,
            revenue=day.orders.revenue,
            margin=day.orders.margin,
            acquisition_spend=acquisition_spend,
            team_cost=team_cost,
            profit=day.orders.margin - acquisition_spend - team_cost,
            operators=arrived,
            operators_hired=len(self.team),
            operator_capacity=day.capacity,
            mean_operator_load=float(day.load[day.arrived].mean()) if arrived else 0.0,
            users_per_operator=live_n / arrived if arrived else math.nan,
            mean_trust=day.live_trust / live_n if live_n else 0.0,
            churned_today=day.churned,
        )
        self._run_hooks("account", day)
        self.datacollector.collect(self)

    def run(self, days: int | None = None) -> PrivateDomainModel:
        """Advance `days` days (default: to the horizon)."""
        self.run_for(self.horizon_days - self.day if days is None else days)
        return self

    # --- results -----------------------------------------------------------------------------

    def daily_columns(self) -> list[str]:
        return results.daily_columns(self.channels, self.brand.arm_columns(), self._features)

    def daily(self) -> pd.DataFrame:
        """One row per simulated day, from Mesa's DataCollector (columns: `sim.core.results`).
        Built once per number of days collected (a run's results read it several times)."""
        rows = len(self.datacollector.model_vars["day"])
        if self._daily is None or self._daily[0] != rows:
            df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
            typed = results.typed(df, self.channels, self.brand.arm_columns(), self._features)
            self._daily = rows, typed
        return self._daily[1].copy()

    def cohorts(self) -> pd.DataFrame:
        """Weekly joining cohorts (`metrics.cohorts`), and per candidate where a brand has
        several place or goods candidates (`metrics.cohort_arms`: a 0-1 test's arms), and in a
        pyramid run the layers reached within 30/90 days (`metrics.cohort_layers`)."""
        ltv = self._by_age, self.params.economics.ltv_horizons_days
        out = cohorts(self.population, self.daily(), self.day, self.imported, *ltv)
        frames = [f for m in self.mechanisms if (f := m.cohorts(self)) is not None]
        extra = frames[0]  # brand fit's, always (`Mechanism.cohorts`)
        for more in frames[1:]:
            extra = pd.concat([extra, more], axis=1)
        return pd.concat([out, extra], axis=1) if len(extra.columns) else out

    def summary(self) -> dict:
        econ = self.params.economics
        out = summary(
            self.population,
            self.daily(),
            self.day,
            self.imported,
            self._by_age,
            econ.ltv_horizons_days,
            econ.npv_horizons_days,
            self._daily_discount,
        )
        if self.params.outputs.spend_by_channel:
            daily = self.daily()
            out.update({f"spend_{c}": float(daily[f"spend_{c}"].sum()) for c in self.channels})
        out["rfm"] = rfm_counts(self.population, self.day - 1, self.params.economics)
        out["phase_starts"] = self._phase_starts()
        out["gates"] = self.clock.outcomes(self.day)
        if self._truth is None:  # the evaluation's value of each candidate, once (sim.core.truth)
            b = self.brand
            self._truth = [truth.candidate_values(self.params, b.fit, b.brand_seed, type(self))]
        out["brand"] = self.brand.summary(
            self.population, self.day - 1, self.imported, self._truth[0]
        )
        for m in self.mechanisms:
            if (more := m.report(self)) is not None:
                out[m.name] = more
        return out

    def transactions(self, rows: int = 1 << 20):
        """Every order as frames of about `rows` orders (`ledger.TRANSACTION_COLUMNS`); needs
        `outputs.transactions`."""
        if self.transaction_log is None:
            raise ValueError("no transaction log: run with outputs.transactions=true")
        return transaction_frames(
            self.transaction_log,
            self.params.business,
            self.params.outputs.start_date,
            self.daily()["phase"].to_numpy(),
            self._phase_names(),
            self._user_labels(),
            rows,
        )

    def customers(self) -> pd.DataFrame:
        """One row per user who joined (`ledger.CUSTOMER_COLUMNS`), true LTV to the horizon."""
        return customer_frame(self.population, self.params.outputs.start_date, self._user_labels())

    # --- internals ---------------------------------------------------------------------------

    def _user_labels(self) -> dict[str, tuple[np.ndarray, list[str]]]:
        """Per-user codes and their names for `ledger.USER_LABELS` (one entry per label)."""
        pop, names = self.population, self.brand.names
        return {
            "channel": (pop.channel, self.channel_names),
            "place": (pop.pool, names["place"]),
            "goods": (pop.goods, names["goods"]),
        }

    def _phase_names(self) -> list[str]:
        names = [p.name for p in self.params.strategy.phases]
        return names if len(set(names)) == len(names) else [f"{i}:{n}" for i, n in enumerate(names)]

    def _phase_starts(self) -> dict[str, int]:
        df = self.daily()
        first = df.groupby("phase")["day"].min()
        return {self.params.strategy.phases[int(i)].name: int(v) for i, v in first.items()}

    def _live_rows(self) -> np.ndarray:
        """Ids of the live users, kept as an index: rows added since the last call join it, and
        `_churn` (where users churn, its hooks included; stages never move back) drops them. So
        churned rows, most rows of a long run, are never scanned again."""
        n = self.population.n
        if n > self._live_n:
            size, buf = self._live.size, self._live_bufs[0]
            need = size + n - self._live_n
            if need > buf.size:  # both buffers grow (`_churn` compacts into the other)
                buf = np.empty(2 * need, dtype=np.intp)
                buf[:size] = self._live
                self._live_bufs = [buf, np.empty(2 * need, dtype=np.intp)]
            buf[size:need] = np.arange(self._live_n, n)
            self._live, self._live_n = buf[:need], n
        return self._live

    def _remaining_share(self) -> float:
        if self.params.market_size is None:
            return 1.0
        return max(0.0, 1.0 - self.population.n / self.params.market_size)

    def _add_users(self, n, channel, stage_name, intent_mean, intent_conc, cac) -> None:
        if n <= 0:
            return
        stage = Stage.parse(stage_name)
        base = self.params.trust.arrival[stage_name]
        trust = base + (1.0 - base) * self.params.business.brand_awareness
        arms = self.brand.assign(n, channel, self.day)  # a 0-1 test's arms (§3.1)
        intent = acquisition.draw_intent(self.rng, intent_mean, intent_conc, n)
        rows = self.population.add(
            n,
            stage=stage,
            trust=trust,
            intent=self.brand.intent(channel, intent),
            channel=self._code[channel],
            touchpoints=self.source.draw_membership(self.rng, arms.pool, n),
            join_day=self.day,
            cac=cac,
            pool=arms.pool,
            goods=arms.goods,
            tested=arms.tested,
        )
        self.assignment.joined(self, rows)  # with a friend cap they wait (`sim.core.assignment`)
        pop = self.population  # individual repeat buying, drawn after the above (BG/NBD, §5)
        pop.repeat_rate[rows] = acquisition.draw_repeat_rate(
            self.rng, pop.intent[rows], self.params.purchase
        )
        pop.dropout[rows] = acquisition.draw_dropout(self.rng, n, self.params.churn)

    # --- what phase rules read and do (gates `sim.core.strategy`, rules `sim.core.rules`) -----

    def window_conversion(self, first_day: int, last_day: int) -> float:
        """30-day conversion of acquired users who joined in [first_day, last_day] (NaN if
        none has matured)."""
        ids = matured_rows(self.population, last_day + CONVERSION_WINDOW, first_day, self.imported)
        return conversion_30d(self.population, ids)

    def window_ltv_cac(self, first_day: int, last_day: int, horizon: int) -> float:
        """Discounted margin booked by age `horizon` ÷ CAC of acquired users who joined in
        [first_day, last_day] (`metrics.window_ltv_cac`; NaN if none is that old yet)."""
        if last_day > self.day - horizon + 1:
            return math.nan
        return window_ltv_cac(self.population, self._by_age, first_day, last_day, horizon)

    def prepared(self) -> bool:
        """Whether capability building has lasted long enough for prepared hiring (§2.2)."""
        return self._capability_days >= self.params.operators.capability_days

    def hire(self, target: int, d: int) -> int:
        """Hire up to `target` headcount on day `d` (none with a fixed team); returns how many."""
        if self.params.operators.fixed is not None:
            return 0
        return self.team.hire(target, d, self.prepared())
