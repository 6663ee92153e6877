"""The views of runs and sweeps: `privsim-report <sweep_dir>` and the Hydra callback that draws
them as `privsim` runs.

`Figures` is registered under `hydra.callbacks` in configs/config.yaml (after
`sim.experiment.sweep.Progress`), so the experiment floor never imports this one:

- `on_job_end` (single runs and every sweep job, in the worker): draws the run's `funnel.png`
  and `conversion.png` from its finished `daily.parquet` / `cohorts.parquet`;
- `on_multirun_end`: writes the sweep report (`report`). Hydra calls it before `Progress`'s
  (reverse registration order), which then exits 1 naming the jobs that did not finish.

The sweep report aggregates a sweep directory (`sim.experiment.sweep.collect`) into
`summary.parquet`, four figures and `report.md`. Groups are the overrides that vary across
finished runs other than `seed`; seeds within a group are replicates. Two summaries across
seeds, named apart wherever they appear: tables give the mean ± **95 % CI of the mean**
(t-interval: how precisely the seeds pin the average down); figures give the median and the
**middle 80 % of seeds** (10th–90th percentile: the spread of outcomes, `sim.viz.plots`).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.core.metrics import horizons_in
from sim.experiment import jobs
from sim.experiment.sweep import (
    add_groups,
    collect,
    group_keys,
    load_series,
    name_unfinished,
    planned_total,
    quote,
    resume_command,
    sweep_command,
    unfinished,
)
from sim.viz import plots

CI_NOTE = "mean ± 95 % CI of the mean across seeds (t-interval)"
FIGURES = {
    "conversion_decay.png": "Conversion decay",
    "ltv_cac.png": "LTV/CAC and LTV per user",
    "funnel.png": "Funnel over time",
    "cumulative_profit.png": "Cumulative profit",
}
CAPTIONS = {
    "conversion_decay.png": "30-day conversion of weekly joining cohorts against the pool size "
    "and the users per operator when they joined. With several seeds, each line's cohorts are "
    "binned on the x axis (quantile bins; conversion size-weighted within a seed); line: "
    "median of seeds, band: middle 80 % of seeds (10th–90th percentile).",
    "ltv_cac.png": "LTV/CAC and LTV per acquired user at the shortest horizon (users old enough "
    "to have lived it; their discounted margin in that many days, over and minus their CAC), "
    "per group: grey dots are single seeds; the red point is the median of seeds "
    "and its bar the middle 80 % of seeds (10th–90th percentile).",
    "funnel.png": "Users in each stage of aware → familiar → trust → buy → rebuy (stacked), and "
    "cumulative churned users, by day (mean of seeds).",
    "cumulative_profit.png": "Cumulative profit (margin − acquisition spend − team, KOC and "
    "systems cost) by day; line: median of seeds, band: middle 80 % of seeds (10th–90th "
    "percentile).",
}
DEFINITIONS = (
    "*30-day conversion*: share of acquired users whose first order came within 30 days of "
    "joining, over users who joined at least 30 days before the end. *LTV at H days*: per "
    "acquired user old enough to have lived H days in the pool by the end of the run, margin "
    "booked in their first H days discounted to their joining day, minus their CAC; *LTV/CAC at "
    "H days*: that margin ÷ their CAC. These are horizon-matched: compare strategies on them. "
    "*Payback day*: the first age (days since joining) at which the discounted margin of the "
    "users old enough for the longest horizon reaches their CAC (– if never). *LTV/CAC to "
    "date* pools users of every age at the end of the run, so a strategy that acquires earlier "
    "looks better on it. CAC is acquisition spend only: team, KOC and systems costs are outside "
    "LTV/CAC and inside *profit* (margin − acquisition spend − team, KOC and systems cost over "
    "the run)."
)


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
    return cols + [
        ("payback_day", "payback day", ",.0f"),
        ("ltv_cac_to_date", "LTV/CAC to date (all ages pooled)", ".2f"),
        ("profit", "profit (yuan)", ",.0f"),
        ("churn_rate", "churn rate", ".1%"),
    ]


# ---------------------------------------------------------------------------- statistics


def mean_ci(x) -> tuple[float, float, int]:
    """Mean, 95 % t-interval half-width of the mean (NaN below 2 values) and the count of the
    non-NaN values: how precisely the seeds determine the average, for the tables."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return np.nan, np.nan, 0
    if n == 1:
        return float(x[0]), np.nan, 1
    from scipy.stats import t

    return float(x.mean()), float(t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)), n


