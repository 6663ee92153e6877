"""Outputs users need (DOMAIN §4): cohort conversion, LTV, CAC, churn, RFM — all bulk operations.

Definitions (used everywhere, including strategy gates):
- *30-day conversion* of a set of joiners: the share whose first order came within 30 days of
  joining (join day included), counted only for joiners who have been in the pool 30 days.
- *LTV per acquired user to date*: margin discounted to the joining day, minus CAC (DOMAIN
  §4), over every acquired user whatever their age at the end of the run — so a strategy that
  acquires earlier looks better; use it for cash, not to compare strategies.
- *Margin per user*: the discounted margin alone (gross lifetime value to date, before CAC).
- *LTV/CAC to date*: discounted margin ÷ CAC over the same users.
- *LTV at H days* (H in `economics.ltv_horizons_days`): age 0 is the joining day, so a user's
  first H days are ages 0 … H-1; a user is old enough for H when join_day ≤ last_day − H + 1
  (last_day = the run's last simulated day). Over the acquired users old enough: (discounted
  margin booked at ages < H − CAC) ÷ their number. *LTV/CAC at H*: that margin ÷ their CAC.
  NaN where no user is old enough (or, for the ratio, their CAC is 0).
- *RFM classes* (`rfm_counts`): the eight classes of seed 000 over live customers (ordered at
  least once, not churned); churned customers are `customers_lost`.
- *Payback day*: over the users old enough for the largest horizon H, the first age a
  (0 … H-1) at which their discounted margin booked at ages ≤ a reaches their CAC, summed over
  them (per acquired user alike); NaN if it never does within H or no user is old enough.
- *NPV at H days* (H in `economics.npv_horizons_days`): the brand's daily profit (margin −
  acquisition spend − team, KOC and systems cost) of days 0 … H-1, each day t discounted to day
  0 by (1 + economics.discount_rate_annual)^(-t/365): the multi-year yardstick of a strategy
  (DOMAIN §4; issue #23). NaN where the run is shorter than H days: never extrapolated.
Users imported on day 0 (existing customers) are not acquired: they are excluded from
acquisition metrics (conversion, LTV, CAC) but counted in the pool.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.core.ledger import MarginByAge
from sim.core.params import Economics
from sim.core.population import Population
from sim.core.stage import Stage

CONVERSION_WINDOW = 30  # the metric is *named* 30-day conversion: a definition, not a parameter


def converted_within(pop: Population, rows=slice(None)) -> np.ndarray:
    """Whether each user of `rows` (ids, mask or slice) first bought within 30 days of joining."""
    fb = pop.first_buy_day[rows]
    return (fb >= 0) & (fb - pop.join_day[rows] < CONVERSION_WINDOW)


def matured_rows(pop: Population, day: int, first_day: int, imported: int) -> np.ndarray:
    """Ids of acquired users who joined between `first_day` and `day - 30`."""
    rows = pop.slice_joined(first_day, day - CONVERSION_WINDOW)
    ids = np.arange(rows.start, rows.stop)
    return ids[pop.channel[rows] != imported]


def conversion_30d(pop: Population, ids: np.ndarray) -> float:
    if ids.size == 0:
        return float("nan")
    return float(converted_within(pop, ids).mean())


def ltv_cac(pop: Population, ids: np.ndarray) -> float:
    """Discounted margin ÷ CAC of users `ids` (NaN without CAC)."""
    cac = float(pop.cac[ids].sum())
    return float(pop.ltv_margin[ids].sum()) / cac if cac > 0 else float("nan")


def window_ltv_cac(
    pop: Population, by_age: MarginByAge, first_day: int, last_day: int, horizon: int
) -> float:
    """Discounted margin booked at ages < `horizon` ÷ CAC of the acquired users who joined in
    [first_day, last_day] (rule and gate windows, `sim.core.rules`): old enough only when
    last_day <= the day measured - horizon + 1 (the caller's to ensure). NaN without CAC."""
    rows = pop.slice_joined(first_day, last_day)
    cac = float(pop.cac[rows][pop.channel[rows] != by_age.skip_channel].sum())
    first, last = max(first_day, 0), min(last_day + 1, by_age.table.shape[0])
    earned = float(by_age.table[first:last, :horizon].sum()) if last > first else 0.0
    return earned / cac if cac > 0 else float("nan")


def _by_joining_day(pop: Population, by_age: MarginByAge, days: int, imported: int):
    """Acquired users, their CAC and their discounted margin cumulated over age (columns: ages
    0 … max_age-1), per joining day 0 … days-1: the sums LTV at fixed ages is made of."""
    acquired = pop.channel != imported
    join = pop.join_day[acquired]
    n = np.bincount(join, minlength=days)[:days]
    cac = np.bincount(join, weights=pop.cac[acquired].astype(np.float64), minlength=days)[:days]
    margin = np.zeros((days, by_age.max_age))
    rows = min(days, by_age.table.shape[0])
    margin[:rows] = by_age.table[:rows]
    return n, cac, np.cumsum(margin, axis=1)


def horizons_in(summary: dict, key: str = "ltv_cac") -> list[int]:
    """The horizons H a summary reports `key` at (its `<key>_<H>d` keys), ascending: the ages
    of LTV (`ltv_cac`), the days of NPV (`npv`)."""
    return sorted(int(m[1]) for k in summary if (m := re.fullmatch(rf"{key}_(\d+)d", k)))


def daily_discount(rate_annual: float) -> float:
    """The factor that discounts one day: (1 + annual rate)^(-1/365)."""
    return (1.0 + rate_annual) ** (-1.0 / 365.0)


def npv_at(profit: np.ndarray, horizons, discount: float) -> dict[str, float]:
    """`npv_<H>d` for each H (definition in the module docstring): `profit` is the run's daily
    profit from day 0, `discount` the one-day factor (`daily_discount`)."""
    profit = np.asarray(profit, dtype=np.float64)
    present = np.cumsum(profit * discount ** np.arange(profit.size))
    nan = float("nan")
    return {f"npv_{h}d": float(present[h - 1]) if h <= profit.size else nan for h in horizons}


def ltv_at_ages(
    pop: Population, by_age: MarginByAge, days: int, horizons, imported: int
) -> dict[str, float]:
    """LTV, LTV/CAC and their user counts at each horizon, and the payback day (definitions in
    the module docstring), after `days` simulated days (last_day = days - 1)."""
    n, cac, margin = _by_joining_day(pop, by_age, days, imported)
    out: dict[str, float] = {}
    for h in horizons:
        old = slice(0, max(days - h + 1, 0))  # join_day <= last_day - h + 1
        users, spent, earned = int(n[old].sum()), float(cac[old].sum()), margin[old, h - 1].sum()
        out[f"ltv_{h}d"] = (float(earned) - spent) / users if users else float("nan")
        out[f"ltv_cac_{h}d"] = float(earned) / spent if users and spent > 0 else float("nan")
        out[f"ltv_{h}d_users"] = users
    h = max(horizons)
    old = slice(0, max(days - h + 1, 0))
    paid = np.flatnonzero(margin[old].sum(axis=0) >= cac[old].sum())
    out["payback_day"] = int(paid[0]) if n[old].sum() and paid.size else float("nan")
    return out


def _weeks(pop: Population, horizon: int) -> tuple[np.ndarray, int]:
    """Each user's joining week and the number of weeks in `horizon` days."""
    return pop.join_day // 7, (horizon + 6) // 7


def _weekly_share(week: np.ndarray, nw: int, counted: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """Per week: the share of the `counted` users for whom `hit` holds; NaN with none counted."""
    n = np.bincount(week[counted], minlength=nw)[:nw]
    k = np.bincount(week[counted], weights=hit[counted].astype(float), minlength=nw)[:nw]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, k / n, np.nan)


def cohorts(
    pop: Population,
    daily: pd.DataFrame,
    horizon: int,
    imported: int,
    by_age: MarginByAge | None = None,
    horizons=(),
) -> pd.DataFrame:
    """One row per joining week: size, 30-day conversion (NaN until mature), LTV to date, LTV
    at each horizon H (`ltv_<H>d`, over the week's joiners old enough for H, NaN until one is),
    CAC, and the pool size and users per operator the week's joiners met (for conversion-decay
    plots)."""
    acquired = pop.channel != imported
    week, nw = _weeks(pop, horizon)
    weeks = np.arange(nw)

    def per_week(values, mask=acquired):
        return np.bincount(
            week[mask], weights=values[mask] if values is not None else None, minlength=nw
        )[:nw]

    size = per_week(None)
    mature = acquired & (pop.join_day <= horizon - 1 - CONVERSION_WINDOW)
    conversion = _weekly_share(week, nw, mature, converted_within(pop))
    with np.errstate(invalid="ignore", divide="ignore"):
        ltv = (per_week(pop.ltv_margin) - per_week(pop.cac.astype(float))) / size
        cac = per_week(pop.cac.astype(float)) / size
        churned = per_week((pop.stage == Stage.CHURNED).astype(float)) / size
    dweek = daily["day"] // 7
    by_week = daily.groupby(dweek)[["live_users", "users_per_operator"]].mean()
    out = pd.DataFrame(
        {
            "week": weeks,
            "first_day": weeks * 7,
            "size": size.astype(np.int64),
            "conversion_30d": conversion,
            "ltv_to_date": ltv,
            "cac": cac,
            "churned_share": churned,
        }
    )
    out["pool_size"] = by_week["live_users"].reindex(weeks).to_numpy()
    out["users_per_operator"] = by_week["users_per_operator"].reindex(weeks).to_numpy()
    if by_age is not None and horizons:
        n_day, cac_day, margin_day = _by_joining_day(pop, by_age, horizon, imported)
        day_week = np.arange(horizon) // 7
        for h in horizons:
            old = np.arange(horizon) <= horizon - h  # join_day <= last_day - h + 1
            net = np.where(old, margin_day[:, h - 1] - cac_day, 0.0)
            users = np.bincount(day_week, weights=np.where(old, n_day, 0), minlength=nw)[:nw]
            net_week = np.bincount(day_week, weights=net, minlength=nw)[:nw]
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"ltv_{h}d"] = np.where(users > 0, net_week / users, np.nan)
    return out


