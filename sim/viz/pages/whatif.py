"""The strategist's what-if data: a few plans, many seeds each, compared in one table.

The trainer's page plays one pair of runs live; this page answers "which of these plans pays,
and how sure are we": up to `MAX_SCENARIOS` plans, each chosen with the what-if controls of the
one table (`controls.page("whatif")`, checked against the values offered), each run for the
same seeds 0 … N−1 (seed k is the same simulated brand in each: paired comparisons) by the batch
engine (`sim.experiment.batch.run_batch`). The table gives per plan the median and 10th–90th
percentile across seeds of profit, LTV/CAC at 90 days, 30-day conversion and the payback day
(DOMAIN.md §2.7, §4), and P(best) on profit (`sim.viz.report.ranking`, paired by seed); a
figure shows every seed's profit and LTV/CAC by plan (`sim.viz.plots.by_group`). Each plan
shows the `privsim -m …` command that reproduces it. The page itself is `whatif_page`.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from sim.experiment.batch import Evaluation, Result, results_frame, run_batch
from sim.experiment.config import compose, model_kwargs
from sim.viz import plots, report
from sim.viz.pages import controls
from sim.viz.pages.controls import CONTROLS, RUN, WHATIF

MAX_SCENARIOS = 4
N_JOBS = 2  # local processes for the batch (the machine the page serves from)
HORIZON_ENV = "PRIVSIM_WHATIF_HORIZON"  # the page's default horizon (privsim-whatif --horizon)
SEEDS_ENV = "PRIVSIM_WHATIF_SEEDS"  # the page's default seeds per scenario (--seeds)

# the table's yardsticks: summary column -> (label, format, lower is better)
YARDSTICKS = {
    "profit": ("Profit (yuan)", ",.0f", False),
    "ltv_cac_90d": ("LTV/CAC at 90 days", ".2f", False),
    "conversion_30d": ("30-day conversion", ".1%", False),
    "payback_day": ("Payback day", ".0f", True),
}
RANK_ON = "profit"


def _plan_overrides(self) -> list[str]:
    """The Hydra overrides of this plan (without seed and horizon), as on the CLI."""
    out = controls.overrides(WHATIF, self.__dict__)
    if CONTROLS["fission"].keeps(self.fission):
        return out
    return out + controls.phase_overrides(compose(out), self.fission)


Plan = controls.values_class(
    WHATIF,
    "Plan",
    "One plan's control values (fields, defaults and checks from `controls.CONTROLS`).",
    overrides=_plan_overrides,
)


def check_run(seeds: int, horizon: int | None) -> None:
    """Refuse a seed count or horizon outside the page's ranges (the table's run settings)."""
    run = controls.page(RUN)
    run["seeds"].check(seeds)
    run["horizon_days"].check(horizon)


def run_overrides(s: Plan, horizon: int | None = None) -> list[str]:
    """A plan's overrides with the horizon, when one is set."""
    return s.overrides() + CONTROLS["horizon_days"].override(horizon)


def command(s: Plan, seeds: int, horizon: int | None = None) -> str:
    """The `privsim -m …` multirun that reproduces a scenario's runs (seeds 0 … N−1)."""
    return " ".join(["privsim -m", *run_overrides(s, horizon), f"'seed=range(0,{int(seeds)})'"])


def label(i: int, s: Plan) -> str:
    """A scenario's name in the table and figures: its number and strategy."""
    return f"S{i + 1} · {s.strategy}"


def evaluations(scenarios: list[Plan], seeds: int, horizon: int | None = None):
    """(bases, evaluations) for `run_batch`: one composed base per scenario, seeds 0 … N−1."""
    if not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise ValueError(f"scenarios: {len(scenarios)}; allowed: 1 to {MAX_SCENARIOS}")
    check_run(seeds, horizon)
    bases = {label(i, s): compose(run_overrides(s, horizon)) for i, s in enumerate(scenarios)}
    for cfg in bases.values():  # the one config build: refused here as the CLI refuses it
        model_kwargs(cfg)
    evs = [Evaluation({}, seed, base=name) for name in bases for seed in range(seeds)]
    return bases, evs


def run(scenarios, seeds, horizon=None, progress=False, n_jobs=N_JOBS) -> list[Result]:
    """Run every scenario's seeds through the batch engine."""
    bases, evs = evaluations(scenarios, seeds, horizon)
    return run_batch(bases, evs, n_jobs=n_jobs, progress=progress)


