"""Across brands: the page's pair run over many brands (seeds 0 … N − 1) by the batch engine
in the background, a few seeds at a time; each arm's cumulative profit as the median of the
seeds and the middle 80 % of seeds, and the paired result in a line. One seed is one brand and
its luck: the spread of outcomes a brand could see.

The line leads with the report's multi-year yardsticks (issue #23; `sim.viz.report`): NPV at the
longest horizon the runs reach, read from each run's summary (`npv_<H>d`, `sim.core.metrics`),
and the day one arm's cumulative profit overtakes the other's for good
(`sim.experiment.comparison.overtakes`). Staging pays off late (DOMAIN.md §3.2: the 0-1 test and
1-10's restraint hold growth back first), so a year's cumulative profit can favour the arm
that loses over the years a private domain lives (§4)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.core.metrics import horizons_in
from sim.experiment.batch import Evaluation, Result, run_batch
from sim.experiment.comparison import npv_columns, overtake_median, overtakes
from sim.viz import plots
from sim.viz.pages.figures import WIDE, legible, money_axis, page_figure
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
    each run's summary (`runs`: `group`, `arm` ("A"), `seed`, `job` and the summary's keys,
    e.g. `profit`, `npv_365d`), the annual discount rate of its NPV, and the runs that failed
    ("A, seed 3: error"), which are left out."""

    controls: Controls
    seeds: int
    names: dict[str, str]  # arm label → name, in the pair's order
    daily: pd.DataFrame
    runs: pd.DataFrame
    discount_rate: float  # economics.discount_rate_annual (not a strategy's: both arms share it)
    failed: list[str] = field(default_factory=list)


def seed_bands(
    c: Controls, seeds: int, names: dict[str, str], results: list[Result], discount_rate: float
) -> SeedBands:
    """Collect `run_batch` results (daily `profit` asked for) into `SeedBands`."""
    frames_, runs, failed = [], [], []
    for r in results:
        ev = r.evaluation
        if not r.ok:
            failed.append(f"{ev.base}, seed {ev.seed}: {r.error}")
            continue
        job = f"{ev.base}:{ev.seed}"
        tags = {"group": names[ev.base], "arm": ev.base, "seed": ev.seed, "job": job}
        runs.append({**r.summary, **tags})
        profit = np.asarray(r.daily["profit"], dtype=float)
        frames_.append(
            pd.DataFrame(
                {
                    "group": names[ev.base],
                    "job": job,
                    "seed": ev.seed,
                    "day": np.arange(len(profit)),
                    "profit": profit,
                }
            )
        )
    empty = pd.DataFrame({"group": [], "job": [], "seed": [], "day": [], "profit": []})
    daily = pd.concat(frames_, ignore_index=True) if frames_ else empty
    runs_ = pd.DataFrame(runs, columns=None if runs else ["group", "arm", "seed", "job"])
    return SeedBands(c, seeds, dict(names), daily, runs_, discount_rate, failed)


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
    return seed_bands(c, seeds, names, results, bases["A"]["economics"]["discount_rate_annual"])


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
    """The controls (the seed aside: the bands run their own; the lesson aside: it sets only
    other controls) in which the scenario on screen differs from the one the bands were run for,
    as "name: bands' → now" lines."""
    out = []
    for name, v in bands_controls.__dict__.items():
        if name not in ("seed", "lesson") and getattr(now, name) != v:
            out.append(f"{name.replace('_', ' ')}: {v} → {getattr(now, name)}")
    return out


def per_brand(b: SeedBands, column: str) -> pd.DataFrame:
    """One summary value (`profit`, `npv_365d`) of each run: one row per seed, a column per arm
    (named as in the figure); seeds where an arm failed or has no value are dropped."""
    if column not in b.runs:
        return pd.DataFrame(columns=list(b.names.values()))
    wide = b.runs.pivot(index="seed", columns="group", values=column).astype(float)
    return wide.reindex(columns=list(b.names.values())).dropna()


