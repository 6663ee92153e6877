"""The reference the benchmark compares against: the same per-user daily rules as
`sim/core/dynamics.py`, written the plain Mesa way — one `mesa.Agent` per user, each stepping itself
through `model.agents.shuffle_do("step")`.

It is kept here, in the benchmark only, to measure what the array layout of `sim.core.population`
buys. It does the same work per user-day (touches from operator attention, broadcast and asks;
trust update; stage advance; purchase hazard with the new-user offer; churn hazard; one uniform
draw deciding churn-then-purchase; booking an order) but leaves out acquisition, referrals, the
KOC circle and accounting, so it need not reproduce the full model's numbers.
"""

from __future__ import annotations

import mesa

from sim.core.params import scenario
from sim.core.pool import PoolMix
from sim.core.stage import Stage

AWARE, FAMILIAR, TRUST, BUY, REBUY, CHURNED = (int(s) for s in Stage)


class UserAgent(mesa.Agent):
    """One user as a Mesa agent: its state in attributes, its rules in `step`."""

    def __init__(self, model, stage, trust, intent, operator, touchpoints):
        super().__init__(model)
        self.stage = stage
        self.trust = trust
        self.intent = intent
        self.operator = operator
        self.touchpoints = touchpoints
        self.join_day = model.day
        self.orders = 0
        self.spend = 0.0

    def step(self):
        m = self.model
        if self.stage == CHURNED:
            return
        tp = self.touchpoints
        # touches (dynamics.touches)
        one = m.attention[self.operator] * m.one_to_one[tp]
        value = m.value[tp] * (1.0 - m.promo_share)
        asks = (m.reach[tp] + one) * m.promo_share
        one *= 1.0 - m.promo_share  # every touch splits into value and ask alike
        # trust (dynamics.update_trust)
        t, p = self.trust, m.trust_p
        gain = (
            (p.one_to_one_weight * one + p.broadcast_weight * value) * p.learning_rate * m.potential
        )
        t += gain * (1.0 - t) - p.promo_cost * asks - p.neglect_rate * t
        self.trust = t = min(1.0, max(0.0, t))
        # stage advance (dynamics.advance_stages)
        if self.stage == AWARE and t >= p.familiar_at:
            self.stage = FAMILIAR
        if self.stage == FAMILIAR and t >= m.business.trust_to_buy:
            self.stage = TRUST
        # purchase hazard (dynamics.purchase_hazard)
        pp = m.purchase_p
        ready = min(
            1.0, max(0.0, (t - m.business.trust_to_buy) * 0.5 / pp.readiness_softness + 0.5)
        )
        buy = ready * (1.0 - m.friction[tp])
        if self.stage == TRUST:
            ask = asks * pp.first_buy_rate * self.intent
            if m.day - self.join_day < pp.new_user_offer_days:
                ask *= pp.new_user_offer_boost
            buy *= min(ask, 1.0)
        elif self.stage >= BUY:
            buy *= m.rebuy_rate
        else:
            buy = 0.0
        # churn hazard (dynamics.churn_hazard)
        c = m.churn_p
        churn = (1.0 + c.trust_coef * (1.0 - t)) * (1.0 + c.intent_coef * (1.0 - self.intent))
        churn = min(1.0, churn * m.churn_scale + m.ban_risk[tp])
        # one uniform decides churn, then purchase (dynamics.draw_events, ledger.record_orders)
        u = m.random.random()
        if u < churn:
            self.stage = CHURNED
        elif u < churn + buy:
            self.orders += 1
            self.spend += m.business.lead.price if self.orders == 1 else m.business.star.price
            self.stage = BUY if self.orders == 1 else REBUY


class NaiveModel(mesa.Model):
    """`users` imported users and a fixed operator team, stepped one agent at a time."""

    def __init__(self, cfg: dict, users: int, seed: int = 0):
        super().__init__(rng=seed)
        self.day = 0
        sc = scenario(cfg)
        self.business, self.trust_p = sc.business, sc.trust
        self.purchase_p, self.churn_p = sc.purchase, sc.churn
        pool = sc.pool
        mix = PoolMix(pool, sc.touchpoints)
        tables = mix.tables(
            reach_multiplier=1.0, ban_pressure=pool.promo_share / pool.promo_tolerance
        )
        # plain Python lists: per-agent code reads scalars
        self.reach, self.value = tables.reach.tolist(), tables.value.tolist()
        self.one_to_one, self.friction = tables.one_to_one.tolist(), tables.friction.tolist()
        self.ban_risk = tables.ban_risk.tolist()
        self.promo_share = pool.promo_share
        self.potential = pool.content_quality
        excess = max(0.0, pool.promo_share - pool.promo_tolerance) / pool.promo_tolerance
        self.churn_scale = self.churn_p.base_rate * (1.0 + self.churn_p.promo_coef * excess)
        self.rebuy_rate = 1.0 / self.business.purchase_cycle_days

        ops = cfg["operators"]
        n_ops = ops["count"]
        self.attention = [
            min(ops["max_touches_per_user_day"], ops["capacity"] * n_ops / max(users, 1))
        ] * n_ops

        ch = cfg["channels"][cfg["initial_channel"]]
        stage = Stage.parse(ch["arrival_stage"])
        base = self.trust_p.arrival[ch["arrival_stage"]]
        trust = base + (1.0 - base) * self.business.brand_awareness
        a = ch["intent_mean"] * ch["intent_concentration"]
        b = (1.0 - ch["intent_mean"]) * ch["intent_concentration"]
        intents = self.rng.beta(a, b, users).tolist()
        members = mix.draw_membership(self.rng, users).tolist()
        operators = self.rng.integers(0, n_ops, users).tolist()
        for i in range(users):
            UserAgent(self, int(stage), trust, intents[i], operators[i], members[i])

    def step(self):
        self.agents.shuffle_do("step")
        self.day += 1
