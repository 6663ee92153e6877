"""Across brands: the page's pair run over many brands (seeds 0 … N − 1) by the batch engine
in the background, a few seeds at a time; each arm's cumulative profit as the median of the
seeds and the middle 80 % of seeds, and the paired result in a line. One seed is one brand and
its luck: the spread of outcomes a brand could see."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.experiment.batch import Evaluation, Result, run_batch
from sim.viz import plots
from sim.viz.pages.figures import WIDE, legible, page_figure
from sim.viz.pages.pair import Controls, arm_config
from sim.viz.pages.story import yuan

BAND_SEEDS = (5, 10, 20, 50)  # how many brands (seeds) the page offers to run the pair over
BAND_SEEDS_DEFAULT = 10


def band_jobs() -> int:
    """Processes for the across-brands runs: every core but one (the page's server keeps one),
    and at least two, so that the runs never share the server's interpreter."""
    return max(2, (os.cpu_count() or 1) - 1)


def band_plan(
    c: Controls, seeds: int, horizon_days: int | None = None
) -> tuple[dict[str, dict], list[Evaluation], dict[str, str]]:
    """The batch that runs the page's pair over brands (seeds) 0 … `seeds` − 1: each arm's
    config exactly as the page composes it (`arm_config`; the page's own seed is replaced by
    each brand's), one `Evaluation` per arm and seed (seed-major: A0, B0, A1, …), and each
    arm's name as the page writes it ("A (staged)"). `horizon_days` shortens the runs (tests)."""
    if not (type(seeds) is int and seeds >= 1):
        raise ValueError(f"seeds = {seeds!r}; allowed: a whole number >= 1")
    arms = [("A", c.strategy_a)] + ([("B", c.strategy_b)] if c.side_by_side else [])
    bases = {label: arm_config(c, strategy)[0] for label, strategy in arms}
    names = {label: f"{label} ({cfg['strategy']['name']})" for label, cfg in bases.items()}
    values = {} if horizon_days is None else {"horizon_days": int(horizon_days)}
    evals = [Evaluation(values, seed=s, base=label) for s in range(seeds) for label in bases]
    return bases, evals, names


@dataclass
class SeedBands:
    """The pair run over many brands (seeds): each run's daily profit as a tidy frame for
    `sim.viz.plots` (`group` the arm's name, `job` the run ("A:3"), `seed`, `day`, `profit`),
    and the runs that failed ("A, seed 3: error"), which are left out."""

    controls: Controls
    seeds: int
    names: dict[str, str]  # arm label → name, in the pair's order
    daily: pd.DataFrame
    failed: list[str] = field(default_factory=list)


def seed_bands(c: Controls, seeds: int, names: dict[str, str], results: list[Result]) -> SeedBands:
    """Collect `run_batch` results (daily `profit` asked for) into `SeedBands`."""
    frames_, failed = [], []
    for r in results:
        ev = r.evaluation
        if not r.ok:
            failed.append(f"{ev.base}, seed {ev.seed}: {r.error}")
            continue
        profit = np.asarray(r.daily["profit"], dtype=float)
        frames_.append(
            pd.DataFrame(
                {
                    "group": names[ev.base],
                    "job": f"{ev.base}:{ev.seed}",
                    "seed": ev.seed,
                    "day": np.arange(len(profit)),
                    "profit": profit,
                }
            )
        )
    empty = pd.DataFrame({"group": [], "job": [], "seed": [], "day": [], "profit": []})
    daily = pd.concat(frames_, ignore_index=True) if frames_ else empty
    return SeedBands(c, seeds, dict(names), daily, failed)


def across_brands(
    c: Controls,
    seeds: int,
    *,
    jobs: int | None = None,
    horizon_days: int | None = None,
    on_progress=None,
    cancel: threading.Event | None = None,
) -> SeedBands | None:
    """Run the page's pair over brands (seeds) 0 … `seeds` − 1 with the batch engine
    (`sim.experiment.batch.run_batch`, `jobs` local processes; 1 = in this process), a few
    seeds at a time so that `on_progress(done, total)` (runs) is called as they finish and a
    set `cancel` stops before the next few (then None is returned)."""
    jobs = band_jobs() if jobs is None else jobs
    bases, evals, names = band_plan(c, seeds, horizon_days)
    chunk = max(1, jobs) * len(bases)  # one seed's pair per process
    results: list[Result] = []
    for i in range(0, len(evals), chunk):
        if cancel is not None and cancel.is_set():
            return None
        part = evals[i : i + chunk]
        results += run_batch(
            bases, part, n_jobs=min(jobs, len(part)), daily_columns=("profit",), progress=False
        )
        if on_progress is not None:
            on_progress(len(results), len(evals))
    return seed_bands(c, seeds, names, results)


class BandRun:
    """One across-brands run for the page: `run()` (blocking; the page calls it in a thread)
    fills `done`/`total`, then `bands` or `error`; `cancel()` stops it before its next seeds."""

    def __init__(
        self,
        controls: Controls,
        seeds: int,
        jobs: int | None = None,
        horizon_days: int | None = None,
    ):
        self.controls, self.seeds = controls, seeds
        self.jobs, self.horizon_days = jobs, horizon_days
        self.total = seeds * (2 if controls.side_by_side else 1)
        self.done = 0
        self.bands: SeedBands | None = None
        self.error: str | None = None
        self.finished = False
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return not self.finished

    def cancel(self) -> None:
        self._cancel.set()

    def run(self, on_progress=None) -> None:
        def progress(done, total):
            self.done, self.total = done, total
            if on_progress is not None:
                on_progress(done, total)

        try:
            self.bands = across_brands(
                self.controls,
                self.seeds,
                jobs=self.jobs,
                horizon_days=self.horizon_days,
                on_progress=progress,
                cancel=self._cancel,
            )
        except Exception as e:  # a message on the page, not a dead thread
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.finished = True


def band_changes(bands_controls: Controls, now: Controls) -> list[str]:
    """The controls (the seed aside: the bands run their own) in which the scenario on screen
    differs from the one the bands were run for, as "name: bands' → now" lines."""
    out = []
    for name, v in bands_controls.__dict__.items():
        if name != "seed" and getattr(now, name) != v:
            out.append(f"{name.replace('_', ' ')}: {v} → {getattr(now, name)}")
    return out


def final_profits(b: SeedBands) -> pd.DataFrame:
    """Cumulative profit on the last day of each run: one row per seed, a column per arm
    (named as in the figure); seeds where an arm failed are dropped."""
    if not len(b.daily):
        return pd.DataFrame(columns=list(b.names.values()))
    total = b.daily.groupby(["seed", "group"])["profit"].sum().unstack("group")
    return total.reindex(columns=list(b.names.values())).dropna()


def bands_sentence(b: SeedBands) -> str:
    """The result in a line: in how many brands A beat B on cumulative profit at the last day,
    and the median paired (same seed) difference A − B."""
    end = int(b.daily["day"].max()) + 1 if len(b.daily) else 0
    fp = final_profits(b)
    n = len(fp)
    failed = f" ({len(b.failed)} runs failed and are left out: {b.failed[0]})" if b.failed else ""
    if not n:
        return f"No brand has a finished run{failed}."
    names = list(b.names.values())
    seeds = f"{n} brands (seeds 0–{b.seeds - 1})" if b.seeds > 1 else "1 brand (seed 0)"
    if len(names) < 2:
        return (
            f"Side by side is off: {names[0]} alone; median cumulative profit at day {end} "
            f"{yuan(float(fp[names[0]].median()))} over {n} brands{failed}."
        )
    diff = fp[names[0]] - fp[names[1]]
    k = int((diff > 0).sum())
    return (
        f"{names[0]} beat {names[1]} on cumulative profit at day {end} in {k} of {seeds}; "
        f"median paired difference (A − B, same brand) {yuan(float(diff.median()), sign=True)}"
        f"{failed}."
    )


def figure_bands(b: SeedBands, big: bool = False):
    """Cumulative profit over days across brands: per arm the median of the seeds as a line and
    the middle 80 % of seeds as a band (`sim.viz.plots.cumulative_profit`)."""
    fig, (ax,) = page_figure(WIDE[big], left=0.08, bottom=0.17, top=0.9)
    plots.cumulative_profit(ax, b.daily)
    ax.set_title(
        f"Across brands: cumulative profit of {' and '.join(b.names)} over {b.seeds} brands "
        f"(seeds 0–{b.seeds - 1})",
        loc="left",
    )
    ax.set_xlabel("day")
    legible(fig, big)
    return fig