def runs_table(results: list[Result]) -> pd.DataFrame:
    """The finished runs, one row per run: `group` (the scenario's label), `seed`, summary."""
    frame = results_frame(results)
    frame = frame[frame["status"] == "finished"].rename(columns={"base": "group"})
    for col in YARDSTICKS:
        if col not in frame:
            frame[col] = np.nan
    return frame.reset_index(drop=True)


def comparison(results: list[Result]) -> pd.DataFrame:
    """The comparison table, one row per scenario in the order run: `scenario`, `runs`,
    `failed`, for each yardstick `<col>_p10`, `<col>_p50`, `<col>_p90` (percentiles across the
    seeds with a value) and `<col>_n` (those seeds), and `p_best` on profit (the share of seeds
    in which the scenario had the highest profit, paired by seed, ties sharing:
    `sim.viz.report.ranking`)."""
    names = list(dict.fromkeys(r.evaluation.base for r in results))
    done = runs_table(results)
    failed = {n: sum(1 for r in results if r.evaluation.base == n and not r.ok) for n in names}
    best = (
        report.ranking(done, RANK_ON).set_index("group")["p_best"]
        if len(done)
        else pd.Series(dtype=float)
    )
    rows = []
    for name in names:
        sub = done[done["group"] == name]
        row = dict(scenario=name, runs=len(sub), failed=failed[name])
        for col in YARDSTICKS:
            v = sub[col].astype(float).dropna().to_numpy()
            p = np.percentile(v, report.PERCENTILES) if v.size else [np.nan] * 3
            row.update(
                {f"{col}_p{q}": float(x) for q, x in zip(report.PERCENTILES, p, strict=True)}
            )
            row[f"{col}_n"] = int(v.size)
        row["p_best"] = float(best.get(name, np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def cell(row: dict | pd.Series, col: str) -> str:
    """ "median (10th–90th)" of a yardstick, with the seeds that had no value said."""
    _, fmt, _ = YARDSTICKS[col]
    if row[f"{col}_n"] == 0:
        return "not within the horizon" if col == "payback_day" else "not measurable in the horizon"
    lo, med, hi = (format(row[f"{col}_p{q}"], fmt) for q in report.PERCENTILES)
    text = f"{med} ({lo} – {hi})"
    if row[f"{col}_n"] < row["runs"]:
        text += f" [{row[f'{col}_n']} of {row['runs']} seeds]"
    return text


def table_html(table: pd.DataFrame, commands: dict[str, str]) -> str:
    """The comparison table as HTML: one row per scenario, its command under its name."""
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ["Scenario", *(v[0] for v in YARDSTICKS.values()), "P(best) on profit"]
    )
    body = []
    for row in table.to_dict("records"):
        pb = "–" if np.isnan(row["p_best"]) else f"{row['p_best']:.0%}"
        runs = f"{row['runs']} seeds" + (f", {row['failed']} failed" if row["failed"] else "")
        name = (
            f"<b>{html.escape(row['scenario'])}</b> <small>({runs})</small><br>"
            f"<code class='command'>{html.escape(commands.get(row['scenario'], ''))}</code>"
        )
        cells = "".join(f"<td>{html.escape(cell(row, c))}</td>" for c in YARDSTICKS)
        body.append(f"<tr class='scenario-row'><td>{name}</td>{cells}<td>{pb}</td></tr>")
    return f"<table class='whatif-table'><tr>{head}</tr>{''.join(body)}</table>"


NOTE = (
    "Each cell: median across seeds (10th – 90th percentile). Seed k is the same simulated "
    "brand in every scenario. P(best): the share of seeds in which the scenario had the highest "
    "profit, comparing scenarios seed by seed (ties share the credit) — a share of simulated "
    "brands, not a probability that the plan is best. Payback day: the first day a cohort's "
    "discounted margin covers its acquisition cost, over the seeds where that happened."
)


def figure(results: list[Result]):
    """Profit and LTV/CAC at 90 days by scenario: every seed, median and 10th–90th percentile."""
    done = runs_table(results)
    fig, (ax1, ax2) = plots.figure(11, 3.6, ncols=2, layout="constrained")
    plots.by_group(ax1, done, "profit", "profit (yuan)", 0.0, "break-even")
    plots.thousands(ax1.yaxis)
    if done["ltv_cac_90d"].notna().any():
        plots.by_group(ax2, done, "ltv_cac_90d", "LTV/CAC at 90 days", 1.0, "LTV = CAC")
    else:
        plots.empty(ax2, "no cohort 90 days old yet:\nLTV/CAC at 90 days not measurable")
    for ax in (ax1, ax2):
        ax.set_xlabel("scenario", fontsize=9)
    return fig
