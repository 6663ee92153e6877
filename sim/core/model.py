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
`sim.core.strategy`), effective from the next day.

Brand fit unknown until tested (`sim.core.fit`, DOMAIN §3.1) enters these phases: a phase's 0-1
test assigns arrivals to arms (2), the running or per-user pool sets the tables (4) and, with its
fit, the trust gain (5); the product's fit scales purchase hazards (6) and lets first buyers of a
poor lead product down (7); a test holds its phase's gate until its arms have matured and is
committed when the phase ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import mesa
import numpy as np
import pandas as pd

from sim.core import acquisition, circle, dynamics, results, team
from sim.core.circle import KOC
from sim.core.fit import Brand, _fitted
from sim.core.ledger import (
    DayOrders,
    MarginByAge,
    TransactionLog,
    customer_frame,
    record_orders,
    transaction_frames,
)
from sim.core.metrics import (
    CONVERSION_WINDOW,
    cohort_arms,
    cohort_layers,
    cohorts,
    conversion_30d,
    matured_rows,
    rfm_counts,
    summary,
)
from sim.core.params import (
    IMPORTED,
    REFERRAL,
    Business,
    Channel,
    Churn,
    CoreCircle,
    Economics,
    Fit,
    Outputs,
    Phase,
    Pool,
    Purchase,
    Referral,
    Scenario,
    Staffing,
    Strategy,
    Systems,
    Touchpoint,
    Trust,
    scenario,
)
from sim.core.pool import MemberEffects, member_key
from sim.core.population import Population, User
from sim.core.pyramid import CORE, LAYERS, Layers
from sim.core.stage import Stage
from sim.core.strategy import PhaseClock
from sim.core.team import Operator


@dataclass
class Day:
    """What one day's phases hand on to later phases (DOMAIN §6); made fresh every step."""

    d: int
    phase: Phase
    new: dict[str, int] = field(default_factory=dict)  # acquired per channel
    spend: float = 0.0  # acquisition spend, yuan
    live: np.ndarray | None = None  # live users once staffed (before today's churn)
    load: np.ndarray | None = None  # live users per operator
    capacity: float = 0.0  # 1:1 touches the team gives today, net of capability building
    live_n: int = 0
    effects: MemberEffects | None = None
    touches: dynamics.Touches | None = None
    buy_hazard: np.ndarray | None = None
    orders: DayOrders | None = None
    churned: int = 0  # churned today, bait dropouts included
    referred: int = 0
    referred_koc: int = 0  # of which referred by KOCs
    live_trust: float = 0.0  # trust summed over live users after referrals
    live_kocs: int = 0  # KOCs not churned since the last re-selection
    washed: np.ndarray | None = None  # pool-layer users a wash reaches today (sim.core.pyramid)


