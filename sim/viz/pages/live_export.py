"""The trainer's pair as files to forward (issue #25), as the what-if page has them
(`whatif_export`): `html(pair)`, one self-contained page (what happened, the yardsticks of A
and B side by side, the page's six figures with their captions, each arm's command, the
definitions), and `workbook(pair)`, `.xlsx` bytes (sheets `summary`, `daily`, `arms` and an
About sheet defining every column with its unit and horizon).

Both hold the pair as it stands at the day it has reached (the live page exports mid-play too)
and are built from what the page already computes, rendered by `sim.viz.export`: the arms'
summaries (`PrivateDomainModel.summary`) on the sweep report's yardsticks
(`sweep_export.report_columns`, defined by `labels.summary_term`), the daily table of each arm
as a sweep's "daily by group" sheet (`sweep_export.daily_sheet` over `figures.frames`; one seed
per arm, so each value is the arm's own), the figures (`figures.FIGURES`, `figures.caption`)
and "What happened" (`story.what_happened`). One seed is one simulated brand (DOMAIN §3.1):
a pair compares two strategies on it, not across brands (the page's "Across brands" does).
"""

from __future__ import annotations

import math

import pandas as pd

from sim.viz import export
from sim.viz.labels import daily_term, definition, summary_term
from sim.viz.pages import figures, lessons
from sim.viz.pages.pair import LivePair, cli_command
from sim.viz.pages.story import what_happened
from sim.viz.sweep_export import CUMULATIVE, DAILY_TERMS, daily_sheet, glossary, report_columns

DIFFERENCE = "B − A"
SUMMARY, DAILY, ARMS = "summary", "daily", "arms"


def _value(v) -> float:
    return math.nan if v is None else float(v)


def _title(pair: LivePair) -> str:
    chosen = lessons.active(pair.controls.__dict__)
    arms = " vs ".join(a.name for a in pair.arms)
    return f"Trainer's pair: {chosen.title}" if chosen else f"Trainer's pair: {arms}"


def _when(pair: LivePair) -> str:
    return (f"seed {pair.controls.seed} (one simulated brand), day {pair.day} of "
            f"{pair.horizon_days} (days 0–{max(pair.day - 1, 0)} simulated)")  # fmt: skip


def summary(pair: LivePair) -> pd.DataFrame:
    """One row per yardstick of the sweep report: its label, unit, each arm's value to date and,
    for a pair, B − A."""
    sums = [arm.summary() for arm in pair.arms]
    rows = []
    for col in report_columns(pd.DataFrame(sums)):
        label, unit, _ = summary_term(col)
        row = {"yardstick": col, "label": label, "unit": unit}
        row.update({a.name: _value(s.get(col)) for a, s in zip(pair.arms, sums, strict=True)})
        if len(sums) == 2:
            row[DIFFERENCE] = _value(sums[1].get(col)) - _value(sums[0].get(col))
        rows.append(row)
    return pd.DataFrame(rows)


def daily(pair: LivePair) -> pd.DataFrame:
    """Both arms' daily tables, one row per arm and day (`group`: the arm)."""
    table = daily_sheet(figures.frames(pair)[0], {a.name: a.name for a in pair.arms})
    return table.drop(columns=["group_label", "seeds"]).rename(columns={"group": "arm"})


def arms(pair: LivePair) -> pd.DataFrame:
    return pd.DataFrame(
        [{"arm": a.name, "strategy": a.strategy, "command": cli_command(a.overrides)}
         for a in pair.arms]  # fmt: skip
    )


def html(pair: LivePair) -> str:
    """The pair as one self-contained HTML page (`sim.viz.export.html_report`)."""
    with pair.lock:
        text = "\n".join(f"- {line}" for line in what_happened(pair))
        sections = [
            export.Section("What happened", text),
            export.Section(
                "Yardsticks to date",
                f"Each arm's value over the days simulated; {DIFFERENCE}: B's minus A's.",
                summary(pair),
            ),
            *(
                export.Section(head, figures.caption(key, pair),
                               figure=figures.FIGURES[key](pair, False))  # fmt: skip
                for key, head in figures.PLOTS.items()
            ),
            export.Section(
                "Arms",
                "Each arm's command reproduces its run with `privsim` (the same seed, the same "
                "numbers, over the whole horizon).",
                arms(pair),
            ),
        ]
        terms = glossary(pd.DataFrame([a.summary() for a in pair.arms]))
        title, when = _title(pair), _when(pair)
    subtitle = f"The privsim trainer's page (privsim-app): {when}. Every number is defined at " \
        "the end."  # fmt: skip
    return export.html_report(title, sections, subtitle, terms)


def workbook(pair: LivePair) -> bytes:
    """Sheets `summary` (the yardsticks), `daily` (both arms' daily tables), `arms` (strategy,
    command) and About."""
    with pair.lock:
        book = {SUMMARY: summary(pair), DAILY: daily(pair), ARMS: arms(pair)}
        return export.workbook(book, about(pair, book))


def about(pair: LivePair, book: dict[str, pd.DataFrame]) -> dict[str, str]:
    """`sheet: column` -> its definition, unit and horizon, for every column of `book`, and
    each yardstick of the summary sheet."""
    out = {
        "this workbook": f"{_title(pair)}, the privsim trainer's page (privsim-app) at "
        f"{_when(pair)}: two runs on the same brand, strategies side by side",
        "summary: yardstick": "the summary column (summary.json of a run); defined below",
        "summary: label": "the yardstick in words, with its horizon",
        "summary: unit": "the yardstick's unit",
        **{f"summary: {a.name}": f"arm {a.label}'s value over days 0–{max(pair.day - 1, 0)}"
           for a in pair.arms},  # fmt: skip
        f"summary: {DIFFERENCE}": "arm B's value minus arm A's (empty where either has none)",
        f"{DAILY}: arm": "the arm: A or B and its strategy",
        f"{DAILY}: day": DAILY_TERMS["day"],
        f"{DAILY}: {CUMULATIVE}": "the arm's profit summed from day 0 to this day. Unit: yuan.",
        f"{ARMS}: arm": "A or B and its strategy",
        f"{ARMS}: strategy": "the arm's strategy (configs/strategy/)",
        f"{ARMS}: command": "the `privsim` run that reproduces the arm (same seed, same numbers)",
    }
    for col in book[DAILY].columns:
        if f"{DAILY}: {col}" not in out:
            unit, text = daily_term(col)
            out[f"{DAILY}: {col}"] = f"{text}. Unit: {unit}."
    out.update({f"yardstick {c}": definition(c) for c in book[SUMMARY]["yardstick"]})
    return out
