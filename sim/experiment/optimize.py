"""Robust policy search (issue #24): which values of a scaling policy's parameters (DOMAIN §3.2:
spend rules, test size, team) give the best NPV across the brands a strategist might be, checked
on brands the search never saw beside the presets a strategist would otherwise pick.

Method. The spec (`sim.experiment.optimize_spec`) names the parameters, the brands (seeds 0 …
N−1 of one scenario: common random numbers, the same brands in the same order for every trial,
so trials differ by the policy alone) and the objective. optuna searches: TPE for the mean NPV
alone; NSGA-II (two objectives: mean NPV and the downside measure) when a downside is given,
whose completed non-dominated trials are the Pareto front. The first trials are the starting
points (the scenario's own values, then the spec's `starts`, enqueued), always scored on every
brand. The study lives in `<out>/study.db` (SQLite): a killed search resumes, running only the
trials still missing from `trials` (completed and pruned ones count); every run goes through
the batch engine (`sim.experiment.batch.run_batch`, cached by config hash under
`<out>/evaluations/`, parallel over brands, on local processes or Ray). Progress: runs done /
total with an ETA (`sim.experiment.progress`).

Cheap trials first. With `prune` (one objective only: optuna's `Trial.should_prune` does not
support multi-objective studies), a trial is scored rung by rung (its first 2 brands, then 6, …)
and stopped by optuna's `SuccessiveHalvingPruner` at a rung where its mean over those brands
is not among the best of the trials scored there; with `prune.futility` (α) it is also
stopped at a rung where the chance that its mean over all the brands ends above the best
completed trial's (the incumbent), predicted from its paired differences to the incumbent so
far, is below α over the number of rungs (`sim.experiment.futility` derives the rule). A
pruned trial is never chosen, its runs stay cached, and the runs it did not make are counted
as saved.

Idle workers. A trial's brands go out in small batches (one per rung), each waiting for its
slowest run; the validation's runs that no trial decides (the starting points and the presets
on the fresh brands, the presets on the search's) go to whichever local worker such a batch
leaves idle (`sim.experiment.backfill`), so the search's numbers are unchanged and the
validation finds most of its runs cached.

The chosen policy. One objective: the completed trial with the highest mean NPV, so never
worse in-sample than any starting point. Two: among completed trials whose downside is no
worse than the best starting point's, the one with the highest mean NPV, so no starting point
beats it on both. Ties go to the earlier trial (the starting points first). Validation: the
chosen policy, every starting point and every preset (`presets`: other strategies, which the
search does not vary) re-run on `fresh_brands` seeds N … N+M−1, none of the search's; the
presets also on the search's brands, so both tables pair every policy with the chosen one
brand by brand. A policy that only fits its brands shows there (selection on a noisy
in-sample mean is biased upward: the fresh result is the estimate to read).

Which parameters matter: optuna's fANOVA (`FanovaImportanceEvaluator`, Hutter et al. 2014)
fits a random forest to the completed trials' mean NPV and gives each parameter's main effect
(the variance it explains alone) as a share of all main effects, once there are at least as
many completed trials as TPE draws at random before it models (`n_startup_trials`): fewer do
not cover the space. It needs scikit-learn (the `study` extra); optuna 5's default evaluator,
PED-ANOVA, does not, but asks for at least 5 trials in its top 10 %, i.e. 50 trials. Where
pruning left fewer completed trials than that, every finished trial (completed or pruned) has
been scored on the first rung's brands, the same brands for each: fANOVA then reads their mean
NPV there (a noisier target, on fewer brands, and the report says which it read).
"""

from __future__ import annotations

import inspect
import math
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment.backfill import Backfill
from sim.experiment.brands import BrandRuns
from sim.experiment.calibration import distributions, open_study
from sim.experiment.futility import win_probability
from sim.experiment.optimize_spec import (
    CHOSEN,
    DOWNSIDES,
    START,
    Spec,
    check_offered,
    check_spec,
    downside_value,
    no_worse,
)
from sim.experiment.progress import Progress
from sim.experiment.study_parameters import Parameter, typed

PROG = "[privsim-optimize]"
BASE = "search"  # the searched policy's base config in `run_batch`'s bases
PRESET = "preset:"  # + a preset's name: its base config there (no preset can shadow BASE)
PRUNED_HOW = {"halving": "pruned: not among the best on them",
              "futility": "pruned: unlikely to end above the best completed trial"}  # fmt: skip


@dataclass
class Outcome:
    """One policy over a set of brands: each brand's NPV, their mean, its standard error, the
    downside measure (None without one)."""

    npv: np.ndarray
    downside: float | None

    @property
    def mean(self) -> float:
        return float(np.mean(self.npv))

    @property
    def se(self) -> float:
        return standard_error(self.npv)


