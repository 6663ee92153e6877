"""The compiled daily passes (`sim.core.kernels`) equal the numpy rules of `sim.core.dynamics`
bit for bit (issue #24: the model runs the kernels; the rules are the reference).

A small random population in every stage, churned rows included, with the sparse parts the
model's runs exercise only in some configs: KOC-maintained rows, camps' extra 1:1 attention,
a per-user promo share and potential (several pools, the pyramid), the new-user offer window.
tests/test_baseline.py covers the default run end to end; this covers the branches it may not.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from sim.core import dynamics, kernels
from sim.core.params import scenario
from sim.core.population import Population
from sim.core.stage import Stage

from conftest import base_config

N = 5000


def _world(seed: int):
    """A population of N random rows (every stage, ~half churned, joining over 20 days) and
    random pool effects, operators' attention, KOC and camp rows."""
    rng = np.random.default_rng(seed)
    pop = Population(N)
    f32 = np.float32
    pop.add(
        N,
        stage=rng.integers(0, len(Stage), N),
        trust=rng.random(N, dtype=f32),
        intent=rng.random(N, dtype=f32),
        operator=rng.integers(-1, 4, N),
        repeat_rate=rng.gamma(0.5, 2.0, N).astype(f32),
        join_day=np.sort(rng.integers(0, 20, N)),
    )
    effects = SimpleNamespace(
        **{k: rng.random(N, dtype=f32) * 0.5 for k in ("reach", "value", "one_to_one")},
        friction=rng.random(N, dtype=f32),
        ban_risk=rng.random(N, dtype=f32) * 0.01,
    )
    attention = np.append(rng.random(4) * 2, 0.0).astype(f32)
    koc_ids = np.sort(rng.choice(N, 300, replace=False))
    koc_touch = rng.random(300, dtype=f32)
    extra_rows = np.sort(rng.choice(N, 200, replace=False))
    extra = extra_rows, rng.random(200, dtype=f32)
    return rng, pop, effects, attention, koc_ids, koc_touch, extra


@pytest.mark.parametrize("per_user", [False, True], ids=["one pool", "per user"])
@pytest.mark.parametrize("camps", [False, True], ids=["no camps", "camps"])
@pytest.mark.parametrize("rows", ["live", "every"])
def test_day_pass_equals_the_numpy_rules(per_user, camps, rows):
    """touches → update_trust → advance_stages → purchase_hazard in numpy and the fused pass
    leave the same trust and stages and give the same hazards, to the bit, whether the pass
    visits the live rows only (as the model does; KOC and camp rows among the churned are
    skipped) or every row (churned ones keep their trust and get no hazard)."""
    sc = scenario(base_config())
    rng, pop, effects, attention, koc_ids, koc_touch, extra = _world(1 + per_user + 2 * camps)
    extra = extra if camps else None
    promo = rng.random(N, dtype=np.float32) * 0.4 if per_user else 0.15
    potential = (rng.random(N, dtype=np.float32) + 0.5) if per_user else 1.1
    day = 19  # the offer window covers the last days' joiners
    ref = Population(N)
    ref.add(N, **{k: getattr(pop, k).copy() for k in ("stage", "trust", "intent", "operator",
                                                      "repeat_rate", "join_day")})  # fmt: skip
    t = dynamics.touches(ref, attention, koc_ids, koc_touch, effects, promo, extra)
    dynamics.update_trust(ref.trust, t, sc.trust, potential, ref.stage == Stage.CHURNED)
    dynamics.advance_stages(ref, sc.trust.familiar_at, sc.business.trust_to_buy)
    want = dynamics.purchase_hazard(ref, t, effects.friction, day, sc.business, sc.purchase)

    ids = np.flatnonzero(pop.stage != Stage.CHURNED) if rows == "live" else np.arange(N)
    sparse = koc_ids if extra is None else np.union1d(koc_ids, extra[0])
    assert (pop.stage[sparse] == Stage.CHURNED).sum() > 20, "sparse rows among the churned"
    got = dynamics.day_pass(pop, ids, attention, koc_ids, koc_touch, effects, promo, extra,
                            sc.trust, potential, day, sc.business, sc.purchase)  # fmt: skip
    assert np.array_equal(pop.trust, ref.trust)
    assert np.array_equal(pop.stage, ref.stage)
    assert np.array_equal(got, want[ids])
    assert (want > 0).sum() > N // 10, "the check needs rows with a purchase hazard"


