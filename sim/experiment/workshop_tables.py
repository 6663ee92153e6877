"""The workshop game's tables (issue #26; `sim.experiment.workshop`): a team's month by month
(`monthly_table`), the leaderboard's rows (`row`) and the hidden brand in words (`brand_words`),
each column named in words with its definition beside it (`MONTHLY_COLUMNS`, `REVEAL_COLUMNS`;
DOMAIN §4 for the yardsticks, §3.1 for the brand)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.core.fit import Brand
from sim.core.metrics import CONVERSION_WINDOW, daily_discount, npv_at
from sim.core.params import IMPORTED, REFERRAL
from sim.experiment.config import build
from sim.experiment.workshop_spec import Decision, Settings

# Team.monthly()'s columns and what each means (DOMAIN §4; sim/core/results.py for the daily
# columns they sum)
MONTHLY_COLUMNS = {
    "month": "month played, from 1",
    "test": "whether the month tested people, goods and place (else scaled)",
    "users joined": "users who joined in the month, bought and referred (sum of new_users)",
    "team hired": "operators hired at the month's end, arrived or not (operators_hired)",
    "operators at work": "operators arrived at the month's end (operators; hires take lead time)",
    "ad spend (yuan)": "what the month's bought users cost (sum of the spend_<channel> columns: "
    "users x that day's unit cost, which rises with time and volume, DOMAIN §2.5)",
    "buyers": "users whose first order came in the month (sum of first_purchases)",
    "30-day conversion": "share of the month's acquired joiners whose first order came within "
    "30 days of joining (sim/core/metrics.py); NaN until its last joiner is 30 days old",
    "margin (yuan)": "gross margin of the month's orders (sum of margin)",
    "profit to date (yuan)": "margin - acquisition spend - team cost from day 0 to the month's "
    "end, not discounted (cumulative sum of profit)",
}

# Workshop.reveal()'s columns and what each means
REVEAL_COLUMNS = {
    "who": "a team, or a yardstick strategy run on the same brand, seed and horizon",
    "kind": "team or yardstick",
    "months played": "months simulated (the yardsticks: the whole horizon)",
    "NPV (yuan)": "daily profit of days 0 ... H-1 discounted to day 0 at "
    "economics.discount_rate_annual (sim/core/metrics.py), H = the game's horizon; NaN for a "
    "team that has not played every month",
    "rank": "by NPV, 1 = highest (teams that have not finished: none)",
    "profit to date (yuan)": "undiscounted profit of the days simulated",
    "users joined": "users who joined over the days simulated",
    "30-day conversion": "share of acquired users 30 days old whose first order came within 30 "
    "days (summary conversion_30d)",
    "place run": "the pool run at the end (what a test committed, else the guess)",
    "goods run": "the lead/star products run at the end",
}


def npv(daily: pd.DataFrame, cfg: dict, horizon: int) -> float:
    """NPV at `horizon` days of a run's daily table (`metrics.npv_at`; NaN if shorter)."""
    rate = cfg["economics"]["discount_rate_annual"]
    return npv_at(daily["profit"].to_numpy(), [horizon], daily_discount(rate))[f"npv_{horizon}d"]


def monthly_table(model, s: Settings, plan: list[Decision]) -> pd.DataFrame:
    """`Team.monthly()` from the run's model (definitions: `MONTHLY_COLUMNS`)."""
    daily = model.daily()
    md, last = s.month_days, int(daily["day"].iloc[-1])
    spend_cols = [f"spend_{c}" for c in model.channels if f"spend_{c}" in daily]
    spend_cols = spend_cols or ["acquisition_spend"]  # outputs.spend_by_channel off
    profit = daily["profit"].cumsum()
    rows = []
    for m, d in enumerate(plan):
        first, end = m * md, (m + 1) * md - 1
        month = daily.iloc[first : end + 1]
        matured = end + CONVERSION_WINDOW - 1 <= last  # its last joiner is 30 days old
        rows.append(
            {
                "month": m + 1,
                "test": bool(d.test),
                "users joined": int(month["new_users"].sum()),
                "team hired": int(month["operators_hired"].iloc[-1]),
                "operators at work": int(month["operators"].iloc[-1]),
                "ad spend (yuan)": float(month[spend_cols].to_numpy().sum()),
                "buyers": int(month["first_purchases"].sum()),
                "30-day conversion": model.window_conversion(first, end) if matured else np.nan,
                "margin (yuan)": float(month["margin"].sum()),
                "profit to date (yuan)": float(profit.iloc[end]),
            }
        )
    return pd.DataFrame(rows, columns=list(MONTHLY_COLUMNS))


