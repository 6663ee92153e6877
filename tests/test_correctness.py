"""Definitions the outputs rely on (issue "Correctness"): each test fails on the defect it names.

Stochastic checks use fixed seeds and tolerances of several standard errors computed from the
sample itself, never guessed margins.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.core import dynamics, team
from sim.core.params import Pool, Touchpoint, Trust
from sim.core.pool import MemberEffects, PoolMix
from sim.core.population import Population
from sim.core.stage import Stage

from conftest import base_config, build, one_phase

# --- 1. one rule splits every touch into value and ask (DOMAIN §2.1) -----------------------


def _touch_world(promo_share: float):
    """Users on a grid of trust, all with full 1:1 attention, half of them also KOC-maintained.

    Returns the population, its touches and the trust parameters of the default config.
    """
    cfg = base_config()
    catalogue = {k: Touchpoint(**v) for k, v in cfg["touchpoints"].items()}
    pool = Pool(**{**cfg["pool"], "promo_share": promo_share})
    mix = PoolMix(pool, catalogue)
    n = 200
    pop = Population(n)
    pop.add(
        n,
        stage=Stage.FAMILIAR,
        trust=np.linspace(0.0, 1.0, n, dtype=np.float32),
        intent=0.5,
        operator=0,
        touchpoints=np.arange(n) % (1 << len(pool.touchpoints)) | 1,  # every membership mix
    )
    effects = MemberEffects().sync(mix.tables(1.0, 1.0), pop.touchpoints)
    attention = team.attention(np.array([1e6]), np.array([n]), 1.0)  # one touch a day each
    koc_ids = np.arange(0, n, 2)
    koc_touch = np.full(koc_ids.size, 0.5, dtype=np.float32)  # KOC strength at full attention
    t = dynamics.touches(pop, attention, koc_ids, koc_touch, effects, promo_share)
    return pop, t, Trust(**cfg["trust"])


def test_when_everything_asks_no_touch_of_any_kind_adds_trust():
    """At promo_share = 1 every touch (operator 1:1, KOC, broadcast) is an ask: gain <= 0."""
    pop, t, p = _touch_world(1.0)
    assert (t.asks > 0).all(), "1:1 touches must count as asks at promo_share = 1"
    before = pop.trust.copy()
    dynamics.update_trust(pop.trust, t, p, potential=1.4)  # the largest potential (full KOCs)
    gain = pop.trust - before
    assert gain.max() <= 0.0, f"a touch added trust at promo_share = 1: max gain {gain.max():.4g}"


def test_when_nothing_asks_no_touch_is_an_ask_and_all_of_them_add_value():
    pop, t, p = _touch_world(0.0)
    assert not t.asks.any()
    before = pop.trust.copy()
    dynamics.update_trust(pop.trust, t, p, potential=0.8)
    low = before < 0.5  # well below saturation, where value beats neglect
    assert ((pop.trust - before)[low] > 0).all()


@pytest.mark.parametrize("promo_share", [0.0, 0.15, 0.6, 1.0])
def test_a_touch_splits_into_value_and_ask_by_the_promo_share(promo_share):
    """Operator, KOC and broadcast touches carry the same promo share: value = (1 - s) x touch,
    ask = s x touch, for each kind (checked by switching the others off)."""
    _, full, _ = _touch_world(promo_share)
    _, none, _ = _touch_world(0.0)
    s = np.float32(promo_share)
    # the asks are s x (reach + 1:1 + KOC); the 1:1 and KOC value parts are (1 - s) x touch
    np.testing.assert_allclose(full.one_to_one, (1 - s) * none.one_to_one, rtol=1e-6)
    np.testing.assert_allclose(full.koc, (1 - s) * none.koc, rtol=1e-6)
    np.testing.assert_allclose(full.value, (1 - s) * none.value, rtol=1e-6)


def test_a_full_model_day_at_promo_share_one_adds_no_trust():
    """The same rule through the model's own loop: operators, KOCs and broadcast together."""
    m = build(
        {"strategy": one_phase(20, {"public_store": 1.0}, koc=True), "operators.count": 4},
        seed=1,
        horizon_days=80,
        initial_users=1000,
    ).run(70)
    assert m.kocs and m.circle.ids.size > 0, "the check needs KOC-maintained users"
    running = m.brand.running["place"]  # the pool the brand runs
    m.brand.pools[running] = dataclasses.replace(m.brand.pool, promo_share=1.0)
    before = m.population.trust.copy()
    m.step()
    gain = m.population.trust[: before.size] - before
    assert gain.max() <= 0.0, f"max gain {gain.max():.4g}"


