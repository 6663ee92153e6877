"""Orders and money (DOMAIN §2.6, §2.7): the product ladder and per-user purchase history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.params import Business
from sim.core.population import Population
from sim.core.stage import Stage


@dataclass
class DayOrders:
    first_purchases: int
    orders: int
    revenue: float
    margin: float


def record_orders(
    rng: np.random.Generator,
    pop: Population,
    buyers: np.ndarray,
    day: int,
    business: Business,
    daily_discount: float,
) -> DayOrders:
    """Book today's orders. A first order is the lead product (cheap trial first, 001); a repeat
    order is the star product, or premium when trust has reached its threshold (001: high price
    once trust and potential are high). Margin is also discounted to the joining day for LTV."""
    if buyers.size == 0:
        return DayOrders(0, 0, 0.0, 0.0)
    first = pop.orders[buyers] == 0
    premium = (
        ~first
        & (pop.trust[buyers] >= business.premium.min_trust)
        & (rng.random(buyers.size) < business.premium_share)
    )
    price = np.where(first, business.lead.price, business.star.price)
    share = np.where(first, business.lead.margin, business.star.margin)
    price = np.where(premium, business.premium.price, price)
    share = np.where(premium, business.premium.margin, share)
    margin = price * share

    pop.orders[buyers] += 1
    pop.spend[buyers] += price
    pop.margin[buyers] += margin
    age = day - pop.join_day[buyers]
    pop.ltv_margin[buyers] += margin * daily_discount**age
    pop.last_buy_day[buyers] = day
    pop.first_buy_day[buyers[first]] = day
    pop.stage[buyers] = np.where(first, Stage.BUY, Stage.REBUY)
    return DayOrders(int(first.sum()), int(buyers.size), float(price.sum()), float(margin.sum()))
