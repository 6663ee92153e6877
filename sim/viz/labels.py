"""Names in words for the sweep report and its figures: a summary column's heading and format
(`result_columns`), an override's value (`level_label`: `paid ads ×2`, `3 operators (fixed)`)
and a group's name (`group_labels`: `staged · paid ads ×2`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.core.metrics import horizons_in
from sim.experiment.comparison import group_levels


def result_columns(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The results table's columns: the horizon-matched LTV yardsticks lead, to-date labelled."""
    cols = [
        ("users_acquired", "users acquired", ",.0f"),
        ("conversion_30d", "30-day conversion", ".1%"),
    ]
    for h in horizons_in(dict.fromkeys(table.columns)):
        cols += [
            (f"ltv_{h}d", f"LTV at {h} days (yuan per user)", ",.2f"),
            (f"ltv_cac_{h}d", f"LTV/CAC at {h} days", ".2f"),
        ]
    cols += [
        ("payback_day", "payback day", ",.0f"),
        ("ltv_cac_to_date", "LTV/CAC to date (all ages pooled)", ".2f"),
        ("revenue", "revenue (yuan)", ",.0f"),
        ("margin", "margin (yuan)", ",.0f"),
        ("acquisition_spend", "acquisition spend (yuan)", ",.0f"),
        ("team_cost", "team cost (yuan)", ",.0f"),
        ("profit", "profit (yuan)", ",.0f"),
        ("churn_rate", "churn rate", ".1%"),
    ]
    return [c for c in cols if c[0] in table]  # totals: absent from older runs' summaries


WORDS = {"paid_ads": "paid ads", "public_store": "public store", "kol": "KOL"}


def words(name: str) -> str:
    return WORDS.get(name, name.replace("_", " "))


def level_label(key: str, value: str) -> str:
    """One override in words: `staged`, `conversion pool`, `paid ads ×2`, `3 operators`."""
    parts = key.lstrip("+~").split(".")
    if key in ("strategy", "pool"):
        return value if key == "strategy" else f"{value} pool"
    if parts[0] == "business" and len(parts) == 1:
        return f"business {words(value)}"
    if parts[0] == "channels" and len(parts) == 3:
        if parts[2] == "volume_scale":
            return f"{words(parts[1])} ×{value}"
        if parts[2] == "budget_per_day":
            return f"{words(parts[1])} {value} yuan/day"
    if key == "operators.fixed":
        return f"{value} operators (fixed)"
    return (
        f"{words(parts[-1])} {value}"
        if len(parts) < 3
        else f"{' '.join(map(words, parts[-2:]))} {value}"
    )


def group_labels(done: pd.DataFrame, keys: list[str]) -> dict[str, str]:
    """Each group's name in words (`staged · paid ads ×2`), for figures."""
    levels = group_levels(done, keys) if len(done) else {}
    out = {g: " · ".join(level_label(k, v) for k, v in lv.items()) for g, lv in levels.items()}
    out = {g: (lab or g) for g, lab in out.items()}
    if len(set(out.values())) < len(out):  # never merge two groups under one label
        return {g: g for g in out}
    return out


# --- the what-if page's glossary: every term read there, defined where it is defined -----------

# terms no module defines elsewhere (the page's own words and the strategy words a plan reads)
TERMS = {
    "P(best)": "the share of seeds (simulated brands) in which a scenario had the highest profit, "
    "comparing scenarios seed by seed (ties share the credit): a share of brands, not a "
    "probability that the plan is best",
    "seed": "one simulated brand: seed k is the same brand (the same random draws) in every "
    "scenario, so scenarios are compared brand by brand (common random numbers)",
    "median (10th – 90th)": "a cell's value across seeds: the middle brand, and the range that "
    "holds 8 brands in 10",
    "launch": "scaling to 10-N traffic without a 0-1 test (`ten_to_n`, `premature`): the "
    "alternative to testing first (DOMAIN §3)",
    "stop-loss": "a rule that stops buying for good once the measured 30-day conversion of "
    "recent joiners falls below a bar (`strategy.phases.*.rules.stop_loss`, issue #23)",
    "spend rule": "10-N keeps buying paid ads only while their recent joiners' 90-day LTV/CAC "
    "is at least a threshold, halving the volume otherwise (`rules.spend`, DOMAIN §3.2)",
    "planned spend": "what a plan would spend per day on a channel in each phase, at day 0's "
    "unit cost: a stated budget as stated, else the phase's users per day × the channel's share "
    "× its volume_scale × that cost (the cost rises with time and volume bought, DOMAIN §2.5); "
    "the runs' spend by channel is what was actually bought",
    "fit spread": "how unsure the brand is that its pool, lead product and channels fit: the "
    "sd of log fit (`fit.spread`, DOMAIN §3.1); 0 = everything fits as configured",
}


def metric_definitions() -> dict[str, str]:
    """The metrics' definitions as `sim.core.metrics` states them (its docstring's bullets)."""
    import re

    from sim.core import metrics

    bullets = re.findall(r"^- \*(.+?)\*[^:]*: (.+?)(?=^- |^\S|\Z)", metrics.__doc__, re.M | re.S)
    return {name: " ".join(text.split()) for name, text in bullets}


def config_definition(group: str, name: str) -> str:
    """A config group option's meaning: the opening comment of `configs/<group>/<name>.yaml`
    (its first sentence)."""
    from sim.experiment.config import CONFIG_DIR

    lines = []
    for line in (Path(CONFIG_DIR) / group / f"{name}.yaml").read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    text = " ".join(lines)
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def column_definition(name: str) -> str:
    """A daily column's definition as `sim.core.results.DAILY` declares it."""
    from sim.core.results import DAILY

    return next(c.definition for c in DAILY if c.name == name)