# --- 2. purchase_cycle_days is the measured mean gap of a ready customer (DOMAIN §2.6, §5) --


def _order_gaps(cycle: float, friction: float, n: int = 4000, seed: int = 0) -> np.ndarray:
    """Gaps in days between consecutive orders of `n` ready customers (trust 1, which is above
    trust_to_buy + readiness_softness), churn, bans and acquisition off, every touchpoint with
    the given friction. Only gaps that start by day `start_by` are kept and the run lasts 20 mean
    gaps longer, so a gap is cut off by the horizon with probability ~e^-20: no censoring bias."""
    cfg = base_config()
    tps = {k: {**v, "friction": friction, "ban_risk": 0.0} for k, v in cfg["touchpoints"].items()}
    start_by = 100
    horizon = start_by + int(20 * cycle / (1 - friction))
    m = build(
        {
            "strategy": one_phase(0, {"paid_ads": 1.0}),
            "touchpoints": tps,
            "business.purchase_cycle_days": cycle,
            "churn.base_rate": 0.0,
            "trust.neglect_rate": 0.0,  # trust stays 1: always ready
            "pool.promo_share": 0.0,
            "referral.rate_per_day": 0.0,
            "koc.max_share": 0.0,
            # the cycle is defined for a customer whose own rate multiplier is 1 and who does
            # not drop out (heterogeneity is tests/test_heterogeneity.py's)
            "purchase.rate_shape": None,
            "purchase.rate_intent_coef": 0.0,
            "churn.dropout_a": None,
            "churn.dropout_b": None,
        },
        seed=seed,
        horizon_days=horizon,
        initial_users=n,
    )
    pop = m.population
    pop.stage[:] = Stage.BUY
    pop.trust[:] = 1.0
    pop.orders[:] = 1
    last = np.full(n, -1)
    gaps = []
    for d in range(horizon):
        before = pop.orders[:n].copy()
        m.step()
        bought = np.flatnonzero(pop.orders[:n] > before)
        timed = bought[(last[bought] >= 0) & (last[bought] <= start_by)]
        gaps.append(d - last[timed])
        last[bought] = d
    assert not (pop.stage == Stage.CHURNED).any()
    return np.concatenate(gaps)


@pytest.mark.parametrize(
    "cycle, friction", [(30.0, 0.0), (7.0, 0.0), (1.0, 0.0), (10.0, 0.5), (12.0, 0.75)]
)
def test_purchase_cycle_is_the_mean_gap_of_a_ready_customer_less_friction(cycle, friction):
    """Frictionless: the mean gap is the configured cycle; friction f keeps a share 1 - f of the
    orders, so the gap is cycle / (1 - f). Tolerance: 4 standard errors of the sample mean."""
    g = _order_gaps(cycle, friction)
    expected = cycle / (1 - friction)
    se = g.std(ddof=1) / np.sqrt(g.size)
    assert g.size > 5000
    msg = f"mean gap {g.mean():.3f} vs {expected} (SE {se:.3f})"
    assert abs(g.mean() - expected) <= 4 * se, msg
    assert g.min() >= 1


@pytest.mark.parametrize("cycle", [0.5, 0.0])
def test_a_purchase_cycle_under_one_day_is_rejected(cycle):
    """A daily model orders at most once a day: a cycle < 1 day could not be the mean gap."""
    from sim.core.params import ConfigError

    with pytest.raises(ConfigError, match=r"business\.purchase_cycle_days = 0?\.?\d* .*>= 1"):
        build({"business.purchase_cycle_days": cycle})


# --- 3. LTV at fixed ages over cohorts old enough (DOMAIN §4) ------------------------------

ACQUIRED, IMPORTED = 0, 5


