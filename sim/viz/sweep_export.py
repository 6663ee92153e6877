"""The sweep's forwardable files (issue #25), written with the sweep report (`sim.viz.report`)
into its staging folder, so they land with it atomically or not at all:

- `report.html`: `report.md` as one self-contained page (`sim.viz.export.markdown_report`: the
  same words and numbers, its figures embedded), closed by the definitions of its columns;
- `workbook.xlsx`: sheets `runs` (one row per run: its group, overrides, simulated days and the
  report's yardsticks, as in `summary.csv`), `groups` (per group and yardstick: seeds, mean and
  the 95 % t-interval of the mean, `mean_ci`), `paired` (`paired.csv`), `daily by group`
  (per group and day, the median across seeds of the users by stage, first orders, money
  columns and cumulative profit), `cohorts by group` (per group and joining week, the median
  across seeds of the cohort's size and 30-day conversion), and `About` defining every column
  with its unit and horizon, from the declarations (`sim.viz.labels.summary_term`,
  `sim.core.results.DAILY`, `sim.experiment.comparison.PAIRED_COLUMNS`, the schema's `describe`).

Seeds are brands (DOMAIN §3.1): medians and means are across them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.core.metrics import horizons_in
from sim.core.stage import Stage
from sim.experiment.comparison import PAIRED_MEANING, mean_ci
from sim.experiment.reference import describe
from sim.viz import export
from sim.viz.labels import (
    GROUP_LABEL,
    daily_term,
    definition,
    label_of,
    result_columns,
    summary_term,
    with_group_labels,
)

HTML, WORKBOOK = "report.html", "workbook.xlsx"
RUNS, GROUPS, PAIRED, DAILY, COHORTS = (
    "runs", "groups", "paired", "daily by group", "cohorts by group",
)  # fmt: skip
STAGES = [s.name.lower() for s in Stage]  # aware … rebuy, churned (cumulative)
DAILY_COLUMNS = [
    *STAGES, "live_users", "new_users", "first_purchases", "orders", "revenue", "margin",
    "acquisition_spend", "team_cost", "profit",
]  # fmt: skip
CUMULATIVE = "cumulative_profit"
COHORT_COLUMNS = ["size", "conversion_30d"]  # COHORT_TERMS


def report_columns(done: pd.DataFrame) -> list[str]:
    """The report's per-run numbers: NPV at each horizon, then the results table's columns."""
    npv = [f"npv_{h}d" for h in horizons_in(dict.fromkeys(done.columns), "npv")]
    return [*npv, *(c for c, _, _ in result_columns(done))]


def runs_sheet(table: pd.DataFrame, keys: list[str], daily: pd.DataFrame) -> pd.DataFrame:
    """One row per run of the sweep (stale ones left out), as `summary.csv` holds it."""
    runs = table[table["status"] != "stale"]
    days = daily.groupby("job")["day"].max() + 1 if len(daily) else pd.Series(dtype="int64")
    cols = ["job", "status", "group", GROUP_LABEL, *dict.fromkeys([*keys, "seed"])]
    out = runs[[c for c in cols if c in runs]].copy()
    out["days"] = out["job"].map(days).astype("Int64")
    done = table[table["status"] == "finished"]
    return pd.concat([out, runs[report_columns(done)]], axis=1).reset_index(drop=True)


def groups_sheet(done: pd.DataFrame) -> pd.DataFrame:
    """Per group and yardstick: the seeds with a value, their mean and 95 % t-interval."""
    rows, names = [], label_of(done)
    for g in dict.fromkeys(done["group"]):
        sub = done[done["group"] == g]
        for col in report_columns(done):
            label, unit, _ = summary_term(col)
            m, h, n = mean_ci(sub[col].astype(float).to_numpy())
            rows.append(dict(group=g, group_label=names[g], yardstick=col, label=label, unit=unit,
                             seeds=n, mean=m, ci95_low=m - h, ci95_high=m + h))  # fmt: skip
    return pd.DataFrame(rows)


def by_group(
    series: pd.DataFrame, x: str, columns: list[str], names: dict[str, str]
) -> pd.DataFrame:
    """Per group (and its label in `names`) and `x`: the seeds and the median across them of
    each of `columns`."""
    if series.empty:
        return pd.DataFrame(columns=["group", GROUP_LABEL, x, "seeds", *columns])
    cols = [c for c in columns if c in series]
    g = series.groupby(["group", x], sort=False)
    out = g[cols].median().join(g["job"].nunique().rename("seeds"))
    out = out.reset_index()[["group", x, "seeds", *cols]]
    out.insert(1, GROUP_LABEL, out["group"].map(names).astype("string"))
    order = {k: i for i, k in enumerate(dict.fromkeys(series["group"]))}
    return out.sort_values(["group", x], key=lambda s: s.map(order) if s.name == "group" else s,
                           kind="stable").reset_index(drop=True)  # fmt: skip


def daily_sheet(daily: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    if len(daily):
        daily = daily.sort_values(["job", "day"])
        daily = daily.assign(**{CUMULATIVE: daily.groupby("job")["profit"].cumsum()})
    # each channel's spend (`spend_<channel>`, of a channel that has its `new_<channel>`)
    by_channel = [s for c in daily if c.startswith("new_") and (s := f"spend_{c[4:]}") in daily]
    at = DAILY_COLUMNS.index("acquisition_spend") + 1
    columns = [*DAILY_COLUMNS[:at], *by_channel, *DAILY_COLUMNS[at:], CUMULATIVE]
    return by_group(daily, "day", columns, names)


def cohorts_sheet(cohorts: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return by_group(cohorts, "first_day", COHORT_COLUMNS, names)


def sheets(table, keys, pairs: pd.DataFrame, daily, cohorts) -> dict[str, pd.DataFrame]:
    table = with_group_labels(table, keys)
    done, names = table[table["status"] == "finished"], label_of(table)
    return {
        RUNS: runs_sheet(table, keys, daily),
        GROUPS: groups_sheet(done),
        PAIRED: pairs,
        DAILY: daily_sheet(daily, names),
        COHORTS: cohorts_sheet(cohorts, names),
    }


# ---------------------------------------------------------------------------- definitions

ACROSS = "median across the group's seeds (brands)"
META = {
    "job": "the run's job folder in the sweep (`<sweep>/<job>/`)",
    "status": "finished, failed, damaged, incomplete or not started (only finished runs have "
    "numbers)",
    "group": "the values of the overrides that vary across the sweep, seed excepted: runs of a "
    "group differ only in their seed",
    GROUP_LABEL: "the group in words, naming each override it sets (`paid ads 1,000 yuan/day`; "
    "`key=value` for a key with no words of its own)",
    "days": "days the run simulated (its horizon: day 0 to days − 1)",
    "seeds": "seeds (simulated brands) the row's mean or median is over",
}
GROUP_TERMS = {
    "yardstick": "the runs sheet's column summarised",
    "label": "the yardstick's name in words, with its horizon",
    "unit": "the yardstick's unit (yuan, ratio, share of users, …)",
    "mean": "mean of the yardstick across the group's seeds",
    "ci95_low": "lower end of the 95 % t-interval of that mean (how precisely the seeds pin "
    "the average down, not the spread of outcomes); empty below 2 seeds",
    "ci95_high": "upper end of that interval",
}
DAILY_TERMS = {
    "day": "simulated day, from 0",
    CUMULATIVE: f"the run's profit summed from day 0 to this day; {ACROSS}. Unit: yuan.",
}
COHORT_TERMS = {  # sim.core.metrics.cohorts
    "first_day": "first day of the joining week (weeks counted from day 0)",
    "size": f"acquired users who joined in the week; {ACROSS}. Unit: users.",
    "conversion_30d": "share of the week's acquired users whose first order came within 30 days "
    "of joining (join day included), counted once the week's users are 30 days old (empty "
    f"before); {ACROSS}. Unit: share of users.",
}


def _override(key: str) -> str:
    info = describe(key)
    if info is None:
        return f"the config choice `{key}` (a group option under configs/{key}/)"
    return f"override `{key}`: {info.doc}" + (f" ({info.unit})" if info.unit else "")


def about(book: dict[str, pd.DataFrame], keys: list[str], sweep_dir: Path) -> dict[str, str]:
    """`sheet: column` -> its definition, unit and horizon, for every column of `book`."""
    out = {
        "this workbook": f"the sweep `{sweep_dir.resolve()}` (privsim-report); every number also "
        "in its CSVs (summary.csv, paired.csv) or computed from its runs' daily.parquet and "
        "cohorts.parquet; report.md and report.html say what the numbers mean in words.",
    }
    for sheet, frame in book.items():
        for col in frame.columns:
            out[f"{sheet}: {col}"] = _define(sheet, col, keys)
    return out


def _define(sheet: str, col: str, keys: list[str]) -> str:
    own = {GROUPS: GROUP_TERMS, PAIRED: PAIRED_MEANING, DAILY: DAILY_TERMS,
           COHORTS: COHORT_TERMS}.get(sheet, {})  # fmt: skip
    if col in own or col in META:
        return own.get(col) or META[col]
    if sheet == RUNS and (col in keys or col == "seed"):
        return _override(col)
    if sheet == RUNS:
        return definition(col)
    unit, text = daily_term(col)  # the daily sheet's columns
    return f"{text}; {ACROSS}. Unit: {unit}."


def glossary(done: pd.DataFrame) -> dict[str, str]:
    """The report's yardsticks in words: label -> definition and unit, closing the HTML."""
    return {summary_term(c)[0]: definition(c, named=False) for c in report_columns(done)}


def write(stage: Path, sweep_dir: Path, table, keys, pairs, daily, cohorts) -> None:
    """`report.html` (from the `report.md` already in `stage`) and `workbook.xlsx`, into
    `stage`, each atomically."""
    done = table[table["status"] == "finished"]
    text = (stage / "report.md").read_text()
    export.write_atomic(stage / HTML, export.markdown_report(text, stage, glossary(done)))
    book = sheets(table, keys, pairs, daily, cohorts)
    export.write_atomic(stage / WORKBOOK, export.workbook(book, about(book, keys, sweep_dir)))

