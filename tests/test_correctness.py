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
    assert m.kocs and m._koc_ids.size > 0, "the check needs KOC-maintained users"
    m.pool_params = dataclasses.replace(m.pool_params, promo_share=1.0)
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
