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
