"""Global sensitivity analysis of the model's outputs to its assumptions (SALib).

Which assumptions does a result hang on? A *study spec* (`configs/sensitivity/<name>.yaml`,
composed by Hydra, so any entry can be overridden on the command line) names:

- `parameters`: dotted config keys with a range, `{low, high, scale: linear|log, why}`; a log
  range is sampled uniformly in log10 (the right scale for a rate or a cost known to a factor),
  values of integer keys are rounded;
- `outputs`: expressions over summary scalars (see `Output`): `profit`, `rfm.important_value`,
  or a paired difference between two arms on the same seed (the same brand),
  `ltv_cac_90d[staged] - ltv_cac_90d[premature]`;
- `arms`: named scenarios, each a mapping of Hydra overrides on top of `scenario` (e.g.
  `staged: {strategy: staged}`); a spec without arms has one, `base`;
- `method`: `morris` (screening: μ*, the mean absolute elementary effect, with its bootstrap
  interval, and σ) or `sobol` (first-order S1 and total ST indices with bootstrap intervals);
  `samples`: Morris trajectories r (r·(D+1) points) or Sobol's base sample N (N·(D+2) points,
  a power of 2); `levels` (Morris grid); `seeds` per point (each output is the mean over seeds
  0…seeds−1 of its per-seed value, so paired differences stay paired); `sampler_seed`;
  `resamples` (bootstrap); `scenario`: Hydra overrides for every arm (e.g. `horizon_days`);
- `question`: what the study asks, in words; `{horizon}` in it stands for the days the runs
  actually simulate (the report writes them in), so a study shortened on the command line
  (`scenario.horizon_days=180`) never reads as asking about the spec's year.

SALib samples the unit hypercube and computes the indices; nothing here re-implements them.
Every run goes through the batch engine (`sim.experiment.batch`): parallel, cached by config
hash under `<out>/evaluations/` so an interrupted study resumes. A bad spec (unknown key, low ≥
high, a log range with a bound ≤ 0, an unknown output or arm, a value the model's schema
refuses at either bound) raises `ConfigError` naming the entry before any run.

Figures and the report are views (`sim.viz.sensitivity`, `privsim-sensitivity`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.params import ConfigError
from sim.experiment.batch import Evaluation, flatten, results_frame, run_batch, simulate
from sim.experiment.config import compose, override
from sim.experiment.study_parameters import Parameter, check_parameters, parse_parameters
from sim.experiment.study_spec import compose_spec, scenario_of

SPEC_GROUP = "sensitivity"
METHODS = ("morris", "sobol")
SPEC_KEYS = {
    "name", "question", "method", "samples", "levels", "seeds", "sampler_seed", "resamples",
    "scenario", "arms", "parameters", "outputs",
}  # fmt: skip


# ---------------------------------------------------------------------------- outputs

_TERM = re.compile(r"\s*([+-])?\s*([A-Za-z_][\w.]*)\s*(?:\[\s*([A-Za-z_][\w-]*)\s*\])?\s*")


@dataclass(frozen=True)
class Output:
    """An output expression: a sum of signed terms `metric` or `metric[arm]`.

    Syntax: `term (('+' | '-') term)*`, where a term is a summary scalar's dotted key
    (`ltv_cac_90d`, `rfm.important_value`) optionally followed by `[arm]`. A term without an arm
    means the spec's only arm. Terms are evaluated per seed, on runs that share the point and the
    seed, then averaged over seeds: `profit[staged] - profit[premature]` is the paired
    difference, brand by brand.
    """

    text: str
    terms: tuple[tuple[float, str, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> Output:
        s, pos, terms = str(text), 0, []
        while pos < len(s):
            m = _TERM.match(s, pos)
            if not m or m.end() == pos:
                raise ConfigError(f"outputs: {text!r}: cannot parse at {s[pos:]!r}")
            sign, metric, arm = m.groups()
            if terms and sign is None:
                raise ConfigError(f"outputs: {text!r}: expected + or - before {metric!r}")
            terms.append((-1.0 if sign == "-" else 1.0, metric, arm))
            pos = m.end()
        if not terms:
            raise ConfigError(f"outputs: {text!r}: empty")
        return cls(str(text).strip(), tuple(terms))

    def arms(self, default: str) -> list[str]:
        return list(dict.fromkeys(arm or default for _, _, arm in self.terms))

    def value(self, by_arm: dict[str, dict], default: str) -> float:
        """This output for one point and seed, from each arm's flat summary (NaN if missing)."""
        total = 0.0
        for sign, metric, arm in self.terms:
            summary = by_arm.get(arm or default)
            v = None if summary is None else summary.get(metric)
            if v is None or isinstance(v, str):
                return math.nan
            total += sign * float(v)
        return total


