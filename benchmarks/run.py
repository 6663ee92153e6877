"""Benchmark one model size and print one JSON line.

    python benchmarks/run.py --users 1000000 --days 365            # full default model
    python benchmarks/run.py --users 100000 --days 30 --naive      # one Mesa agent per user
    python benchmarks/run.py --users 100000 --days 365 --repeat 3  # medians of 3 fresh runs
    python benchmarks/run.py --users 1000000 --override pool=pyramid  # any config override(s)

Side by side with another commit in one run: check it out elsewhere (`git worktree add
/tmp/base <commit>`) and alternate `PYTHONPATH=/tmp/base python benchmarks/run.py …` with the
plain command (this script builds the model through `model_kwargs`, which both sides have).

The full model is the default scenario the CLI runs (`compose()` of `configs/`), with `users`
imported on day 0 (`initial_users`) and `horizon_days = days`; acquisition and referrals add
users on top during the run. Each measurement runs in a fresh process, so `peak_rss_mb`
(`ru_maxrss`) belongs to that size alone; with `--repeat K` the K runs are separate processes and
the timings are their medians (peak RSS: the largest).

Keys: `build_s` model construction, `run_s` the simulated days (DataCollector included),
`ns_per_user_day` = run_s / (users × days), `cpu_s` the process's CPU time over those days
(less sensitive than wall time to other work on a shared machine), `rows_days` the user rows
actually stepped (imported plus acquired, summed over days) and `ns_per_row_day` =
run_s / rows_days, `import_s` importing the package and composing the config.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# every user row is in exactly one of these stages each day (churned users stay rows)
ROW_STAGES = ("aware", "familiar", "trust", "buy", "rebuy", "churned")


def row_days(daily) -> int:
    """The user rows a run stepped, summed over its days: the daily table's stage counts
    (`ROW_STAGES`; a DataFrame or `{column: values}`, as `run_batch(daily_columns=)` gives)."""
    return int(sum(sum(daily[c]) for c in ROW_STAGES))


def measure(users: int, days: int, naive: bool, seed: int, overrides=()) -> dict:
    """One measurement in this process (call it in a fresh one)."""
    t0 = time.perf_counter()
    from sim.experiment.config import compose, model_kwargs

    cfg = compose([f"initial_users={users}", f"horizon_days={days}", f"seed={seed}", *overrides])
    if naive:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from naive import NaiveModel
    else:
        from sim.core.model import PrivateDomainModel
    t1 = time.perf_counter()
    model = NaiveModel(cfg, users, seed) if naive else PrivateDomainModel(**model_kwargs(cfg))
    t2, c2 = time.perf_counter(), time.process_time()
    if naive:
        for _ in range(days):
            model.step()
        rows_days = users * days
    else:
        model.run(days)
        rows_days = row_days(model.daily())
    t3, c3 = time.perf_counter(), time.process_time()
    run_s = t3 - t2
    return {
        "users": users,
        "days": days,
        "naive": naive,
        "overrides": list(overrides),
        "import_s": round(t1 - t0, 4),
        "build_s": round(t2 - t1, 4),
        "run_s": round(run_s, 4),
        "ns_per_user_day": round(run_s / (users * days) * 1e9, 2),
        "cpu_s": round(c3 - c2, 4),
        "rows_days": rows_days,
        "ns_per_row_day": round(run_s / rows_days * 1e9, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def fresh(users: int, days: int, naive: bool, seed: int, overrides=()) -> dict:
    """One measurement in a fresh Python process."""
    cmd = (
        [
            sys.executable,
            __file__,
            "--users",
            str(users),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--in-process",
        ]
        + (["--naive"] if naive else [])
        + [f"--override={o}" for o in overrides]
    )
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    out = dict(runs[0])
    for k in ("import_s", "build_s", "run_s", "ns_per_user_day", "cpu_s", "ns_per_row_day"):
        out[k] = round(statistics.median(r[k] for r in runs), 4)
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    out["repeat"] = len(runs)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--naive", action="store_true", help="one Mesa agent per user (reference)")
    ap.add_argument("--repeat", type=int, default=1, help="fresh runs; report medians")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--override",
        action="append",
        default=[],
        help="a config override as the CLI takes it (e.g. pool=pyramid); repeatable",
    )
    ap.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.in_process:
        result = measure(a.users, a.days, a.naive, a.seed, a.override)
    else:
        runs = [fresh(a.users, a.days, a.naive, a.seed, a.override) for _ in range(a.repeat)]
        result = median_of(runs)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