def standard_error(x: np.ndarray) -> float:
    """Standard deviation (divisor n − 1) / √n; NaN for one value."""
    return float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


@dataclass
class OptimizeResult:
    spec: Spec
    parameters: list[Parameter]
    base: dict
    start: dict  # the scenario's values (the first starting point)
    chosen: dict  # the chosen policy's values
    chosen_trial: int
    trials: pd.DataFrame  # one row per trial: state, values, mean, downside, pareto, chosen
    in_sample: dict[str, Outcome]  # by policy ("chosen", "start", starts, presets), search brands
    fresh: dict[str, Outcome]  # the same on the fresh brands
    computed: dict[str, int]  # runs simulated (not read from the cache): search, validation;
    # saved: the runs pruned trials did not make; ahead: validation runs made during the search
    seconds: float
    notes: list[str]
    starts: dict = field(default_factory=dict)  # every starting point's values, "start" first
    failed: list[str] = field(default_factory=list)  # validation failures (exit 1)
    importances: dict[str, float] | None = None  # fANOVA's share per parameter; None: too few
    importance_basis: str = ""  # the mean fANOVA read (`importances`), in words


def outcome(spec: Spec, npv) -> Outcome:
    npv = np.asarray(npv, dtype=float)
    return Outcome(npv, None if spec.downside is None else downside_value(spec.downside, npv))


class _Runs(BrandRuns):
    """The search's runs: the objective's metric, the searched policy on its base `BASE`."""

    def __init__(self, spec, bases, out, n_jobs, ray_address, prog):
        super().__init__(bases, out / "evaluations", n_jobs, ray_address, prog, spec.uncertainty)
        self.spec = spec

    def npv(self, policies: dict) -> dict:
        """{key: (NPVs or None, error)} for `{key: (base, values, seeds)}`, in one batch."""
        return self.named(policies, self.spec.metric)

    def trial(self, values: dict, seeds: range) -> tuple[list[float] | None, str]:
        return self.npv({"trial": (BASE, values, seeds)})["trial"]


def _sampler(spec: Spec):
    import optuna

    if spec.downside:
        return lambda seed: optuna.samplers.NSGAIISampler(population_size=spec.population,
                                                          seed=seed)  # fmt: skip
    return lambda seed: optuna.samplers.TPESampler(seed=seed)


def search(spec, parameters, base, starts, out, runs: _Runs, stream):
    """The optuna study, resumed if `<out>/study.db` holds it, run until `spec.trials` trials
    have finished (completed or pruned); the starting points come first (each enqueued unless
    a completed or waiting trial already is it)."""
    import optuna
    from optuna.trial import TrialState

    directions = ["maximize"] + ([DOWNSIDES[spec.downside]] if spec.downside else [])
    rungs = spec.rungs()
    pruner = (optuna.pruners.SuccessiveHalvingPruner(min_resource=rungs[0],
              reduction_factor=spec.prune[1]) if rungs else None)  # fmt: skip
    study, _, n = open_study(out, spec.name, directions, _sampler(spec), spec.sampler_seed,
                             pruner=pruner)  # fmt: skip
    if n and stream:
        print(f"{PROG} {n} trials of an interrupted run marked failed (not counted)",
              file=stream, flush=True)  # fmt: skip
    have = {t.user_attrs.get("start") for t in
            study.get_trials(False, states=(TrialState.COMPLETE, TrialState.WAITING))}  # fmt: skip
    for name, values in starts.items():
        if name not in have:
            study.enqueue_trial(values, user_attrs={"start": name})
    dists = distributions(parameters)
    checks = spec.checks()
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(study.get_trials(False, states=finished))
    runs.prog.total -= min(done, spec.trials) * spec.brands
    while (done := len(study.get_trials(False, states=finished))) < spec.trials:
        trial = study.ask(dists)
        trial.set_user_attr("host", socket.gethostname())  # `fail_interrupted` reads who asked
        trial.set_user_attr("pid", os.getpid())
        values, is_start = typed(base, dict(trial.params)), bool(trial.user_attrs.get("start"))
        npv, err, pruned, before = [], "", "", runs.prog.done
        best = incumbent(study) if checks else None
        for lo, hi in zip([0, *rungs], [*rungs, spec.brands], strict=True):
            part, err = runs.trial(values, range(lo, hi))
            if part is None:
                break
            npv += part
            if hi < spec.brands:
                trial.report(float(np.mean(npv)), step=hi)
                # a starting point is scored at every rung (the others compete with it there)
                # but never stopped: the guarantee and the tables need it on every brand
                halved = trial.should_prune()
                futile = best is not None and (
                    win_probability(npv, best, spec.brands) < spec.futility / len(checks))
                if (halved or futile) and not is_start:
                    pruned = "halving" if halved else "futility"
                    break
        if err:
            trial.set_user_attr("error", err)
            study.tell(trial, state=TrialState.FAIL)
            runs.prog.total += runs.prog.done - before  # another trial takes its place
            continue
        trial.set_user_attr("npv", npv)
        if pruned:
            runs.prog.total -= spec.brands - len(npv)
            trial.set_user_attr("pruned_by", pruned)
            study.tell(trial, state=TrialState.PRUNED)
            how = PRUNED_HOW[pruned]
        else:
            o = outcome(spec, npv)
            study.tell(trial, [o.mean] + ([o.downside] if spec.downside else []))
            how = "completed"
        if stream:
            print(f"{PROG} trial {trial.number}: {done + 1}/{spec.trials} finished, mean "
                  f"{spec.metric} over its {len(npv)} brands {np.mean(npv):,.0f} yuan, {how}",
                  file=stream, flush=True)  # fmt: skip
    return study