# ---------------------------------------------------------------------------- the spec


@dataclass
class Spec:
    name: str
    method: str
    samples: int
    parameters: list[Parameter]
    outputs: list[Output]
    arms: dict[str, dict] = field(default_factory=lambda: {"base": {}})
    scenario: dict = field(default_factory=dict)
    seeds: int = 1
    levels: int = 4
    sampler_seed: int = 0
    resamples: int = 1000
    question: str = ""

    @property
    def default_arm(self) -> str:
        return next(iter(self.arms))

    def problem(self) -> dict:
        return {
            "num_vars": len(self.parameters),
            "names": [p.key for p in self.parameters],
            "bounds": [p.bounds() for p in self.parameters],
        }

    def arm_overrides(self, arm: str) -> list[str]:
        return [override(k, v) for k, v in {**self.scenario, **self.arms[arm]}.items()]

    def points_planned(self) -> int:
        d = len(self.parameters)
        return self.samples * (d + 1) if self.method == "morris" else self.samples * (d + 2)

    def arms_used(self) -> list[str]:
        used = {a for o in self.outputs for a in o.arms(self.default_arm)}
        return [a for a in self.arms if a in used]

    def runs_planned(self) -> int:
        return self.points_planned() * self.seeds * len(self.arms_used())


def spec_from_dict(d: dict) -> Spec:
    """A `Spec` from a plain mapping (a composed spec file, or a test's dict); shape checked,
    each problem named by its key. Keys and values against the model: `check_spec`."""
    d = dict(d)
    if unknown := sorted(set(d) - SPEC_KEYS):
        raise ConfigError(f"{unknown[0]}: unknown spec key; allowed: {sorted(SPEC_KEYS)}")
    method = d.get("method", "morris")
    if method not in METHODS:
        raise ConfigError(f"method = {method!r}: unknown; allowed: {', '.join(METHODS)}")
    ints = {"samples": 1, "seeds": 1, "levels": 2, "resamples": 1, "sampler_seed": 0}
    for key, least in ints.items():
        v = d.get(key, {"samples": None, "seeds": 1, "levels": 4, "resamples": 1000}.get(key, 0))
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise ConfigError(f"{key} = {v!r}: must be an integer >= {least}")
    if method == "sobol" and d["samples"] & (d["samples"] - 1):
        raise ConfigError(f"samples = {d['samples']}: Sobol's base sample N must be a power of 2")
    parameters = parse_parameters(d.get("parameters"))
    if len(parameters) < 2 and method == "sobol":
        raise ConfigError("parameters: Sobol indices need at least two parameters")
    arms = d.get("arms") or {"base": {}}
    if not isinstance(arms, dict) or any(not isinstance(v, dict | None) for v in arms.values()):
        raise ConfigError("arms: expected a mapping `name: {override: value, ...}`")
    arms = {str(k): dict(v or {}) for k, v in arms.items()}
    outputs = d.get("outputs") or []
    if not isinstance(outputs, list) or not outputs:
        raise ConfigError("outputs: give at least one output expression")
    parsed = [Output.parse(o) for o in outputs]
    default = next(iter(arms))
    for o in parsed:
        for _, metric, arm in o.terms:
            if arm is None and len(arms) > 1:
                raise ConfigError(
                    f"outputs: {o.text!r}: {metric} needs an arm, [{'] or ['.join(arms)}]"
                )
            if (arm or default) not in arms:
                raise ConfigError(
                    f"outputs: {o.text!r}: unknown arm {arm!r}; known: {', '.join(arms)}"
                )
    scen = scenario_of(d)
    return Spec(
        name=str(d.get("name", "study")),
        method=method,
        samples=d["samples"],
        parameters=parameters,
        outputs=parsed,
        arms=arms,
        scenario=scen,
        seeds=d.get("seeds", 1),
        levels=d.get("levels", 4),
        sampler_seed=d.get("sampler_seed", 0),
        resamples=d.get("resamples", 1000),
        question=str(d.get("question", "")),
    )


