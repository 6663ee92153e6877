"""The Mesa model of a brand's private domain.

One day (one Mesa step) runs these phases in order (DOMAIN §6):

1. Strategy — the active phase sets acquisition volume and mix, team target, KOC programme,
   systems level; entering a phase hires up to its team size.
2. Acquire — arrivals per channel (Poisson, thinned by the unacquired share of the market),
   unit cost rising with time and volume, arrival stage and intent by channel.
3. Staff — hires arrive after their lead time and ramp up; users are (re)assigned to operators
   in proportion to capacity whenever the arrived team changes.
4. Touch — 1:1 attention = operator capacity ÷ load (carried by the pool's 1:1 touchpoints),
   KOC touches, broadcast value and asks by the pool's touchpoint mix and promo share.
5. Trust — value raises it (saturating, scaled by pool potential), asks spend it, neglect
   decays it.
6. Advance — aware → familiar → trust by thresholds; purchase hazards (first order, repeat).
7. Churn — hazard from excess asks, low trust, low intent, bans; deal hunters drop after the bait.
   Churn and purchase compete on one uniform draw per user.
8. Refer — trusting members and KOCs bring warm users (thinned like acquisition).
9. Circle — every `koc.reselect_days`: re-select KOCs, reassign maintained users, layers.
10. Account — revenue, margin, spend, team cost; Mesa's DataCollector records the day.

The phase may then end (strategy gate), effective from the next day.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd

from sim.core import acquisition, circle, dynamics, team
from sim.core.circle import KOC
from sim.core.ledger import MarginByAge, record_orders
from sim.core.metrics import (
    CONVERSION_WINDOW,
    cohorts,
    conversion_30d,
    matured_rows,
    rfm_counts,
    summary,
)
from sim.core.params import (
    KOC as KOCParams,
)
from sim.core.params import (
    Business,
    Channel,
    Churn,
    ConfigError,
    Economics,
    Operators,
    Pool,
    Purchase,
    Referral,
    Strategy,
    Systems,
    Touchpoint,
    Trust,
    build,
    shares,
)
from sim.core.pool import MemberEffects, PoolMix
from sim.core.population import Population, User
from sim.core.stage import Stage
from sim.core.strategy import PhaseClock
from sim.core.team import Operator

REFERRAL, IMPORTED = "referral", "imported"


class PrivateDomainModel(mesa.Model):
    """A brand's private domain: users in numpy arrays, operators and KOCs as Mesa agents.

    Every argument is a plain mapping (as Hydra composes it) or the matching record from
    `sim.core.params`; all are validated before anything is simulated.
    """

    def __init__(
        self,
        *,
        pool: Pool | dict,
        touchpoints: dict,
        business: Business | dict,
        channels: dict,
        strategy: Strategy | dict,
        operators: Operators | dict,
        koc: KOCParams | dict,
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
        seed: int | None = None,
    ):
        # --- validate everything before any work -------------------------------------------
        self.pool_params = build(Pool, pool, "pool")
        self.touchpoint_params = {
            k: build(Touchpoint, v, f"touchpoints.{k}")
            for k, v in _mapping(touchpoints, "touchpoints").items()
        }
        self.business = build(Business, business, "business")
        # sorted: draws and channel codes must not depend on the order keys were written in
        # (the config hash sorts keys, so two orders would be "the same config")
        self.channels = {
            k: build(Channel, v, f"channels.{k}")
            for k, v in sorted(_mapping(channels, "channels").items())
        }
        self.strategy = build(Strategy, strategy, "strategy")
        self.operators_params = build(Operators, operators, "operators")
        self.koc_params = build(KOCParams, koc, "koc")
        self.trust_params = build(Trust, trust, "trust")
        self.purchase_params = build(Purchase, purchase, "purchase")
        self.churn_params = build(Churn, churn, "churn")
        self.referral_params = build(Referral, referral, "referral")
        self.systems_params = build(Systems, systems, "systems")
        self.economics = build(Economics, economics, "economics")
        _check_int(horizon_days, "horizon_days", 1)
        _check_int(initial_users, "initial_users", 0)
        if market_size is not None:
            _check_int(market_size, "market_size", 1)
            if initial_users > market_size:
                raise ConfigError(
                    f"initial_users = {initial_users} is out of range; allowed: <= market_size "
                    f"({market_size})"
                )
        for reserved in (REFERRAL, IMPORTED):
            if reserved in self.channels:
                raise ConfigError(f"channels.{reserved}: reserved name; configure it elsewhere")
        if initial_channel not in self.channels:
            raise ConfigError(
                f"initial_channel = {initial_channel!r}: unknown channel; allowed: "
                f"{sorted(self.channels)}"
            )
        for i, phase in enumerate(self.strategy.phases):
            shares(phase.channel_mix, f"strategy.phases.{i}.channel_mix", self.channels)
        used = {c.arrival_stage for c in self.channels.values()} | {
            self.referral_params.arrival_stage
        }
        for s in sorted(used - set(self.trust_params.arrival)):
            raise ConfigError(f"trust.arrival.{s}: missing; every arrival stage needs a trust")
        self.mix = PoolMix(self.pool_params, self.touchpoint_params)

        super().__init__(rng=seed)
        self.seed = seed
        self.horizon_days = horizon_days
        self.market_size = market_size
        self.day = 0
        self.channel_names = [*self.channels, REFERRAL, IMPORTED]
        self._code = {name: i for i, name in enumerate(self.channel_names)}
        self._bought = dict.fromkeys(self.channels, 0.0)  # cumulative users bought per channel
        self._daily_discount = (1.0 + self.economics.discount_rate_annual) ** (-1.0 / 365.0)
        self._by_age = MarginByAge(  # LTV at fixed ages (metrics.ltv_at_ages)
            max(self.economics.ltv_horizons_days), self._code[IMPORTED], horizon_days
        )

        self.population = Population(capacity=max(1024, initial_users * 5 // 4))
        self.operators: list[Operator] = []
        self.kocs: list[KOC] = []
        self._koc_attention = np.zeros(1, dtype=np.float32)
        self._koc_ids = np.empty(0, dtype=np.int64)  # users a KOC maintains (sparse KOC touches)
        self._koc_touch = np.empty(0, dtype=np.float32)
        self._effects = MemberEffects()  # pool effects per user, gathered once per phase
        self._arrived_ops = -1
        self._capability_days = 0
        self.clock = PhaseClock(self.strategy)

        o = self.operators_params
        for _ in range(o.count if o.max_count is None else min(o.count, o.max_count)):
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

        self.today: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={c: [self.today.get, [c]] for c in self.daily_columns()},
            agenttype_reporters={Operator: {"load": "load", "capacity": "capacity"}},
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
        d = self.day
        pop = self.population
        phase = self.clock.phase
        t = self.today
        t.clear()
        t["day"] = d
        t["phase"] = self.clock.index

        # 1. strategy
        if d == self.clock.started_day:
            self._enter_phase(d)
        if phase.build_capability:
            self._capability_days += 1

        # 2. acquire
        spend = 0.0
        for name, ch in self.channels.items():
            if (share := phase.channel_mix.get(name, 0.0)) <= 0:
                continue
            n = acquisition.draw_arrivals(
                self.rng, phase.daily_users * share * ch.volume_scale, self._remaining_share()
            )
            cost = acquisition.unit_cost(ch, d, self._bought[name])
            self._bought[name] += n
            spend += n * cost
            self._add_users(
                n, name, ch.arrival_stage, ch.intent_mean, ch.intent_concentration, cost
            )
            t[f"new_{name}"] = n

        # 3. staff
        self._staff(d)
        live = pop.live()
        by_operator = pop.stage_counts_by(pop.operator + 1, len(self.operators) + 1)
        load = by_operator[1:, : Stage.CHURNED].sum(axis=1)  # live users per operator
        caps = team.capacities(self.operators, d)
        for op, n in zip(self.operators, load, strict=True):
            op.load = int(n)

        # 4-5. touch and trust
        effects = self._effects.sync(self._tables, pop.touchpoints)
        touches = dynamics.touches(
            pop,
            team.attention(caps, load, self.operators_params.max_touches_per_user_day),
            self._koc_ids,
            self._koc_touch,
            effects,
            self.pool_params.promo_share,
        )
        live_before = int(by_operator[:, : Stage.CHURNED].sum())
        dynamics.update_trust(pop.trust, touches, self.trust_params, self._potential(live_before))

        # 6-7. advance, purchase and churn
        dynamics.advance_stages(pop, self.trust_params.familiar_at, self.business.trust_to_buy)
        buy_h = dynamics.purchase_hazard(
            pop, touches, effects.friction, d, self.business, self.purchase_params
        )
        churn_h = dynamics.churn_hazard(
            pop, effects.ban_risk, self._promo_excess, self.churn_params
        )
        events = dynamics.draw_events(self.rng, live, churn_h, buy_h)
        pop.stage[events.churned] = Stage.CHURNED
        orders = record_orders(
            self.rng, pop, events.bought, d, self.business, self._daily_discount, self._by_age
        )
        first = events.bought[pop.orders[events.bought] == 1]
        bait = first[
            self.rng.random(first.size) < self.churn_params.bait_dropout * (1 - pop.intent[first])
        ]
        pop.stage[bait] = Stage.CHURNED

        # 8. refer
        trust_sum = np.bincount(pop.stage, weights=pop.trust, minlength=len(Stage))
        referred = self._refer(trust_sum)
        live_trust = float(trust_sum[: Stage.CHURNED].sum() + pop.trust[pop.n - referred :].sum())

        # 9. circle
        if self.koc_params.reselect_days and d % self.koc_params.reselect_days == 0:
            self._reselect_circle(phase.koc_programme)

        # 10. account
        by_mask = pop.stage_counts_by(pop.touchpoints, len(self._tables.cost))
        counts = by_mask.sum(axis=0)
        live_n = int(counts[: Stage.CHURNED].sum())
        arrived_ops = team.arrived(self.operators, d)
        arrived = int(arrived_ops.sum())
        team_cost = (
            self.operators_params.salary_per_day * arrived
            + self.koc_params.reward_per_day * len(self.kocs)
            + self.systems_params.cost_per_day * phase.systems
            + self.mix.members_cost(self._tables, by_mask[:, : Stage.CHURNED].sum(axis=1))
        )
        for s in Stage:
            t[s.name.lower()] = int(counts[s])
        t.update(
            live_users=live_n,
            new_users=sum(t.get(f"new_{c}", 0) for c in self.channels) + referred,
            new_referral=referred,
            first_purchases=orders.first_purchases,
            orders=orders.orders,
            revenue=orders.revenue,
            margin=orders.margin,
            acquisition_spend=spend + referred * self.referral_params.reward,
            team_cost=team_cost,
            operators=arrived,
            operators_hired=len(self.operators),
            mean_operator_load=float(load[arrived_ops].mean()) if arrived else 0.0,
            users_per_operator=live_n / arrived if arrived else math.nan,
            koc_count=len(self.kocs),
            mean_trust=live_trust / live_n if live_n else 0.0,
            churned_today=int(events.churned.size + bait.size),
        )
        t["profit"] = t["margin"] - t["acquisition_spend"] - t["team_cost"]
        self.datacollector.collect(self)

        self.clock.end_of_day(d, self._window_conversion)
        self.day += 1

    def run(self, days: int | None = None) -> PrivateDomainModel:
        """Advance `days` days (default: to the horizon)."""
        self.run_for(self.horizon_days - self.day if days is None else days)
        return self

    # --- results -----------------------------------------------------------------------------

    def daily_columns(self) -> list[str]:
        stages = [s.name.lower() for s in Stage]
        new = [f"new_{c}" for c in self.channels] + ["new_referral", "new_users"]
        return [
            "day",
            "phase",
            *stages,
            "live_users",
            *new,
            "first_purchases",
            "orders",
            "revenue",
            "margin",
            "acquisition_spend",
            "team_cost",
            "profit",
            "operators",
            "operators_hired",
            "mean_operator_load",
            "users_per_operator",
            "koc_count",
            "mean_trust",
            "churned_today",
        ]

    def daily(self) -> pd.DataFrame:
        """One row per simulated day, from Mesa's DataCollector."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        for c in df.columns:
            if c.startswith("new_"):
                df[c] = df[c].fillna(0).astype(np.int64)
        return df

    def cohorts(self) -> pd.DataFrame:
        ltv = self._by_age, self.economics.ltv_horizons_days
        return cohorts(self.population, self.daily(), self.day, self._code[IMPORTED], *ltv)

    def summary(self) -> dict:
        ltv = self._by_age, self.economics.ltv_horizons_days
        out = summary(self.population, self.daily(), self.day, self._code[IMPORTED], *ltv)
        out["rfm"] = rfm_counts(self.population, self.day - 1, self.economics)
        out["phase_starts"] = self._phase_starts()
        return out

    # --- internals ---------------------------------------------------------------------------

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
        rows = self.population.add(
            n,
            stage=stage,
            trust=trust,
            intent=acquisition.draw_intent(self.rng, intent_mean, intent_conc, n),
            channel=self._code[channel],
            touchpoints=self.mix.draw_membership(self.rng, n),
            join_day=self.day,
            cac=cac,
        )
        weights = self._assign_weights()
        self.population.operator[rows] = team.assign(self.rng, n, weights)

    def _assign_weights(self) -> np.ndarray:
        """Full capacity of each arrived operator: a ramping hire already takes their share."""
        full = np.array([op.params.capacity for op in self.operators])
        return np.where(team.arrived(self.operators, self.day), full, 0.0)

    def _enter_phase(self, d: int) -> None:
        phase = self.clock.phase
        if phase.team_size is not None:
            prepared = self._capability_days >= self.operators_params.capability_days
            team.hire(self, phase.team_size, d, prepared)
        pool = self.pool_params
        self._promo_excess = (
            max(0.0, pool.promo_share - pool.promo_tolerance) / pool.promo_tolerance
        )
        self._tables = self.mix.tables(
            reach_multiplier=1.0 + self.systems_params.reach_boost * phase.systems,
            ban_pressure=pool.promo_share / pool.promo_tolerance,
        )
        if not phase.koc_programme and self.kocs:
            self._reselect_circle(False)

    def _staff(self, d: int) -> None:
        """Rebalance users over operators when the arrived team changes (new hires take over)."""
        arrived = int(team.arrived(self.operators, d).sum())
        if arrived != self._arrived_ops:
            self._arrived_ops = arrived
            pop = self.population
            live = np.flatnonzero(pop.live())
            pop.operator[live] = team.assign(self.rng, live.size, self._assign_weights())

    def _potential(self, n_live: int) -> float:
        """Pool potential: value content plus KOC activity (social proof), DOMAIN §2.1/§2.3."""
        activity = min(1.0, len(self.kocs) * self.koc_params.capacity / n_live) if n_live else 0.0
        return self.pool_params.content_quality + self.koc_params.potential_boost * activity

    def _refer(self, trust_sum: np.ndarray) -> int:
        r = self.referral_params
        first = Stage.parse(r.min_stage)
        weight = float(trust_sum[first : Stage.CHURNED].sum())
        if self.kocs:
            ids = np.array([k.uid for k in self.kocs])
            alive = self.population.stage[ids] != Stage.CHURNED
            weight += (self.koc_params.referral_multiplier - 1.0) * float(
                self.population.trust[ids][alive].sum()
            )
        n = acquisition.draw_arrivals(self.rng, r.rate_per_day * weight, self._remaining_share())
        self._add_users(
            n, REFERRAL, r.arrival_stage, r.intent_mean, r.intent_concentration, r.reward
        )
        return n

    def _reselect_circle(self, programme: bool) -> None:
        pop, p = self.population, self.koc_params
        live = pop.live()
        arrived = int(team.arrived(self.operators, self.day).sum())
        cap = circle.circle_cap(p, arrived, self.operators_params.deep_limit, int(live.sum()))
        core = circle.select_core(pop, live, cap if programme else 0, p)
        keep = {k.uid: k for k in self.kocs}
        chosen = set(core.tolist())
        for uid, agent in keep.items():
            if uid not in chosen:
                agent.remove()
        self.kocs = [keep.get(uid) or KOC(self, uid) for uid in core.tolist()]
        circle.update_layers(pop, live, core, p)
        loads = circle.assign_maintained(self.rng, pop, live, len(self.kocs), p.capacity)
        for agent, n in zip(self.kocs, loads, strict=True):
            agent.maintained = int(n)
        per = p.strength * np.minimum(1.0, p.capacity / np.maximum(loads, 1))
        self._koc_attention = np.concatenate((per, [0.0])).astype(np.float32)
        self._koc_ids = np.flatnonzero(pop.koc >= 0)
        self._koc_touch = self._koc_attention[pop.koc[self._koc_ids]]

    def _window_conversion(self, first_day: int, last_day: int) -> float:
        ids = matured_rows(
            self.population, last_day + CONVERSION_WINDOW, first_day, self._code[IMPORTED]
        )
        return conversion_30d(self.population, ids)


def _mapping(value, key: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{key} = {value!r}: expected a non-empty mapping of names to settings")
    return value


def _check_int(value, key: str, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{key} = {value!r} is out of range; allowed: an integer >= {minimum}")
