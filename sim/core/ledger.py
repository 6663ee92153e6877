"""Orders and money (DOMAIN §2.6, §2.7): the product ladder and per-user purchase history,
and, when a run asks for it (`outputs.transactions`), the log of every order and its export as
a transaction table that CLV tools read as it is (`customer_id`, `date`, `monetary_value`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    premium_buyers: np.ndarray | None = None  # users who bought the premium product today


def record_orders(
    rng: np.random.Generator,
    pop: Population,
    buyers: np.ndarray,
    day: int,
    business: Business,
    daily_discount: float,
    by_age: MarginByAge | None = None,
    log: TransactionLog | None = None,
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
    if log is not None:
        log.add(day, buyers, np.where(first, LEAD, np.where(premium, PREMIUM, STAR)), pop.n)
    return DayOrders(
        int(first.sum()),
        int(buyers.size),
        float(price.sum()),
        float(margin.sum()),
        buyers[premium],
    )


# --- the transaction log (docs/outputs.md: transactions.parquet, customers.parquet) -----------

PRODUCTS = ("lead", "star", "premium")  # the product ladder (§2.6); codes in the log
LEAD, STAR, PREMIUM = (np.int8(i) for i in range(len(PRODUCTS)))

# The exported tables' columns, declared once: name -> (dtype, definition). docs/outputs.md's
# files table lists them (tests/test_transactions.py keeps the export equal to this declaration).
# Columns in `USER_LABELS` copy a per-user code onto each row, named by the model
# (`PrivateDomainModel._user_labels`): a new per-user label (e.g. a brand-fit arm) is one entry
# here and one there.
USER_LABELS = {
    "channel": "acquisition channel (name; `imported` for day-0 users)",
    "place": "the pool (place candidate) the user belongs to (§3.1: a 0-1 test's arm)",
    "goods": "the lead/star product variant the user was offered (§3.1: a 0-1 test's arm)",
}
TRANSACTION_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_id": ("int64", "the user's id (as in customers.parquet)"),
    "date": ("datetime64[ns]", "calendar date of the order: outputs.start_date + day"),
    "day": ("int32", "simulated day of the order, from 0"),
    "product": ("category", "lead (first order), star or premium (§2.6)"),
    "monetary_value": ("float64", "price paid, yuan"),
    "margin": ("float64", "gross margin of the order, yuan"),
    **{k: ("category", v) for k, v in USER_LABELS.items()},
    "phase": ("category", "name of the strategy phase active that day (§3)"),
}
CUSTOMER_COLUMNS: dict[str, tuple[str, str]] = {
    "customer_id": ("int64", "the user's id"),
    "join_date": ("datetime64[ns]", "calendar date the user joined"),
    "join_day": ("int32", "simulated day the user joined (0 for imported users)"),
    **{k: ("category", v) for k, v in USER_LABELS.items()},
    "churn_date": ("datetime64[ns]", "calendar date the user churned (NaT: still a member)"),
    "churn_day": ("int32", "simulated day the user churned (-1: still a member)"),
    "orders": ("int32", "orders to the horizon"),
    "spend": ("float64", "order value to the horizon, yuan"),
    "margin": ("float64", "gross margin to the horizon, yuan"),
    "first_order_day": ("int32", "day of the first order (-1: none)"),
    "last_order_day": ("int32", "day of the last order (-1: none)"),
    "cac": ("float64", "acquisition cost, yuan (0 for imported users)"),
    "ltv_margin": (
        "float64",
        "margin to the horizon discounted to the joining day (economics.discount_rate_annual)",
    ),
    "ltv": ("float64", "true LTV to the horizon: ltv_margin − cac (docs/outputs.md, Definitions)"),
}


class TransactionLog:
    """Every order of a run, kept only when asked (`outputs.transactions`).

    Each day's buyers and product codes are appended as two arrays (int32 ids while the
    population fits, int8 codes: 5 bytes per order; no per-order Python work). A product has one
    price and margin share (`record_orders`), so prices and margins are looked up on export.
    """

    def __init__(self):
        self.days: list[int] = []
        self.buyers: list[np.ndarray] = []
        self.products: list[np.ndarray] = []
        self.orders = 0

    def add(self, day: int, buyers: np.ndarray, products: np.ndarray, users: int) -> None:
        if buyers.size == 0:
            return
        self.days.append(day)
        self.buyers.append(buyers.astype(np.int32 if users < 2**31 else np.int64))
        self.products.append(products.astype(np.int8))
        self.orders += int(buyers.size)

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes + p.nbytes for b, p in zip(self.buyers, self.products, strict=True))

    def chunks(self, rows: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(day, customer id, product code) arrays of whole days, about `rows` orders each."""
        i = 0
        while i < len(self.days):
            j, n = i, 0
            while j < len(self.days) and (n == 0 or n + self.buyers[j].size <= rows):
                n += self.buyers[j].size
                j += 1
            sizes = [b.size for b in self.buyers[i:j]]
            yield (
                np.repeat(np.array(self.days[i:j], dtype=np.int32), sizes),
                np.concatenate(self.buyers[i:j]).astype(np.int64),
                np.concatenate(self.products[i:j]),
            )
            i = j


