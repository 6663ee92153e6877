"""Known result: with stages collapsed to adopt / not adopt (joining the pool), no capacity
limit, a fixed market, constant ad-driven adoption p and referral-driven imitation q, the
cumulative adoption curve is the Bass model's (DOMAIN §5)."""

import numpy as np

from conftest import build, one_phase

M, P, Q, DAYS, SEEDS = 20_000, 0.002, 0.04, 240, 8

# Everything but acquisition and referral switched off: every member refers at rate q
# (trust 1 from arrival, referral from the first stage, every layer alike), nobody churns,
# ads do not saturate.
BASS = {
    "strategy": one_phase(P * M, {"paid_ads": 1.0}),
    "referral.rate_per_day": Q,
    "referral.min_stage": "aware",
    "referral.periphery_weight": 1.0,  # no circle layers: the silent refer like talkers
    "referral.arrival_stage": "aware",
    "trust.arrival": {"aware": 1.0, "familiar": 1.0},
    "trust.neglect_rate": 0.0,
    "trust.promo_cost": 0.0,
    "churn.base_rate": 0.0,
    "churn.bait_dropout": 0.0,
    "koc.max_share": 0.0,
    **{f"touchpoints.{t}.ban_risk": 0.0 for t in ("personal_account", "moments", "group_chat")},
}


def bass_closed_form(t):
    e = np.exp(-(P + Q) * t)
    return (1 - e) / (1 + (Q / P) * e)


def bass_daily_steps(days):
    """The same dynamics in whole days (ads at the start of a day, referrals after): the
    expected path of the simulation, whose only gap to the closed form is the time step."""
    f, out = 0.0, []
    for _ in range(days):
        f += P * (1 - f)
        f += Q * f * (1 - f)
        out.append(f)
    return np.array(out)


def test_adoption_curve_matches_bass_closed_form():
    curves = []
    for seed in range(SEEDS):
        daily = build(BASS, seed=seed, market_size=M, horizon_days=DAYS).run().daily()
        curves.append(np.cumsum(daily["new_users"].to_numpy()) / M)
    curves = np.array(curves)
    mean = curves.mean(axis=0)
    se = curves.std(axis=0, ddof=1) / np.sqrt(SEEDS)
    t = np.arange(1, DAYS + 1)
    closed = bass_closed_form(t)
    step_error = np.abs(bass_daily_steps(DAYS) - closed)
    # Within 4 standard errors of sampling plus the (deterministic) daily-step error...
    assert np.all(np.abs(mean - closed) <= 4 * se + step_error + 1e-4)
    # ...and that step error is small: the curve is the Bass curve, not merely S-shaped.
    assert step_error.max() < 0.01
    # The curve is not trivially satisfied: it passes through the Bass inflection region.
    assert 0.3 < mean[np.searchsorted(closed, 0.5)] < 0.7
