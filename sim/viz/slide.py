"""`privsim-figure <experiment>` or `privsim-figure --scenario <overrides>`: one
publication-quality figure for slides.

    privsim-figure premature_scaling                    # 10 seeds -> results/figures/
    privsim-figure premature_scaling --seeds 20 --out slides/
    privsim-figure --scenario strategy=staged,premature operators.count=3

Runs the experiment's arms — the strategies its sweep compares (for premature_scaling: staged
and premature; for a scenario, the strategies of its `strategy=a,b` override) — for seeds
0..N-1 through the batch engine (`sim.experiment.batch.run_batch`, the one engine of studies:
not a second runner), in memory, the same runs as

    privsim -m experiment=<name> strategy=<a>,<b> 'seed=range(0,N)' [horizon_days=<days>]

Each finished run is cached under `<out>/runs/<name>/` (by config hash), so re-running resumes;
a failed run stops the slide naming it (`RuntimeError`); input it cannot use (an experiment that
compares no strategies, a seed among the overrides) stops it with `SystemExit` and one line.
It then draws (`sim.viz.plots`) two panels:

- conversion decay: 30-day conversion of each weekly joining cohort against the users per
  operator it met (quantile bins of each arm's cohorts across seeds);
- cumulative profit, by day, each arm's later phase starts marked (median day across seeds);

each arm as the median of its seeds with the band of the middle 80 % of seeds (10th–90th
percentile; the title and each legend say so). Writes `<out>/<name>.png` (200 dpi) and `.svg`,
atomically. The live page's "Make a slide of this" draws the same slide from the pair on
screen (`write_live`: one seed, no band).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.experiment import provenance
from sim.experiment.batch import Evaluation, run_batch
from sim.experiment.config import CONFIG_DIR, build, compose
from sim.viz import plots

DEFAULT_OUT = Path("results") / "figures"


def experiment_arms(experiment: str) -> list[str]:
    """The strategies an experiment's sweep compares (`hydra.sweeper.params.strategy`)."""
    path = Path(CONFIG_DIR) / "experiment" / f"{experiment}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise SystemExit(f"privsim-figure: unknown experiment {experiment!r}; known: {known}")
    cfg = OmegaConf.load(path)
    swept = OmegaConf.select(cfg, "hydra.sweeper.params.strategy")
    if not swept:
        raise SystemExit(
            f"privsim-figure: experiment {experiment!r} does not compare "
            "strategies (no hydra.sweeper.params.strategy)"
        )
    others = sorted(set(cfg.hydra.sweeper.params) - {"strategy", "seed"})
    if others:
        raise SystemExit(
            f"privsim-figure: experiment {experiment!r} also sweeps {', '.join(others)}; "
            f"draw one value with --scenario experiment={experiment} {others[0]}=<value> "
            f"strategy=<a>,<b>"
        )
    return [s.strip() for s in str(swept).split(",") if s.strip()]


def scenario_arms(overrides: list[str]) -> tuple[list[str], list[str]]:
    """A scenario's arms (the strategies of its `strategy=a,b` override; staged and premature
    without one) and its other overrides, which every arm shares."""
    arms, rest = None, []
    for o in overrides:
        key, sep, value = o.partition("=")
        if not sep:
            raise SystemExit(f"privsim-figure: scenario override {o!r} is not key=value")
        if key.lstrip("+") == "seed":
            raise SystemExit("privsim-figure: the seeds are --seeds, not a scenario override")
        if key == "strategy":
            arms = [s.strip() for s in value.split(",") if s.strip()]
        else:
            rest.append(o)
    return arms or ["staged", "premature"], rest


def scenario_name(overrides: list[str]) -> str:
    """A file name for a scenario: its overrides, filesystem-safe."""
    text = "_".join(overrides) or "default"
    return "scenario-" + re.sub(r"[^A-Za-z0-9.=,+-]+", "_", text).replace("=", "-")[:120]


def arm_configs(
    experiment: str | None, days: int | None = None, scenario: list[str] | None = None
) -> dict[str, dict]:
    """One composed config per arm (its strategy), everything else shared: an experiment's
    arms, or a scenario's (`scenario_arms`), with the horizon `days` if given. Each is checked
    by the one config build before any run (`ConfigError` naming the key: `--days -1` is
    refused, not run to fail in every run)."""
    if scenario is not None:
        arms, rest = scenario_arms(scenario)
    else:
        arms, rest = experiment_arms(experiment), [f"experiment={experiment}"]
    tail = [] if days is None else [f"horizon_days={days}"]
    configs = {arm: compose([*rest, f"strategy={arm}", *tail]) for arm in arms}
    for cfg in configs.values():
        build(cfg)
    return configs


