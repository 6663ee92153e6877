"""Calibration: fit the model's free parameters to a brand's own observed series.

A *calibration spec* (`configs/calibration/<name>.yaml`, composed by Hydra like a sensitivity
study, so any entry can be overridden on the command line) names:

- `data`: the observed series (CSV or parquet; schema in `sim.experiment.observed`), `frequency`
  (`daily` or `weekly`) and, for a `date` column, `start_date` (the calendar date of day 0);
- `scenario`: the Hydra overrides of the scenario the brand ran (`strategy`, `pool`,
  `business`, `horizon_days`, `strategy.phases.0.daily_users`, …);
- `parameters`: the free parameters, dotted config keys `{low, high, scale: linear|log, why}`;
  the prior is uniform on `[low, high]` (`linear`) or on `[log low, log high]` (`log`);
- `series`: which observed columns to fit and their likelihood: `negbin` (counts, overdispersed:
  negative binomial with mean = the simulated mean and size `dispersion`, a number = fixed, or
  `fit` = its maximum-likelihood value for each candidate, i.e. a profile likelihood) or
  `lognormal` (revenue: Gaussian on log(1 + y) around log(1 + simulated mean), sd `sigma`, a
  number or `fit`);
- `seeds` per evaluation (the simulated mean is the mean over seeds 0…seeds−1; default 6:
  with 2 a small pilot's few first orders a day made a noisy simulated mean that biased
  first_buy_rate upward, its 90 % interval covering 20 of 24 synthetic brands (81 of 100),
  against 24 of 24 with 6: experiments/calibration_example.md), `trials`
  (optuna's budget), `sampler_seed`, `floor` (the smallest simulated mean a likelihood uses),
  `abc: {draws, accept, seed}` (the uncertainty step) and `band_seeds` (the fit figure).

Method. The objective is the total negative log-likelihood of the observed series given the
simulated mean (`sim.experiment.likelihood.objective`). (1) Point fit: optuna's TPE sampler
minimises it; the study lives in an SQLite file (`<out>/study.db`), so an interrupted fit
resumes and several workers can share it. (2) Uncertainty: ABC rejection. `abc.draws`
parameter sets are drawn from the prior, each simulated, and the `abc.accept` share closest to
the data by the same negative log-likelihood is kept; the 5 % and 95 % quantiles of the kept
draws are the interval. A finite acceptance share makes the interval wider than the exact
posterior (conservative); coverage is measured, not assumed (benchmarks/calibration.py). Every
run goes through the batch engine (`sim.experiment.batch.run_batch`), cached by config hash
under `<out>/evaluations/`.

Bad data or a bad spec raise `ConfigError` (the data errors name the column and the row) before
any run. Figures and the report are views (`sim.viz.calibration`, `privsim-calibrate`).
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import ListConfig, OmegaConf

from sim.core.params import ConfigError
from sim.experiment.batch import Evaluation, apply_values, run_batch
from sim.experiment.config import CONFIG_DIR, compose, override
from sim.experiment.likelihood import aggregate, objective
from sim.experiment.observed import (
    COUNTS,
    FREQUENCIES,
    SERIES,
    STOCKS,
    check_data,
    load_observed,
)
from sim.experiment.study_parameters import (
    Parameter,
    check_parameters,
    parse_parameters,
    typed,
)
from sim.experiment.study_spec import compose_spec, scenario_of, whole

SPEC_GROUP = "calibration"
REPO = Path(CONFIG_DIR).parent
LIKELIHOODS = ("negbin", "lognormal")
SPEC_KEYS = {
    "name", "question", "data", "frequency", "start_date", "scenario", "parameters", "series",
    "seeds", "trials", "sampler_seed", "floor", "abc", "band_seeds",
}  # fmt: skip
SERIES_KEYS = {"likelihood", "dispersion", "sigma"}
ABC_KEYS = {"draws", "accept", "seed"}
# accepted draws below which the 5 %/95 % quantiles are the span of a handful of draws (the
# coverage of benchmarks/calibration.py was measured with 18 and 20: calibration_example.md)
MIN_ACCEPTED = 10


# ---------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Series:
    name: str  # observed column
    likelihood: str  # negbin | lognormal
    dispersion: float | None = None  # negbin size; None = fitted
    sigma: float | None = None  # lognormal sd; None = fitted

    @property
    def column(self) -> str:
        return SERIES[self.name]


@dataclass
class Spec:
    name: str
    data: str
    parameters: list[Parameter]
    series: list[Series]
    scenario: dict = field(default_factory=dict)
    frequency: str = "daily"
    start_date: str | None = None
    seeds: int = 6
    trials: int = 40
    sampler_seed: int = 0
    floor: float = 0.1
    abc_draws: int = 200
    abc_accept: float = 0.1
    abc_seed: int = 1
    band_seeds: int = 20
    question: str = ""

    def overrides(self) -> list[str]:
        return [override(k, v) for k, v in self.scenario.items()]

    def runs_planned(self) -> int:
        return (self.trials + self.abc_draws) * self.seeds + self.band_seeds


def _positive_or_fit(where: str, v) -> float | None:
    if v == "fit" or v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
        raise ConfigError(f"{where} = {v!r}: give a positive number (fixed) or `fit`")
    return float(v)


def spec_from_dict(d: dict) -> Spec:
    """A `Spec` from a plain mapping (a composed spec file or a test's dict); shape checked,
    each problem named by its key. Keys and values against the model: `check_spec`."""
    d = dict(d)
    if unknown := sorted(set(d) - SPEC_KEYS):
        raise ConfigError(f"{unknown[0]}: unknown spec key; allowed: {sorted(SPEC_KEYS)}")
    if not d.get("data"):
        raise ConfigError("data: give the observed series' file (CSV or parquet)")
    freq = d.get("frequency", "daily")
    if freq not in FREQUENCIES:
        raise ConfigError(f"frequency = {freq!r}: allowed: {', '.join(FREQUENCIES)}")
    parameters = parse_parameters(d.get("parameters"))
    ser = d.get("series") or {}
    if not isinstance(ser, dict) or not ser:
        raise ConfigError(f"series: give at least one of {', '.join(SERIES)} with a likelihood")
    series = []
    for name, s in ser.items():
        if name not in SERIES:
            raise ConfigError(
                f"series.{name}: not a series the model produces; allowed: {', '.join(SERIES)}"
            )
        s = dict(s or {})
        if unknown := sorted(set(s) - SERIES_KEYS):
            raise ConfigError(
                f"series.{name}.{unknown[0]}: unknown; allowed: {sorted(SERIES_KEYS)}"
            )
        lik = s.get("likelihood", "lognormal" if name == "revenue" else "negbin")
        if lik not in LIKELIHOODS:
            raise ConfigError(
                f"series.{name}.likelihood = {lik!r}: allowed: {', '.join(LIKELIHOODS)}"
            )
        if lik == "negbin" and name not in COUNTS:
            raise ConfigError(f"series.{name}.likelihood = negbin: {name} is not a count")
        series.append(
            Series(
                str(name),
                lik,
                _positive_or_fit(f"series.{name}.dispersion", s.get("dispersion", "fit")),
                _positive_or_fit(f"series.{name}.sigma", s.get("sigma", "fit")),
            )
        )
    abc = dict(d.get("abc") or {})
    if unknown := sorted(set(abc) - ABC_KEYS):
        raise ConfigError(f"abc.{unknown[0]}: unknown; allowed: {sorted(ABC_KEYS)}")
    accept = abc.get("accept", 0.1)
    if isinstance(accept, bool) or not isinstance(accept, int | float) or not 0 < accept <= 1:
        raise ConfigError(f"abc.accept = {accept!r}: a share in (0, 1]")
    draws = whole({"abc.draws": abc.get("draws", 200)}, "abc.draws", 200, 2)
    if draws * accept < 2:
        raise ConfigError(f"abc: draws x accept = {draws * accept:g} keeps fewer than 2 draws")
    floor = d.get("floor", 0.1)
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not floor > 0:
        raise ConfigError(f"floor = {floor!r}: must be a positive number")
    scen = scenario_of(d)
    return Spec(
        name=str(d.get("name", "calibration")),
        data=str(d["data"]),
        parameters=parameters,
        series=series,
        scenario=scen,
        frequency=freq,
        start_date=None if d.get("start_date") is None else str(d["start_date"]),
        seeds=whole(d, "seeds", 6, 1),
        trials=whole(d, "trials", 40, 1),
        sampler_seed=whole(d, "sampler_seed", 0, 0),
        floor=float(floor),
        abc_draws=draws,
        abc_accept=float(accept),
        abc_seed=whole({"abc.seed": abc.get("seed", 1)}, "abc.seed", 1, 0),
        band_seeds=whole(d, "band_seeds", 20, 1),
        question=str(d.get("question", "")),
    )


def spec_names() -> list[str]:
    from sim.experiment.config import group_options

    return group_options(SPEC_GROUP)


def load_spec(name: str, overrides: list[str] | None = None) -> Spec:
    """Compose `configs/calibration/<name>.yaml` with Hydra overrides (`trials=10`,
    `scenario.horizon_days=120`) into a `Spec`."""
    return spec_from_dict(compose_spec(SPEC_GROUP, name, overrides, "calibration"))


FIXED = {  # keys a calibration cannot fit, and why
    "horizon_days": "the horizon is the observed period (set scenario.horizon_days), not a free "
    "parameter: every evaluation must simulate the days the data cover",
}


def check_spec(spec: Spec, base: dict) -> list[Parameter]:
    """Check the parameters against the composed scenario (keys exist and are numeric model
    assumptions, not the seed or the horizon, both bounds accepted by the schema); returns
    them with `integer` set from the config's types."""
    return check_parameters(spec.parameters, base, fixed=FIXED)


# ---------------------------------------------------------------------------- the fit


@dataclass
class CalibrationResult:
    spec: Spec
    parameters: list[Parameter]
    observed: pd.DataFrame
    base: dict
    estimate: dict  # point estimate (optuna's best)
    best_nll: float
    nuisance: dict  # series -> fitted dispersion / sigma at the estimate
    table: pd.DataFrame  # one row per parameter: estimate, ABC median, q05, q95, prior bounds
    trials: pd.DataFrame  # optuna's trials
    abc: pd.DataFrame  # every prior draw: values, nll, accepted
    band: dict  # series -> (days, q10, q50, q90) of the calibrated model at the observed rows
    seconds: float
    notes: list[str]


def _evaluate(spec, base, obs, values_list, cache, n_jobs, progress, ray_address):
    """The objective for each parameter set (mean over `spec.seeds` seeds), through run_batch."""
    columns = [s.column for s in spec.series]
    evs = [Evaluation(v, seed=s) for v in values_list for s in range(spec.seeds)]
    results = run_batch(
        base, evs, n_jobs=n_jobs, cache_dir=cache, daily_columns=columns,
        progress=progress, ray_address=ray_address,
    )  # fmt: skip
    out = []
    for i in range(len(values_list)):
        rs = results[i * spec.seeds : (i + 1) * spec.seeds]
        if not all(r.ok for r in rs):
            out.append((math.inf, {}, next(r.error for r in rs if not r.ok)))
            continue
        total, parts = objective(spec, obs, [r.daily for r in rs])
        out.append((total, parts, ""))
    return out


def distributions(parameters):
    import optuna

    return {
        p.key: (
            optuna.distributions.IntDistribution
            if p.integer
            else optuna.distributions.FloatDistribution
        )(
            int(p.low) if p.integer else p.low,
            int(p.high) if p.integer else p.high,
            log=p.scale == "log",
        )
        for p in parameters
    }


def point_fit(spec, parameters, base, obs, out, *, n_jobs=2, progress=True, ray_address=None):
    """Optuna (TPE) minimising `objective` over the prior box; the study is stored in
    `<out>/study.db` and resumed if it exists: trials a killed run left RUNNING are marked
    failed first (`fail_interrupted`), and only the trials still missing from `spec.trials`
    (counted as completed trials) are run. Several processes pointed at the same `out` share
    the study."""
    import optuna

    study, _, n = open_study(
        out, spec.name, ["minimize"], lambda seed: optuna.samplers.TPESampler(seed=seed),
        spec.sampler_seed,
    )  # fmt: skip
    if n and progress:
        stream = sys.stderr if progress is True else progress
        print(f"[privsim-calibrate] {n} trials of an interrupted run marked failed (not counted)",
              file=stream, flush=True)  # fmt: skip
    dists = distributions(parameters)
    cache = out / "evaluations"
    batch = max(1, n_jobs)
    while True:
        done = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        if done >= spec.trials:
            break
        trials = [study.ask(dists) for _ in range(min(batch, spec.trials - done))]
        for t in trials:  # who runs it: `fail_interrupted` leaves a live worker's trials alone
            t.set_user_attr("host", socket.gethostname())
            t.set_user_attr("pid", os.getpid())
        values = [dict(t.params) for t in trials]
        scored = _evaluate(spec, base, obs, values, cache, n_jobs, False, ray_address)
        for t, (nll, _, err) in zip(trials, scored, strict=True):
            if math.isfinite(nll):
                study.tell(t, nll)
            else:
                t.set_user_attr("error", err)
                study.tell(t, state=optuna.trial.TrialState.FAIL)
        if progress:
            done += len(trials)
            best = min((v for v, _, _ in scored), default=math.inf)
            try:
                best = min(best, study.best_value)
            except ValueError:  # no completed trial yet
                pass
            stream = sys.stderr if progress is True else progress
            print(f"[privsim-calibrate] optuna {done}/{spec.trials} trials, best -log L "
                  f"{best:.1f}", file=stream, flush=True)  # fmt: skip
    return study


def open_study(out: Path, name: str, directions: list[str], sampler, sampler_seed: int,
               pruner=None):  # fmt: skip
    """(the optuna study `name` in `<out>/study.db`, created or resumed; how many trials it
    already held; how many of them a killed run had left RUNNING, now marked failed:
    `fail_interrupted`). `sampler(seed)` makes the sampler: a resumed study (or a second worker)
    must not replay the first draws, so its seed moves on with the trials already stored.
    `pruner`: optuna's, for a study whose trials report as they go (none: optuna's default)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.RDBStorage(f"sqlite:///{(out / 'study.db').resolve()}")
    try:
        stored = len(optuna.load_study(study_name=name, storage=storage).trials)
    except KeyError:  # no such study yet
        stored = 0
    study = optuna.create_study(
        study_name=name, storage=storage, load_if_exists=True, directions=directions,
        sampler=sampler(sampler_seed + stored), pruner=pruner,
    )  # fmt: skip
    return study, stored, fail_interrupted(study, storage) if stored else 0


INTERRUPTED = "interrupted: the run that asked for this trial stopped before it was scored"


def fail_interrupted(study, storage) -> int:
    """Mark FAILED the RUNNING trials no live process will finish (a study killed mid-batch
    leaves them RUNNING forever): those asked by a process of this machine that is gone, and
    those without a record of who asked (older studies). A RUNNING trial of another machine, or
    of a live process here (a second worker), is left to it. Returns how many were marked."""
    import optuna

    host = socket.gethostname()
    study_id = storage.get_study_id_from_name(study.study_name)
    n = 0
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        who, pid = t.user_attrs.get("host"), t.user_attrs.get("pid")
        if who is not None and (who != host or _alive(pid)):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        storage.set_trial_user_attr(trial_id, "error", INTERRUPTED)
        storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL)
        n += 1
    return n


def _alive(pid) -> bool:
    """Whether process `pid` of this machine still runs."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def abc_rejection(spec, parameters, base, obs, out, *, n_jobs=2, progress=True, ray_address=None):
    """ABC rejection: `abc_draws` prior draws (uniform, or uniform in log10 for a log scale),
    each scored by the objective; the `abc_accept` share with the smallest is accepted."""
    rng = np.random.default_rng(spec.abc_seed)
    u = rng.random((spec.abc_draws, len(parameters)))
    values = []
    for row in u:
        v = {}
        for p, x in zip(parameters, row, strict=True):
            lo, hi = p.bounds()
            v[p.key] = p.value(lo + x * (hi - lo))
        values.append(v)
    scored = _evaluate(spec, base, obs, values, out / "evaluations", n_jobs, progress, ray_address)
    df = pd.DataFrame(values)
    df.insert(0, "draw", np.arange(len(values)))
    df["nll"] = [s[0] for s in scored]
    n_accept = max(2, int(round(spec.abc_accept * spec.abc_draws)))
    order = np.argsort(df["nll"].to_numpy(), kind="stable")
    df["accepted"] = False
    df.loc[order[:n_accept], "accepted"] = True
    df.loc[~np.isfinite(df["nll"]), "accepted"] = False
    df["epsilon"] = float(df.loc[df["accepted"], "nll"].max())
    return df


def band(spec, base, obs, estimate, out, *, n_jobs=2, progress=True, ray_address=None):
    """The calibrated model over `band_seeds` seeds (seeds `1000 + i`, none of the fit's): per
    series, the 10th, 50th and 90th percentile of the simulated values at the observed rows."""
    columns = [s.column for s in spec.series]
    evs = [Evaluation(estimate, seed=1000 + i) for i in range(spec.band_seeds)]
    results = run_batch(
        base, evs, n_jobs=n_jobs, cache_dir=out / "evaluations", daily_columns=columns,
        progress=progress, ray_address=ray_address,
    )  # fmt: skip
    days = obs["day"].to_numpy()
    step = FREQUENCIES[spec.frequency]
    bands = {}
    for s in spec.series:
        sims = np.array([r.daily[s.column] for r in results if r.ok], dtype=float)
        agg = aggregate(sims, days, step, s.name in STOCKS)
        q10, q50, q90 = np.percentile(agg, [10, 50, 90], axis=0)
        bands[s.name] = (days, q10, q50, q90)
    return bands


def calibrate(
    spec: Spec, out_dir, *, n_jobs: int = 2, ray_address: str | None = None, progress=True,
    data=None, before_runs=None,
) -> CalibrationResult:  # fmt: skip
    """Check the spec and the data, fit (optuna), quantify uncertainty (ABC rejection), and
    simulate the calibrated model's band. `data` overrides `spec.data`; `before_runs()` is
    called once everything is checked, before the first run (a command announces its plan
    there, so a refusal stays its only line)."""
    t0 = time.perf_counter()
    base = compose(spec.overrides())
    parameters = check_spec(spec, base)
    path = Path(data or spec.data)
    if not path.is_absolute() and not path.exists() and (REPO / path).exists():
        path = REPO / path
    obs = load_observed(path, spec.frequency, spec.start_date)
    check_data(spec, obs, int(base["horizon_days"]))
    if before_runs is not None:
        before_runs()
    out = Path(out_dir)
    kw = dict(n_jobs=n_jobs, progress=progress, ray_address=ray_address)
    study = point_fit(spec, parameters, base, obs, out, **kw)
    best = study.best_trial
    estimate = {p.key: best.params[p.key] for p in parameters}
    abc = abc_rejection(spec, parameters, base, obs, out, **kw)
    # the estimate's runs are cached (optuna made them): this only recomputes its likelihood
    parts = _evaluate(spec, base, obs, [estimate], out / "evaluations", n_jobs, False, None)[0][1]
    acc = abc[abc["accepted"]]
    rows = []
    for p in parameters:
        q05, q50, q95 = np.quantile(acc[p.key].to_numpy(float), [0.05, 0.5, 0.95])
        rows.append(
            {
                "parameter": p.key, "estimate": estimate[p.key], "abc_median": q50,
                "q05": q05, "q95": q95, "low": p.low, "high": p.high, "scale": p.scale,
                "unit": p.unit, "why": p.why,
            }
        )  # fmt: skip
    table = pd.DataFrame(rows)
    trials = study.trials_dataframe(attrs=("number", "value", "params", "state"))
    notes = []
    if n_failed := int((trials["state"] == "FAIL").sum()):
        notes.append(
            f"{n_failed} optuna trials failed (their runs raised, or a killed run left them "
            "unfinished); only completed trials count"
        )
    if n_inf := int((~np.isfinite(abc["nll"])).sum()):
        notes.append(f"{n_inf} ABC draws failed and were not accepted")
    if len(acc) < MIN_ACCEPTED:
        notes.append(
            f"only {len(acc)} ABC draws accepted: with fewer than {MIN_ACCEPTED} the 5 % and "
            "95 % quantiles are the span of a handful of draws, not an interval to read; raise "
            f"abc.draws (draws x accept >= {MIN_ACCEPTED}; coverage was measured at 18-20)"
        )
    bands = band(spec, base, obs, estimate, out, **kw)
    return CalibrationResult(
        spec, parameters, obs, base, estimate, float(best.value),
        {k: v[1] for k, v in parts.items()}, table, trials, abc, bands,
        time.perf_counter() - t0, notes,
    )  # fmt: skip


# ---------------------------------------------------------------------------- calibrated.yaml


def calibrated_config(spec: Spec, base: dict, estimate: dict, groups: list[str]) -> dict:
    """A primary Hydra config for `privsim --config-dir <out> --config-name calibrated`:
    `configs/config.yaml`, the scenario's group choices (`override strategy: steady`), then the
    scenario's other overrides and the estimates as values."""
    values = typed(base, estimate)
    full = OmegaConf.create(apply_values(base, values))  # the composed calibrated config
    defaults: list = ["config"]
    tree = OmegaConf.create({})
    for k, v in spec.scenario.items():
        if k in groups:
            defaults.append({f"override {k}": v})
        else:
            _set_value(tree, full, k, OmegaConf.select(full, k))
    for k, v in values.items():
        _set_value(tree, full, k, float(v) if isinstance(v, float) else v)
    defaults.append("_self_")
    return {"defaults": defaults, **OmegaConf.to_container(tree)}


def _set_value(tree, full, key: str, value) -> None:
    """Set dotted `key` in `tree`, the calibrated config's own values; where the path crosses a
    list, the whole list is taken from `full` (Hydra merges lists whole)."""
    parts = key.split(".")
    for n in range(1, len(parts)):
        prefix = ".".join(parts[:n])
        if isinstance(node := OmegaConf.select(full, prefix), ListConfig):
            OmegaConf.update(tree, prefix, node, merge=False)
            return
    OmegaConf.update(tree, key, value, merge=False)


def group_names() -> list[str]:
    return sorted(p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir())


def calibrated_args(spec: Spec, estimate: dict, base: dict) -> list[str]:
    """The same scenario as plain Hydra overrides, one per item."""
    return [*spec.overrides(), *(override(k, v) for k, v in typed(base, estimate).items())]