@pytest.mark.parametrize("per_user", [False, True], ids=["one pool", "per user"])
def test_churn_events_equal_the_numpy_rules(per_user):
    """churn_hazard then draw_events, and the fused pass, on the same draw: the same churned
    and buying users, and the generator left in the same state."""
    sc = scenario(base_config())
    rng, pop, effects, *_ = _world(7)
    live = np.flatnonzero(pop.stage != Stage.CHURNED)
    buy_h = rng.random(N, dtype=np.float32) * 0.2
    excess = rng.random(N, dtype=np.float32) * 2 if per_user else 0.5
    churn = dataclasses.replace(sc.churn, base_rate=0.02)  # enough churned rows to compare
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    churn_h = dynamics.churn_hazard(pop, live, effects.ban_risk, excess, churn)
    want = dynamics.draw_events(a, live, churn_h, buy_h)
    got = dynamics.churn_events(b, pop, live, effects.ban_risk, excess, churn, buy_h[live])
    assert np.array_equal(got.churned, want.churned) and np.array_equal(got.bought, want.bought)
    assert want.churned.size > 20 and want.bought.size > 20
    assert a.random() == b.random()


def test_tallies_equal_bincount():
    """The referral sums (float64, in row order) and the stage counts over live rows equal
    numpy's weighted and plain `bincount` of the same keys."""
    rng, pop, *_ = _world(11)
    pop.layer[:] = rng.integers(0, 3, N)
    live = np.flatnonzero(pop.stage != Stage.CHURNED)
    key = (pop.layer[live] > 0) * len(Stage) + pop.stage[live]
    want = np.bincount(key, weights=pop.trust[live].astype(np.float64), minlength=2 * len(Stage))
    got = kernels.trust_by_layer_stage(live, pop.layer, pop.stage, pop.trust, len(Stage))
    assert np.array_equal(got.ravel(), want)
    group = pop.operator[live] + 1
    counts = np.bincount(group * len(Stage) + pop.stage[live], minlength=5 * len(Stage))
    assert np.array_equal(pop.stage_counts_by(group, 5, live).ravel(), counts)


def test_live_index_kernels_equal_numpy():
    """Counts by a column read in the loop, the live rows kept, and the waiting queue equal
    their numpy spellings (`Population.stage_counts_of`, the model's live index, the friend
    cap's queue)."""
    rng, pop, *_ = _world(13)
    rows = np.sort(rng.choice(N, N // 3, replace=False))
    want = pop.stage_counts_by(pop.operator[rows] + 1, 5, rows)
    assert np.array_equal(pop.stage_counts_of(pop.operator, 5, rows, offset=1), want)
    out = np.empty(rows.size, dtype=rows.dtype)
    kept = out[: kernels.still_live(rows, pop.stage, out)]
    assert np.array_equal(kept, rows[pop.stage[rows] != Stage.CHURNED])
    waiting = rows[pop.operator[rows] < 0]
    assert waiting.size > 10
    for limit in (0, 5, waiting.size + 3):
        first, total = kernels.unassigned(rows, pop.operator, limit)
        assert np.array_equal(first, waiting[:limit]) and total == waiting.size


@pytest.mark.parametrize("spare", [False, True], ids=["even", "half word left"])
def test_churn_draw_in_the_pass_equals_numpys(spare):
    """The churn pass drawing PCG64's uniforms itself (`kernels.churn_events_pcg64`) gives
    what `Generator.random` then the pass on that draw give, for live rows that start, end
    or not at row 0 and n - 1, either half of a 64-bit output first (an odd draw before), and
    leaves the generator where numpy's draw does: the next draws of every kind agree."""
    sc = scenario(base_config())
    churn = dataclasses.replace(sc.churn, base_rate=0.02)
    _, pop, effects, *_ = _world(17)
    buy_h = np.random.default_rng(5).random(N, dtype=np.float32) * 0.2
    for seed, n in ((1, N), (2, N - 1), (3, 1), (4, 2), (5, 0)):  # on the first n rows
        first = Population(n)
        first.add(n, trust=pop.trust[:n], intent=pop.intent[:n])
        pick = np.random.default_rng(seed)
        live = np.sort(pick.choice(n, pick.integers(0, n + 1), replace=False))
        if seed == 1:
            live = np.concatenate([[0], live[(live > 0) & (live < n - 1)], [n - 1]])
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        if spare:
            a.random(3, dtype=np.float32), b.random(3, dtype=np.float32)
        u = a.random(n, dtype=np.float32)
        want = kernels.churn_events(u, live, pop.trust, pop.intent, effects.ban_risk,
                                    np.float32(churn.base_rate * (1 + churn.promo_coef * 0.5)),
                                    np.array([churn.trust_coef, churn.intent_coef], np.float32),
                                    buy_h[live])  # fmt: skip
        got = dynamics.churn_events(b, first, live, effects.ban_risk, 0.5, churn, buy_h[live])
        assert np.array_equal(got.churned, want[0]) and np.array_equal(got.bought, want[1])
        assert a.bit_generator.state == b.bit_generator.state
        assert np.array_equal(a.random(5, dtype=np.float32), b.random(5, dtype=np.float32))
        assert a.random() == b.random() and a.integers(1 << 40) == b.integers(1 << 40)
