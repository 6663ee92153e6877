"""Repeat buying as heterogeneous as real customer bases (DOMAIN §5, BG/NBD on CDNOW).

Each user draws on arrival a repeat-rate multiplier ~ Gamma(shape r, mean m(intent)) and a
dropout propensity p ~ Beta(a, b) (after each repeat order they leave with probability p).
Statistical checks use tolerances from the sampling error of a fixed seed's draw.
"""

import numpy as np
import pytest
from scipy import stats

from sim.core.acquisition import repeat_rate_mean
from sim.core.params import ConfigError
from sim.core.stage import Stage

from conftest import across_seeds, assert_greater, build, one_phase

N_DRAWN = 100_000  # users imported on day 0: their draws are checked without simulating


@pytest.fixture(scope="module")
def drawn():
    m = build(initial_users=N_DRAWN, seed=11)
    return m, m.population


def test_repeat_rate_multiplier_follows_the_configured_gamma(drawn):
    """rate / m(intent) ~ Gamma(r, scale 1/r): mean 1, CV 1/sqrt(r) (CDNOW r = 0.24: CV ≈ 2)."""
    m, pop = drawn
    r, coef = m.params.purchase.rate_shape, m.params.purchase.rate_intent_coef
    assert r is not None and coef > 0, "the defaults switch the mechanism on"
    x = pop.repeat_rate.astype(np.float64) / repeat_rate_mean(pop.intent, coef)
    n, cv = x.size, 1 / np.sqrt(r)
    assert stats.kstest(x, stats.gamma(r, scale=1 / r).cdf).pvalue > 0.001
    assert abs(x.mean() - 1.0) < 4 * cv / np.sqrt(n)  # SE of the mean: sd / sqrt(n)
    # SE of the sample sd (delta method): sd * sqrt((kurtosis - 1) / 4n), gamma kurtosis 3 + 6/r
    se_cv = cv * np.sqrt((2 + 6 / r) / (4 * n))
    assert abs(x.std() / x.mean() - cv) < 4 * se_cv
    # intent shapes the mean: deal hunters (low intent) rebuy less (DOMAIN §5, Dholakia 2011)
    low, high = pop.repeat_rate[pop.intent < 0.3], pop.repeat_rate[pop.intent > 0.6]
    assert high.mean() > low.mean()


def test_dropout_propensity_follows_the_configured_beta(drawn):
    m, pop = drawn
    a, b = m.params.churn.dropout_a, m.params.churn.dropout_b
    assert stats.kstest(pop.dropout, stats.beta(a, b).cdf).pvalue > 0.001


def test_switched_off_everyone_is_the_same():
    m = build(
        {
            "purchase.rate_shape": None,
            "purchase.rate_intent_coef": 0.0,
            "churn.dropout_a": None,
            "churn.dropout_b": None,
        },
        initial_users=1000,
    )
    assert (m.population.repeat_rate == 1.0).all() and (m.population.dropout == 0.0).all()


def rate_cv(m, exposure_days: int = 60) -> float:
    """CV across customers of their measured repeat rate: repeat orders per day since their
    first order, for customers who bought first at least `exposure_days` before the end."""
    pop = m.population
    c = (pop.first_buy_day >= 0) & (pop.first_buy_day <= m.day - exposure_days)
    rate = (pop.orders[c] - 1) / (m.day - pop.first_buy_day[c])
    return rate.std() / rate.mean()


def test_individual_rates_spread_measured_repeat_rates():
    """Homogeneous rates give a measured CV from Poisson noise and trust alone (~1.2); Gamma
    rates with CV 2 on top must spread it further. Dropout is off in both arms to isolate it."""
    arm = {
        "strategy": one_phase(100, {"public_store": 1.0}),
        "operators.count": 4,
        "churn.dropout_a": None,
        "churn.dropout_b": None,
    }
    off = {**arm, "purchase.rate_shape": None, "purchase.rate_intent_coef": 0.0}
    seeds, top = range(3), {"horizon_days": 200}
    on_cv = across_seeds(rate_cv, arm, seeds, **top)
    off_cv = across_seeds(rate_cv, off, seeds, **top)
    assert_greater(on_cv, off_cv, k=5.0)


def test_dropout_after_repeat_orders_follows_the_beta():
    """A customer who lapsed (repeat rate 0) with k orders lapsed right after their (k-1)-th
    repeat order. Among customers reaching their first repeat order the lapsed share estimates
    E[p] = a / (a + b); among those reaching the second, survivors of the first,
    E[p (1 - p)] / E[1 - p] = a / (a + b + 1): lower, as only heterogeneous p makes it.
    Leaving the pool (churn) is independent of p, so it does not bias either share. CDNOW's
    a, b (DOMAIN §5) make the two shares far apart (0.245 vs 0.185), so a fixed p fails this."""
    changes = {
        "strategy": one_phase(150, {"public_store": 1.0}),
        "operators.count": 6,
        "churn.dropout_a": 0.79,
        "churn.dropout_b": 2.43,
    }
    m = build(changes, seed=5, horizon_days=300).run()
    pop, a, b = m.population, m.params.churn.dropout_a, m.params.churn.dropout_b
    lapsed = pop.repeat_rate == 0.0
    assert not lapsed[pop.orders < 2].any(), "only a repeat order can end buying"
    assert (pop.stage[lapsed] != Stage.CHURNED).any(), "lapsed buyers stay in the pool"
    for k, expected in ((2, a / (a + b)), (3, a / (a + b + 1))):
        reached = pop.orders >= k
        share = (lapsed & (pop.orders == k)).sum() / reached.sum()
        se = np.sqrt(expected * (1 - expected) / reached.sum())
        assert reached.sum() > 2000, "enough customers to test"
        assert abs(share - expected) < 3.5 * se, (k, share, expected, se)


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("purchase.rate_shape", -0.5, r"purchase\.rate_shape = -0\.5 .*> 0"),
        ("purchase.rate_shape", 0.0, r"purchase\.rate_shape = 0\.0 .*> 0"),
        ("purchase.rate_intent_coef", 1.5, r"purchase\.rate_intent_coef = 1\.5 .*\[0, 1\]"),
        ("churn.dropout_a", 0.0, r"churn\.dropout_a = 0\.0 .*> 0"),
        ("churn.dropout_b", -2.0, r"churn\.dropout_b = -2\.0 .*> 0"),
        ("churn.dropout_b", None, r"churn\.dropout_b = None: set both"),
    ],
)
def test_bad_heterogeneity_input_is_refused_naming_the_key(path, value, message):
    with pytest.raises(ConfigError, match=message):
        build({path: value})
