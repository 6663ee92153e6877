"""How busy a policy search kept its workers, load-independently: replay its runs' measured
seconds through the two ways of scheduling them (issue #24's reference search).

`privsim-optimize` writes every run it made to `<out>/evaluations/` with the seconds it took
in its worker, and the trials to `<out>/study.db`. This replays them on W workers, each run
costing its measured seconds (so the comparison does not depend on the machine's load while
replaying; the seconds themselves were measured under whatever load there was):

- *barrier*: each trial's brands in batches between its stops (the pruning rungs and
  futility checks), each batch list-scheduled in order and waited for in full, then the
  validation's runs as one batch (sim.experiment.optimize before the backfill);
- *backfill*: the same batches, but a worker a batch leaves idle takes the next of the
  validation's runs that no trial decides (sim.experiment.backfill); the validation batch then
  runs the chosen policy's fresh brands and whatever the backfill left.

It prints runs, run-years, the runs' summed seconds, the replayed wall time and the idle worker
time (W × wall − summed seconds) of each. The main process's own time (optuna, the cache,
starting the workers) is not in the replay.

    python benchmarks/search_schedule.py /tmp/refsearch --stops 2,6 --brands 10 --horizon 1095
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sim.experiment.batch import default_chunk_size
from sim.experiment.futility import win_probability


def load(out: Path):
    """(trials: [(number, state, params, value, NPVs by brand)], runs: {(base, values, seed):
    seconds})."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{out / 'study.db'}"
    name = optuna.get_all_study_names(storage)[0]
    study = optuna.load_study(study_name=name, storage=storage)
    trials = [(t.number, t.state.name, t.params, (t.values or [None])[0], t.user_attrs["npv"])
              for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]  # fmt: skip
    runs = {}
    for p in (out / "evaluations").glob("*.json"):
        d = json.loads(p.read_text())
        runs[d["base"], key(d["values"]), d["seed"]] = d["seconds"]
    return trials, runs


def key(values: dict) -> tuple:
    return tuple(sorted((k, float(v)) for k, v in values.items()))


def tasks(costs: list[float], workers: int) -> list[float]:
    """A batch's tasks as `run_batch` cuts them (several runs per task on long batches)."""
    size = default_chunk_size(len(costs), workers)
    return [sum(costs[k : k + size]) for k in range(0, len(costs), size)]


def replay(batches: list[list[float]], filler: list[float], last: list[float],
           workers: int) -> float:  # fmt: skip
    """Wall time of `batches` run one after the other on `workers` (each batch's tasks handed
    out in order to the first free worker, the batch waited for in full); a worker a batch
    leaves idle takes the next `filler` run; then the filler left and `last` run as one batch,
    once every worker is free."""
    free, filler, t = [0.0] * workers, list(filler), 0.0
    for batch in batches:
        ends = []
        for c in tasks(batch, workers):
            w = free.index(min(free))
            free[w] = max(t, free[w]) + c
            ends.append(free[w])
        t = max(ends)
        while filler and max(min(free), 0) < t:
            w = free.index(min(free))
            free[w] = free[w] + filler.pop(0)
    t = max(t, *free)
    free = [t] * workers
    for c in tasks(filler + last, workers):
        w = free.index(min(free))
        free[w] += c
    return max(free)


def futile(trials, alpha: float, checks: list[int], brands: int):
    """The trials as the futility rule (sim.experiment.futility) would have cut them, assuming
    the search had proposed the same trials: an estimate, since cutting changes what TPE
    proposes next. A cut trial keeps its first brands and counts as pruned."""
    out, best = [], None
    for number, state, params, value, npv in trials:
        for k in checks if best is not None and number > 0 else []:
            if len(npv) > k and win_probability(npv[:k], best, brands) < alpha / len(checks):
                state, value, npv = "PRUNED", None, npv[:k]
                break
        if state == "COMPLETE" and (best is None or np.mean(npv) > np.mean(best)):
            best = npv
        out.append((number, state, params, value, npv))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--stops", default="2", help="the rungs: brands before each check, e.g. 2,6")
    p.add_argument("--brands", type=int, required=True, help="the search's brands.count")
    p.add_argument("--horizon", type=int, default=1095, help="days per run")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--futility", type=float, help="replay as if prune.futility were this α")
    a = p.parse_args(argv)
    trials, runs = load(a.out)
    stops = [int(s) for s in a.stops.split(",") if int(s) < a.brands]
    if a.futility is not None:
        trials = futile(trials, a.futility, stops, a.brands)
    batches = []
    for _, _, params, _, npv in trials:
        ran = len(npv)
        bounds = [0, *[s for s in stops if s < ran], ran]
        cost = [runs["search", key(params), seed] for seed in range(ran)]
        batches += [cost[lo:hi] for lo, hi in zip(bounds, bounds[1:], strict=False)]
    done = [t for t in trials if t[1] == "COMPLETE"]
    chosen = max(done, key=lambda t: (t[3], -t[0]))
    mine = {k for k in runs if k[0] == "search" and k[1] == key(chosen[2]) and k[2] >= a.brands}
    if chosen[0] == min(t[0] for t in trials):  # the starting point: its fresh runs are foreseen
        mine = set()
    validation = {k for k in runs if k[0] != "search" or k[2] >= a.brands}
    foreseen = [runs[k] for k in sorted(validation - mine)]  # a fixed order
    last = [runs[k] for k in sorted(mine)]
    search_s, validation_s = sum(map(sum, batches)), sum(foreseen) + sum(last)
    n_val = len(foreseen) + len(last)
    n = sum(map(len, batches)) + n_val
    print(f"{a.out}: {len(trials)} trials; {n - n_val} search runs + {n_val} validation runs "
          f"({len(last)} of them the chosen policy's) = {n} runs, "
          f"{n * a.horizon / 365:.0f} run-years; {search_s + validation_s:,.0f} s of runs "
          f"({(search_s + validation_s) / n:.2f} s a run) on {a.workers} workers")  # fmt: skip
    for name, filler, tail in (("barrier", [], foreseen + last), ("backfill", foreseen, last)):
        wall = replay(batches, filler, tail, a.workers)
        idle = a.workers * wall - search_s - validation_s
        print(f"  {name}: wall {wall:,.0f} s, idle worker time {idle:,.0f} s "
              f"({idle / (a.workers * wall):.1%} of the workers' time)")


if __name__ == "__main__":
    main()
