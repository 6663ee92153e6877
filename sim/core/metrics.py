"""Outputs users need (DOMAIN §4): cohort conversion, LTV, CAC, churn, RFM — all bulk operations.

Definitions (used everywhere, including strategy gates):
- *30-day conversion* of a set of joiners: the share whose first order came within 30 days of
  joining (join day included), counted only for joiners who have been in the pool 30 days.
- *LTV per acquired user*: margin discounted to the joining day, minus CAC (DOMAIN §4).
- *Margin per user*: the discounted margin alone (gross lifetime value, before CAC).
- *LTV/CAC*: discounted margin ÷ CAC over the same users.
Users imported on day 0 (existing customers) are not acquired: they are excluded from
acquisition metrics (conversion, LTV, CAC) but counted in the pool.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def cohorts(pop: Population, daily: pd.DataFrame, horizon: int, imported: int) -> pd.DataFrame:
    """One row per joining week: size, 30-day conversion (NaN until mature), LTV, CAC, and the
    pool size and users per operator the week's joiners met (for conversion-decay plots)."""
    acquired = pop.channel != imported
    week = pop.join_day // 7
    weeks = np.arange((horizon + 6) // 7)
    nw = len(weeks)

    def per_week(values, mask=acquired):
        return np.bincount(
            week[mask], weights=values[mask] if values is not None else None, minlength=nw
        )[:nw]

    size = per_week(None)
    conv = converted_within(pop)
    mature = pop.join_day <= horizon - 1 - CONVERSION_WINDOW
    mature_size = per_week(None, acquired & mature)
    with np.errstate(invalid="ignore", divide="ignore"):
        conversion = per_week(conv.astype(float), acquired & mature) / mature_size
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
            "conversion_30d": np.where(mature_size > 0, conversion, np.nan),
            "ltv_to_date": ltv,
            "cac": cac,
            "churned_share": churned,
        }
    )
    out["pool_size"] = by_week["live_users"].reindex(weeks).to_numpy()
    out["users_per_operator"] = by_week["users_per_operator"].reindex(weeks).to_numpy()
    return out


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
    """Customers in each of the eight RFM segments (000), by the configured standards."""
    customers = pop.orders > 0
    r = (day - pop.last_buy_day[customers]) <= econ.rfm_recent_days
    f = pop.orders[customers] >= econ.rfm_frequent_orders
    m = pop.spend[customers] >= econ.rfm_monetary
    code = r.astype(int) * 4 + f.astype(int) * 2 + m.astype(int)
    counts = np.bincount(code, minlength=8)
    return {name: int(counts[a * 4 + b * 2 + c]) for (a, b, c), name in RFM_SEGMENTS}


def summary(pop: Population, daily: pd.DataFrame, horizon: int, imported: int) -> dict:
    """Headline numbers of one run (keys documented in the README)."""
    acquired = np.flatnonzero(pop.channel != imported)
    n = acquired.size
    cac = float(pop.cac[acquired].sum())
    disc_margin = float(pop.ltv_margin[acquired].sum())
    matured = matured_rows(pop, horizon - 1, 0, imported)
    gmv = float(pop.spend.sum())
    profit = float(daily["profit"].sum())
    joined = int(daily["new_users"].sum())
    return {
        "users_acquired": int(n),
        "users_total": int(pop.n),
        "customers": int((pop.orders > 0).sum()),
        "conversion_30d": conversion_30d(pop, matured),
        "ltv_per_user": (disc_margin - cac) / n if n else float("nan"),
        "margin_per_user": disc_margin / n if n else float("nan"),
        "cac_per_user": cac / n if n else float("nan"),
        "ltv_cac": ltv_cac(pop, acquired),
        "gmv": gmv,
        "profit": profit,
        "churn_rate": float((pop.stage[acquired] == Stage.CHURNED).mean()) if n else float("nan"),
        "peak_users_per_operator": float(daily["users_per_operator"].max()),
        "final_live_users": int(daily["live_users"].iloc[-1]),
        # shares of all new users who arrived by referral, and by KOCs' referral (§2.3)
        "referred_share": int(daily["new_referral"].sum()) / joined if joined else float("nan"),
        "koc_referred_share": (
            int(daily["new_referral_koc"].sum()) / joined if joined else float("nan")
        ),
    }