def cohort_arms(
    pop: Population, horizon: int, imported: int, arms: dict[str, tuple[np.ndarray, list[str]]]
) -> pd.DataFrame:
    """Per joining week and candidate of each dimension with several (DOMAIN §3.1: a 0-1 test's
    arms): `size_<dim>_<name>` (acquired users who joined into that candidate) and
    `conversion_30d_<dim>_<name>` (their 30-day conversion; NaN until mature or with none).
    `arms` maps a dimension to each user's candidate code and the candidates' names."""
    acquired = pop.channel != imported
    mature = acquired & (pop.join_day <= horizon - 1 - CONVERSION_WINDOW)
    week, nw = _weeks(pop, horizon)
    conv = converted_within(pop)
    cols = {}
    for dim, (codes, names) in arms.items():
        if len(names) < 2:
            continue
        for i, name in enumerate(names):
            mine = codes == i
            size = np.bincount(week[acquired & mine], minlength=nw)[:nw]
            cols[f"size_{dim}_{name}"] = size.astype(np.int64)
            cols[f"conversion_30d_{dim}_{name}"] = _weekly_share(week, nw, mature & mine, conv)
    return pd.DataFrame(cols, index=np.arange(nw))


LAYER_WINDOWS = (30, 90)  # "layer reached within 30/90 days" (issue #12): a definition