def yardstick_words(b: SeedBands, end: int) -> tuple[str, str]:
    """The summary column the line compares and what it is in words: NPV at the longest
    horizon (`economics.npv_horizons_days`) the `end`-day runs reach, as the report's first
    yardstick (issue #23), else the cumulative profit at day `end` (NPV is never
    extrapolated)."""
    reached = npv_columns(b.runs)
    if not reached:
        hs = horizons_in(dict.fromkeys(b.runs.columns), "npv")
        shortest = f", {hs[0]:,} days" if hs else ""
        why = f"no NPV: the runs are shorter than its shortest horizon{shortest}"
        return "profit", f"cumulative profit at day {end} ({why})"
    h = int(reached[-1].removeprefix("npv_").removesuffix("d"))
    rate = f"{100 * b.discount_rate:g} %/year"
    return reached[-1], f"NPV at {h:,} days (daily profit discounted to day 0 at {rate})"


def overtaking(b: SeedBands) -> tuple[str, str, float, int, int] | None:
    """Who overtook whom on cumulative profit for good (`comparison.overtake_day`, per brand):
    (leader, other, median day across brands, brands where the leader did, brands), the
    leader the arm whose median is a day (at most one can be: a brand has one leader at the
    end); with neither, A's side with day NaN ("never"). None with one arm or no pair."""
    if len(b.names) < 2:
        return None
    over = overtakes(b.runs, b.daily, ["arm"])
    if over.empty:
        return None
    a, o = list(b.names.values())
    sides = [(a, o, over["a_overtakes_day"]), (o, a, over["b_overtakes_day"])]
    lead, other, days = next((s for s in sides if np.isfinite(overtake_median(s[2]))), sides[0])
    return lead, other, overtake_median(days), int(days.notna().sum()), len(over)


def bands_sentence(b: SeedBands) -> str:
    """The result in a line: in how many brands A beat B on NPV at the longest horizon reached
    (`yardstick_words`), the median paired (same seed) difference A − B, and the median day
    one arm's cumulative profit overtook the other's for good (`overtaking`)."""
    end = int(b.daily["day"].max()) + 1 if len(b.daily) else 0
    column, what = yardstick_words(b, end)
    v = per_brand(b, column)
    n = len(v)
    failed = f" ({len(b.failed)} runs failed and are left out: {b.failed[0]})" if b.failed else ""
    if not n:
        return f"No brand has a finished run{failed}."
    names = list(b.names.values())
    seeds = f"{n} brands (seeds 0–{b.seeds - 1})" if b.seeds > 1 else "1 brand (seed 0)"
    if len(names) < 2:
        return (
            f"Side by side is off: {names[0]} alone; median {what} "
            f"{yuan(float(v[names[0]].median()))} over {n} brands{failed}."
        )
    diff = v[names[0]] - v[names[1]]
    lead = (
        f"{names[0]} beat {names[1]} on {what} in {int((diff > 0).sum())} of {seeds}; "
        f"median paired difference (A − B, same brand) {yuan(float(diff.median()), sign=True)}"
    )
    if (o := overtaking(b)) is None:  # no brand with both arms' daily profit
        return f"{lead}{failed}."
    first, other, day, k, m = o
    when = "never (not in more than half of them)" if np.isnan(day) else f"{day:,.0f}"
    when += " (ahead from the first day)" if day == 0 else ""
    return (
        f"{lead}. {first} overtook {other} on cumulative profit for good (ahead on every day "
        f"from then to day {end}) in {k} of {m} brands; median day across brands: {when}"
        f"{failed}."
    )


def figure_bands(b: SeedBands, big: bool = False):
    """Cumulative profit over days across brands: per arm the median of the seeds as a line and
    the middle 80 % of seeds as a band (`sim.viz.plots.cumulative_profit`), and a dotted line
    at the median day one arm overtook the other for good, where there is one (`overtaking`)."""
    fig, (ax,) = page_figure(WIDE[big], left=0.115, bottom=0.17, top=0.9)
    plots.cumulative_profit(ax, b.daily)
    money_axis(ax.yaxis)
    ax.set_title(
        f"Across brands: cumulative profit of {' and '.join(b.names)} over {b.seeds} brands "
        f"(seeds 0–{b.seeds - 1})",
        loc="left",
    )
    ax.set_xlabel("day")
    if (o := overtaking(b)) is not None and np.isfinite(o[2]):
        ax.axvline(o[2], color=plots.BLACK, linestyle=":", linewidth=1.2)
        ax.set_xlabel(
            f"day · dotted line: day {o[2]:,.0f}, from which {o[0]} stays ahead of {o[1]} "
            "for good (median of brands)"
        )
    legible(fig, big)
    return fig