def _cell(v, fmt: str) -> str:
    m, h, _ = mean_ci(v)
    if np.isnan(m):
        return "–"
    return format(m, fmt) if np.isnan(h) else f"{format(m, fmt)} ± {format(h, fmt)}"


# ---------------------------------------------------------------------------- figures


def run_figures(job: Path, title: str = "") -> None:
    """A finished run's own `funnel.png` and `conversion.png`, from its parquet files."""
    tag = dict(group="this run", job=job.name)
    daily = pd.read_parquet(job / jobs.DAILY).assign(**tag)
    cohorts = pd.read_parquet(job / jobs.COHORTS).assign(**tag)
    fig, (ax,) = plots.figure(9, 5, layout="constrained")
    plots.funnel(ax, daily)
    ax.set_title(f"Funnel: users by stage over time{title}")
    plots.save(fig, job / "funnel.png", dpi=110)
    fig, (ax,) = plots.figure(9, 5, layout="constrained")
    plots.conversion_decay(ax, cohorts, "pool_size")
    ax.set_title(f"Conversion decay: 30-day cohort conversion vs pool size{title}")
    plots.save(fig, job / "conversion.png", dpi=110)


def sweep_figures(sweep_dir: Path, table: pd.DataFrame) -> list[str]:
    """The four sweep figures (`FIGURES`) from the finished runs; returns their file names."""
    done = table[table["status"] == "finished"]
    if done.empty:
        return []
    daily = load_series(table, sweep_dir, "daily")
    cohorts = load_series(table, sweep_dir, "cohorts")
    groups = list(dict.fromkeys(done["group"]))

    fig, axes = plots.figure(14, 5.5, ncols=2, sharey=True, layout="constrained")
    for ax, x in zip(axes, ("pool_size", "users_per_operator"), strict=True):
        plots.conversion_decay(ax, cohorts, x)
        ax.set_title(f"vs {x.replace('_', ' ')}")
    fig.suptitle("Conversion decay: 30-day conversion of weekly joining cohorts as the pool grows")
    plots.save(fig, sweep_dir / "conversion_decay.png", dpi=110)

    fig, axes = plots.figure(max(10, 1.6 * len(groups) + 6), 5.5, ncols=2, layout="constrained")
    h = horizons_in(dict.fromkeys(done.columns))[0]
    ltv_cac = f"LTV/CAC at {h} days (discounted margin ÷ CAC, ratio)"
    plots.by_group(axes[0], done, f"ltv_cac_{h}d", ltv_cac, 1.0, "break-even (1)")
    ltv = f"LTV at {h} days per acquired user (yuan, discounted margin − CAC)"
    plots.by_group(axes[1], done, f"ltv_{h}d", ltv, 0.0, "zero")
    axes[0].set_title(f"LTV/CAC at {h} days by group")
    axes[1].set_title(f"LTV at {h} days per user by group")
    fig.suptitle(
        f"Unit economics across seeds, horizon-matched: users who joined at least {h} days "
        f"before the end, over their first {h} days"
    )
    plots.save(fig, sweep_dir / "ltv_cac.png", dpi=110)

    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plots.figure(5.5 * cols, 4 * rows, rows, cols, layout="constrained")
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    for ax, g in zip(axes, groups, strict=False):
        plots.funnel(ax, daily[daily["group"] == g])
        ax.set_title(g)
    fig.suptitle("Funnel: users by stage over time (mean of seeds)")
    plots.save(fig, sweep_dir / "funnel.png", dpi=110)

    fig, (ax,) = plots.figure(10, 5.5, layout="constrained")
    plots.cumulative_profit(ax, daily)
    ax.set_title("Cumulative profit over time (median of seeds, band: middle 80 % of seeds)")
    plots.save(fig, sweep_dir / "cumulative_profit.png", dpi=110)
    return list(FIGURES)


