"""Throughput of the batch engine and the model's fixed cost per simulated day.

    python benchmarks/batch.py                 # runs/minute, 2 processes, default, 365 days
    python benchmarks/batch.py --runs 40 --jobs 2 --days 365
    python benchmarks/batch.py --fixed         # ms per simulated day at tiny sizes, by phase
    python benchmarks/batch.py --profile       # cProfile of one default run (top functions)
    python benchmarks/batch.py --morris        # the premature-scaling Morris study, timed

`--runs N` evaluates the default scenario (`compose([])`: staged, 365 days) for seeds 0..N-1
through `sim.experiment.batch.run_batch` with `--jobs` local processes (`--chunk-size` runs per
task; default: the engine's), no cache, and prints one JSON line: wall seconds, runs per minute
(including the workers' start-up, and excluding it: from the first finished run on), the mean
seconds per run inside a worker, the share of the workers' time spent simulating
(`workers_busy`: what the engine's overhead leaves; comparable on a busy machine), and the load
average of the machine while it ran (the machine is shared: divide by its cores to see
contention).

`--fixed` runs one tiny model (1 user a day, `--days` days) and times each phase of `step()`
(`sim.core.model` docstring) by wrapping the model's phase methods, plus Mesa's own step
machinery (run time minus the phases) and the DataCollector's `collect`: the cost every day pays
whatever the population, i.e. the floor of a short study's run time.

`--morris` runs the study of configs/sensitivity/premature_scaling.yaml as specified (Morris
screening of 12 parameters, r = 10 trajectories, 2 seeds, both arms paired: 520 runs of 365 days)
with `--jobs` processes, no cache, and prints its wall time, runs per minute and the load average.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

logging.getLogger("MESA").setLevel(logging.WARNING)


def throughput(runs: int, jobs: int, days: int, strategy: str, chunk: int | None = None) -> dict:
    from sim.experiment.batch import Evaluation, run_batch
    from sim.experiment.config import compose

    base = compose([f"horizon_days={days}", f"strategy={strategy}"])
    evs = [Evaluation({}, seed=s) for s in range(runs)]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = run_batch(base, evs, n_jobs=jobs, chunk_size=chunk, progress=False)
    wall = time.perf_counter() - t0
    per_run = [r.seconds for r in results]
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
        # the share of the workers' wall time spent simulating: the engine's own overhead
        # (start-up, hand-over, the tail) is the rest; robust to a busy machine, unlike runs/min
        "workers_busy": round(sum(per_run) / (wall * min(jobs, runs)), 3),
        "chunk_size": chunk,
        "failed": sum(not r.ok for r in results),
        "load_avg_before": round(load0, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
    }


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
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--strategy", default="staged")
    p.add_argument("--chunk-size", type=int, default=None, help="runs per task (default: auto)")
    p.add_argument("--fixed", action="store_true", help="fixed cost per simulated day")
    p.add_argument("--profile", action="store_true", help="cProfile one default run")
    p.add_argument("--morris", action="store_true", help="time the premature-scaling study")
    args = p.parse_args()
    if args.profile:
        profile(30)
    elif args.morris:
        print(json.dumps(morris(args.jobs)))
    elif args.fixed:
        print(json.dumps(fixed_cost(args.days)))
    else:
        print(
            json.dumps(throughput(args.runs, args.jobs, args.days, args.strategy, args.chunk_size))
        )


if __name__ == "__main__":
    main()
