"""The what-if comparison as files a strategist can forward (issue #25): `html(...)`, one
self-contained page (the comparison table, the figure, each scenario's settings and command,
the definitions), and `workbook(...)`, `.xlsx` bytes (the comparison's numbers, every run,
the scenarios, an About sheet defining each column with its unit and horizon). Both are built
from what the page already computes (`sim.viz.pages.whatif`: `comparison`, `runs_table`,
`figure`, `command`, `titles`, `glossary`) and rendered by `sim.viz.export`; the page's download
buttons call them with the batch it shows.

`results` are the batch's results, `scenarios` the plans run (in order), `seeds` the seeds per
scenario (0 … seeds − 1, the same simulated brands in every scenario: DOMAIN.md §3.1) and
`horizon` the page's horizon (None: each scenario's config's, stated in days).
"""

from __future__ import annotations

import pandas as pd

from sim.experiment.comparison import PERCENTILES
from sim.experiment.config import compose
from sim.viz import export
from sim.viz.labels import TERMS, definition
from sim.viz.pages import controls, whatif
from sim.viz.pages.controls import WHATIF
from sim.viz.sweep_export import report_columns

TITLE = "What-if comparison"
P_BEST = "P(best) on profit"
QUANTILE = {10: "10th percentile", 50: "median", 90: "90th percentile"}
SPEND = "Acquisition spend by channel (yuan/day)"


def horizons(scenarios, horizon: int | None) -> dict[str, int]:
    """Each scenario's horizon in days: the page's, or its composed config's."""
    return {
        name: int(compose(whatif.run_overrides(s, horizon))["horizon_days"])
        for name, s in zip(whatif.titles(scenarios), scenarios, strict=True)
    }


def _span(days: dict[str, int]) -> str:
    values = sorted(set(days.values()))
    return f"{values[0]:,} days" if len(values) == 1 else f"{', '.join(map(str, values))} days"