# ---------------------------------------------------------------------------- report.md


STATUSES = ("finished", "failed", "damaged", "incomplete", "not started")


def runs_line(table: pd.DataFrame) -> str:
    """`Runs: 12 planned — 3 finished, 0 failed, …` (stale runs counted apart)."""
    planned = table[table["status"] != "stale"]
    counts = [f"{(planned['status'] == s).sum()} {s}" for s in STATUSES]
    line = f"Runs: {len(planned)} planned — {', '.join(counts)}."
    if stale := (table["status"] == "stale").sum():
        line += f" {stale} stale (another command's, not aggregated)."
    return line


def write_report(
    sweep_dir: Path,
    table: pd.DataFrame,
    keys: list[str],
    figures: list[str],
    lacking: list[str] = (),
):
    done = table[table["status"] == "finished"]
    bad = table[~table["status"].isin(["finished", "stale"])]
    stale = table[table["status"] == "stale"]
    groups = list(dict.fromkeys(done["group"]))
    lines = [f"# Sweep report: `{sweep_dir.name}`", ""]
    lines.append(f"Sweep directory: `{sweep_dir.resolve()}`  ")
    if (task := sweep_command(sweep_dir)) is not None:
        lines.append(f"Command: `{' '.join(['privsim', '-m', *map(quote, task)])}`  ")
    lines.append(runs_line(table) + "  ")
    if lacking:
        lines += ["", "**This report is partial.** It lacks:", ""]
        lines += [f"- {x}" for x in lacking]
    lines.append(
        "Groups: "
        + (" × ".join(f"`{k}`" for k in keys) if keys else "none vary")
        + "; seeds within a group are replicates. Two summaries across seeds: in the table, "
        "± is the **95 % CI of the mean** (t-interval: how precisely the seeds pin the average "
        "down); in the figures, lines are medians and bands the **middle 80 % of seeds** "
        "(10th–90th percentile: the spread of outcomes a brand could see)."
    )
    if len(bad):
        lines += [
            "",
            "## Runs that did not finish",
            "",
            "| job | status | overrides | error |",
            "|---|---|---|---|",
        ]
        for _, r in bad.iterrows():
            err = "" if pd.isna(r["error"]) else str(r["error"]).replace("|", "\\|")
            lines.append(f"| {r['job']} | {r['status']} | `{r['overrides']}` | {err} |")
        lines += [
            "",
            f"Tracebacks are in `<job>/{jobs.ERROR_FILE}`. Re-running the same command "
            "into the same directory skips the finished runs and redoes the rest (failed, "
            "damaged, incomplete, not started):",
        ]
        if (cmd := resume_command(sweep_dir)) is not None:
            lines += ["", "```bash", cmd, "```"]
    if len(stale):
        lines += [
            "",
            "## Stale runs (not aggregated)",
            "",
            "These job directories hold runs of another command than this sweep's; they are "
            "left in place and kept out of every table and figure. Use one sweep directory "
            "per command.",
            "",
            "| job | overrides |",
            "|---|---|",
        ]
        lines += [f"| {r['job']} | `{r['overrides']}` |" for _, r in stale.iterrows()]
    if len(done):
        columns = result_columns(done)
        lines += [
            "",
            "## Results by group",
            "",
            f"Each cell: {CI_NOTE}. {DEFINITIONS}",
            "",
            "| group | runs | " + " | ".join(h for _, h, _ in columns) + " |",
            "|---" * (len(columns) + 2) + "|",
        ]
        for g in groups:
            sub = done[done["group"] == g]
            cells = [_cell(sub[c].astype(float).to_numpy(), f) for c, _, f in columns]
            lines.append(f"| {g} | {len(sub)} | " + " | ".join(cells) + " |")
    if figures:
        lines += ["", "## Figures"]
        for f in figures:
            lines += ["", f"### {FIGURES[f]}", "", f"![{FIGURES[f]}]({f})", "", CAPTIONS[f]]
    lines += [
        "",
        "## Files",
        "",
        "- `summary.parquet`: one row per run — `job`, `status`, `error`, `group`, every "
        "override, every scalar of `summary.json` (nested keys dotted, e.g. "
        "`rfm.important_value`).",
        "- `<job>/`: the run's own outputs (`" + "`, `".join(jobs.OUTPUTS) + "`, `.hydra/`) "
        "and its figures (`funnel.png`, `conversion.png`).",
    ]
    jobs.write_text(sweep_dir / "report.md", "\n".join(lines) + "\n")