def row(who, kind, months, summary: dict, daily: pd.DataFrame, cfg: dict, h: int) -> dict:
    """A leaderboard row of a run (its summary and daily table; definitions: `REVEAL_COLUMNS`)
    at the game's horizon `h` days."""
    brand = summary.get("brand", {})
    return {
        "who": who,
        "kind": kind,
        "months played": months,
        "NPV (yuan)": npv(daily, cfg, h),
        "profit to date (yuan)": float(daily["profit"].sum()),
        "users joined": int(daily["new_users"].sum()),
        "30-day conversion": summary.get("conversion_30d"),
        "place run": brand.get("place_run"),
        "goods run": brand.get("goods_run"),
    }


DIMENSION_WORDS = {"place": "place (场): pool", "goods": "goods (货): lead/star products",
                   "people": "people (人): channel"}  # fmt: skip


def brand_words(s: Settings, base: dict) -> list[str]:
    """`Workshop.brand_words`: read from the brand's latent fits (`sim.core.fit.Brand`, drawn
    from the brand's seed at construction; nothing is simulated)."""
    sc = build(base)
    brand = Brand(sc, [*sorted(sc.channels), REFERRAL, IMPORTED], sc.seed)
    out = [
        f"The brand: {s.brand.experiment} at fit spread {s.brand.fit_spread:g} (a candidate's "
        f"true fit is exp({s.brand.fit_spread:g} z), z ~ N(0, 1): 1 fits as configured), "
        f"seed {s.brand.seed}."
    ]
    for dim, words in DIMENSION_WORDS.items():
        names, fit = brand.names[dim], brand.fit[dim]
        if len(names) < 2:
            continue
        g, b = brand.guess[dim], int(np.argmax(fit))
        others = ", ".join(f"{n} {f:.2f}" for n, f in zip(names, fit, strict=True))
        if fit[g] == fit[b]:
            verdict = f"the guess, {names[g]}, was the best fit"
        else:
            verdict = (
                f"the guess, {names[g]} (true fit {fit[g]:.2f}), was not the best fit: "
                f"{names[b]} was ({fit[b]:.2f})"
            )
        out.append(f"{words}: {verdict}. True fits: {others}.")
    return out


TESTED_COLUMNS = {
    "dimension": "what was tested: place (pool), goods (lead/star products), people (channel)",
    "candidate": "a candidate of that dimension",
    "users measured": "test users of that arm old enough to measure (30 days for 30-day "
    "conversion)",
    "measured": "the test's metric over them (30-day conversion: the share whose first order "
    "came within 30 days)",
    "runs now": "whether the team runs this candidate now (what its test committed, else the "
    "guess)",
}


def tested_table(summary: dict) -> pd.DataFrame:
    """`Team.tested()`: per tested dimension and candidate, the users measured and the metric
    (DOMAIN §3.1), read from the run's `brand` summary, leaving out its latent fits."""
    brand = summary.get("brand", {})
    rows = []
    for dim in DIMENSION_WORDS:
        prefix = f"{dim}_arm_users_"
        for key in (k for k in brand if k.startswith(prefix)):
            name = key.removeprefix(prefix)
            rows.append(
                {
                    "dimension": dim,
                    "candidate": name,
                    "users measured": brand[key],
                    "measured": brand.get(f"{dim}_arm_metric_{name}"),
                    "runs now": brand.get(f"{dim}_run") == name,
                }
            )
    out = pd.DataFrame(rows, columns=list(TESTED_COLUMNS))
    out.attrs["definitions"] = dict(TESTED_COLUMNS)
    return out
