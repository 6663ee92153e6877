"""The views of runs and sweeps: the sweep report (`report`, which `privsim-report <sweep_dir>`
runs: `sim.cli.report`) and the Hydra callback that draws them as `privsim` runs.

`Figures` is registered under `hydra.callbacks` in configs/config.yaml (after
`sim.experiment.sweep.SweepProgress`), so the experiment floor never imports this one:

- `on_job_end` (single runs and every sweep job, in the worker): draws the run's `funnel.png`
  and `conversion.png` from its finished `daily.parquet` / `cohorts.parquet`;
- `on_multirun_end`: writes the sweep report (`report`). Hydra calls it before `SweepProgress`'s
  (reverse registration order), which then exits 1 naming the jobs that did not finish.

The sweep report aggregates a sweep directory (`sim.experiment.sweep.collect`) into
`summary.parquet`, four figures and `report.md`, and the same to forward: `report.html` and
`workbook.xlsx` (`sim.viz.sweep_export`, issue #25). Groups are the overrides that vary across
finished runs other than `seed`; seeds within a group are replicates. Two summaries across
seeds, named apart wherever they appear: tables give the mean ± **95 % CI of the mean**
(t-interval: how precisely the seeds pin the average down); figures give the median and the
**middle 80 % of seeds** (10th–90th percentile: the spread of outcomes, `sim.viz.plots`).

Runs with the same seed face the same brand, so groups that differ in exactly one override are
also compared seed by seed (`sim.experiment.comparison.paired`; this module only writes and
draws it): win rate across brands, mean paired difference with its
95 % t-interval, each group's 10th/50th/90th percentile, in `paired.parquet` / `paired.csv`, the
report's "Paired comparisons" section and `paired.png`. Groups that differ in more than one
override, or share no seed, are named as not paired rather than paired wrongly.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.core.metrics import horizons_in
from sim.experiment import jobs
from sim.experiment.comparison import (  # noqa: F401  (ranking, PERCENTILES: the what-if page's)
    LOWER_IS_BETTER,
    PAIRED_COLUMNS,
    PERCENTILES,
    RANK_BY,
    group_levels,
    mean_ci,
    npv_columns,
    overtake_median,
    overtakes,
    paired,
    paired_values,
    ranking,
    yardstick,
    yardsticks,
)
from sim.experiment.keys import select
from sim.experiment.sweep import (
    PLAN,
    add_groups,
    collect,
    group_keys,
    load_series,
    quote,
    read_plan,
    resume_command,
    sweep_command,
    unfinished,
)
from sim.viz import plots, sweep_export
from sim.viz.labels import label_of, level_label, result_columns, with_group_labels, words
from sim.viz.plan_outcomes import plan_lines

REPORT = "report.md"
CI_NOTE = "mean ± 95 % CI of the mean across seeds (t-interval)"
FIGURES = {
    "conversion_decay.png": "Conversion decay",
    "ltv_cac.png": "LTV/CAC and LTV per user",
    "funnel.png": "Funnel over time",
    "cumulative_profit.png": "Cumulative profit",
    "paired.png": "Paired differences (same seed = same brand)",
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
    "cumulative churned users, by day (mean of seeds). All panels share one y scale, so "
    "their heights compare.",
    "cumulative_profit.png": "Cumulative profit (margin − acquisition spend − team, KOC and "
    "systems cost) by day; line: median of seeds, band: middle 80 % of seeds (10th–90th "
    "percentile). A dashed line equals an earlier group's line on every day (its legend entry "
    "names which).",
    "paired.png": "For each pair of groups that differ in one override (A − B, A the group "
    "listed first): grey dots are single brands (seeds), each the difference between the two "
    "runs with that seed; the red point is the mean difference and its bar the 95 % CI of the "
    "mean (t-interval over the brands, not a spread of outcomes). Right of the dotted zero "
    "line, A did better.",
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


# ---------------------------------------------------------------------------- table cells


def _cell(v, fmt: str) -> str:
    m, h, _ = mean_ci(v)
    if np.isnan(m):
        return "–"
    return format(m, fmt) if np.isnan(h) else f"{format(m, fmt)} ± {format(h, fmt)}"


# ---------------------------------------------------------------------------- ranking

RANK_NOTE = (
    "*P(best)*: the share of brands (seeds) in which the group had the best value, comparing "
    "the runs of every group with the same seed (paired by seed; seeds where a group lacks a "
    "run or a value are left out, ties share the credit). It is a share of simulated brands, "
    "not a posterior probability. *10th / 50th / 90th*: the group's percentiles over all its "
    "seeds (the spread of outcomes a brand could see)."
)


def ranking_lines(done: pd.DataFrame, column: str) -> list[str]:
    label, fmt = yardstick(column)
    r = ranking(done, column)
    names = label_of(done)
    better = "lower" if column in LOWER_IS_BETTER else "higher"
    lines = [
        "",
        f"## Ranking on {label}",
        "",
        f"Groups ranked by their mean ({better} is better), over {r['brands'].iloc[0]} brands "
        f"(seeds) that every group ran. {RANK_NOTE} Rank on another yardstick with "
        f"`privsim-report <sweep_dir> --rank-by <summary column>` (e.g. `ltv_cac_90d`).",
        "",
        "| rank | group | runs | mean | 10th | 50th | 90th | P(best) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for x in r.itertuples():
        nums = [format(y, fmt) if not np.isnan(y) else "–" for y in (x.mean, x.p10, x.p50, x.p90)]
        pb = "–" if np.isnan(x.p_best) else f"{x.p_best:.0%}"
        row = f"| {x.rank} | {names[x.group]} | {x.runs} | " + " | ".join(nums)
        lines.append(f"{row} | {pb} |")
    return lines


# ---------------------------------------------------------------------------- assumptions

ASSUMPTIONS = (  # (dotted config key, short name) shown per group
    ("business.name", "business"),
    ("business.brand_awareness", "brand awareness"),
    ("pool.name", "pool"),
    ("fit.spread", "brand-fit spread"),
    ("operators.fixed", "fixed team"),
    ("market_size", "market size"),
)
ASSUMPTIONS_NOTE = (
    "From each group's first run (`config.json`). *business*: the frequency × margin quadrant. "
    "*brand awareness* (`business.brand_awareness`): the share of the missing trust a known "
    "brand's arrivals already carry; 0 = an unknown brand, whose arrivals start cold, so a pool "
    "that asks early (e.g. `conversion`) converts little. *pool*: the pool preset. "
    "*brand-fit spread* (`fit.spread`): 0 = every candidate place and product fits as planned. "
    "*fixed team* (`operators.fixed`): none = as the strategy hires. *market size*: none = "
    "unlimited. Channels with a stated budget (yuan/day) or a volume multiplier are listed."
)


def assumption_lines(sweep_dir: Path, done: pd.DataFrame) -> list[str]:
    """The scenario's key assumptions per group, from its first run's `config.json`, and the
    channels with a stated budget or volume scale."""
    lines = ["", "## Key assumptions by group", "", ASSUMPTIONS_NOTE, ""]
    names = label_of(done)
    for g in dict.fromkeys(done["group"]):
        job = done.loc[done["group"] == g, "job"].iloc[0]
        try:
            cfg = json.loads((sweep_dir / str(job) / jobs.CONFIG).read_text())
        except (OSError, ValueError):
            lines.append(f"- **{names[g]}**: its `config.json` could not be read.")
            continue
        items = []
        for k, what in ASSUMPTIONS:
            v = select(cfg, k)
            items.append(
                f"{what} {'none' if v is None else f'{v:g}' if isinstance(v, float) else v}"
            )
        for name, ch in sorted((cfg.get("channels") or {}).items()):
            if ch.get("budget_per_day") is not None:
                items.append(f"{words(name)} budget {ch['budget_per_day']:,.0f} yuan/day")
            elif ch.get("volume_scale", 1.0) != 1.0:
                items.append(f"{words(name)} volume ×{ch['volume_scale']:g} (users, not money)")
        lines.append(f"- **{names[g]}**: " + "; ".join(items) + ".")
    return lines


# ---------------------------------------------------------------------------- paired comparisons

PAIRED = "paired.parquet"
PAIRED_CSV = "paired.csv"
PAIRED_NOTE = (
    "Runs of two groups with the same seed face the same brand (common random numbers), so "
    "each pair of groups that differ in exactly one override is compared brand by brand: the "
    "runs paired share every other override and the seed. *Beat*: a higher value in that brand. "
    "*Mean A − B*: the mean paired difference with its 95 % CI (t-interval over the brands). "
    "*10th / 50th / 90th*: each group's percentiles over the same brands (the spread of outcomes; "
    "its *spread* is the 10th–90th percentile range)."
)


def _pct(row, side: str, fmt: str) -> str:
    vals = [row[f"{side}_p{p}"] for p in PERCENTILES]
    return "–" if np.isnan(vals[0]) else " / ".join(format(v, fmt) for v in vals)


def paired_lines(frame: pd.DataFrame, refused: list[tuple], groups: int) -> list[str]:
    """The report's section "Paired comparisons (same seed = same brand)"."""
    lines = ["", "## Paired comparisons (same seed = same brand)", ""]
    if groups < 2:
        return lines + ["One group only: nothing to compare."]
    if len(frame):
        lines += [PAIRED_NOTE, ""]
        for (a, b, key), rows in frame.groupby(["a_label", "b_label", "differs_in"], sort=False):
            said = " ".join(f"{r}" for r in rows["sentence"])
            lines.append(f"- **{a} vs {b}** (differ in `{key}`): {said}")
        lines += [
            "",
            "| A | B | yardstick | brands | A beat B | B beat A | ties | mean A − B (95 % CI) "
            "| A: 10th / 50th / 90th | B: 10th / 50th / 90th |",
            "|---" * 10 + "|",
        ]
        for _, r in frame.iterrows():
            label, f = yardstick(r["yardstick"])
            if r["brands"] == 0:
                diff = "–"
            elif np.isnan(r["ci_low"]):
                diff = f"{format(r['mean_diff'], f)} (one brand: no CI)"
            else:
                diff = (
                    f"{format(r['mean_diff'], f)} "
                    f"({format(r['ci_low'], f)} to {format(r['ci_high'], f)})"
                )
            lines.append(
                f"| {r['a_label']} | {r['b_label']} | {label} | {r['brands']} | {r['a_wins']} | "
                f"{r['b_wins']} | {r['ties']} | {diff} | {_pct(r, 'a', f)} | {_pct(r, 'b', f)} |"
            )
    many = [(a, b, why) for a, b, why in refused if why.startswith("they differ in")]
    if many:
        a, b, why = many[0]
        n = len(many)
        lines += [
            "",
            f"Not paired: {n} pair{'s' if n > 1 else ''} of groups that differ in more than one "
            f"override (e.g. {a} vs {b}: {why.removeprefix('they differ in ')}); their runs "
            "with the same seed differ in more than one thing, so a difference could not be "
            "put down to one of them.",
        ]
    for a, b, why in refused:
        if not why.startswith("they differ in"):
            lines += ["", f"Not paired: {a} vs {b}: {why}."]
    return lines


