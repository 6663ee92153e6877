"""Acquisition (DOMAIN §2.5): how many users arrive per channel, what they cost, who they are.

- Unit cost rises with time and with the volume already bought on the channel (the
  "traffic black-forest law", 001): `base × (1 + g)^(t/365) × (1 + bought/saturation)^e`.
- Traffic quality is each user's intent, Beta-distributed per channel: fission brings deal
  hunters (low intent), referrals and public-store customers bring warm users (001, 003).
- Customers differ in how often they rebuy and how soon they stop (BG/NBD on CDNOW, DOMAIN §5:
  purchase rates Gamma-distributed with CV ≈ 2, dropout chances Beta-distributed): each arrival
  draws a repeat-rate multiplier and a dropout propensity, deal hunters rebuying less (§5,
  Dholakia 2011: only ~20 % of deal buyers came back at full price).
- With a finite `market_size`, buying reaches random people of the market and only those not
  yet in the pool join: the joining share is (market − acquired) / market. This is what makes the
  Bass model (DOMAIN §5) a special case of this one (see `tests/test_bass.py`).
"""

from __future__ import annotations

import numpy as np

from sim.core.params import Channel, Churn, Purchase


def unit_cost(channel: Channel, day: int, bought: float) -> float:
    """Yuan per user bought on `day` after `bought` users on this channel (black-forest law)."""
    return (
        channel.base_cost
        * (1.0 + channel.cost_growth_per_year) ** (day / 365.0)
        * (1.0 + bought / channel.saturation_users) ** channel.volume_elasticity
    )


def users_for_budget(channel: Channel, day: int, bought: float, budget: float) -> float:
    """Expected users a daily `budget` buys: n with n x unit cost = budget. A day's users are
    all charged the unit cost at the volume bought before it (`_acquire`), so n = budget / cost;
    the cost rises from day to day with time and the volume bought (black-forest law)."""
    return budget / unit_cost(channel, day, bought)


def draw_intent(rng: np.random.Generator, mean: float, concentration: float, n: int):
    """Traffic quality of `n` arrivals: Beta with the given mean and concentration."""
    a = mean * concentration
    b = (1.0 - mean) * concentration
    return rng.beta(a, b, n).astype(np.float32)


def repeat_rate_mean(intent: np.ndarray, intent_coef: float) -> np.ndarray:
    """Mean repeat-rate multiplier at each intent: 1 + coef x (2 intent - 1), 1 at intent 0.5."""
    m = intent * np.float32(2.0 * intent_coef)
    m += np.float32(1.0 - intent_coef)
    return m


def draw_repeat_rate(rng: np.random.Generator, intent: np.ndarray, p: Purchase) -> np.ndarray:
    """Repeat-rate multipliers of arrivals with `intent`: Gamma(shape r, mean m(intent)), the
    BG/NBD purchase-rate mixing distribution (CV 1/sqrt(r)); m(intent) alone if r is None."""
    mean = repeat_rate_mean(intent, p.rate_intent_coef)
    if p.rate_shape is None:
        return mean
    # Gamma(r, scale) is scale x Gamma(r, 1), as numpy draws it: the same numbers, and a
    # scalar shape draws them 3x faster than an array of scales
    scale = mean / np.float32(p.rate_shape)
    return (rng.standard_gamma(p.rate_shape, mean.size) * scale).astype(np.float32)


def draw_dropout(rng: np.random.Generator, n: int, p: Churn) -> np.ndarray:
    """Dropout propensities of `n` arrivals: Beta(a, b), the BG/NBD dropout distribution."""
    if p.dropout_a is None:
        return np.zeros(n, dtype=np.float32)
    return rng.beta(p.dropout_a, p.dropout_b, n).astype(np.float32)


def draw_arrivals(rng: np.random.Generator, expected: float, remaining_share: float) -> int:
    """Arrivals from `expected` contacts: Poisson contacts, thinned to the unacquired share."""
    contacts = rng.poisson(expected) if expected > 0 else 0
    if remaining_share >= 1.0 or contacts == 0:
        return int(contacts)
    return int(rng.binomial(contacts, max(remaining_share, 0.0)))
