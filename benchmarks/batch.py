"""Throughput of the batch engine, per-run cost against the horizon, and the fixed cost a day.

    python benchmarks/batch.py                 # a year and three years side by side, 2 processes
    python benchmarks/batch.py --runs 40 --jobs 2 --days 365 730 1095
    python benchmarks/batch.py --fixed         # ms per simulated day at tiny sizes, by phase
    python benchmarks/batch.py --profile       # cProfile of one default run (top functions)
    python benchmarks/batch.py --morris        # the premature-scaling Morris study, timed
    python benchmarks/batch.py --base ba83f97 --runs 6 --jobs 2   # against a commit

Three-year runs should be three times the work (issue #23): a run's cost linear in the user
rows it steps × days. So the default measurement runs the default scenario (`compose([])`,
`--strategy` staged) at each horizon of `--days` (default: a year and three years, the default
run's `horizon_days` and the longest `economics.npv_horizons_days`) in one invocation, for the
same seeds 0..N-1 (`--runs N`) through `sim.experiment.batch.run_batch` with the same `--jobs`
local processes (`--chunk-size` runs per task; default: the engine's), no cache. The horizons'
batches take turns, `--rounds` times in alternating order (1y 3y 3y 1y: a drift of the shared
machine's load hits both alike), after one untimed run per worker (their start-up).

Each batch prints one JSON line: wall seconds, runs per minute (including the workers'
start-up, and excluding it: from the first finished run on), the mean seconds per run inside a
worker, row-days per run and ns per row-day, the share of the workers' time spent simulating
(`workers_busy`: what the engine's overhead leaves; comparable on a busy machine), and the load
average of the machine while it ran (the machine is shared: divide by its cores to see
contention). A last line pools each horizon's runs (`[mean, standard error]` over runs) and
gives each later horizon's ratios to the first, per run paired by seed and round: seconds per
run, row-days (`benchmarks/run.py`'s `row_days`: the user rows stepped, summed over days;
churned users stay rows) and cost per row-day — linear ⇔ ≈ 1, below 1 where the per-run fixed
cost (build, summary) spreads over more days.

`--base COMMIT` measures this tree against another commit side by side (issue #24's
throughput): it checks COMMIT out into a temporary git worktree and runs each batch (same seeds,
jobs and horizons) in a fresh subprocess with PYTHONPATH at one tree or the other, this script
driving both, base and new alternating within a round and the horizons' order alternating
between rounds (after an untimed run per worker in each subprocess: its imports, numba's cache
loaded). It prints each batch's line, then per horizon the ratios new ÷ base — runs per minute
per round, seconds per run in a worker per run paired by seed and round — as [mean, standard
error], and the load average.

`--fixed` runs one tiny model (1 user a day) for each horizon of `--days`, after an untimed one
(the process's first run loads numba's compiled kernels: ~0.6 ms a day more in `_staff` over a
year), and times each phase of `step()` (`sim.core.model` docstring) by wrapping the model's
phase methods, plus Mesa's own step machinery (run time minus the phases) and the
DataCollector's `collect`: the cost every day pays whatever the population, i.e. the floor of a
short study's run time; one JSON line each.

`--morris` runs the study of configs/sensitivity/premature_scaling.yaml as specified (Morris
screening of 12 parameters, r = 10 trajectories, 2 seeds, both arms paired: 520 runs of 365 days)
with `--jobs` processes, no cache, and prints its wall time, runs per minute and the load average.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logging.getLogger("MESA").setLevel(logging.WARNING)


def default_horizons() -> list[int]:
    """A year and three years: the default run's `horizon_days` and the longest NPV horizon
    (`economics.npv_horizons_days`), the three years the experiments run (issue #23)."""
    from sim.experiment.config import compose

    cfg = compose([])
    return [cfg["horizon_days"], cfg["economics"]["npv_horizons_days"][-1]]


def throughput(runs: int, jobs: int, days: int, strategy: str, chunk: int | None = None):
    """One batch of `runs` seeds at `days`: (its numbers, each run's (seconds, row-days))."""
    from run import ROW_STAGES, row_days

    from sim.experiment.batch import Evaluation, run_batch
    from sim.experiment.config import compose

    base = compose([f"horizon_days={days}", f"strategy={strategy}"])
    evs = [Evaluation({}, seed=s) for s in range(runs)]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = run_batch(
        base, evs, n_jobs=jobs, chunk_size=chunk, daily_columns=ROW_STAGES, progress=False
    )
    wall = time.perf_counter() - t0
    if failed := [r.error for r in results if not r.ok]:
        raise SystemExit(f"{len(failed)} of {runs} runs failed; the first: {failed[0]}")
    per_run = [r.seconds for r in results]
    rows = [row_days(r.daily) for r in results]
    first = min(per_run)  # the first finished run includes no start-up of its own
    return {
        "strategy": strategy,
        "days": days,
        "runs": runs,
        "jobs": jobs,
        "wall_s": round(wall, 2),
        "runs_per_min": round(runs / wall * 60, 1),
        "runs_per_min_after_startup": round((runs - jobs) / max(wall - first, 1e-9) * 60, 1)
        if runs > jobs
        else None,
        "mean_s_per_run_in_worker": round(sum(per_run) / runs, 3),
        "row_days_per_run": round(sum(rows) / runs),
        "ns_per_row_day": round(sum(per_run) / sum(rows) * 1e9, 1),
        # the share of the workers' wall time spent simulating: the engine's own overhead
        # (start-up, hand-over, the tail) is the rest; robust to a busy machine, unlike runs/min
        "workers_busy": round(sum(per_run) / (wall * min(jobs, runs)), 3),
        "chunk_size": chunk,
        "load_avg_before": round(load0, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }, list(zip(per_run, rows, strict=True))


def mean_se(xs: list[float]) -> list[float | None]:
    """[mean, standard error] (None for one value)."""
    return [statistics.fmean(xs), statistics.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else None]


def side_by_side(runs: int, jobs: int, horizons: list[int], strategy: str,
                 chunk: int | None, rounds: int) -> dict:  # fmt: skip
    """Each horizon's batch in turn, `rounds` times (ABBA...: a drift of the machine's load
    hits every horizon alike), one JSON line each, after an untimed batch of one run per
    worker (the reused workers' start-up would otherwise fall on the first horizon); then each
    horizon's pooled numbers and each later horizon's ratios to the first, from the runs
    paired by seed and round."""
    throughput(jobs, jobs, min(horizons), strategy)  # untimed: each worker's imports, first calls
    load0 = os.getloadavg()[0]
    paired: dict[int, list[tuple[float, int]]] = {d: [] for d in horizons}
    for k in range(rounds):
        for d in horizons if k % 2 == 0 else horizons[::-1]:
            line, per_run = throughput(runs, jobs, d, strategy, chunk)
            print(json.dumps(line), flush=True)
            paired[d] += per_run

    def ratio(d, of):  # of(seconds, row-days) of each run ÷ that of its pair at the first horizon
        pairs = zip(paired[d], paired[horizons[0]], strict=True)
        return rnd(mean_se([of(*run) / of(*first) for run, first in pairs]), 3)

    return {
        "strategy": strategy,
        "runs": runs,
        "jobs": jobs,
        "rounds": rounds,
        "horizons": {
            d: {
                "s_per_run": rnd(mean_se([s for s, _ in paired[d]]), 4),
                "row_days_per_run": round(statistics.fmean(r for _, r in paired[d])),
                "ns_per_row_day": rnd(mean_se([s / r * 1e9 for s, r in paired[d]]), 1),
            }
            for d in horizons
        },
        # per run paired with the first horizon's (same seed and round): [mean, standard error]
        f"ratios_to_{horizons[0]}_days": {
            d: {
                "s_per_run": ratio(d, lambda s, r: s),
                "row_days": ratio(d, lambda s, r: r),
                "cost_per_row_day": ratio(d, lambda s, r: s / r),
            }
            for d in horizons[1:]
        },
        "load_avg_before": round(load0, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }


def batch_json(runs: int, jobs: int, days: int, strategy: str, chunk: int | None) -> None:
    """One timed batch after an untimed run per worker, as one JSON line (what `--base` runs in
    a subprocess for either tree)."""
    throughput(jobs, jobs, days, strategy)
    line, per_run = throughput(runs, jobs, days, strategy, chunk)
    print(json.dumps({"line": line, "per_run": per_run}))


def against(base: str, runs: int, jobs: int, horizons: list[int], strategy: str,
            chunk: int | None, rounds: int) -> dict:  # fmt: skip
    """This tree against commit `base`, side by side (module docstring, `--base`)."""
    here = Path(__file__).resolve().parents[1]
    trees = {"new": here}
    tmp = tempfile.mkdtemp(prefix="bench_base_")
    subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", tmp, base],
                   check=True, capture_output=True)  # fmt: skip
    trees["base"] = Path(tmp)
    load0 = os.getloadavg()[0]
    got = {(d, t): [] for d in horizons for t in trees}  # (rpm, [(seconds, row-days)]) a batch
    try:
        for k in range(rounds):
            for d in horizons if k % 2 == 0 else horizons[::-1]:
                for tree in ("base", "new") if k % 2 == 0 else ("new", "base"):
                    cmd = [sys.executable, __file__, "--batch-json", "--runs", str(runs),
                           "--jobs", str(jobs), "--days", str(d),
                           "--strategy", strategy]  # fmt: skip
                    if chunk:
                        cmd += ["--chunk-size", str(chunk)]
                    env = {**os.environ, "PYTHONPATH": str(trees[tree])}
                    out = subprocess.run(cmd, cwd=trees[tree], env=env, check=True,
                                         capture_output=True, text=True).stdout  # fmt: skip
                    result = json.loads(out.strip().splitlines()[-1])
                    print(json.dumps({"tree": tree, "round": k, **result["line"]}), flush=True)
                    got[d, tree].append((result["line"]["runs_per_min"], result["per_run"]))
    finally:
        subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", tmp],
                       check=False, capture_output=True)  # fmt: skip

    def ratios(d):
        pairs = list(zip(got[d, "new"], got[d, "base"], strict=True))  # by round
        per_run = [b[0] / n[0] for new, old in pairs for n, b in zip(new[1], old[1], strict=True)]
        return {
            "runs_per_min_new_over_base": rnd(mean_se([n[0] / b[0] for n, b in pairs]), 3),
            "speedup_s_per_run_base_over_new": rnd(mean_se(per_run), 3),
            "same_row_days": all(  # the same runs (a bit-identical change): same rows stepped
                n[1] == b[1] for new, old in pairs for n, b in zip(new[1], old[1], strict=True)
            ),
            "s_per_run": {
                t: rnd(mean_se([s for _, batch in got[d, t] for s, _ in batch]), 3)
                for t in trees
            },
        }

    return {
        "base": base,
        "strategy": strategy,
        "runs": runs,
        "jobs": jobs,
        "rounds": rounds,
        "horizons": {d: ratios(d) for d in horizons},
        "load_avg_before": round(load0, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }


def rnd(pair, digits):
    return [None if v is None else round(v, digits) for v in pair]


def morris(jobs: int) -> dict:
    from sim.experiment.sensitivity import load_spec, run_study

    spec = load_spec("premature_scaling")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    study = run_study(spec, None, n_jobs=jobs, progress=False)
    wall = time.perf_counter() - t0
    runs = len(study.samples)
    return {
        "study": "premature_scaling",
        "method": spec.method,
        "parameters": len(study.parameters),
        "trajectories": spec.samples,
        "seeds": spec.seeds,
        "runs": runs,
        "failed": int((study.samples["status"] != "finished").sum()),
        "jobs": jobs,
        "wall_s": round(wall, 1),
        "runs_per_min": round(runs / wall * 60, 1),
        "load_avg_before": round(load0, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }


PHASES = ("_strategy", "_acquire", "_staff", "_touch", "_trust", "_advance", "_churn",
          "_refer", "_circle", "_account")  # fmt: skip


def fixed_cost(days: int) -> dict:
    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose

    cfg = compose(
        [f"horizon_days={days}", "strategy=zero_to_one", "strategy.phases.0.daily_users=1"]
    )
    cfg = {k: v for k, v in cfg.items() if k != "hydra"}
    t = time.perf_counter()
    model = PrivateDomainModel.from_config(cfg)
    build = time.perf_counter() - t
    spent = dict.fromkeys([*PHASES, "datacollector.collect"], 0.0)

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - t0

        return wrapper

    for name in PHASES:
        setattr(model, name, timed(name, getattr(model, name)))
    model.datacollector.collect = timed("datacollector.collect", model.datacollector.collect)
    t = time.perf_counter()
    model.run()
    run_s = time.perf_counter() - t
    t = time.perf_counter()
    model.summary()
    summary_s = time.perf_counter() - t
    phases = sum(spent[p] for p in PHASES)
    ms = {k: round(v / days * 1e3, 4) for k, v in spent.items()}
    ms["mesa_step_machinery"] = round((run_s - phases) / days * 1e3, 4)
    return {
        "days": days,
        "users_total": int(model.population.n),
        "build_s": round(build, 3),
        "run_s": round(run_s, 3),
        "ms_per_day": round(run_s / days * 1e3, 3),
        "summary_s": round(summary_s, 3),
        "ms_per_day_by_part": ms,
        "note": "_account includes datacollector.collect",
    }


def profile(top: int) -> None:
    import cProfile
    import pstats

    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose

    cfg = {k: v for k, v in compose([]).items() if k != "hydra"}
    pr = cProfile.Profile()
    pr.enable()
    PrivateDomainModel.from_config(cfg).run().summary()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(top)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--days", type=int, nargs="+", default=None,
                   help="horizons side by side, the first the reference of the ratios "
                   "(default: a year and three years, see default_horizons)")  # fmt: skip
    p.add_argument("--rounds", type=int, default=2, help="batches per horizon, order alternating")
    p.add_argument("--strategy", default="staged")
    p.add_argument("--chunk-size", type=int, default=None, help="runs per task (default: auto)")
    p.add_argument("--fixed", action="store_true", help="fixed cost per simulated day")
    p.add_argument("--profile", action="store_true", help="cProfile one default run")
    p.add_argument("--morris", action="store_true", help="time the premature-scaling study")
    p.add_argument("--base", help="a commit to measure side by side with this tree")
    p.add_argument("--batch-json", action="store_true", help=argparse.SUPPRESS)  # `--base`'s
    args = p.parse_args()
    days = args.days or default_horizons()
    if args.profile:
        profile(30)
    elif args.morris:
        print(json.dumps(morris(args.jobs)))
    elif args.batch_json:
        batch_json(args.runs, args.jobs, days[0], args.strategy, args.chunk_size)
    elif args.base:
        print(json.dumps(against(
            args.base, args.runs, args.jobs, days, args.strategy, args.chunk_size, args.rounds
        )))  # fmt: skip
    elif args.fixed:
        fixed_cost(30)  # untimed: the process's first run loads the compiled kernels
        for d in days:
            print(json.dumps(fixed_cost(d)))
    else:
        print(json.dumps(side_by_side(
            args.runs, args.jobs, days, args.strategy, args.chunk_size, args.rounds
        )))  # fmt: skip


if __name__ == "__main__":
    main()