def incumbent(study) -> list[float] | None:
    """The best completed trial's NPVs by brand (the earlier one on a tie), None before any."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return max(done, key=lambda t: (t.values[0], -t.number)).user_attrs["npv"] if done else None


def choose(spec, study):
    """(the chosen trial, the starting points' completed trials by name, notes), by the rule
    of the module docstring."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    starts = {t.user_attrs["start"]: t for t in done if t.user_attrs.get("start")}
    notes, pool = [], done
    if START not in starts:
        notes.append("the starting point's trial failed: the choice is among the other trials")
    if spec.downside and starts:
        pick = max if DOWNSIDES[spec.downside] == "maximize" else min
        best = pick(t.values[1] for t in starts.values())
        pool = [t for t in done if no_worse(spec.downside, t.values[1], best)]
    return max(pool, key=lambda t: (t.values[0], -t.number)), starts, notes


def trials_frame(spec, parameters, study) -> pd.DataFrame:
    """One row per trial (`OptimizeResult.trials`; `chosen` is set by the caller)."""
    front = {t.number for t in study.best_trials} if spec.downside else set()
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name, "start": t.user_attrs.get("start", "")}
        row.update({p.key: t.params.get(p.key) for p in parameters})
        vals = t.values or [math.nan, math.nan]
        row[f"mean_{spec.metric}"] = vals[0]
        if spec.downside:
            row[spec.downside] = vals[1]
            row["pareto"] = t.number in front
        row["brands"] = len(t.user_attrs.get("npv", []))
        row["pruned_by"] = t.user_attrs.get("pruned_by", "")
        row["error"] = t.user_attrs.get("error", "")
        rows.append(row)
    return pd.DataFrame(rows)


def importances(spec, study) -> tuple[dict | None, str, str]:
    """fANOVA's share of the mean NPV's variance per parameter, the mean it read (over every
    brand, the completed trials'; or over the first rung's brands, every finished trial's,
    where pruning left too few completed: module docstring), or None and why not."""
    import optuna
    from optuna.trial import TrialState

    least = inspect.signature(optuna.samplers.TPESampler).parameters["n_startup_trials"].default
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    basis = f"the completed trials' mean NPV over all {spec.brands} search brands"
    if len(done) < least and spec.rungs():
        k = spec.rungs()[0]
        scored = [t for t in study.get_trials(
            deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
            if len(t.user_attrs.get("npv", ())) >= k]  # fmt: skip
        if len(scored) >= least:
            first = optuna.create_study(direction="maximize")
            first.add_trials([optuna.trial.create_trial(
                params=t.params, distributions=t.distributions,
                value=float(np.mean(t.user_attrs["npv"][:k]))) for t in scored])  # fmt: skip
            brands = f"first {k} search brands" if k > 1 else "first search brand"
            basis = (f"every finished trial's mean NPV over the {brands} (the first rung, which "
                     f"all {len(scored)} reached; {len(done)} completed)")
            study, done = first, scored
    if len(done) < least:
        return None, (f"{len(done)} completed trials: too few for fANOVA's importances (at "
                      f"least {least}, the random draws TPE starts with, cover the space)"), ""
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=spec.sampler_seed)
        shares = optuna.importance.get_param_importances(
            study, evaluator=evaluator, target=lambda t: t.values[0])
    except ImportError:
        return None, "fANOVA's importances need scikit-learn: pip install -e '.[study]'", ""
    except RuntimeError as e:  # e.g. every completed trial scored the same
        return None, f"no fANOVA importances: {e}", ""
    return dict(shares), "", basis