def write_paired(out: Path, frame: pd.DataFrame) -> None:
    """`paired.parquet` and `paired.csv` in `out` (the report's staging folder, or the sweep's),
    each written atomically."""
    jobs.atomic_write(out / PAIRED, lambda t: frame.to_parquet(t, index=False))
    jobs.atomic_write(out / PAIRED_CSV, lambda t: frame.to_csv(t, index=False))


# ---------------------------------------------------------------------------- multi-year

OVERTAKES = "overtakes.parquet"
OVERTAKES_CSV = "overtakes.csv"
NPV_NOTE = (
    "*NPV at H days*: the brand's daily profit (margin − acquisition spend − team, KOC and "
    "systems cost) of days 0 … H − 1, each day t discounted to day 0 by (1 + r)^(−t/365), r = "
    "`economics.discount_rate_annual`; the horizons are `economics.npv_horizons_days`. – where "
    "the runs are shorter than H days: NPV is never extrapolated."
)
OVERTAKE_NOTE = (
    "*A overtakes B on day d* in a brand (seed): from day d to the horizon (the last day both "
    "runs have) A's cumulative profit (undiscounted, as in the cumulative-profit figure) is "
    "strictly above B's on every day; day 0: ahead throughout; *never*: not ahead on the last "
    "day (a lead lost again before the horizon does not count). *Median*: across the brands, a "
    "brand where it never happened counted as later than any day, so the median is a day only "
    "where it happened in more than half of them."
)
PER_BRAND_MAX = 10  # brands listed one by one in the overtaking table; more: overtakes.csv