def cohort_layers(pop: Population, horizon: int, imported: int) -> pd.DataFrame:
    """Per joining week of a pyramid run (seed 004, DOMAIN §2.3): `reached_pool_<H>d` and
    `reached_core_<H>d`, the share of the week's acquired users who entered the pool layer (or
    went straight on to the core) and the core layer within H days of joining (join day
    included, like 30-day conversion), for H in `LAYER_WINDOWS`. A user is counted only once
    H days old by the conversion's maturity rule (joined on or before the last day − 1 − H),
    so a week's value is NaN until some of its users are."""
    acquired = pop.channel != imported
    week, nw = _weeks(pop, horizon)
    jd = pop.join_day

    def within(day: np.ndarray, h: int) -> np.ndarray:
        return (day >= 0) & (day - jd < h)

    cols = {}
    for h in LAYER_WINDOWS:
        mature = acquired & (jd <= horizon - 1 - h)
        core = within(pop.core_day, h)
        for name, hit in (("pool", within(pop.pool_day, h) | core), ("core", core)):
            cols[f"reached_{name}_{h}d"] = _weekly_share(week, nw, mature, hit)
    return pd.DataFrame(cols, index=np.arange(nw))


RFM_SEGMENTS = [
    # (recent, frequent, monetary) -> name, after seed 000's eight classes
    ((1, 1, 1), "important_value"),
    ((1, 0, 1), "important_develop"),
    ((0, 1, 1), "important_keep"),
    ((0, 0, 1), "important_retain"),
    ((1, 1, 0), "general_value"),
    ((1, 0, 0), "general_develop"),
    ((0, 1, 0), "general_keep"),
    ((0, 0, 0), "general_retain"),
]