class PrivateDomainModel(mesa.Model):
    """A brand's private domain: users in numpy arrays, operators and KOCs as Mesa agents.

    The arguments are the fields of `sim.core.params.Scenario`; each is a plain mapping (as a
    notebook writes it) or the matching record, and all are validated before anything is
    simulated.
    """

    def __init__(
        self,
        *,
        pool: Pool | dict,
        touchpoints: dict[str, Touchpoint | dict],
        business: Business | dict,
        channels: dict[str, Channel | dict],
        strategy: Strategy | dict,
        operators: Staffing | dict,
        koc: CoreCircle | dict,
        trust: Trust | dict,
        purchase: Purchase | dict,
        churn: Churn | dict,
        referral: Referral | dict,
        systems: Systems | dict,
        economics: Economics | dict,
        horizon_days: int = 365,
        initial_users: int = 0,
        initial_channel: str = "public_store",
        market_size: int | None = None,
        fit: Fit | dict | None = None,
        seed: int | None = None,
        outputs: Outputs | dict | None = None,
    ):
        # validate everything before any work; the arguments are exactly Scenario's fields
        given = locals() | {"fit": {} if fit is None else fit}  # None: nothing to test
        given["outputs"] = Outputs() if outputs is None else outputs
        sc = scenario({f.name: given[f.name] for f in fields(Scenario)})
        self.pool_params = sc.pool
        self.touchpoint_params = sc.touchpoints
        self.business = sc.business
        # sorted: draws and channel codes must not depend on the order keys were written in
        # (the config hash sorts keys, so two orders would be "the same config")
        self.channels = dict(sorted(sc.channels.items()))
        self.strategy = sc.strategy
        self.operators_params = sc.operators
        self.koc_params = sc.koc
        self.trust_params = sc.trust
        self.purchase_params = sc.purchase
        self.churn_params = sc.churn
        self.referral_params = sc.referral
        self.systems_params = sc.systems
        self.economics = sc.economics
        self.outputs = sc.outputs
        # every order, only when asked (no cost otherwise): ledger.TransactionLog
        self.transaction_log = TransactionLog() if sc.outputs.transactions else None

        super().__init__(rng=seed)
        self.seed = seed
        self.horizon_days = horizon_days
        self.market_size = market_size
        self.day = 0
        self.channel_names = [*self.channels, REFERRAL, IMPORTED]
        self._code = {name: i for i, name in enumerate(self.channel_names)}
        # latent brand fit and 0-1 tests (DOMAIN §3.1); own generators, see sim.core.fit
        self.brand = Brand(sc, self.channel_names, seed)
        self.pool_params, self.mix = self.brand.pool, self.brand.mix  # the guess
        # seed 004's pyramid: per-layer mixes, users moving through them (sim.core.pyramid)
        self.pyramid = Layers(sc.pool, sc.touchpoints) if sc.pool.layers is not None else None
        self._stacked = self.brand.mixed or self.pyramid is not None  # per-user pool tables
        self._features = [
            *(["layers"] if self.pyramid is not None else []),
            *(["camps"] if self.pyramid is not None and self.pyramid.camps is not None else []),
            *(["washes"] if self.pyramid is not None and self.pyramid.washes is not None else []),
            *(["friend_cap"] if sc.operators.friend_cap is not None else []),
        ]
        self._bought = dict.fromkeys(self.channels, 0.0)  # cumulative users bought per channel
        self._daily_discount = (1.0 + self.economics.discount_rate_annual) ** (-1.0 / 365.0)
        self._by_age = MarginByAge(  # LTV at fixed ages (metrics.ltv_at_ages)
            max(self.economics.ltv_horizons_days), self._code[IMPORTED], horizon_days
        )

        self.population = Population(capacity=max(1024, initial_users * 5 // 4))
        self.operators: list[Operator] = []
        self.kocs: list[KOC] = []
        self._koc_uids = np.empty(0, dtype=np.int64)  # the KOCs' users, as `self.kocs` lists them
        self._koc_ids = np.empty(0, dtype=np.int64)  # users a KOC maintains (sparse KOC touches)
        self._koc_touch = np.empty(0, dtype=np.float32)
        self._effects = MemberEffects()  # pool effects per user, gathered once per phase
        self._arrived_ops = -1
        self._arrived_before: np.ndarray | None = None  # operators arrived at the last count
        self._capability_days = 0
        self.clock = PhaseClock(self.strategy)

        o = self.operators_params
        start = o.count if o.max_count is None else min(o.count, o.max_count)
        for _ in range(start if o.fixed is None else o.fixed):  # a fixed team: all from day 0
            self.operators.append(Operator(self, arrival_day=0, ramp_days=0, params=o))
        if initial_users:
            ch = self.channels[initial_channel]
            self._add_users(
                initial_users,
                IMPORTED,
                ch.arrival_stage,
                ch.intent_mean,
                ch.intent_concentration,
                cac=0.0,
            )

        self.today: dict[str, float] = {}  # today's row of the daily table
        self._daily: tuple[int, pd.DataFrame] | None = None  # (days collected, `daily()`)
        self.datacollector = mesa.DataCollector(
            model_reporters=results.reporters(
                self.today, self.channels, self.brand.arm_columns(), self._features
            )
        )

    # --- the Mesa-facing user API ----------------------------------------------------------

    def user(self, uid: int) -> User:
        """A view of one user (see `sim.core.population` for why users are not stored agents)."""
        return User(self.population, uid)

    def user_ids(self, stage: Stage | None = None) -> np.ndarray:
        """Ids of users in `stage` (all live users if None)."""
        pop = self.population
        return np.flatnonzero(pop.live() if stage is None else pop.stage == stage)

    # --- one day -----------------------------------------------------------------------------

    def step(self) -> None:
        """One day: the phases of the module docstring, in order (DOMAIN §6)."""
        day = Day(self.day, self.clock.phase)
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
        self.clock.end_of_day(self.day, self._window_conversion, self.brand.ready(self.day))
        self.day += 1

    def _strategy(self, day: Day) -> None:
        """Enter a new phase's settings and hires; count capability building (DOMAIN §3)."""
        if day.d == self.clock.started_day:
            self._enter_phase(day.d)
        if day.phase.build_capability:
            self._capability_days += 1

    def _acquire(self, day: Day) -> None:
        """Arrivals per channel at today's unit cost (DOMAIN §2.5); none once a gate stopped it."""
        if self.clock.stopped:
            return
        mix = self.brand.channel_mix(day.phase.channel_mix)  # people: the candidate run
        for name, ch in self.channels.items():
            if ch.budget_per_day is not None:  # a stated budget: volume follows from the cost
                expected = acquisition.users_for_budget(
                    ch, day.d, self._bought[name], ch.budget_per_day
                )
            elif (share := mix.get(name, 0.0)) > 0:
                expected = day.phase.daily_users * share * ch.volume_scale
            else:
                continue
            n = acquisition.draw_arrivals(self.rng, expected, self._remaining_share())
            cost = acquisition.unit_cost(ch, day.d, self._bought[name])
            self._bought[name] += n
            day.spend += n * cost
            self._add_users(
                n, name, ch.arrival_stage, ch.intent_mean, ch.intent_concentration, cost
            )
            day.new[name] = n

    def _staff(self, day: Day) -> None:
        """Users without an operator get one when operators arrive; live users each (§2.2)."""
        pop = self.population
        arrived_mask = team.arrived(self.operators, day.d)
        arrived = int(arrived_mask.sum())
        if arrived != self._arrived_ops:
            self._arrived_ops = arrived
            self._handover(day.d, arrived_mask)
            # relationships are continuous: only users who joined while none had arrived move
            if self.operators_params.friend_cap is None:  # else `_assign_waiting`, daily
                orphans = np.flatnonzero(pop.live() & (pop.operator < 0))
                pop.operator[orphans] = team.assign(self.rng, orphans.size, self._assign_weights())
        day.live = pop.live()
        by_operator = pop.stage_counts_by(pop.operator + 1, len(self.operators) + 1)
        day.load = by_operator[1:, : Stage.CHURNED].sum(axis=1)  # live users per operator
        day.live_n = int(by_operator[:, : Stage.CHURNED].sum())
        if self.operators_params.friend_cap is not None:
            self._assign_waiting(day)

    def _handover(self, d: int, arrived: np.ndarray) -> None:
        """New hires take a share of existing users (`operators.handover_share`, default 0:
        relationships are continuous); a handed-over user loses `handover_trust_cost` of trust,
        built with the person they knew (§2.1: trust comes from 1:1 touches; 004)."""
        o = self.operators_params
        before = self._arrived_before
        self._arrived_before = arrived
        if o.handover_share <= 0 or before is None:
            return
        before = np.concatenate((before, np.zeros(arrived.size - before.size, dtype=bool)))
        pop = self.population
        moved = team.handover(
            self.rng,
            pop.operator,
            pop.live(),
            before,
            np.flatnonzero(arrived & ~before),
            o.handover_share,
            o.friend_cap,
        )
        trust = pop.trust[moved] - np.float32(o.handover_trust_cost)
        pop.trust[moved] = np.maximum(trust, 0.0)

    def _assign_waiting(self, day: Day) -> None:
        """With a friend cap (§2.2), users waiting unassigned (every new user first) go to
        arrived operators with room, in proportion to capacity; the rest keep waiting."""
        pop = self.population
        waiting = np.flatnonzero(day.live & (pop.operator < 0))
        room = self.operators_params.friend_cap - day.load
        got = team.assign_capped(self.rng, waiting.size, self._assign_weights(), room)
        pop.operator[waiting] = got
        day.load = day.load + np.bincount(got[got >= 0], minlength=len(self.operators))

    def _touch(self, day: Day) -> None:
        """1:1 attention = capacity ÷ load, KOC touches, broadcast value and asks (§2.2, §2.4).
        Capability building takes `operators.capability_share` of the team's capacity (001)."""
        caps = team.capacities(self.operators, day.d)
        if day.phase.build_capability:
            caps *= 1.0 - self.operators_params.capability_share
        pop = self.population
        camp = None  # 004's conversion camps take their share of capacity first (§2.3)
        if self.pyramid is not None and self.pyramid.camps is not None:
            max_touch = self.operators_params.max_touches_per_user_day
            caps, camp = self.pyramid.camp_touch(pop, caps, day.load, day.d, max_touch)
        day.capacity = float(caps.sum())
        day.effects = self._effects.sync(self._tables, pop.touchpoints, self._pool_index(pop))
        mixed = self._stacked  # users of several pools: each user's pool's promo share
        # a KOC who churned (blocked, left) since the last re-selection maintains no one
        live_kocs = self._live_kocs()
        by_live_koc = live_kocs[pop.koc[self._koc_ids]]
        day.live_kocs = int(live_kocs.sum())
        promo = day.effects.promo if mixed else self.pool_params.promo_share
        if self.pyramid is not None and self.pyramid.washes is not None:  # 004's washes (§2.3)
            day.washed = self.pyramid.wash(self.rng, pop, day.d)
            if day.washed is not None:
                promo = promo.copy()
                promo[day.washed] = self.pyramid.washes.promo_share
        day.touches = dynamics.touches(
            self.population,
            team.attention(caps, day.load, self.operators_params.max_touches_per_user_day),
            self._koc_ids,
            self._koc_touch * by_live_koc,
            day.effects,
            promo,
            camp,
        )

    def _trust(self, day: Day) -> None:
        """Value raises trust scaled by pool potential, asks spend it, neglect decays it (§2.1)."""
        potential = (self.pyramid or self.brand).potential(  # x place fit of each user's pool
            self._potential(day.live_n, day.live_kocs),
            self.pool_params.content_quality,
            day.effects,
        )
        dynamics.update_trust(self.population.trust, day.touches, self.trust_params, potential)

    def _advance(self, day: Day) -> None:
        """Stage thresholds, then today's purchase hazards (DOMAIN §2.1, §2.6)."""
        pop = self.population
        dynamics.advance_stages(pop, self.trust_params.familiar_at, self.business.trust_to_buy)
        day.buy_hazard = dynamics.purchase_hazard(
            pop, day.touches, day.effects.friction, day.d, self.business, self.purchase_params
        )
        day.buy_hazard = self.brand.purchase(day.buy_hazard, pop)  # goods fit (§3.1)

    def _churn(self, day: Day) -> None:
        """Churn vs purchase on one draw, orders booked, bait takers drop (DOMAIN §2.5, §2.6)."""
        pop = self.population
        excess = day.effects.excess if self._stacked else self._promo_excess
        if day.washed is not None:  # a wash's asks above the tolerated share (§2.1)
            excess = excess.copy()
            excess[day.washed] = self.pyramid.wash_excess
        churn_h = dynamics.churn_hazard(pop, day.effects.ban_risk, excess, self.churn_params)
        events = dynamics.draw_events(self.rng, day.live, churn_h, day.buy_hazard)
        pop.stage[events.churned] = Stage.CHURNED
        pop.churn_day[events.churned] = day.d
        day.orders = record_orders(
            self.rng,
            pop,
            events.bought,
            day.d,
            self.business,
            self._daily_discount,
            self._by_age,
            self.transaction_log,
        )
        first = events.bought[pop.orders[events.bought] == 1]
        bait = first[
            self.rng.random(first.size) < self.churn_params.bait_dropout * (1 - pop.intent[first])
        ]
        pop.stage[bait] = Stage.CHURNED
        pop.churn_day[bait] = day.d
        lapsed = dynamics.repeat_dropout(self.rng, pop, events.bought, self.churn_params)
        pop.repeat_rate[lapsed] = 0.0
        self.brand.letdown(pop, first)  # a poor lead product lets its first buyers down (§3.1)
        day.churned = int(events.churned.size + bait.size)
        if self.pyramid is not None:  # pushes ended and premium orders move layers (§2.3)
            self.pyramid.move(
                self.rng, pop, day.d, day.orders.premium_buyers, self._effects, self._tables
            )

    def _refer(self, day: Day) -> None:
        """Trusting members and KOCs bring warm users, thinned like acquisition (§2.3, §5).
        Talkers and sharers (influence layer and core) refer at the full rate, the silent
        periphery at `referral.periphery_weight` of it (001, 003)."""
        pop, r = self.population, self.referral_params
        by_layer = np.bincount(
            pop.stage + np.int8(len(Stage)) * (pop.layer > 0),
            weights=pop.trust,
            minlength=2 * len(Stage),
        ).reshape(2, len(Stage))
        trust_sum = by_layer.sum(axis=0)
        referring = by_layer[:, Stage.parse(r.min_stage) : Stage.CHURNED].sum(axis=1)
        weight = float(r.periphery_weight * referring[0] + referring[1])
        koc_weight = 0.0  # the KOCs' whole word of mouth, their ordinary share included
        if self.kocs:
            ids = self._koc_uids
            alive = pop.stage[ids] != Stage.CHURNED
            koc_trust = float(pop.trust[ids][alive].sum())
            weight += (self.koc_params.referral_multiplier - 1.0) * koc_trust
            koc_weight = self.koc_params.referral_multiplier * koc_trust
        n = acquisition.draw_arrivals(self.rng, r.rate_per_day * weight, self._remaining_share())
        self._add_users(
            n, REFERRAL, r.arrival_stage, r.intent_mean, r.intent_concentration, r.reward
        )
        day.referred = n
        if n and koc_weight > 0:
            day.referred_koc = int(self.rng.binomial(n, min(1.0, koc_weight / weight)))
        day.live_trust = float(trust_sum[: Stage.CHURNED].sum() + pop.trust[pop.n - n :].sum())

    def _circle(self, day: Day) -> None:
        """Every `koc.reselect_days`, re-select the core circle (DOMAIN §2.3)."""
        every = self.koc_params.reselect_days
        if every and day.d % every == 0:
            self._reselect_circle(day.phase.koc_programme)

    def _account(self, day: Day) -> None:
        """Fill today's row of the daily table (`sim.core.results`) and collect it (§2.7, §4)."""
        pop, phase = self.population, day.phase
        by_mask = pop.stage_counts_by(
            member_key(pop.touchpoints, self._pool_index(pop)), len(self._tables.cost)
        )
        counts = by_mask.sum(axis=0)
        live_n = int(counts[: Stage.CHURNED].sum())
        arrived_ops = team.arrived(self.operators, day.d)
        arrived = int(arrived_ops.sum())
        team_cost = (
            self.operators_params.salary_per_day * arrived
            + self.koc_params.reward_per_day * len(self.kocs)
            + self.systems_params.cost_per_day * phase.systems
            + self.mix.members_cost(self._tables, by_mask[:, : Stage.CHURNED].sum(axis=1))
        )
        acquisition_spend = day.spend + day.referred * self.referral_params.reward
        by_live_koc = self._live_kocs()[pop.koc[self._koc_ids]]
        t = self.today
        t.clear()
        t.update({s.name.lower(): int(counts[s]) for s in Stage})
        t.update({f"new_{c}": day.new.get(c, 0) for c in self.channels})
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
            operators_hired=len(self.operators),
            operator_capacity=day.capacity,
            mean_operator_load=float(day.load[arrived_ops].mean()) if arrived else 0.0,
            users_per_operator=live_n / arrived if arrived else math.nan,
            koc_count=len(self.kocs),
            koc_maintained=int(((pop.stage[self._koc_ids] != Stage.CHURNED) & by_live_koc).sum()),
            mean_trust=day.live_trust / live_n if live_n else 0.0,
            churned_today=day.churned,
        )
        t.update(self.brand.day_columns())
        if self.pyramid is not None:
            per = self.pyramid.counts(by_mask[:, : Stage.CHURNED].sum(axis=1))
            t.update({f"layer_{x}": int(k) for x, k in zip(LAYERS, per, strict=True)})
            t.update(
                {f"entered_{x}": int(self.pyramid.moved[i + 1]) for i, x in enumerate(LAYERS[1:])}
            )
            if self.pyramid.camps is not None:
                t["camps_running"], t["camp_members"] = self.pyramid.camp_counts(pop)
                t["camp_graduates"], t["camp_buyers"] = (int(k) for k in self.pyramid.camp_ended)
            if self.pyramid.washes is not None:
                t["wash_running"] = int(self.pyramid.wash_running)
                t["users_washed"] = self.pyramid.users_washed
        if self.operators_params.friend_cap is not None:
            t["unassigned_users"] = int(np.count_nonzero((pop.operator < 0) & pop.live()))
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
        ltv = self._by_age, self.economics.ltv_horizons_days
        out = cohorts(self.population, self.daily(), self.day, self._code[IMPORTED], *ltv)
        labels = self._user_labels()
        arms = {dim: labels[dim] for dim in ("place", "goods")}
        extra = cohort_arms(self.population, self.day, self._code[IMPORTED], arms)
        if self.pyramid is not None:  # layers reached within 30/90 days (004, §2.3)
            layers = cohort_layers(self.population, self.day, self._code[IMPORTED])
            extra = pd.concat([extra, layers], axis=1)
        return pd.concat([out, extra], axis=1) if len(extra.columns) else out

    def summary(self) -> dict:
        ltv = self._by_age, self.economics.ltv_horizons_days
        out = summary(self.population, self.daily(), self.day, self._code[IMPORTED], *ltv)
        out["rfm"] = rfm_counts(self.population, self.day - 1, self.economics)
        out["phase_starts"] = self._phase_starts()
        out["gates"] = self.clock.outcomes(self.day)
        out["brand"] = self.brand.summary(self.population, self.day - 1, self._code[IMPORTED])
        return out

    def transactions(self, rows: int = 1 << 20):
        """Every order as frames of about `rows` orders (`ledger.TRANSACTION_COLUMNS`); needs
        `outputs.transactions`."""
        if self.transaction_log is None:
            raise ValueError("no transaction log: run with outputs.transactions=true")
        return transaction_frames(
            self.transaction_log,
            self.business,
            self.outputs.start_date,
            self.daily()["phase"].to_numpy(),
            self._phase_names(),
            self._user_labels(),
            rows,
        )

    def customers(self) -> pd.DataFrame:
        """One row per user who joined (`ledger.CUSTOMER_COLUMNS`), true LTV to the horizon."""
        return customer_frame(self.population, self.outputs.start_date, self._user_labels())

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
        names = [p.name for p in self.strategy.phases]
        return names if len(set(names)) == len(names) else [f"{i}:{n}" for i, n in enumerate(names)]

    def _phase_starts(self) -> dict[str, int]:
        df = self.daily()
        first = df.groupby("phase")["day"].min()
        return {self.strategy.phases[int(i)].name: int(v) for i, v in first.items()}

    def _remaining_share(self) -> float:
        if self.market_size is None:
            return 1.0
        return max(0.0, 1.0 - self.population.n / self.market_size)

    def _add_users(self, n, channel, stage_name, intent_mean, intent_conc, cac) -> None:
        if n <= 0:
            return
        stage = Stage.parse(stage_name)
        base = self.trust_params.arrival[stage_name]
        trust = base + (1.0 - base) * self.business.brand_awareness
        arms = self.brand.assign(n, channel, self.day)  # a 0-1 test's arms (§3.1)
        intent = acquisition.draw_intent(self.rng, intent_mean, intent_conc, n)
        rows = self.population.add(
            n,
            stage=stage,
            trust=trust,
            intent=self.brand.intent(channel, intent),
            channel=self._code[channel],
            touchpoints=self.brand.draw_membership(self.rng, arms.pool, n)
            if self.pyramid is None
            else self.pyramid.draw_new(self.rng, n),
            join_day=self.day,
            cac=cac,
            pool=arms.pool,
            goods=arms.goods,
            tested=arms.tested,
        )
        if self.operators_params.friend_cap is None:  # else they wait for `_assign_waiting`
            weights = self._assign_weights()
            self.population.operator[rows] = team.assign(self.rng, n, weights)
        pop = self.population  # individual repeat buying, drawn after the above (BG/NBD, §5)
        pop.repeat_rate[rows] = acquisition.draw_repeat_rate(
            self.rng, pop.intent[rows], self.purchase_params
        )
        pop.dropout[rows] = acquisition.draw_dropout(self.rng, n, self.churn_params)

    def _pool_index(self, pop) -> np.ndarray | None:
        """Each user's row block in the tables: pyramid layer, place-test pool, or none."""
        return pop.pyramid_layer if self.pyramid is not None else self.brand.pool_index(pop)

    def _assign_weights(self) -> np.ndarray:
        """Each operator's current capacity: a ramping hire takes new users as they ramp up."""
        return team.capacities(self.operators, self.day)

    def _enter_phase(self, d: int) -> None:
        phase = self.clock.phase
        # commit a finished 0-1 test, start this phase's; run the pool committed (§3.1)
        self.brand.enter(phase, d, self.population, self._code[IMPORTED])
        self.pool_params, self.mix = self.brand.pool, self.brand.mix
        if phase.team_size is not None and self.operators_params.fixed is None:
            prepared = self._capability_days >= self.operators_params.capability_days
            team.hire(self, phase.team_size, d, prepared)
        pool = self.pool_params
        self._promo_excess = (
            max(0.0, pool.promo_share - pool.promo_tolerance) / pool.promo_tolerance
        )
        reach = 1.0 + self.systems_params.reach_boost * phase.systems
        self._tables = (
            self.brand.tables(reach)
            if self.pyramid is None
            else self.pyramid.tables(reach, _fitted, float(self.brand.fit["place"][0]))
        )
        if not phase.koc_programme and self.kocs:
            self._reselect_circle(False)

    def _potential(self, n_live: int, n_koc: int) -> float:
        """Pool potential: value content plus KOC activity (social proof), DOMAIN §2.1/§2.3."""
        activity = min(1.0, n_koc * self.koc_params.capacity / n_live) if n_live else 0.0
        return self.pool_params.content_quality + self.koc_params.potential_boost * activity

    def _live_kocs(self) -> np.ndarray:
        """Which KOCs are still members (a KOC may churn between re-selections)."""
        return self.population.stage[self._koc_uids] != Stage.CHURNED

    def _reselect_circle(self, programme: bool) -> None:
        pop, p = self.population, self.koc_params
        live = pop.live()
        arrived = int(team.arrived(self.operators, self.day).sum())
        cap = circle.circle_cap(p, arrived, self.operators_params.deep_limit, int(live.sum()))
        among = None  # 004: in the pyramid the closed circle may live in the core layer
        if self.pyramid is not None and self.pyramid.params.circle_in_core:
            among = pop.pyramid_layer == CORE
        core = circle.select_core(pop, live, cap if programme else 0, p, among)
        keep = {k.uid: k for k in self.kocs}
        chosen = set(core.tolist())
        for uid, agent in keep.items():
            if uid not in chosen:
                agent.remove()
        self.kocs = [keep.get(uid) or KOC(self, uid) for uid in core.tolist()]
        self._koc_uids = np.array([k.uid for k in self.kocs], dtype=np.int64)
        circle.update_layers(pop, live, core, p)
        loads = circle.assign_maintained(self.rng, pop, live, len(self.kocs), p.capacity)
        per = p.strength * np.minimum(1.0, p.capacity / np.maximum(loads, 1))
        attention = np.concatenate((per, [0.0])).astype(np.float32)
        self._koc_ids = np.flatnonzero(pop.koc >= 0)
        self._koc_touch = attention[pop.koc[self._koc_ids]]

    def _window_conversion(self, first_day: int, last_day: int) -> float:
        ids = matured_rows(
            self.population, last_day + CONVERSION_WINDOW, first_day, self._code[IMPORTED]
        )
        return conversion_30d(self.population, ids)