def _hand_built(daily_discount: float, cac_scale: float = 1.0):
    """Seven users with known orders over days 0-9 (last_day 9), horizons 3 and 6 days.

    lead: 100 yuan at 10 % margin = 10; star: 200 yuan at 50 % = 100; no premium."""
    from sim.core.ledger import MarginByAge, record_orders
    from sim.core.params import Business
    from sim.core.params import structured as build_record

    business = build_record(
        Business,
        {
            "name": "hand",
            "purchase_cycle_days": 30.0,
            "trust_to_buy": 0.5,
            "brand_awareness": 0.0,
            "lead": {"price": 100.0, "margin": 0.1},
            "star": {"price": 200.0, "margin": 0.5},
            "premium": {"price": 900.0, "margin": 0.6, "min_trust": 0.8},
            "premium_share": 0.0,
        },
        "business",
    )
    pop = Population(16)
    #                u0 imported, u1, u2, u3, u4, u5, u6
    join = np.array([0, 0, 3, 5, 8, 7, 0])
    cac = np.array([0, 10, 20, 30, 40, 3, 1000]) * cac_scale
    channel = np.array([IMPORTED, 0, 0, 0, 0, 0, 0])
    pop.add(7, stage=Stage.TRUST, trust=0.6, join_day=join, cac=cac, channel=channel)
    # day -> buyers: u1 on days 0, 2, 5; u2 on 4, 9; u5 on 9; u0 (imported, not counted) on 1
    orders = {0: [1], 1: [0], 2: [1], 4: [2], 5: [1], 9: [2, 5]}
    by_age = MarginByAge(max_age=6, skip_channel=IMPORTED, days=4)  # rows grow as needed
    rng = np.random.default_rng(0)
    for day in range(10):
        buyers = np.array(orders.get(day, []), dtype=np.int64)
        record_orders(rng, pop, buyers, day, business, daily_discount, by_age)
    return pop, by_age


def test_ltv_at_fixed_ages_on_a_hand_built_population():
    """By hand (no discounting). H = 3: old enough = join <= 9 - 3 + 1 = 7: u1, u2, u3, u5, u6
    (u4 joined day 8: too young). Margin at ages < 3: u1 10 (day 0) + 100 (day 2); u2 10 (day 4,
    age 1); u5 10 (day 9, age 2); u3, u6 none = 130; CAC 10+20+30+3+1000 = 1063.
    H = 6: join <= 4: u1, u2, u6. Ages < 6: u1 10 + 100 + 100 (day 5, age 5) = 210; u2 10
    (its day-9 order is age 6, outside); CAC 1030.
    Payback over the H = 6 users: cumulative margin 10 (age 0), 20, 120, 120, 120, 220 < 1030:
    never within 180 -> NaN; with CAC / 100 (10.3): age 1 (20 >= 10.3)."""
    from sim.core.metrics import cohorts, ltv_at_ages

    pop, by_age = _hand_built(1.0)
    out = ltv_at_ages(pop, by_age, 10, [3, 6], IMPORTED)
    assert out["ltv_3d_users"] == 5 and out["ltv_6d_users"] == 3
    assert out["ltv_3d"] == pytest.approx((130 - 1063) / 5, rel=1e-12)
    assert out["ltv_cac_3d"] == pytest.approx(130 / 1063, rel=1e-12)
    assert out["ltv_6d"] == pytest.approx((220 - 1030) / 3, rel=1e-12)
    assert out["ltv_cac_6d"] == pytest.approx(220 / 1030, rel=1e-12)
    assert np.isnan(out["payback_day"])

    pop, by_age = _hand_built(1.0, cac_scale=0.01)
    assert ltv_at_ages(pop, by_age, 10, [3, 6], IMPORTED)["payback_day"] == 1
    # weekly cohorts: week 0 (days 0-6) and week 1 (days 7-9); H = 6 only for joins <= 4
    import pandas as pd

    daily = pd.DataFrame({"day": range(10), "live_users": 1, "users_per_operator": 1.0})
    c = cohorts(pop, daily, 10, IMPORTED, by_age, [3, 6])
    cac = 0.01 * np.array([10, 20, 30, 40, 3, 1000])
    np.testing.assert_allclose(c["ltv_3d"], [(120 - cac[[0, 1, 2, 5]].sum()) / 4, 10 - 0.03])
    np.testing.assert_allclose(c["ltv_6d"], [(220 - cac[[0, 1, 5]].sum()) / 3, np.nan])


