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
KEY_WORDS = {  # top-level keys in the what-if page's words (sim.viz.pages.controls)
    "initial_users": "{} existing customers",
    "market_size": "market size {} users",
    "horizon_days": "{}-day horizon",
}


def words(name: str) -> str:
    return WORDS.get(name, name.replace("_", " "))


def _number(value: str) -> str:
    """`1000` -> `1,000` (a whole number from 1,000 up); any other value as given."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return value
    return f"{v:,.0f}" if v.is_integer() and abs(v) >= 1000 else value


def level_label(key: str, value: str) -> str:
    """One override in words: `staged`, `conversion pool`, `paid ads ×2`, `paid ads 1,000
    yuan/day`, `3 operators (fixed)`, `fit spread 0.5`; a key with no words of its own as
    `key=value` (`strategy.phases.0.team_size=3`), so a value never stands without its key."""
    parts = key.lstrip("+~").split(".")
    key, value = ".".join(parts), _number(str(value))
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
    if len(parts) == 1:
        return KEY_WORDS.get(key, f"{words(key)} {{}}").format(value)
    if len(parts) == 2 and not any(p.isdigit() for p in parts):
        return f"{' '.join(map(words, parts))} {value}"
    return f"{key}={value}"


def group_labels(done: pd.DataFrame, keys: list[str]) -> dict[str, str]:
    """Each group's name in words (`staged · paid ads ×2`), for figures and tables."""
    levels = group_levels(done, keys) if len(done) else {}
    out = {g: " · ".join(level_label(k, v) for k, v in lv.items()) for g, lv in levels.items()}
    out = {g: (lab or g) for g, lab in out.items()}
    if len(set(out.values())) < len(out):  # never merge two groups under one label
        return {g: g for g in out}
    return out


GROUP_LABEL = "group_label"  # the readable column beside `group` (whose values stay as they were)


def with_group_labels(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`table` (grouped: `sim.experiment.sweep.add_groups`) with `group_label` beside `group`:
    the group in words, naming the key even when one override varies (`paid ads 1,000
    yuan/day`, not `1000`)."""
    names = group_labels(table, list(keys))
    at = list(table.columns).index("group") + 1
    out = table.drop(columns=GROUP_LABEL, errors="ignore")
    out.insert(at, GROUP_LABEL, out["group"].map(names).astype("string"))
    out.attrs = dict(table.attrs)
    return out


def label_of(table: pd.DataFrame) -> dict[str, str]:
    """group -> its label, from the `group_label` column (the group itself where there is none)."""
    if GROUP_LABEL not in table:
        return {g: g for g in table["group"]}
    return dict(zip(table["group"], table[GROUP_LABEL], strict=True))


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


# ---------------------------------------------------------------------------- definitions

TOTAL = "summed over the run's days (day 0 to its last day)"
OTHER_TERMS = {  # summary columns no declaration defines one by one (DOMAIN §4; sim.core.metrics)
    "users_acquired": (
        "users",
        "users who joined through a channel or a referral over the run (users imported on "
        "day 0 are not acquired)",
    ),
    "payback_day": (
        "days since joining",
        "over the users old enough for the longest LTV horizon by the run's end, the first age "
        "at which their discounted margin reaches their CAC; empty if never within it",
    ),
    "ltv_cac_to_date": (
        "ratio",
        "discounted margin ÷ CAC of every acquired user, whatever their age at the run's end "
        "(all ages pooled: a strategy that acquires earlier looks better on it)",
    ),
}


def daily_term(column: str) -> tuple[str, str]:
    """A daily column's (unit, definition), as `sim.core.results.DAILY` declares it."""
    from sim.core.results import DAILY, expand

    named = {c.name: c for c in expand(())}
    if column in named:
        c = named[column]
    else:  # a per-channel column (`spend_paid_ads`, or its declared `spend_{channel}`): the
        # declaration with the longest name before `{channel}` that it starts with
        stem = {d: d.name[: d.name.index("{")] for d in DAILY if "{channel}" in d.name}
        fits = [d for d, head in stem.items() if column.startswith(head)]
        if not fits:
            raise KeyError(column)
        c = max(fits, key=lambda d: len(stem[d]))
    return c.unit, c.definition


def summary_term(column: str) -> tuple[str, str, str]:
    """A summary column's (label, unit, definition with its horizon), from the declarations:
    the goal-seek metrics (`sim.experiment.goal_spec.metric`), the daily table's (a run's total
    sums it over the run: `daily_term`), `OTHER_TERMS`; the label is the report's heading where
    it has one (`result_columns`). `KeyError` for a column none defines."""
    from sim.core.params import ConfigError
    from sim.experiment.goal_spec import metric

    heading = {c: h for c, h, _ in result_columns(pd.DataFrame(columns=[column]))}
    try:
        m = metric(column, column)
        label, unit, text = m.label, m.unit, m.definition
    except ConfigError:
        if column in OTHER_TERMS:
            label, (unit, text) = words(column), OTHER_TERMS[column]
        else:
            (unit, daily), label = daily_term(column), words(column)
            daily = daily.replace("today's", "each day's").removesuffix(" today")
            text = f"{daily}, {TOTAL}"
    return heading.get(column, label), unit, text


def definition(column: str, named: bool = True) -> str:
    """`label: definition. Unit: unit.` of a summary column (`summary_term`); without the
    label when `named` is false (a glossary names it already)."""
    label, unit, text = summary_term(column)
    return f"{label + ': ' if named else ''}{text}. Unit: {unit}."