def spec_names() -> list[str]:
    from sim.experiment.config import group_options

    return group_options(SPEC_GROUP)


def load_spec(name: str, overrides: list[str] | None = None) -> Spec:
    """Compose `configs/sensitivity/<name>.yaml` with Hydra overrides (`samples=4`,
    `scenario.horizon_days=180`) into a `Spec`."""
    return spec_from_dict(compose_spec(SPEC_GROUP, name, overrides, "sensitivity study"))


def compose_arms(spec: Spec) -> dict[str, dict]:
    """Each arm's composed config (Hydra overrides on the versioned configs/)."""
    return {arm: compose(spec.arm_overrides(arm)) for arm in spec.arms_used()}


def check_spec(spec: Spec, bases: dict[str, dict]) -> list[Parameter]:
    """Check the spec against the model before any run; returns the parameters with `integer`
    set from the config's types. Raises `ConfigError` naming the offending entry."""
    for arm, cfg in bases.items():
        out = check_parameters(spec.parameters, cfg, f", arm {arm}")
        keys = _summary_keys(cfg)
        for o in spec.outputs:
            for _, metric, a in o.terms:
                if (a or spec.default_arm) == arm and metric not in keys:
                    raise ConfigError(
                        f"outputs: {o.text!r}: {metric} is not a numeric summary value; "
                        f"known: {', '.join(sorted(keys))}"
                    )
    return out


def _summary_keys(cfg: dict) -> set[str]:
    """The numeric summary keys a run of `cfg` reports (from a 2-day probe, not a study run)."""
    summary, _ = simulate({**cfg, "horizon_days": 2})
    return {
        k
        for k, v in flatten(summary).items()
        if not isinstance(v, str | bool) and k not in ("seed", "config_hash")
    }


# ---------------------------------------------------------------------------- the study


@dataclass
class StudyResult:
    spec: Spec
    parameters: list[Parameter]
    samples: pd.DataFrame  # one row per evaluation
    points: pd.DataFrame  # one row per point: parameter values and each output (mean of seeds)
    indices: pd.DataFrame  # one row per output × parameter
    seconds: float
    notes: list[str]
    horizons: tuple[int, ...]  # the days the arms' runs simulated (distinct, ascending)


def sample(spec: Spec, parameters: list[Parameter]) -> np.ndarray:
    """SALib's sample of the unit/log space, one row per point."""
    problem = spec.problem()
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, spec.samples, num_levels=spec.levels, seed=spec.sampler_seed)
    from SALib.sample import sobol

    return sobol.sample(problem, spec.samples, calc_second_order=False, seed=spec.sampler_seed)