def rfm_counts(pop: Population, day: int, econ: Economics) -> dict[str, int]:
    """Live customers in each of the eight RFM segments (000), by the configured standards.

    A customer who blocked, deleted or left (`churned`) is truly lost (DOMAIN §1, 003): no
    class's play (develop, keep, retain) can reach them, so they are counted apart
    (`customers_lost` in `summary`), not as "general retain" with an old last order."""
    customers = (pop.orders > 0) & (pop.stage != Stage.CHURNED)
    r = (day - pop.last_buy_day[customers]) <= econ.rfm_recent_days
    f = pop.orders[customers] >= econ.rfm_frequent_orders
    m = pop.spend[customers] >= econ.rfm_monetary
    code = r.astype(int) * 4 + f.astype(int) * 2 + m.astype(int)
    counts = np.bincount(code, minlength=8)
    return {name: int(counts[a * 4 + b * 2 + c]) for (a, b, c), name in RFM_SEGMENTS}


def summary(
    pop: Population,
    daily: pd.DataFrame,
    horizon: int,
    imported: int,
    by_age: MarginByAge | None = None,
    horizons=(),
    npv_horizons=(),
    discount: float = 1.0,
) -> dict:
    """Headline numbers of one run (keys documented in docs/outputs.md); `horizon` = days simulated.
    Compare strategies on the horizon-matched `ltv_<H>d`, `ltv_cac_<H>d` and `payback_day`, and
    over the years on `npv_<H>d` (at `npv_horizons`, one-day discount factor `discount`): the
    `_to_date` values pool cohorts of different ages."""
    acquired = np.flatnonzero(pop.channel != imported)
    n = acquired.size
    cac = float(pop.cac[acquired].sum())
    disc_margin = float(pop.ltv_margin[acquired].sum())
    matured = matured_rows(pop, horizon - 1, 0, imported)
    gmv = float(pop.spend.sum())
    profit = float(daily["profit"].sum())
    joined = int(daily["new_users"].sum())
    out = {
        "users_acquired": int(n),
        "users_total": int(pop.n),
        "customers": int((pop.orders > 0).sum()),  # ever bought: rfm classes + customers_lost
        "customers_lost": int(((pop.orders > 0) & (pop.stage == Stage.CHURNED)).sum()),
        "conversion_30d": conversion_30d(pop, matured),
        "ltv_per_user_to_date": (disc_margin - cac) / n if n else float("nan"),
        "margin_per_user": disc_margin / n if n else float("nan"),
        "cac_per_user": cac / n if n else float("nan"),
        "ltv_cac_to_date": ltv_cac(pop, acquired),
        **(
            ltv_at_ages(pop, by_age, horizon, horizons, imported)
            if by_age is not None and horizons
            else {}
        ),
        "gmv": gmv,
        # the run's totals of the daily accounting: profit = margin - acquisition_spend - team_cost
        "revenue": float(daily["revenue"].sum()),
        "margin": float(daily["margin"].sum()),
        "acquisition_spend": float(daily["acquisition_spend"].sum()),
        "team_cost": float(daily["team_cost"].sum()),
        "profit": profit,
        **npv_at(daily["profit"].to_numpy(), npv_horizons, discount),
        "churn_rate": float((pop.stage[acquired] == Stage.CHURNED).mean()) if n else float("nan"),
        "peak_users_per_operator": float(daily["users_per_operator"].max()),
        "final_live_users": int(daily["live_users"].iloc[-1]),
        # shares of all new users who arrived by referral, and by KOCs' referral (§2.3)
        "referred_share": int(daily["new_referral"].sum()) / joined if joined else float("nan"),
        "koc_referred_share": (
            int(daily["new_referral_koc"].sum()) / joined if joined else float("nan")
        ),
    }
    return out
