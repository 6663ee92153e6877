"""Acquisition (DOMAIN §2.5): how many users arrive per channel, what they cost, who they are.

- Unit cost rises with time and with the volume already bought on the channel (the
  "traffic black-forest law", 001): `base × (1 + g)^(t/365) × (1 + bought/saturation)^e`.
- Traffic quality is each user's intent, Beta-distributed per channel: fission brings deal
  hunters (low intent), referrals and public-store customers bring warm users (001, 003).
- With a finite `market_size`, buying reaches random people of the market and only those not
  yet in the pool join: the joining share is (market − acquired) / market. This is what makes the
  Bass model (DOMAIN §5) a special case of this one (see `tests/test_bass.py`).
"""

from __future__ import annotations

import numpy as np

from sim.core.params import Channel


def unit_cost(channel: Channel, day: int, bought: float) -> float:
    """Yuan per user bought on `day` after `bought` users on this channel (black-forest law)."""
    return (
        channel.base_cost
        * (1.0 + channel.cost_growth_per_year) ** (day / 365.0)
        * (1.0 + bought / channel.saturation_users) ** channel.volume_elasticity
    )


def draw_intent(rng: np.random.Generator, mean: float, concentration: float, n: int):
    """Traffic quality of `n` arrivals: Beta with the given mean and concentration."""
    a = mean * concentration
    b = (1.0 - mean) * concentration
    return rng.beta(a, b, n).astype(np.float32)


def draw_arrivals(rng: np.random.Generator, expected: float, remaining_share: float) -> int:
    """Arrivals from `expected` contacts: Poisson contacts, thinned to the unacquired share."""
    contacts = rng.poisson(expected) if expected > 0 else 0
    if remaining_share >= 1.0 or contacts == 0:
        return int(contacts)
    return int(rng.binomial(contacts, max(remaining_share, 0.0)))