def run_arms(
    experiment: str | None,
    seeds: int,
    out: Path | str = DEFAULT_OUT,
    days=None,
    jobs: int = 1,
    scenario: list[str] | None = None,
):
    """Run every arm for seeds 0..seeds-1 through the batch engine (in memory, `jobs` local
    processes), each run cached under `<out>/runs/<name>/` so that re-running resumes; returns
    the summary table (one row per run: `job`, `group` = the arm, the flat summary) and the
    runs' `daily` and `cohorts`, tagged with `job` and `group`. Jobs are numbered arm by arm,
    seed by seed, as the sweep `privsim -m strategy=<a>,<b> 'seed=range(0,N)'` numbers them."""
    name = scenario_name(scenario) if scenario is not None else experiment
    bases = arm_configs(experiment, days, scenario)
    evs = [Evaluation({}, seed=s, base=arm) for arm in bases for s in range(seeds)]
    results = run_batch(
        bases, evs, n_jobs=jobs, frames=("daily", "cohorts"), cache_dir=Path(out) / "runs" / name
    )
    if failed := [r for r in results if not r.ok]:
        raise RuntimeError(
            f"{len(failed)} of {len(results)} runs of {name} failed "
            f"(first: {failed[0].evaluation.base}, seed {failed[0].evaluation.seed}: "
            f"{failed[0].error})"
        )
    rows, daily, cohorts = [], [], []
    for job, r in enumerate(results):
        tag = dict(job=str(job), group=r.summary["strategy"])  # the name the run reports
        rows.append({**tag, **r.summary})
        daily.append(r.frames["daily"].assign(**tag))
        cohorts.append(r.frames["cohorts"].assign(**tag))
    table = pd.DataFrame(rows).astype({"job": "string", "group": "string"})
    return table, pd.concat(daily, ignore_index=True), pd.concat(cohorts, ignore_index=True)


def phase_marks(table: pd.DataFrame) -> list[plots.Mark]:
    """Where each group's later phases start: the median day across its seeds."""
    out = []
    for g, sub in table.groupby("group", sort=False):
        for key in [k for k in sub.columns if k.startswith("phase_starts.")]:
            day = float(np.nanmedian(sub[key].astype(float))) if sub[key].notna().any() else 0
            if day > 0:
                out.append(plots.Mark(day, f"{g}: {key.removeprefix('phase_starts.')}", g))
    return out


def draw(
    name: str,
    groups: list[str],
    daily: pd.DataFrame,
    cohorts: pd.DataFrame,
    marks: list[plots.Mark],
    n_seeds: int,
    source: str,
    brand: list[str] | None = None,
):
    """The slide: conversion decay (30-day conversion of each weekly joining cohort against
    the users per operator it met) and cumulative profit over time with the phase starts.
    `source` is the footnote saying where the numbers come from; `brand` (optional) lines
    saying what each arm ran on a brand with candidates (`brand_lines`, `live_brand_lines`)."""
    fig, (ax1, ax2) = plots.figure(12, 4.8, ncols=2, dpi=100, layout="constrained")
    plots.conversion_decay(ax1, cohorts, "users_per_operator")
    ax1.set_title("Conversion decay: 30-day conversion against users per operator")
    plots.cumulative_profit(ax2, daily)
    ax2.set_title("Cumulative profit: margin − acquisition − team cost")
    plots.marks(ax2, marks, plots.colours(groups))
    for ax in (ax1, ax2):
        ax.title.set_fontsize(12)
        ax.xaxis.label.set_fontsize(11)
        ax.yaxis.label.set_fontsize(11)
        ax.tick_params(labelsize=10)
    if n_seeds > 1:
        what = (
            f"median of {n_seeds} seeds; band: middle 80 % of seeds "
            f"({plots.BAND[0]}th–{plots.BAND[1]}th percentile)"
        )
    else:
        what = "one seed: each line is one run, no band"
    fig.suptitle(f"{' vs '.join(groups)} — {what}", fontsize=14)
    brand = brand or []
    foot = 0.04 + 0.03 * len(brand)
    fig.get_layout_engine().set(rect=(0, foot, 1, 1 - foot))  # room for the footnotes
    for i, line in enumerate(brand):
        fig.text(0.005, foot - 0.03 * (i + 1), line, ha="left", va="bottom", fontsize=9)
    fig.text(0.995, 0.005, f"{provenance.label()} · {source}", ha="right", va="bottom",
             fontsize=8, color=plots.GREY)  # fmt: skip
    return fig