def test_ltv_at_fixed_ages_discounts_each_order_to_the_joining_day():
    """Daily discount 1/2: u1's orders at ages 0, 2, 5 count 10, 100/4, 100/32 at H = 6."""
    from sim.core.metrics import ltv_at_ages

    pop, by_age = _hand_built(0.5)
    out = ltv_at_ages(pop, by_age, 10, [3, 6], IMPORTED)
    earned_6 = 10 + 25 + 100 / 32 + 10 / 2  # u1, and u2's lead order at age 1
    assert out["ltv_cac_6d"] == pytest.approx(earned_6 / 1030, rel=1e-12)


def test_ltv_at_h_is_nan_until_a_cohort_is_old_enough():
    s = build(seed=0, horizon_days=60).run().summary()
    for h in (90, 180):
        assert s[f"ltv_{h}d_users"] == 0
        assert np.isnan(s[f"ltv_{h}d"]) and np.isnan(s[f"ltv_cac_{h}d"])
    assert np.isnan(s["payback_day"])


def test_ltv_at_h_matches_a_recomputation_from_per_user_arrays():
    """Independently of the by-age table: the day a user completes age H - 1 (join + H - 1),
    their per-user discounted margin to date is exactly their margin within H days."""
    horizons = [30, 90]
    m = build({"economics.ltv_horizons_days": horizons}, seed=2, horizon_days=150)
    within = {h: np.zeros(0) for h in horizons}
    for d in range(150):
        m.step()
        pop = m.population
        for h in horizons:
            rows = pop.slice_joined(d - h + 1, d - h + 1)  # just completed ages 0 .. h-1
            within[h] = np.concatenate((within[h], pop.ltv_margin[rows]))
    pop = m.population
    s = m.summary()
    c = m.cohorts()
    imported = m._code["imported"]
    for h in horizons:
        old = pop.slice_joined(0, 149 - h + 1)
        acquired = pop.channel[old] != imported
        n, cac = int(acquired.sum()), float(pop.cac[old][acquired].astype(np.float64).sum())
        earned = float(within[h][acquired].sum())
        assert s[f"ltv_{h}d_users"] == n > 0
        assert s[f"ltv_{h}d"] == pytest.approx((earned - cac) / n, rel=1e-9)
        assert s[f"ltv_cac_{h}d"] == pytest.approx(earned / cac, rel=1e-9)
        week = pop.join_day[old][acquired] // 7
        net = np.bincount(week, within[h][acquired] - pop.cac[old][acquired], minlength=len(c))
        size = np.bincount(week, minlength=len(c))
        with np.errstate(invalid="ignore"):
            np.testing.assert_allclose(c[f"ltv_{h}d"], net / size, rtol=1e-9)
    # to date pools every age: it differs from the horizon-matched value
    assert s["ltv_per_user_to_date"] != s["ltv_90d"]


HORIZON_KEYS = ["ltv_horizons_days", "npv_horizons_days"]  # LTV's ages, NPV's days (issue #23)


@pytest.mark.parametrize("key", HORIZON_KEYS)
@pytest.mark.parametrize("horizons", [[], [0, 90], [-365], [180, 90], [90, 90], [3651]])
def test_horizons_must_be_increasing_whole_days(key, horizons):
    from sim.core.params import ConfigError

    with pytest.raises(ConfigError, match=rf"economics\.{key} = .*increasing list"):
        build({f"economics.{key}": horizons})


@pytest.mark.parametrize("key", HORIZON_KEYS)
def test_horizons_are_typed_whole_days(key):
    """A fractional horizon is a type error, refused by the schema itself, naming the key."""
    from sim.core.params import ConfigError

    with pytest.raises(ConfigError, match=rf"economics\.{key}\[0\]: .*Integer"):
        build({f"economics.{key}": [90.5]})


# --- 4. RFM classes are live customers; lost customers are their own line (DOMAIN §1, §2.7) --


def test_rfm_classes_count_live_customers_and_churned_ones_are_lost():
    """A blocked/deleted customer (§1: truly lost) is in none of the eight classes (000)."""
    m = build(seed=0, horizon_days=120).run()
    s = m.summary()
    pop = m.population
    customers = pop.orders > 0
    live = customers & (pop.stage != Stage.CHURNED)
    assert customers.sum() > live.sum() > 0, "the check needs churned customers"
    assert sum(s["rfm"].values()) == live.sum()
    assert len(s["rfm"]) == 8
    assert s["customers_lost"] == (customers & (pop.stage == Stage.CHURNED)).sum()
    assert s["customers"] == sum(s["rfm"].values()) + s["customers_lost"]
