"""Goal seek (issue #24): the everyday questions as one-dimensional searches over one config key —
"the smallest team that keeps 30-day conversion ≥ x at y users" (DOMAIN §2.2: conversion decays
as users per operator grow), "the daily budget that maximises 2-year NPV with at most z % chance
of a loss" (DOMAIN §3.2, §4). The question is a `sim.experiment.goal_spec.GoalSpec`.

One engine: a value of the key is evaluated on the spec's brands (seeds 0 … N−1, the same for
every value: common random numbers, `sim.experiment.brands`), giving the metric on each brand;
its mean over brands is what the search reads. Values lie on a grid of `steps` intervals of the
range (the answer's resolution), and each is evaluated once (cached runs under
`<out>/evaluations/`: a re-run into the same folder simulates nothing).

- `smallest` / `largest`: `grid` values evenly over the range (both ends), then bisection on the
  grid between the last value that fails `keep` and the first that meets it, assuming that once
  met the constraint stays met as the value grows (`largest`: as it shrinks). Bisection needs
  about log2(steps / grid) more values and finds a threshold exactly when that assumption holds;
  the first grid is what can show it does not: a value that meets the constraint below (beyond)
  one that fails contradicts it. The answer is then the smallest value from which on every
  probed value meets it, and the contradicting values are reported. Met at the range's own end:
  "met everywhere probed" (the answer may lie beyond the range); met nowhere: no answer.
- `best`: `grid` values, then `refine` rounds of `grid` values between the best feasible value's
  probed neighbours. Feasible: loss probability (share of brands whose metric is < 0) at most
  the cap. Why not golden-section: it assumes one peak and noise-free values, and a wrong step
  on a noisy mean discards the optimum's side for good; optuna's 1-D samplers are random and
  spend their budget anywhere. A grid and its refinement are deterministic, show the whole
  curve (every value is a point of the figure), and check the cap at every value. The answer:
  the feasible value with the highest mean (ties: the smaller value).

Same spec ⇒ same values probed ⇒ same answer (the runs are deterministic per seed).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.experiment.brands import BrandRuns, mean_se
from sim.experiment.goal_spec import GoalSpec, check_spec, grid_value
from sim.experiment.optimize_spec import downside_value
from sim.experiment.progress import Progress

PROG = "[privsim-goal]"


class ProbeFailed(RuntimeError):
    """A value whose runs failed or whose metric is not finite on some brand."""


@dataclass
class Probe:
    """One value evaluated: the metric on each brand, and whether it meets the question's
    constraint (`smallest`/`largest`: `keep` on the mean; `best`: the loss cap)."""

    index: int  # on the range's grid, 0 … steps
    value: float
    brands: np.ndarray
    phase: str  # grid, bisection, refine <round>
    order: int  # 1, 2, … in the order evaluated
    meets: bool = False

    @property
    def mean(self) -> float:
        return mean_se(self.brands)[0]

    @property
    def se(self) -> float:
        return mean_se(self.brands)[1]

    @property
    def loss(self) -> float:
        return downside_value("loss_probability", self.brands)


@dataclass
class GoalResult:
    spec: GoalSpec  # checked: the parameter's `integer` and `steps` settled
    probes: list[Probe]  # in the order evaluated
    answer: Probe | None
    neighbours: list[Probe]  # the probed values next to the answer (smallest: the one failing)
    outcome: str  # found | everywhere | nowhere | infeasible
    contradicting: list[Probe] = field(default_factory=list)  # against the monotone assumption
    notes: list[str] = field(default_factory=list)
    computed: int = 0  # runs simulated (the rest read from the cache)
    seconds: float = 0.0


def grid_indices(lo: int, hi: int, n: int) -> list[int]:
    """`n` grid indices evenly from `lo` to `hi`, both included, without repeats."""
    return list(dict.fromkeys(int(round(x)) for x in np.linspace(lo, hi, n)))


class Prober:
    """Values by grid index, each evaluated once, in batches; `evaluate(values) -> one array of
    the metric per brand for each value` (the batch engine, or a test's stand-in)."""

    def __init__(self, spec: GoalSpec, evaluate: Callable[[list], list]):
        self.spec, self.evaluate = spec, evaluate
        self.at: dict[int, Probe] = {}

    def run(self, indices, phase: str) -> None:
        spec, p = self.spec, self.spec.parameter
        new = [k for k in dict.fromkeys(indices) if k not in self.at]
        values = {k: grid_value(p, spec.steps, k) for k in new}
        distinct = list(dict.fromkeys(values.values()))  # a rounded log grid repeats values
        arrays = dict(zip(distinct, self.evaluate(distinct), strict=True)) if distinct else {}
        for k in new:
            probe = Probe(k, values[k], np.asarray(arrays[values[k]], dtype=float), phase,
                          len(self.at) + 1)  # fmt: skip
            probe.meets = self.meets(probe)
            self.at[k] = probe

    def meets(self, probe: Probe) -> bool:
        if self.spec.keep is not None:
            return self.spec.keep.holds(probe.mean)
        return self.spec.loss_cap is None or probe.loss <= self.spec.loss_cap

    def sorted(self) -> list[Probe]:
        return [self.at[k] for k in sorted(self.at)]


def threshold(spec: GoalSpec, prober: Prober) -> GoalResult:
    """`smallest` / `largest` (module docstring): walk the grid from the end where the
    constraint should fail towards the end where it should hold."""
    n = spec.steps
    prober.run(grid_indices(0, n, spec.grid), "grid")
    walk = prober.sorted() if spec.search == "smallest" else prober.sorted()[::-1]
    fails = [i for i, q in enumerate(walk) if not q.meets]
    if not fails:
        return GoalResult(spec, [], walk[0], [], "everywhere")
    last = fails[-1]
    if last == len(walk) - 1:
        return GoalResult(spec, [], None, [], "nowhere")
    contradicting = [q for q in walk[:last] if q.meets]
    lo, hi = walk[last].index, walk[last + 1].index  # fails, meets
    while abs(hi - lo) > 1:
        mid = (lo + hi) // 2
        prober.run([mid], "bisection")
        lo, hi = (lo, mid) if prober.at[mid].meets else (mid, hi)
    return GoalResult(spec, [], prober.at[hi], [prober.at[lo]], "found", contradicting)


def best(spec: GoalSpec, prober: Prober) -> GoalResult:
    """`best` (module docstring)."""

    def top() -> Probe | None:
        feasible = [q for q in prober.sorted() if q.meets]
        return max(feasible, key=lambda q: (q.mean, -q.index)) if feasible else None

    prober.run(grid_indices(0, spec.steps, spec.grid), "grid")
    for r in range(spec.refine):
        if (b := top()) is None:
            break
        ks = sorted(prober.at)
        i = ks.index(b.index)
        new = grid_indices(ks[max(i - 1, 0)], ks[min(i + 1, len(ks) - 1)], spec.grid)
        if all(k in prober.at for k in new):
            break  # the grid is no finer there
        prober.run(new, f"refine {r + 1}")
    answer = top()
    if answer is None:
        return GoalResult(spec, [], None, [], "infeasible")
    ks = sorted(prober.at)
    i = ks.index(answer.index)
    near = [prober.at[ks[j]] for j in (i - 1, i + 1) if 0 <= j < len(ks)]
    return GoalResult(spec, [], answer, near, "found")


def runs_planned(spec: GoalSpec) -> int:
    """Runs at most: the first grid, then bisection or the refinements, times the brands."""
    if spec.search == "best":
        values = spec.grid * (1 + spec.refine)
    else:
        values = spec.grid + math.ceil(math.log2(max(2, math.ceil(spec.steps / (spec.grid - 1)))))
    return values * spec.brands


def search(spec: GoalSpec, evaluate: Callable[[list], list]) -> GoalResult:
    """Answer a checked spec with `evaluate` (see `Prober`); notes say what to read with care."""
    prober = Prober(spec, evaluate)
    result = (best if spec.search == "best" else threshold)(spec, prober)
    result.probes = sorted(prober.at.values(), key=lambda q: q.order)
    a, n = result.answer, spec.steps
    if result.outcome == "everywhere":
        result.notes.append(
            "the constraint holds already at the range's end: the answer may lie beyond it; "
            "widen the range to find where it stops holding"
        )
    if result.contradicting:
        vals = ", ".join(f"{q.value:g}" for q in result.contradicting)
        result.notes.append(
            f"the probes contradict the assumption that the constraint, once met, stays met: it "
            f"holds at {vals}, beyond a value where it fails; the answer is the value from "
            "which on every probed value meets it"
        )
    if spec.search == "best" and a is not None and a.index in (0, n):
        result.notes.append("the best value lies at the range's end: the optimum may lie beyond "
                            "it; widen the range")  # fmt: skip
    if spec.keep is not None and a is not None and abs(a.mean - spec.keep.threshold) < 2 * a.se:
        result.notes.append("the answer's mean is within 2 standard errors of the threshold: "
                            "other brands could move the answer; the paired differences between "
                            "values are the precise part")  # fmt: skip
    if spec.search == "best" and any(abs(d) < 2 * se for d, se in
                                     (mean_se(a.brands - q.brands) for q in result.neighbours)):
        result.notes.append("a neighbouring value is within 2 standard errors of the answer, "
                            "paired by brand: the optimum is flat there")  # fmt: skip
    return result


def seek(spec: GoalSpec, out_dir, *, n_jobs: int = 2, ray_address: str | None = None,
         progress=True, before_runs=None) -> GoalResult:  # fmt: skip
    """Check the spec (`check_spec`: nothing runs on a bad one), then answer it on the batch
    engine; `before_runs()` is called once everything is checked."""
    t0 = time.perf_counter()
    base, spec = check_spec(spec)
    if before_runs is not None:
        before_runs(spec)
    stream = None if progress is False else (sys.stderr if progress is True else progress)
    runs = BrandRuns(base, Path(out_dir) / "evaluations", n_jobs, ray_address,
                     Progress(runs_planned(spec), stream), spec.uncertainty)  # fmt: skip
    key, seeds = spec.parameter.key, range(spec.brands)

    def evaluate(values: list) -> list:
        out = []
        for v, (vals, err) in zip(values, runs.metric([{key: v} for v in values], seeds,
                                                      spec.metric.key), strict=True):  # fmt: skip
            if vals is None:
                raise ProbeFailed(f"{key} = {v:g}: {err}")
            out.append(vals)
        return out

    result = search(spec, evaluate)
    result.computed, result.seconds = runs.computed, time.perf_counter() - t0
    return result


def probes_frame(result: GoalResult):
    """One row per value evaluated, in the order evaluated: the phase, the value, the mean over
    brands and its standard error, the loss probability, whether it meets the constraint,
    whether it is the answer, and the metric on each brand (`brand_<seed>`); the loss
    probability only for a metric in yuan."""
    import pandas as pd

    spec, m = result.spec, result.spec.metric.key
    rows = []
    for q in result.probes:
        row = {"probe": q.order, "phase": q.phase, spec.parameter.key: q.value,
               f"mean_{m}": q.mean, f"se_{m}": q.se}  # fmt: skip
        if spec.metric.money:
            row["loss_probability"] = q.loss
        row.update(meets=q.meets, answer=q is result.answer)
        row.update({f"brand_{s}": v for s, v in enumerate(q.brands)})
        rows.append(row)
    return pd.DataFrame(rows)