def fresh_seeds(spec) -> range:
    return range(spec.brands, spec.brands + spec.fresh_brands)


def foreseen(spec, starts, presets) -> dict:
    """The validation's runs that no trial decides, `{(policy, "fresh" | "search"): (base,
    values, seeds)}`: every starting point on the fresh brands, every preset on both."""
    todo = {(n, "fresh"): (BASE, v, fresh_seeds(spec)) for n, v in starts.items()}
    for name in presets:
        todo[name, "fresh"] = (PRESET + name, {}, fresh_seeds(spec))
        todo[name, "search"] = (PRESET + name, {}, range(spec.brands))
    return todo


def validate(spec, chosen, starts, trials, runs: _Runs, presets) -> tuple[dict, dict, list]:
    """(in-sample outcomes, fresh outcomes, failures): the chosen policy, every starting point
    and every preset on the fresh brands, the presets also on the search's, in one batch;
    `trials`: the search's completed trials of the chosen policy and the starting points."""
    todo = {(CHOSEN, "fresh"): (BASE, chosen, fresh_seeds(spec)),
            **foreseen(spec, starts, presets)}  # fmt: skip
    in_sample = {n: outcome(spec, t.user_attrs["npv"]) for n, t in trials.items()}
    out, failed = {}, []
    for (name, where), (npv, err) in runs.npv(todo).items():
        if npv is None:
            brands = "fresh brands" if where == "fresh" else "search's brands"
            failed.append(f"the {name} policy failed on the {brands}: {err}")
        else:
            (out if where == "fresh" else in_sample)[name] = outcome(spec, npv)
    order = [CHOSEN, *starts, *presets]  # the tables' order
    return ({n: in_sample[n] for n in order if n in in_sample},
            {n: out[n] for n in order if n in out}, failed)  # fmt: skip


def optimize(spec: Spec, out_dir, *, n_jobs: int = 2, ray_address: str | None = None,
             progress=True, before_runs=None) -> OptimizeResult:  # fmt: skip
    """Check the spec (`check_spec`, `check_offered`: nothing runs on a bad one), search,
    choose, validate on fresh brands. `before_runs()` is called once everything is checked."""
    t0 = time.perf_counter()
    base, parameters, start = check_spec(spec)
    starts, presets = check_offered(spec, parameters, start)
    if before_runs is not None:
        before_runs()
    out = Path(out_dir)
    stream = None if progress is False else (sys.stderr if progress is True else progress)
    prog = Progress(spec.runs_planned(), stream)
    bases = {BASE: base, **{PRESET + n: cfg for n, cfg in presets.items()}}
    runs = _Runs(spec, bases, out, n_jobs, ray_address, prog)
    if n_jobs > 1 and ray_address is None:  # local processes outlive a batch (backfill.py)
        evs = [runs.evaluation(b, v, s) for b, v, seeds in
               foreseen(spec, starts, presets).values() for s in seeds]  # fmt: skip
        runs.backfill = Backfill(bases, evs, runs.cache, prog)
    notes = []
    if spec.prune and spec.downside:
        notes.append("no pruning: optuna prunes single-objective studies only "
                     "(Trial.should_prune does not support multi-objective ones)")  # fmt: skip
    elif spec.prune and not spec.rungs():
        notes.append(f"no pruning: prune.brands ({spec.prune[0]}) is not below brands.count "
                     f"({spec.brands}), so no trial could stop early")  # fmt: skip
    study = search(spec, parameters, base, starts, out, runs, stream)
    trials = trials_frame(spec, parameters, study)
    pruned = trials.loc[trials["state"] == "PRUNED", "brands"]
    computed = {"search": runs.computed, "saved": int((spec.brands - pruned).sum())}
    best, start_trials, more = choose(spec, study)
    trials["chosen"] = trials["trial"] == best.number
    notes += more
    chosen = typed(base, {p.key: best.params[p.key] for p in parameters})
    scored = {CHOSEN: best, **{n: start_trials[n] for n in starts if n in start_trials}}
    in_sample, fresh, failed = validate(spec, chosen, starts, scored, runs, presets)
    ahead = runs.backfill.computed if runs.backfill else 0
    computed["validation"] = runs.computed - computed["search"] + ahead
    computed["ahead"] = ahead
    shares, why, basis = importances(spec, study)
    if why:
        notes.append(why)
    return OptimizeResult(
        spec, parameters, base, start, chosen, best.number,
        trials, in_sample, fresh, computed,
        time.perf_counter() - t0, notes, starts, failed, shares, basis,
    )  # fmt: skip