def dates(start_date: str, days: np.ndarray) -> np.ndarray:
    """Calendar dates (datetime64[ns]) of simulated days; -1 (none) gives NaT."""
    out = (np.datetime64(start_date, "D") + days.astype(np.int64)).astype("datetime64[ns]")
    out[days < 0] = np.datetime64("NaT", "ns")
    return out


def _named(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=names)


def transaction_frames(
    log: TransactionLog,
    business: Business,
    start_date: str,
    phase_of_day: np.ndarray,
    phase_names: list[str],
    labels: dict[str, tuple[np.ndarray, list[str]]],
    rows: int = 1 << 20,
) -> Iterator[pd.DataFrame]:
    """The log as `TRANSACTION_COLUMNS` frames of about `rows` orders each (at least one frame,
    empty when nothing was ordered). `labels` maps each `USER_LABELS` column to per-user codes
    and their names."""
    products = (business.lead, business.star, business.premium)
    price = np.array([p.price for p in products], dtype=np.float64)
    margin = price * np.array([p.margin for p in products], dtype=np.float64)
    empty = (np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.int8))
    for day, ids, code in log.chunks(rows) if log.orders else iter([empty]):
        cols = {
            "customer_id": ids,
            "date": dates(start_date, day),
            "day": day,
            "product": _named(code, list(PRODUCTS)),
            "monetary_value": price[code],
            "margin": margin[code],
            **{k: _named(labels[k][0][ids], labels[k][1]) for k in USER_LABELS},
            "phase": _named(phase_of_day[day], phase_names),
        }
        yield pd.DataFrame({k: cols[k] for k in TRANSACTION_COLUMNS})


def customer_frame(
    pop: Population, start_date: str, labels: dict[str, tuple[np.ndarray, list[str]]]
) -> pd.DataFrame:
    """One row per user who ever joined (acquired, referred or imported): `CUSTOMER_COLUMNS`."""
    cols = {
        "customer_id": np.arange(pop.n, dtype=np.int64),
        "join_date": dates(start_date, pop.join_day),
        "join_day": pop.join_day.astype(np.int32),
        **{k: _named(labels[k][0], labels[k][1]) for k in USER_LABELS},
        "churn_date": dates(start_date, pop.churn_day),
        "churn_day": pop.churn_day.astype(np.int32),
        "orders": pop.orders.astype(np.int32),
        "spend": pop.spend.astype(np.float64),
        "margin": pop.margin.astype(np.float64),
        "first_order_day": pop.first_buy_day.astype(np.int32),
        "last_order_day": pop.last_buy_day.astype(np.int32),
        "cac": pop.cac.astype(np.float64),
        "ltv_margin": pop.ltv_margin.astype(np.float64),
        "ltv": pop.ltv_margin - pop.cac.astype(np.float64),
    }
    return pd.DataFrame({k: cols[k] for k in CUSTOMER_COLUMNS})