def draw_sweep(name: str, table: pd.DataFrame, daily: pd.DataFrame, cohorts: pd.DataFrame):
    n_seeds = int(table.groupby("group")["job"].nunique().min())
    groups = list(dict.fromkeys(table["group"]))
    source = f"{name} · seeds 0–{n_seeds - 1}"
    marks = phase_marks(table)
    return draw(name, groups, daily, cohorts, marks, n_seeds, source, brand_lines(table))


def _dimensions(columns, prefix: str = "brand.") -> list[str]:
    """The dimensions of 人货场 with more than one candidate (fit columns of the summary)."""
    dims = ("place", "goods", "people")
    return [d for d in dims if sum(str(c).startswith(f"{prefix}{d}_fit_") for c in columns) > 1]


def brand_lines(table: pd.DataFrame) -> list[str]:
    """Per arm, on a brand with candidates: in how many brands (seeds) the candidate it ran at
    the end was truly the best fit, per dimension, and whether a test chose it or it ran the
    guess untested (summary `brand.<dim>_run_is_best_fit`, `brand.<dim>_committed`)."""
    dims = _dimensions(table.columns)
    if not dims:
        return []
    out = []
    for g, sub in table.groupby("group", sort=False):
        parts = []
        for d in dims:
            best = sub[f"brand.{d}_run_is_best_fit"].astype(bool)
            committed = f"brand.{d}_committed"
            tested = committed in sub and sub[committed].notna().any()
            how = "its test's pick" if tested else "the guess, untested"
            parts.append(f"{d}: best fit in {int(best.sum())}/{len(sub)} brands ({how})")
        out.append(f"{g} ran — " + "; ".join(parts))
    return out


def live_brand_lines(pair) -> list[str]:
    """Per arm of the live page: the candidate it runs per dimension and whether it is best."""
    out = []
    for arm in pair.arms:
        b = arm.summary()["brand"]
        parts = []
        for d in _dimensions(b, prefix=""):
            c = b.get(f"{d}_committed", "untested")
            how = (
                "guess, untested"
                if c == "untested"
                else "test under way"
                if c is None
                else "tested"
            )
            mark = "best fit" if b[f"{d}_run_is_best_fit"] else f"best fit {b[f'{d}_best_fit']}"
            parts.append(f"{d} {b[f'{d}_run']} ({how}; {mark})")
        if parts:
            out.append(f"{arm.name} runs — " + "; ".join(parts))
    return out


def _save(fig, out: Path, name: str) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    plots.save(fig, paths[0], dpi=200)
    plots.save(fig, paths[1])  # byte-identical reruns: plots.save salts and undates an SVG
    return paths


def scenario_command(pair) -> str:
    """The `privsim-figure --scenario …` line that draws the page's scenario across seeds
    (fission-share and KOC controls rewrite each strategy's own phases and are not carried)."""
    return " ".join(["privsim-figure", "--scenario", *live_scenario(pair)])


def live_scenario(pair) -> list[str]:
    """The page's scenario as `--scenario` overrides (without the seed)."""
    from sim.viz.pages.pair import base_overrides

    c = pair.controls
    base = base_overrides(c, c.strategy_a)
    base = [o for o in base if not o.startswith(("strategy=", "seed="))]
    return [f"strategy={','.join(a.strategy for a in pair.arms)}", *base]


def write_live(pair, out: Path | str = DEFAULT_OUT / "live") -> list[Path]:
    """ "Make a slide of this" on the live page: the same slide from the pair on screen (one
    seed, up to today), `<out>/<scenario>-day<N>.png` and `.svg`."""
    from sim.viz.pages import figures

    daily, cohorts = figures.frames(pair)
    groups = [a.name for a in pair.arms]
    marks = [m for m in figures.phase_marks(pair)]
    source = f"live page, seed {pair.controls.seed}, days 0–{max(pair.day - 1, 0)} · " + " ".join(
        live_scenario(pair)
    )
    fig = draw("live", groups, daily, cohorts, marks, 1, source, live_brand_lines(pair))
    name = scenario_name(live_scenario(pair)) + f"-seed{pair.controls.seed}-day{pair.day}"
    return _save(fig, Path(out), name)


def write(
    experiment: str | None,
    seeds: int = 10,
    out: Path | str = DEFAULT_OUT,
    days: int | None = None,
    jobs: int = 1,
    scenario: list[str] | None = None,
) -> list[Path]:
    """Run (or resume) the arms, then write `<out>/<name>.png` and `.svg` (name: the
    experiment, or `scenario_name` of the scenario's overrides)."""
    out = Path(out)
    frames = run_arms(experiment, seeds, out, days, jobs, scenario)
    if scenario is not None:
        name, label = scenario_name(scenario), "privsim -m " + " ".join(scenario)
    else:
        name, label = experiment, f"experiment={experiment}"
    fig = draw_sweep(label, *frames)
    return _save(fig, out, name)