def _day(d: float) -> str:
    return "never" if np.isnan(d) else f"{d:,.0f}"


def overtake_lines(over: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """The overtaking table: per pair of groups (named by `names`), in how many brands each
    overtook the other for good, the median day across brands, and each brand's day
    (`overtakes`)."""
    if over.empty:
        return ["No groups were paired by seed: no overtaking to compare."]
    lines = [
        "| A | B | horizon (days) | brands | A overtook B in | median day A overtook B "
        "| B overtook A in | median day B overtook A | per brand (seed: who, from day) |",
        "|---" * 9 + "|",
    ]
    for (a, b), r in over.groupby(["a", "b"], sort=False):
        n = len(r)
        each = ", ".join(f"{x.seed}: {_leader(x)}" for x in r.itertuples())
        if n > PER_BRAND_MAX:
            each = f"{n} brands: see `{OVERTAKES_CSV}`"
        cells = [" / ".join(f"{d:,}" for d in sorted(set(r["days"]))), str(n)]
        for side in ("a", "b"):
            d = r[f"{side}_overtakes_day"]
            cells += [str(d.notna().sum()), _day(overtake_median(d))]
        lines.append(f"| {names[a]} | {names[b]} | " + " | ".join(cells) + f" | {each} |")
    return lines


def _leader(x) -> str:
    """One brand's overtaking in words: `A from 412`, `B from 0`, `tied at the horizon`."""
    if not np.isnan(x.a_overtakes_day):
        return f"A from {_day(x.a_overtakes_day)}"
    if not np.isnan(x.b_overtakes_day):
        return f"B from {_day(x.b_overtakes_day)}"
    return "tied at the horizon"


def multi_year_lines(done: pd.DataFrame, pairs: pd.DataFrame, over: pd.DataFrame) -> list[str]:
    """The report's first results section: NPV at each horizon by group (mean ± 95 % CI), its
    paired differences, and the overtaking days (issue #23)."""
    npv = [f"npv_{h}d" for h in horizons_in(dict.fromkeys(done.columns), "npv")]
    lines = ["", "## Multi-year yardsticks: NPV and overtaking", "", f"{NPV_NOTE} {OVERTAKE_NOTE}"]
    names = label_of(done)
    if npv:
        lines += [
            "",
            f"### NPV by group ({CI_NOTE})",
            "",
            "| group | runs | " + " | ".join(yardstick(c)[0] for c in npv) + " |",
            "|---" * (len(npv) + 2) + "|",
        ]
        for g in dict.fromkeys(done["group"]):
            sub = done[done["group"] == g]
            cells = [_cell(sub[c].astype(float).to_numpy(), ",.0f") for c in npv]
            lines.append(f"| {names[g]} | {len(sub)} | " + " | ".join(cells) + " |")
    reached = npv_columns(done) if npv else []
    rows = pairs[pairs["yardstick"].isin(reached)]
    if len(rows):
        lines += [
            "",
            "### NPV, paired by brand (same seed = same brand)",
            "",
            f"{PAIRED_NOTE} Each cell: mean A − B (95 % CI); in how many brands A beat B. "
            f"Percentiles and sentences: `{PAIRED_CSV}`.",
            "",
            "| A | B | " + " | ".join(f"A − B, {yardstick(c)[0]}" for c in reached) + " |",
            "|---" * (len(reached) + 2) + "|",
        ]
        for (a, b), r in rows.groupby(["a_label", "b_label"], sort=False):
            cells = [_paired_cell(r[r["yardstick"] == c]) for c in reached]
            lines.append(f"| {a} | {b} | " + " | ".join(cells) + " |")
    lines += ["", "### The day one strategy's cumulative profit overtakes another's", ""]
    return lines + overtake_lines(over, names)


def _paired_cell(r: pd.DataFrame) -> str:
    """`2,906,644 (2,371,923 to 3,441,366); 3 of 3` from one `paired` row (– if none)."""
    if r.empty or r["brands"].iloc[0] == 0:
        return "–"
    x = r.iloc[0]
    lo, hi = x["ci_low"], x["ci_high"]
    ci = "one brand: no CI" if np.isnan(lo) else f"{lo:,.0f} to {hi:,.0f}"
    return f"{x['mean_diff']:,.0f} ({ci}); {x['a_wins']} of {x['brands']}"


def write_overtakes(out: Path, over: pd.DataFrame) -> None:
    """`overtakes.parquet` and `overtakes.csv` in `out`, each written atomically."""
    jobs.atomic_write(out / OVERTAKES, lambda t: over.to_parquet(t, index=False))
    jobs.atomic_write(out / OVERTAKES_CSV, lambda t: over.to_csv(t, index=False))


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


def _pair_label(pairs: pd.DataFrame) -> pd.Series:
    """`staged − premature`, `paid ads 1,000 yuan/day − paid ads 2,000 yuan/day`, or
    `nurturing pool − conversion pool` over `(strategy=staged)`: each level in words
    (`level_label`), so a bare value never stands without its key."""
    label = pd.Series(
        [
            f"{level_label(r.differs_in, r.a_level)} − {level_label(r.differs_in, r.b_level)}"
            for r in pairs.itertuples()
        ],
        index=pairs.index,
        dtype="string",
    )
    many = pairs["context"] != ""
    return label.where(~many, label + "\n(" + pairs["context"] + ")")


def paired_figure(out: Path, table: pd.DataFrame, pairs: pd.DataFrame) -> bool:
    """`paired.png` in `out`: the paired differences of every pair (`paired`), one panel per
    yardstick (up to three a row) sharing the pairs' axis, so a pair is read across a row, and
    one legend (in a spare panel, else below the panels); False (and no figure) when no groups
    were paired."""
    if pairs.empty:
        return False
    done = table[table["status"] == "finished"]
    sticks = yardsticks(done)
    labels = _pair_label(pairs.drop_duplicates(["a", "b"]))
    rows = -(-len(sticks) // 3)  # up to three a row: NPV at three horizons, profit, LTV/CAC
    cols = -(-len(sticks) // rows)  # four: two rows of two, no spare panel
    text_lines = int(labels.str.count("\n").sum()) + len(labels)
    fig, axes = plots.figure(
        1.0 + 0.065 * labels.str.split("\n").explode().str.len().max() + 4.0 * cols,
        0.6 + rows * (1.4 + 0.25 * text_lines),
        rows,
        cols,
        sharey=True,
        layout="constrained",
    )
    for i, (ax, col) in enumerate(zip(axes, sticks, strict=False)):
        name, unit = yardstick(col)[0].removesuffix(")").split(" (")
        stats = pairs[pairs["yardstick"] == col].assign(pair=_pair_label)
        diffs = [paired_values(done, r.a, r.b, col).assign(pair=r.pair) for r in stats.itertuples()]
        plots.paired_differences(
            ax, pd.concat(diffs, ignore_index=True), stats, f"{name}, A − B ({unit})", legend=False
        )
        ax.set_title("Profit over the whole run" if col == "profit" else name, fontsize=10)
        if i % cols:
            ax.set_ylabel("")
        if unit == "yuan":
            plots.thousands(ax.xaxis)
    handles = {}  # one legend for all panels: each label once, from the panel that drew it
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    spare = axes[len(sticks) :]
    for ax in spare:
        ax.axis("off")
    kw = dict(fontsize=8, framealpha=0.8)
    if spare:
        spare[0].legend(handles.values(), handles.keys(), loc="center", **kw)
    else:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=3, **kw)
    fig.suptitle("Paired comparisons: runs with the same seed face the same brand")
    plots.save(fig, out / "paired.png", dpi=110)
    return True


def sweep_figures(
    sweep_dir: Path, table: pd.DataFrame, keys: list[str] = (), out: Path | None = None
) -> list[str]:
    """The four sweep figures (`FIGURES` but `paired.png`) from the finished runs of
    `sweep_dir`, groups named in words (`with_group_labels`), drawn into `out` (default the sweep
    folder); returns their file names."""
    out = sweep_dir if out is None else out
    done = table[table["status"] == "finished"]
    if done.empty:
        return []
    names = label_of(with_group_labels(table, keys))
    daily = load_series(table, sweep_dir, "daily")
    cohorts = load_series(table, sweep_dir, "cohorts")
    done, daily, cohorts = (
        f.assign(group=f["group"].map(names).astype("string")) for f in (done, daily, cohorts)
    )
    groups = list(dict.fromkeys(done["group"]))

    fig, axes = plots.figure(14, 5.5, ncols=2, sharey=True, layout="constrained")
    for ax, x in zip(axes, ("pool_size", "users_per_operator"), strict=True):
        plots.conversion_decay(ax, cohorts, x)
        ax.set_title(f"vs {x.replace('_', ' ')}")
    fig.suptitle("Conversion decay: 30-day conversion of weekly joining cohorts as the pool grows")
    plots.save(fig, out / "conversion_decay.png", dpi=110)

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
    plots.save(fig, out / "ltv_cac.png", dpi=110)

    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plots.figure(5.5 * cols, 4 * rows, rows, cols, sharey=True, layout="constrained")
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    for ax, g in zip(axes, groups, strict=False):
        plots.funnel(ax, daily[daily["group"] == g])
        ax.set_title(g)
    fig.suptitle("Funnel: users by stage over time (mean of seeds; one y scale for all panels)")
    plots.save(fig, out / "funnel.png", dpi=110)

    fig, (ax,) = plots.figure(10, 5.5, layout="constrained")
    plots.cumulative_profit(ax, daily)
    ax.set_title("Cumulative profit over time (median of seeds, band: middle 80 % of seeds)")
    plots.save(fig, out / "cumulative_profit.png", dpi=110)
    return [f for f in FIGURES if f != "paired.png"]


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
    pairs: tuple[pd.DataFrame, list[tuple]] | None = None,
    lacking: list[str] = (),
    rank_by: str = RANK_BY,
    out: Path | None = None,
    over: pd.DataFrame | None = None,
):
    """`report.md` of `sweep_dir`, written into `out` (default the sweep folder); `pairs` is
    `paired(table, keys)` and `over` is `overtakes` of the finished runs (each computed here if
    not given); `lacking` names what a partial report lacks. The multi-year yardsticks lead
    the results (issue #23), then the horizon-matched LTV/CAC table. Groups are named in
    words (`with_group_labels`)."""
    table = with_group_labels(table, keys)
    done = table[table["status"] == "finished"]
    bad = table[~table["status"].isin(["finished", "stale"])]
    stale = table[table["status"] == "stale"]
    groups, names = list(dict.fromkeys(done["group"])), label_of(done)
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
        frame, refused = pairs or paired(table, keys)
        if over is None:
            over = overtakes(done, load_series(table, sweep_dir, "daily"), keys)
        lines += multi_year_lines(done, frame, over)
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
            lines.append(f"| {names[g]} | {len(sub)} | " + " | ".join(cells) + " |")
        if len(groups) > 1:
            lines += ranking_lines(done, rank_by)
        lines += assumption_lines(sweep_dir, done)
        lines += plan_lines(sweep_dir, done)
        rest = frame[~frame["yardstick"].isin(npv_columns(done))]  # NPV's: above
        lines += paired_lines(rest, refused, len(groups))
    if figures:
        lines += ["", "## Figures"]
        for f in figures:
            lines += ["", f"### {FIGURES[f]}", "", f"![{FIGURES[f]}]({f})", "", CAPTIONS[f]]
    lines += [
        "",
        "## Files",
        "",
        "- `summary.parquet`: one row per run — `job`, `status`, `error`, `group`, "
        "`group_label` (the group in words, naming what it sets), every "
        "override, every scalar of `summary.json` (nested keys dotted, e.g. "
        "`rfm.important_value`); `summary.csv`: the same table as CSV.",
        f"- `{OVERTAKES}` (and `{OVERTAKES_CSV}`): one row per pair of groups compared by seed "
        "and brand — `a`, `b`, `differs_in`, `context`, `seed`, `days` (the horizon: days both "
        "runs have), `a_overtakes_day`, `b_overtakes_day` (the first day from which that group's "
        "cumulative profit stays above the other's to the horizon; empty: never).",
        f"- `{PAIRED}` (and `{PAIRED_CSV}`): one row per pair of groups compared by seed and "
        "yardstick — `a`, `b`, `a_label`, `b_label` (the groups in words), `differs_in`, "
        "`a_level`, `b_level`, `context` (the overrides "
        "they share), `yardstick`, `brands`, "
        "`seeds`, `a_wins`, `b_wins`, `ties`, `mean_diff` (A − B), `ci_low`, `ci_high` (95 % "
        "t-interval), `a_p10` … `b_p90` (percentiles over the paired brands), `spread_ratio` "
        "(B's 10th–90th percentile range over A's; empty when A's is zero), `sentence`.",
        f"- `{sweep_export.HTML}`: this report as one self-contained page to forward or print; "
        f"`{sweep_export.WORKBOOK}`: its tables in Excel (runs, groups, paired, daily and "
        "cohorts by group; the About sheet defines every column).",
        "- `<job>/`: the run's own outputs (`" + "`, `".join(jobs.OUTPUTS) + "`, `.hydra/`) "
        "and its figures (`funnel.png`, `conversion.png`).",
    ]
    jobs.write_text((sweep_dir if out is None else out) / REPORT, "\n".join(lines) + "\n")


SUMMARY_TABLE = "summary.parquet"
SUMMARY_CSV = "summary.csv"  # the same table for R and spreadsheets
FAILED_MARK = "report.failed.md"  # says the last report failed; the previous one is kept
OUTPUTS = (
    REPORT, SUMMARY_TABLE, SUMMARY_CSV, PAIRED, PAIRED_CSV, OVERTAKES, OVERTAKES_CSV, *FIGURES,
    sweep_export.HTML, sweep_export.WORKBOOK,
)  # fmt: skip


class BadInput(ValueError):
    """What `privsim-report` refuses before touching anything (exit 2): a folder that is not a
    sweep, a `--rank-by` that is not a numeric summary column."""


def read_sweep(sweep_dir: Path, rank_by: str = RANK_BY) -> tuple[pd.DataFrame, list[str]]:
    """The sweep's table with its groups, and the group keys, read without writing anything;
    `BadInput` for a folder that holds no sweep (or a single run) and for a `rank_by` that is
    not a numeric summary column (naming the close one)."""
    if not sweep_dir.is_dir():
        raise BadInput(f"{sweep_dir}: no such folder")
    if (sweep_dir / jobs.OVERRIDES).exists():
        raise BadInput(
            f"{sweep_dir} is a single run, not a sweep; privsim-report aggregates the folder of "
            "a `privsim -m` sweep (its jobs are <sweep>/0, <sweep>/1, …)"
        )
    table = collect(sweep_dir)
    if table.empty:
        raise BadInput(f"{sweep_dir}: no job directories (with .hydra/overrides.yaml)")
    keys = group_keys(table)
    table = with_group_labels(add_groups(table, keys), keys)
    done = table[table["status"] == "finished"]
    if len(done):
        check_rank_by(done, rank_by)
    return table, keys


def check_rank_by(done: pd.DataFrame, rank_by: str) -> None:
    """`rank_by` must be a numeric summary column of the finished runs (`BadInput` naming the
    closest known one)."""
    import difflib

    meta = {"job", "status", "error", "overrides", "group", *done.attrs.get("override_keys", [])}
    known = [
        c
        for c in done.columns
        if c not in meta
        and pd.api.types.is_numeric_dtype(done[c])
        and not pd.api.types.is_bool_dtype(done[c])
    ]
    if rank_by in known:
        return
    close = difflib.get_close_matches(rank_by, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    raise BadInput(
        f"--rank-by {rank_by}: not a numeric column of the summary table; {hint}"
        f"known: {', '.join(sorted(known))}"
    )


def plan_note(sweep_dir: Path) -> str | None:
    """Why the sweep's `plan.json` is not used, if it is there but unreadable (then jobs that
    never started cannot be counted); None when it is fine or absent."""
    path = sweep_dir / PLAN
    if path.exists() and read_plan(sweep_dir) is None:
        return (
            f"{path} is not a plan privsim wrote (unreadable JSON or no job list); ignored: "
            "the report counts the job folders, so jobs that never started are not listed"
        )
    return None


def report(sweep_dir, rank_by: str = RANK_BY) -> list[str]:
    """Aggregate `sweep_dir`; returns one line per job that did not finish (see `unfinished`).

    Bad input (`read_sweep`) raises `BadInput` before anything is written. The new report is
    drawn into a staging folder inside the sweep and moved into place only once every file of
    it is written, so a report that fails leaves the previous one whole; the failure is then
    written to `report.failed.md` (removed by the next report that succeeds). If only the
    figures fail, the report is written and says what it lacks.
    """
    sweep_dir = Path(sweep_dir)
    table, keys = read_sweep(sweep_dir, rank_by)
    if note := plan_note(sweep_dir):
        print(f"report: warning: {note}", file=sys.stderr)
    try:
        with staging(sweep_dir) as stage:
            jobs.atomic_write(stage / SUMMARY_TABLE, lambda t: table.to_parquet(t, index=False))
            jobs.atomic_write(stage / SUMMARY_CSV, lambda t: table.to_csv(t, index=False))
            pairs = paired(table, keys)
            write_paired(stage, pairs[0])
            done = table[table["status"] == "finished"]
            daily = load_series(table, sweep_dir, "daily")
            over = overtakes(done, daily, keys)
            write_overtakes(stage, over)
            lacking = [note] if note else []
            try:
                figures = sweep_figures(sweep_dir, table, keys, stage)
                figures += ["paired.png"] if paired_figure(stage, table, pairs[0]) else []
            except Exception as e:
                figures = []
                lacking.append(f"the figures: drawing them failed ({type(e).__name__}: {e})")
                for f in FIGURES:
                    (stage / f).unlink(missing_ok=True)
            write_report(sweep_dir, table, keys, figures, pairs, lacking, rank_by, stage, over)
            cohorts = load_series(table, sweep_dir, "cohorts")
            sweep_export.write(stage, sweep_dir, table, keys, pairs[0], daily, cohorts)
            publish(stage, sweep_dir)
    except BaseException as e:
        _mark_failed(sweep_dir, e)
        raise
    (sweep_dir / FAILED_MARK).unlink(missing_ok=True)
    done = (table["status"] == "finished").sum()
    planned = (table["status"] != "stale").sum()
    print(f"report: {sweep_dir / REPORT} ({done} of {planned} planned runs finished)")
    return unfinished(sweep_dir)


@contextmanager
def staging(sweep_dir: Path):
    """A fresh hidden folder inside the sweep (same filesystem: a rename moves a file out of it
    atomically), removed afterwards whatever happened."""
    stage = Path(tempfile.mkdtemp(prefix=".report-", suffix=".partial", dir=sweep_dir))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(stage: Path, sweep_dir: Path) -> None:
    """Move every file of a complete new report from `stage` into the sweep, report.md last,
    then remove the outputs of an earlier report this one does not have (a figure no longer
    drawn, `paired.png` with no pairs)."""
    new = [f for f in OUTPUTS if (stage / f).exists()]
    for f in sorted(new, key=lambda f: f == REPORT):
        os.replace(stage / f, sweep_dir / f)
    _fsync_dir(sweep_dir)
    for f in set(OUTPUTS) - set(new):
        (sweep_dir / f).unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make the renames durable (some filesystems cannot fsync a folder: then skip)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _mark_failed(sweep_dir: Path, e: BaseException) -> None:
    """Say the report failed in `report.failed.md`, leaving the previous report as it was."""
    if not sweep_dir.is_dir():
        return
    try:
        jobs.write_text(
            sweep_dir / FAILED_MARK,
            f"# Sweep report: `{sweep_dir.name}` — the last report FAILED\n\n"
            f"`privsim-report` could not write the report ({type(e).__name__}: {e}). "
            f"`{REPORT}`, `{SUMMARY_TABLE}` and the figures beside this file, if any, are "
            "those of the previous report, which may not count runs that finished since. Fix "
            f"the cause and run `privsim-report {sweep_dir}`; this file is removed when a "
            "report succeeds.\n",
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
