"""Robust policy search (issue #24, first increment): which values of a scaling policy's
parameters (DOMAIN §3.2: spend rules, test size, team) give the best NPV across the brands a
strategist might be, checked on brands the search never saw.

Method. The spec (`sim.experiment.optimize_spec`) names the parameters, the brands (seeds 0 …
N−1 of one scenario: common random numbers, the same brands for every trial, so trials differ
by the policy alone) and the objective. optuna searches: TPE for the mean NPV alone; NSGA-II
(two objectives: mean NPV and the downside measure) when a downside is given, whose completed
non-dominated trials are the Pareto front. Trial 0 is the starting point (the scenario's own
values, enqueued), so the search is never worse in-sample than where it started. The study
lives in `<out>/study.db` (SQLite): a killed search resumes, running only the trials still
missing from `trials` (completed ones count); every run goes through the batch engine
(`sim.experiment.batch.run_batch`, cached by config hash under `<out>/evaluations/`, parallel
over brands). Progress: runs done / total with an ETA (`sim.experiment.progress`).

The chosen policy. One objective: the completed trial with the highest mean NPV. Two: among
completed trials whose downside is no worse than the starting point's (the only preset this
increment offers), the one with the highest mean NPV. Ties go to the earlier trial (the
starting point first). Validation: the chosen policy and the starting point re-run on
`fresh_brands` seeds N … N+M−1, none of the search's; a policy that only fits its brands
shows there (selection on a noisy in-sample mean is biased upward: the fresh result is the
estimate to read).
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment.brands import BrandRuns, mean_se
from sim.experiment.calibration import distributions, open_study
from sim.experiment.optimize_spec import DOWNSIDES, Spec, check_spec, downside_value, no_worse
from sim.experiment.progress import Progress
from sim.experiment.study_parameters import Parameter, typed

PROG = "[privsim-optimize]"


@dataclass
class Outcome:
    """One policy over a set of brands: each brand's NPV, their mean, its standard error, the
    downside measure (None without one)."""

    npv: np.ndarray
    downside: float | None

    @property
    def mean(self) -> float:
        return mean_se(self.npv)[0]

    @property
    def se(self) -> float:
        return mean_se(self.npv)[1]


@dataclass
class OptimizeResult:
    spec: Spec
    parameters: list[Parameter]
    base: dict
    start: dict  # the starting point's values
    chosen: dict  # the chosen policy's values
    chosen_trial: int
    trials: pd.DataFrame  # one row per trial: state, values, mean, downside, pareto, chosen
    in_sample: dict[str, Outcome]  # "chosen", "start" on the search's brands
    fresh: dict[str, Outcome]  # the same on the fresh brands
    computed: dict[str, int]  # runs simulated (not read from the cache): search, validation
    seconds: float
    notes: list[str]


def outcome(spec: Spec, npv) -> Outcome:
    npv = np.asarray(npv, dtype=float)
    return Outcome(npv, None if spec.downside is None else downside_value(spec.downside, npv))


def search(spec, parameters, base, start, out, runs: BrandRuns, stream):
    """The optuna study, resumed if `<out>/study.db` holds it, run until `spec.trials` trials
    have completed; trial 0 is the starting point (enqueued unless a completed or waiting trial
    already is)."""
    import optuna
    from optuna.trial import TrialState

    directions = ["maximize"] + ([DOWNSIDES[spec.downside]] if spec.downside else [])
    if spec.downside:
        def sampler(seed):
            return optuna.samplers.NSGAIISampler(population_size=spec.population, seed=seed)
    else:
        def sampler(seed):
            return optuna.samplers.TPESampler(seed=seed)
    study, _, n = open_study(out, spec.name, directions, sampler, spec.sampler_seed)
    if n and stream:
        print(f"{PROG} {n} trials of an interrupted run marked failed (not counted)",
              file=stream, flush=True)  # fmt: skip
    states = (TrialState.COMPLETE, TrialState.WAITING)
    if not any(t.user_attrs.get("start") for t in study.get_trials(False, states=states)):
        study.enqueue_trial(start, user_attrs={"start": True})
    dists = distributions(parameters)
    seeds = range(spec.brands)
    done = len(study.get_trials(False, states=(TrialState.COMPLETE,)))
    runs.prog.total = max(0, spec.trials - done) * spec.brands + 2 * spec.fresh_brands
    while (done := len(study.get_trials(False, states=(TrialState.COMPLETE,)))) < spec.trials:
        trial = study.ask(dists)
        trial.set_user_attr("host", socket.gethostname())  # `fail_interrupted` reads who asked
        trial.set_user_attr("pid", os.getpid())
        [(npv, err)] = runs.metric([typed(base, dict(trial.params))], seeds, spec.metric)
        if npv is None:
            trial.set_user_attr("error", err)
            study.tell(trial, state=TrialState.FAIL)
            continue
        o = outcome(spec, npv)
        trial.set_user_attr("npv", npv)
        study.tell(trial, [o.mean] + ([o.downside] if spec.downside else []))
        if stream:
            print(f"{PROG} trial {trial.number}: {done + 1}/{spec.trials} completed, mean "
                  f"{spec.metric} {o.mean:,.0f} yuan", file=stream, flush=True)  # fmt: skip
    return study


def choose(spec, study):
    """(the chosen trial, the starting point's trial or None, notes), by the rule of the module
    docstring."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    start = next((t for t in done if t.user_attrs.get("start")), None)
    notes, pool = [], done
    if start is None:
        notes.append("the starting point's trial failed: the choice is among the other trials")
    elif spec.downside:
        pool = [t for t in done if no_worse(spec.downside, t.values[1], start.values[1])]
    return max(pool, key=lambda t: (t.values[0], -t.number)), start, notes


def trials_frame(spec, parameters, study, chosen) -> pd.DataFrame:
    front = {t.number for t in study.best_trials} if spec.downside else set()
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name, "start": bool(t.user_attrs.get("start"))}
        row.update({p.key: t.params.get(p.key) for p in parameters})
        vals = t.values or [math.nan, math.nan]
        row[f"mean_{spec.metric}"] = vals[0]
        if spec.downside:
            row[spec.downside] = vals[1]
            row["pareto"] = t.number in front
        row["chosen"] = t.number == chosen.number
        row["error"] = t.user_attrs.get("error", "")
        rows.append(row)
    return pd.DataFrame(rows)


