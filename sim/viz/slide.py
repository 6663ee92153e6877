"""`privsim-figure <experiment>`: one publication-quality figure for slides.

    privsim-figure premature_scaling                    # 10 seeds -> results/figures/
    python -m sim.viz.slide premature_scaling --seeds 20 --out slides/

Runs the experiment's arms itself — the strategies its sweep compares (for premature_scaling:
staged and premature) — once per seed, each composed exactly as the CLI composes it
(`compose(["experiment=<name>", "strategy=<arm>", "seed=<k>"])`), and draws two panels:

- conversion decay: 30-day conversion of each weekly joining cohort, by joining day;
- cumulative profit, by day;

each arm as its median across seeds with a 10th–90th percentile band, and the staged arm's
phase changes marked. Writes `<out>/<experiment>.png` (200 dpi) and `.svg`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from sim import __version__
from sim.experiment.config import CONFIG_DIR, compose, model_kwargs

DEFAULT_OUT = Path("results") / "figures"
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
BAND = (10, 90)


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
    return [s.strip() for s in str(swept).split(",") if s.strip()]


@dataclass
class Run:
    strategy: str
    seed: int
    horizon: int
    cohort_day: np.ndarray  # first joining day of each weekly cohort with a closed window
    conversion_pct: np.ndarray
    cumulative_profit: np.ndarray  # yuan, one per day
    phase_starts: dict[str, int]
    strategy_name: str


def _run(args: tuple[str, int, dict]) -> Run:
    from sim.core.model import PrivateDomainModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    strategy, seed, cfg = args
    m = PrivateDomainModel(**model_kwargs(cfg)).run()
    c = m.cohorts()
    c = c[(c["size"] > 0) & c["conversion_30d"].notna()]
    d = m.daily()
    return Run(
        strategy,
        seed,
        m.day,
        c["first_day"].to_numpy(),
        100 * c["conversion_30d"].to_numpy(),
        d["profit"].cumsum().to_numpy(),
        m.summary()["phase_starts"],
        m.strategy.name,
    )


def run_arms(
    experiment: str, seeds: int, days: int | None = None, jobs: int = 1
) -> dict[str, list[Run]]:
    """Every arm of the experiment for seeds 0..seeds-1 (optionally cut to `days`)."""
    tasks = []
    for s in experiment_arms(experiment):
        for k in range(seeds):
            ov = [f"experiment={experiment}", f"strategy={s}", f"seed={k}"]
            if days is not None:
                ov.append(f"horizon_days={days}")
            tasks.append((s, k, compose(ov)))
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            runs = list(pool.map(_run, tasks))
    else:
        runs = [_run(t) for t in tasks]
    out: dict[str, list[Run]] = {}
    for r in runs:
        out.setdefault(r.strategy, []).append(r)
    return out


def bands(x_list: list[np.ndarray], y_list: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Median and percentile band across runs, on the x values all runs share."""
    common = sorted(set.intersection(*(set(x.tolist()) for x in x_list)))
    x = np.array(common)
    ys = np.vstack([y[np.searchsorted(xr, x)] for xr, y in zip(x_list, y_list, strict=True)])
    lo, med, hi = np.percentile(ys, [BAND[0], 50, BAND[1]], axis=0)
    return x, med, lo, hi


def draw(experiment: str, arms: dict[str, list[Run]]):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(12, 4.6), dpi=100, layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    n_seeds = min(len(r) for r in arms.values())
    for runs, colour in zip(arms.values(), COLOURS, strict=False):
        label = runs[0].strategy_name
        x, med, lo, hi = bands([r.cohort_day for r in runs], [r.conversion_pct for r in runs])
        ax1.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax1.plot(x, med, color=colour, linewidth=2, label=label)
        days = [np.arange(len(r.cumulative_profit)) for r in runs]
        x, med, lo, hi = bands(days, [r.cumulative_profit / 1e6 for r in runs])
        ax2.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax2.plot(x, med, color=colour, linewidth=2, label=label)
        if len(runs[0].phase_starts) > 1:  # mark a staged arm's phase changes (median day)
            for phase in list(runs[0].phase_starts)[1:]:
                starts = [r.phase_starts[phase] for r in runs if phase in r.phase_starts]
                if not starts:
                    continue
                day = float(np.median(starts))
                for ax in (ax1, ax2):
                    ax.axvline(day, color=colour, linestyle=":", linewidth=1.2)
                ax2.annotate(
                    f"{label}: {phase} starts",
                    (day, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -4),
                    textcoords="offset points",
                    rotation=90,
                    va="top",
                    fontsize=9,
                    color=colour,
                )
    ax1.set(
        xlabel="joining day of the weekly cohort (day)",
        ylabel="30-day conversion (% of cohort)",
        title="Conversion decay: new users convert less as the pool outgrows the team",
    )
    ax1.set_ylim(bottom=0)
    ax2.axhline(0, color="black", linewidth=0.8)
    ax2.set(
        xlabel="day",
        ylabel="cumulative profit (million ¥)",
        title="Cumulative profit: margin − acquisition − team cost",
    )
    ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.1f}"))
    ax1.legend(loc="upper right", frameon=False, fontsize=11)  # the same colours in both panels
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.title.set_fontsize(12)
        ax.xaxis.label.set_fontsize(11)
        ax.yaxis.label.set_fontsize(11)
    names = " vs ".join(r[0].strategy_name for r in arms.values())
    fig.suptitle(
        f"{names} scaling — median of {n_seeds} seeds, band {BAND[0]}th–{BAND[1]}th percentile",
        fontsize=14,
    )
    ax2.text(
        0.99,
        0.02,
        f"privsim {__version__} · experiment={experiment} · seeds 0–{n_seeds - 1}",
        transform=ax2.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        color="grey",
    )
    return fig


def write(
    experiment: str,
    seeds: int = 10,
    out: Path | str = DEFAULT_OUT,
    days: int | None = None,
    jobs: int = 1,
) -> list[Path]:
    arms = run_arms(experiment, seeds, days, jobs)
    fig = draw(experiment, arms)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{experiment}.png", out / f"{experiment}.svg"]
    fig.savefig(paths[0], dpi=200)
    fig.savefig(paths[1], metadata={"Date": None})  # byte-identical reruns
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="privsim-figure",
        description="One slide-ready figure (PNG + SVG) of an experiment's arms.",
    )
    ap.add_argument("experiment", help="a config under configs/experiment/, e.g. premature_scaling")
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per arm (default 10)")
    ap.add_argument(
        "--out", default=str(DEFAULT_OUT), help="output folder (default results/figures)"
    )
    ap.add_argument(
        "--days", type=int, default=None, help="horizon override (default: the config's)"
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=min(4, len(os.sched_getaffinity(0))),
        help="parallel processes (default: CPU count, at most 4)",
    )
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be >= 1")
    paths = write(args.experiment, args.seeds, args.out, args.days, args.jobs)
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
