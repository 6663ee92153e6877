"""`privsim-figure <experiment>`: one publication-quality figure for slides.

    privsim-figure premature_scaling                    # 10 seeds -> results/figures/
    python -m sim.viz.slide premature_scaling --seeds 20 --out slides/

Runs the experiment's arms — the strategies its sweep compares (for premature_scaling: staged
and premature) — for seeds 0..N-1 through the same machinery as `privsim -m` (not a second
runner): it launches

    python -m sim -m experiment=<name> strategy=<a>,<b> 'seed=range(0,N)' \
        hydra.sweep.dir=<out>/runs/<name> [hydra/launcher=joblib hydra.launcher.n_jobs=<jobs>] \
        [horizon_days=<days>]

so launchers, resuming (re-running skips finished runs), failure handling and the sweep report
in `<out>/runs/<name>/` are the sweep's own. It then draws from the job directories
(`sim.experiment.sweep.collect` / `load_series`, `sim.viz.plots`) two panels:

- conversion decay: 30-day conversion of each weekly joining cohort, by joining day;
- cumulative profit, by day;

each arm as the median of its seeds with the band of the middle 80 % of seeds (10th–90th
percentile), and each arm's later phase starts marked (median day across seeds). Writes
`<out>/<experiment>.png` (200 dpi) and `.svg`, atomically.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim import __version__
from sim.experiment.config import CONFIG_DIR
from sim.experiment.sweep import add_groups, collect, load_series
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
    return [s.strip() for s in str(swept).split(",") if s.strip()]


def sweep_command(
    experiment: str, seeds: int, sweep_dir: Path, days: int | None = None, jobs: int = 1
) -> list[str]:
    """The `privsim -m` command line that runs every arm for seeds 0..seeds-1 into `sweep_dir`."""
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        f"experiment={experiment}",
        f"strategy={','.join(experiment_arms(experiment))}",
        f"seed=range(0,{seeds})",
        f'hydra.sweep.dir="{Path(sweep_dir).resolve()}"',
    ]
    if jobs > 1 and importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher"):
        cmd += ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}"]
    if days is not None:
        cmd.append(f"horizon_days={days}")
    return cmd


def run_arms(
    experiment: str, seeds: int, out: Path | str = DEFAULT_OUT, days=None, jobs: int = 1
) -> Path:
    """Run (or resume) the experiment's sweep under `<out>/runs/<experiment>`; returns it."""
    sweep_dir = Path(out) / "runs" / experiment
    r = subprocess.run(sweep_command(experiment, seeds, sweep_dir, days, jobs))
    if r.returncode != 0:
        raise SystemExit(
            f"privsim-figure: not every run of {experiment} finished (see above; exit "
            f"{r.returncode}); run the same command again to retry them"
        )
    return sweep_dir


def arm_frames(sweep_dir: Path, arms: list[str], seeds: int):
    """The finished runs of this command: the summary table, `daily` and `cohorts`, grouped by
    strategy. Only jobs 0..len(arms)·seeds−1 belong to it (a run with more seeds into the same
    directory leaves further job directories behind); each (arm, seed) must be there once."""
    table = collect(sweep_dir)
    ours = [str(n) for n in range(len(arms) * seeds)]
    table = table[table["job"].isin(ours)]
    done = table[table["status"] == "finished"]
    per_arm = done.groupby("strategy")["seed"].agg(sorted)
    if len(per_arm) != len(arms) or any(s != list(range(seeds)) for s in per_arm):
        raise SystemExit(f"privsim-figure: {sweep_dir} does not hold every arm and seed once")
    done = add_groups(done, ["strategy"])
    return done, load_series(done, sweep_dir, "daily"), load_series(done, sweep_dir, "cohorts")


def _phase_marks(axes, table: pd.DataFrame) -> None:
    """Dotted lines where an arm's later phases start (median day across its seeds)."""
    col = plots.colours(dict.fromkeys(table["group"]))
    for g, sub in table.groupby("group", sort=False):
        for key in [k for k in sub.columns if k.startswith("phase_starts.")]:
            day = float(np.nanmedian(sub[key].astype(float))) if sub[key].notna().any() else 0
            if day <= 0:
                continue
            for ax in axes:
                ax.axvline(day, color=col[g], linestyle=":", linewidth=1.2)
            axes[1].annotate(
                f"{g}: {key.removeprefix('phase_starts.')} starts",
                (day, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -4),
                textcoords="offset points",
                rotation=90,
                va="top",
                fontsize=9,
                color=col[g],
            )


def draw(experiment: str, table: pd.DataFrame, daily: pd.DataFrame, cohorts: pd.DataFrame):
    fig, (ax1, ax2) = plots.figure(12, 4.6, ncols=2, dpi=100, layout="constrained")
    n_seeds = int(table.groupby("group")["job"].nunique().min())
    plots.conversion_decay(ax1, cohorts, "first_day", bins=None)
    ax1.set_title("Conversion decay: new users convert less as the pool outgrows the team")
    plots.cumulative_profit(ax2, daily)
    ax2.set_title("Cumulative profit: margin − acquisition − team cost")
    if ax2.get_legend():  # the same colours in both panels: one legend
        ax2.get_legend().remove()
    _phase_marks((ax1, ax2), table)
    for ax in (ax1, ax2):
        ax.title.set_fontsize(12)
        ax.xaxis.label.set_fontsize(11)
        ax.yaxis.label.set_fontsize(11)
    names = " vs ".join(dict.fromkeys(table["group"]))
    fig.suptitle(
        f"{names} scaling — median of {n_seeds} seeds, band: middle 80 % of seeds "
        f"({plots.BAND[0]}th–{plots.BAND[1]}th percentile)",
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
    """Run (or resume) the arms, then write `<out>/<experiment>.png` and `.svg`."""
    out = Path(out)
    sweep_dir = run_arms(experiment, seeds, out, days, jobs)
    fig = draw(experiment, *arm_frames(sweep_dir, experiment_arms(experiment), seeds))
    paths = [out / f"{experiment}.png", out / f"{experiment}.svg"]
    plots.save(fig, paths[0], "png", dpi=200)
    from matplotlib import rc_context

    with rc_context({"svg.hashsalt": experiment}):  # with no date: byte-identical reruns
        plots.save(fig, paths[1], "svg", metadata={"Date": None})
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="privsim-figure",
        description="One slide-ready figure (PNG + SVG) of an experiment's arms.",
    )
    ap.add_argument("experiment", help="a config under configs/experiment/, e.g. premature_scaling")
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per arm (default 10)")
    ap.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="output folder (default results/figures); the runs go to <out>/runs/<experiment>",
    )
    ap.add_argument(
        "--days", type=int, default=None, help="horizon override (default: the config's)"
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=min(4, len(os.sched_getaffinity(0))),
        help="parallel processes, through Hydra's joblib launcher (default: CPU count, at most 4)",
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