def optimize(spec: Spec, out_dir, *, n_jobs: int = 2, ray_address: str | None = None,
             progress=True, before_runs=None) -> OptimizeResult:  # fmt: skip
    """Check the spec (`check_spec`: nothing runs on a bad one), search, choose, validate on
    fresh brands. `before_runs()` is called once everything is checked."""
    t0 = time.perf_counter()
    base, parameters, start = check_spec(spec)
    if before_runs is not None:
        before_runs()
    out = Path(out_dir)
    stream = None if progress is False else (sys.stderr if progress is True else progress)
    prog = Progress(spec.runs_planned(), stream)
    runs = BrandRuns(base, out / "evaluations", n_jobs, ray_address, prog)
    study = search(spec, parameters, base, start, out, runs, stream)
    computed = {"search": runs.computed}
    best, first, notes = choose(spec, study)
    chosen = typed(base, {p.key: best.params[p.key] for p in parameters})
    fresh_seeds = range(spec.brands, spec.brands + spec.fresh_brands)
    fresh, in_sample = {}, {"chosen": outcome(spec, best.user_attrs["npv"])}
    if first is not None:
        in_sample["start"] = outcome(spec, first.user_attrs["npv"])
    for name, values in (("chosen", chosen), ("start", start)):
        [(npv, err)] = runs.metric([values], fresh_seeds, spec.metric)
        if npv is None:
            notes.append(f"the {name} policy failed on the fresh brands: {err}")
        else:
            fresh[name] = outcome(spec, npv)
    computed["validation"] = runs.computed - computed["search"]
    return OptimizeResult(
        spec, parameters, base, start, chosen, best.number,
        trials_frame(spec, parameters, study, best), in_sample, fresh, computed,
        time.perf_counter() - t0, notes,
    )  # fmt: skip