REPORT, SUMMARY_TABLE = "report.md", "summary.parquet"


def report(sweep_dir) -> list[str]:
    """Aggregate `sweep_dir`; returns one line per job that did not finish (see `unfinished`).

    If the report cannot be written, the previous `summary.parquet` is removed and
    `report.md` replaced by a note saying why, so no stale report outlives its sweep; if only
    the figures fail, the report is written and says what it lacks.
    """
    sweep_dir = Path(sweep_dir)
    try:
        table = collect(sweep_dir)
        if table.empty:
            raise FileNotFoundError(f"{sweep_dir}: no job directories (with .hydra/overrides.yaml)")
        keys = group_keys(table)
        table = add_groups(table, keys)
        jobs.atomic_write(sweep_dir / SUMMARY_TABLE, lambda t: table.to_parquet(t, index=False))
        lacking = []
        try:
            figures = sweep_figures(sweep_dir, table)
        except Exception as e:
            figures = []
            lacking.append(f"the figures: drawing them failed ({type(e).__name__}: {e})")
            for f in FIGURES:
                (sweep_dir / f).unlink(missing_ok=True)
        write_report(sweep_dir, table, keys, figures, lacking)
    except BaseException as e:
        _mark_failed(sweep_dir, e)
        raise
    done = (table["status"] == "finished").sum()
    planned = (table["status"] != "stale").sum()
    print(f"report: {sweep_dir / REPORT} ({done} of {planned} planned runs finished)")
    return unfinished(sweep_dir)


def _mark_failed(sweep_dir: Path, e: BaseException) -> None:
    """Leave no stale report: remove `summary.parquet`, replace `report.md` by the reason."""
    if not sweep_dir.is_dir():
        return
    try:
        (sweep_dir / SUMMARY_TABLE).unlink(missing_ok=True)
        if (sweep_dir / REPORT).exists() or any(jobs.job_dirs(sweep_dir)):
            jobs.write_text(
                sweep_dir / REPORT,
                f"# Sweep report: `{sweep_dir.name}` — NOT WRITTEN\n\n"
                f"The report could not be written ({type(e).__name__}: {e}); the previous "
                f"report and `{SUMMARY_TABLE}` were removed. Fix the cause and run "
                f"`privsim-report {sweep_dir}`.\n",
            )
    except OSError:
        pass


class Figures(Callback):
    """Registered in configs/config.yaml (`hydra.callbacks.figures`); see the module docstring."""

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        job = Path(config.hydra.runtime.output_dir)
        if jobs.status(job) != "finished":
            return
        pngs = [job / "funnel.png", job / "conversion.png"]
        newest_data = max((job / f).stat().st_mtime_ns for f in jobs.OUTPUTS)
        if all(p.exists() and p.stat().st_mtime_ns >= newest_data for p in pngs):
            return  # a resumed sweep skipped this run: its figures are current
        s = json.loads((job / jobs.SUMMARY).read_text())
        run_figures(job, f" — {s['strategy']}, {s['pool']} pool, seed {s['seed']}")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            report(sweep_dir)
        except Exception as e:  # Hydra would turn a callback's exception into a mere warning
            traceback.print_exc()
            sys.exit(f"privsim: the sweep report for {sweep_dir} failed: {type(e).__name__}: {e}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="privsim-report",
        description="Aggregate a Hydra multirun into summary.parquet, figures and report.md in "
        "the sweep directory; exit 1 naming the runs that did not finish.",
    )
    p.add_argument("sweep_dir", type=Path, help="a Hydra multirun directory")
    args = p.parse_args(argv)
    try:
        failed = report(args.sweep_dir)
    except FileNotFoundError as e:
        print(f"privsim-report: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:
        traceback.print_exc()
        print(f"privsim-report: the report failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    if failed:
        name_unfinished(args.sweep_dir, failed, planned_total(args.sweep_dir))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