def analyse(spec: Spec, X: np.ndarray, Y: np.ndarray) -> pd.DataFrame:
    """SALib's indices for one output: one row per parameter."""
    problem = spec.problem()
    names = problem["names"]
    if spec.method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(
            problem,
            X,
            Y,
            num_resamples=spec.resamples,
            conf_level=0.95,
            num_levels=spec.levels,
            seed=spec.sampler_seed,
        )
        df = pd.DataFrame(
            {
                "parameter": names,
                "mu": np.asarray(r["mu"], float),
                "mu_star": np.asarray(r["mu_star"], float),
                "mu_star_conf": np.asarray(r["mu_star_conf"], float),
                "sigma": np.asarray(r["sigma"], float),
            }
        )
        key = "mu_star"
    else:
        from SALib.analyze import sobol

        r = sobol.analyze(
            problem,
            Y,
            calc_second_order=False,
            num_resamples=spec.resamples,
            conf_level=0.95,
            seed=spec.sampler_seed,
        )
        df = pd.DataFrame(
            {
                "parameter": names,
                "S1": np.asarray(r["S1"], float),
                "S1_conf": np.asarray(r["S1_conf"], float),
                "ST": np.asarray(r["ST"], float),
                "ST_conf": np.asarray(r["ST_conf"], float),
            }
        )
        key = "ST"
    df["rank"] = df[key].rank(ascending=False, method="min").astype(int)
    return df.sort_values("rank", kind="stable").reset_index(drop=True)


def run_study(
    spec: Spec,
    out_dir=None,
    *,
    n_jobs: int = 2,
    ray_address: str | None = None,
    progress=True,
    before_runs=None,
) -> StudyResult:
    """Check the spec, sample, run every point × seed × arm through the batch engine (cached
    under `<out_dir>/evaluations/`), and compute the indices of every output. `before_runs()`
    is called once the spec is checked, before the first run."""
    t0 = time.perf_counter()
    bases = compose_arms(spec)
    parameters = check_spec(spec, bases)
    if before_runs is not None:
        before_runs()
    X = sample(spec, parameters)
    values = [{p.key: p.value(x) for p, x in zip(parameters, row, strict=True)} for row in X]
    arms = spec.arms_used()
    evaluations = [
        Evaluation(v, seed=s, base=arm) for v in values for s in range(spec.seeds) for arm in arms
    ]
    cache = None if out_dir is None else Path(out_dir) / "evaluations"
    results = run_batch(
        bases, evaluations, n_jobs=n_jobs, cache_dir=cache, ray_address=ray_address,
        progress=progress,
    )  # fmt: skip
    samples = results_frame(results)
    per = len(arms) * spec.seeds
    samples.insert(0, "point", np.repeat(np.arange(len(values)), per))

    notes: list[str] = []
    if n_failed := int((samples["status"] != "finished").sum()):
        first = samples.loc[samples["status"] != "finished", "error"].iloc[0]
        notes.append(f"{n_failed} of {len(samples)} evaluations failed (first: {first})")
    points = pd.DataFrame({p.key: [v[p.key] for v in values] for p in parameters})
    frames = []
    for o in spec.outputs:
        y = np.empty(len(values))
        for i in range(len(values)):
            per_seed = []
            for s in range(spec.seeds):
                by_arm = {
                    arm: results[(i * spec.seeds + s) * len(arms) + j].summary
                    for j, arm in enumerate(arms)
                }
                per_seed.append(o.value(by_arm, spec.default_arm))
            y[i] = np.nanmean(per_seed) if not np.all(np.isnan(per_seed)) else np.nan
        points[o.text] = y
        if np.isnan(y).any():
            notes.append(
                f"{o.text}: {int(np.isnan(y).sum())} of {len(y)} points have no value "
                "(failed runs, or no cohort old enough); its indices are not computed"
            )
            continue
        df = analyse(spec, X, y)
        df.insert(0, "output", o.text)
        frames.append(df)
    indices = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(indices):
        indices.insert(1, "method", spec.method)
    horizons = tuple(sorted({int(cfg["horizon_days"]) for cfg in bases.values()}))
    seconds = time.perf_counter() - t0
    return StudyResult(spec, parameters, samples, points, indices, seconds, notes, horizons)
