"""Orders and money (DOMAIN §2.6, §2.7): the product ladder and per-user purchase history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.params import Business
from sim.core.population import Population
from sim.core.stage import Stage


class MarginByAge:
    """Discounted margin of acquired users by joining day and age, for LTV at fixed ages (§4).

    `table[j, a]` is the margin (discounted to the joining day) booked at age `a` (age 0 = the
    joining day) by users who joined on day `j`, for ages below `max_age` (the largest LTV
    horizon). Cohorts of different ages can then be compared at the same age H by summing
    columns `< H` over joining days old enough, without an accumulator per user and horizon.
    Users of channel `skip_channel` (imported, not acquired) are left out, as in every
    acquisition metric.
    """

    def __init__(self, max_age: int, skip_channel: int, days: int = 64):
        self.max_age = max_age
        self.skip_channel = skip_channel
        self.table = np.zeros((max(days, 1), max_age))

    def add(self, pop: Population, buyers: np.ndarray, age: np.ndarray, margin: np.ndarray):
        keep = age < self.max_age
        keep &= pop.channel[buyers] != self.skip_channel
        join = pop.join_day[buyers[keep]]
        if join.size == 0:
            return
        rows = self.table.shape[0]
        if int(join.max()) >= rows:
            grown = np.zeros((max(2 * rows, int(join.max()) + 1), self.max_age))
            grown[:rows] = self.table
            self.table = grown
        np.add.at(self.table, (join, age[keep]), margin[keep])


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
    by_age: MarginByAge | None = None,
) -> DayOrders:
    """Book today's orders. A first order is the lead product (cheap trial first, 001); a repeat
    order is the star product, or premium when trust has reached its threshold (001: high price
    once trust and potential are high). Margin is also discounted to the joining day for LTV,
    per user to date and, in `by_age`, by joining day and age for LTV at fixed ages."""
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
    discounted = margin * daily_discount**age
    pop.ltv_margin[buyers] += discounted
    if by_age is not None:
        by_age.add(pop, buyers, age, discounted)
    pop.last_buy_day[buyers] = day
    pop.first_buy_day[buyers[first]] = day
    pop.stage[buyers] = np.where(first, Stage.BUY, Stage.REBUY)
    return DayOrders(int(first.sum()), int(buyers.size), float(price.sum()), float(margin.sum()))