def settings(scenarios, seeds: int, horizon: int | None, results=None) -> pd.DataFrame:
    """One row per scenario: its label, every control's value in words, its command and, given
    the batch's `results`, what its gates and rules did (`whatif.decided`)."""
    days = horizons(scenarios, horizon)
    decided = {} if results is None else whatif.decided(scenarios, results, horizon)
    rows = []
    for name, s in zip(whatif.titles(scenarios), scenarios, strict=True):
        row = {"scenario": name}
        row.update({c.label: c.shown(getattr(s, k)) for k, c in controls.page(WHATIF).items()})
        row["horizon (days)"] = days[name]
        row["command"] = whatif.command(s, seeds, horizon)
        if name in decided:
            row[whatif.DECISIONS] = decided[name]
        rows.append(row)
    return pd.DataFrame(rows)


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as the page shows it: median (10th – 90th) per yardstick, P(best)."""
    rows = []
    for r in table.to_dict("records"):
        row = {"scenario": r["scenario"], "seeds run": r["runs"], "failed": r["failed"]}
        row.update({lab: whatif.cell(r, col) for col, (lab, _, _) in whatif.YARDSTICKS.items()})
        row[SPEND] = whatif.spend_cell(r).replace("\n", "; ")
        row[P_BEST] = "–" if r["p_best"] != r["p_best"] else f"{r['p_best']:.0%}"
        rows.append(row)
    return pd.DataFrame(rows)




def html(results, scenarios, seeds: int, horizon: int | None = None) -> str:
    """The comparison as one self-contained HTML page (`sim.viz.export.html_report`)."""
    done = whatif.runs_table(results)
    plans = settings(scenarios, seeds, horizon, results)
    days = dict(zip(plans["scenario"], plans["horizon (days)"], strict=True))
    subtitle = (
        f"{len(scenarios)} scenario{'s' * (len(scenarios) > 1)} × {seeds} seeds each (seed k is "
        f"the same simulated brand in every scenario), horizon {_span(days)}. Every number is "
        "defined at the end."
    )
    sections = [
        export.Section("Comparison", whatif.NOTE, _shown(whatif.comparison(results, horizon))),
        export.Section(
            "Profit and LTV/CAC at 90 days by scenario",
            "Every seed (grey dots), the median and the 10th–90th percentile of the seeds.",
            figure=whatif.figure(results) if len(done) else None,
        ),
        export.Section(
            "Scenarios",
            "Each scenario's settings; its command reproduces its runs with `privsim -m` (the "
            "same seeds, the same numbers); what its strategy's gates and rules did in its runs.",
            plans,
        ),
    ]
    glossary = dict(whatif.glossary(scenarios, horizon))  # the page's, term for term
    return export.html_report(TITLE, sections, subtitle, glossary)


def workbook(results, scenarios, seeds: int, horizon: int | None = None) -> bytes:
    """Sheets `comparison` (the table's numbers), `runs` (one row per finished run),
    `scenarios` (settings and commands) and `About` (every column defined). A channel no run
    spends on has no spend columns (the page lists only the channels that spend)."""
    table = whatif.comparison(results, horizon)
    done = whatif.runs_table(results)
    spent = whatif.spend_channels(done, spent=True)
    idle = [f"spend_{c}_per_day_p50" for c in whatif.spend_channels(done) if c not in spent]
    table = table.drop(columns=idle)  # as the page, which lists only the channels that spend
    spend = [f"spend_{c}" for c in spent]
    cols = [*whatif.YARDSTICKS, *report_columns(done), *spend]
    cols = [c for c in dict.fromkeys(cols) if c in done]
    runs = done[["group", "seed", *cols]].rename(columns={"group": "scenario"})
    plans = settings(scenarios, seeds, horizon, results)
    book = {"comparison": table, "runs": runs, "scenarios": plans}
    return export.workbook(book, about(book))


def about(book: dict[str, pd.DataFrame]) -> dict[str, str]:
    """`sheet: column` -> its definition, unit and horizon, for every column of `book`."""
    out = {
        "this workbook": "the privsim what-if page's comparison: scenarios run for the same "
        "seeds (simulated brands) by the batch engine; each scenario's command (sheet "
        "scenarios) reproduces its runs.",
        "comparison: scenario": "the scenario's number and strategy",
        "comparison: runs": "seeds of the scenario that finished",
        "comparison: failed": "seeds of the scenario that failed (their error on the page)",
        "comparison: p_best": f"{P_BEST}: {TERMS['P(best)']}",
        "runs: scenario": "the scenario's number and strategy",
        "runs: seed": "the simulated brand (seed k is the same brand in every scenario)",
        "scenarios: scenario": "the scenario's number and strategy",
        "scenarios: horizon (days)": "days simulated (day 0 to horizon − 1)",
        "scenarios: command": "the `privsim -m` multirun that reproduces the scenario's runs",
        f"scenarios: {whatif.DECISIONS}": whatif.DECISIONS_TERM,
    }
    for col in whatif.YARDSTICKS:
        for q in PERCENTILES:
            out[f"comparison: {col}_p{q}"] = (
                f"{QUANTILE[q]} across the scenario's seeds with a value of {definition(col)}"
            )
        out[f"comparison: {col}_n"] = f"seeds with a value of {col} (the others: none in the run)"
    for c in book["comparison"].columns:
        if c.endswith("_per_day_p50"):
            total = c.removesuffix("_per_day_p50")
            out[f"comparison: {c}"] = (f"median across the scenario's seeds of {definition(total)} "
                                       "Here ÷ the horizon's days: yuan/day")  # fmt: skip
    out.update({f"runs: {c}": definition(c) for c in book["runs"].columns[2:]})
    for k, c in controls.page(WHATIF).items():
        what = f"`{c.sets}`" if c.sets else "the page's own setting"
        unit = f" ({c.unit})" if c.unit else ""
        out[f"scenarios: {c.label}"] = f"the what-if control `{k}`{unit}: sets {what}"
    return out

