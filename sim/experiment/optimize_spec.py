"""An optimisation spec (`configs/optimize/<name>.yaml`, issue #24): which policy parameters to
search, over which brands, for which objective. Composed by Hydra like the calibration and
sensitivity specs (`sim.experiment.study_spec`), so any entry can be overridden on the command
line (`trials=4`, `parameters.strategy.phases.2.team_size.high=16`).

- `scenario`: Hydra overrides of the base (`strategy: staged`, `horizon_days: 1095`); its
  values of the searched keys are the *starting point* (trial 0, enqueued), so the chosen
  policy can never be worse in-sample than the policy the user started from;
- `parameters`: dotted config keys `{low, high, scale: linear|log, type: int|float, why, unit}`
  (shape and schema bounds checked by `sim.experiment.study_parameters`, as for the other
  studies); `type` defaults to the config's own type, `int` on a float key searches whole
  numbers, `float` on an integer key is refused;
- `brands: {count, uncertainty}`: the search's brands are seeds 0 … count−1 of the scenario
  with the `uncertainty`: overrides every brand shares (e.g. `fit.spread: 0.5`, DOMAIN §3.1:
  fit unknown until tested) and settings drawn per brand (e.g. `market_size: {low, high,
  scale}` or `{choices}`, `sim.experiment.uncertainty`) — the same brands for every trial
  (common random numbers);
- `objective: {metric: npv_<H>d, downside: null | loss_probability | cvar10}`: the mean over
  brands of NPV at H days (DOMAIN §4; H in `economics.npv_horizons_days`, ≤ horizon_days), and
  optionally a downside measure (`loss_probability`: share of brands with NPV < 0; `cvar10`: mean
  NPV of the worst ⌈10 % of brands⌉, at least one);
- `starts: {name: {parameter key: value}}`: more starting points inside the search space,
  enqueued as trials after the scenario's (a key left out keeps the scenario's value); the
  search is never worse in-sample than the best of them (`sim.experiment.optimize`);
- `presets: {name: {Hydra overrides}}`: other policies to measure the chosen one against, e.g.
  `strategy: ten_to_n` (configs/strategy/), run on the search's brands and the fresh ones
  (their overrides replace the scenario's same keys; the brands' uncertainty and the horizon
  are everyone's);
- `prune: null | {brands, factor, futility}`: successive halving (optuna's
  `SuccessiveHalvingPruner`): a trial is scored on its first `brands` brands, then
  `brands·factor`, … (the rungs, below `brands.count`), and stopped at a rung unless its mean
  there is in the best 1/`factor` of the trials scored there. `futility` (optional, a share α
  in (0, 1); null or absent: off): at each rung a trial is also stopped where the chance
  that its mean over all the search's brands ends above the best completed trial's is below
  α / (the number of rungs) (`sim.experiment.futility`). Single-objective only: optuna's
  `Trial.should_prune` refuses a multi-objective study, so with a downside the search does
  not prune, nor when `brands` is not below `brands.count` (a quick run on few brands), and
  says so;
- `trials` (optuna's budget: trials finished, completed or pruned, the starting points
  included), `sampler_seed`, `population` (NSGA-II's generation size, used with a downside;
  50 = optuna's default) and `fresh_brands` (validation seeds count … count+fresh_brands−1,
  none of the search's).

Every problem raises `ConfigError` naming its key, before any run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.core.params import ConfigError
from sim.experiment.config import UnknownOption, build, compose, group_options, override
from sim.experiment.study_parameters import Parameter, check_parameters, parse_parameters
from sim.experiment.study_spec import (
    brands_of,
    compose_spec,
    mapping,
    not_searched,
    scenario_of,
    whole,
)
from sim.experiment.uncertainty import Uncertainty

SPEC_GROUP = "optimize"
SPEC_KEYS = {
    "name", "question", "scenario", "parameters", "brands", "objective", "trials",
    "sampler_seed", "population", "fresh_brands", "starts", "presets", "prune",
}  # fmt: skip
PRUNE_KEYS = {"brands", "factor", "futility"}
START = "start"  # the scenario's own values: the first starting point (trial 0)
CHOSEN = "chosen"  # the search's answer; neither may name a start or a preset
OBJECTIVE_KEYS = {"metric", "downside"}
TYPES = ("int", "float")
# downside measure -> optuna direction (a loss probability is minimised, a CVaR maximised)
DOWNSIDES = {"loss_probability": "minimize", "cvar10": "maximize"}
CVAR_SHARE = 0.10  # cvar10: the worst 10 % of brands (the measure's name)


@dataclass
class Spec:
    name: str
    parameters: list[Parameter]
    metric: str
    types: dict = field(default_factory=dict)  # key -> "int" | "float" as the spec says
    scenario: dict = field(default_factory=dict)
    uncertainty: Uncertainty = field(default_factory=Uncertainty)
    brands: int = 6
    downside: str | None = None
    trials: int = 16
    sampler_seed: int = 0
    population: int = 50
    fresh_brands: int = 6
    question: str = ""
    starts: dict = field(default_factory=dict)  # name -> {parameter key: value}
    presets: dict = field(default_factory=dict)  # name -> Hydra overrides
    prune: tuple[int, int] | None = None  # (brands of the first rung, factor)
    futility: float | None = None  # prune.futility: α of the futility rule; None: off

    def overrides(self, policy: dict | None = None) -> list[str]:
        """The brands' scenario: the base's overrides, a preset's, then the uncertainty's shared
        ones (each brand's draws are set per run: `BrandRuns`)."""
        merged = {**self.scenario, **(policy or {}), **self.uncertainty.fixed}
        return [override(k, v) for k, v in merged.items()]

    def rungs(self) -> list[int]:
        """Brands scored before each pruning check; none without pruning or with a downside."""
        if self.prune is None or self.downside:
            return []
        first, factor = self.prune
        return [first * factor**i for i in range(self.brands)
                if first * factor**i < self.brands]  # fmt: skip

    def checks(self) -> list[int]:
        """Brands scored before each futility check: the rungs (no batch boundary of its own,
        so no more waiting on a batch's slowest run); none without the rule."""
        return self.rungs() if self.futility is not None else []

    def runs_planned(self) -> int:
        """At most: every trial on every brand, each preset on them, and on the fresh brands
        the chosen policy, every starting point and every preset."""
        policies = 2 + len(self.starts) + len(self.presets)
        return (self.trials + len(self.presets)) * self.brands + policies * self.fresh_brands

    def horizon(self) -> int:
        return int(self.metric[len("npv_") : -1])


def spec_from_dict(d: dict) -> Spec:
    """A `Spec` from a plain mapping (a composed spec or a test's dict), shape checked; keys and
    bounds against the model: `check_spec`."""
    d = dict(d)
    if unknown := sorted(set(d) - SPEC_KEYS):
        raise ConfigError(f"{unknown[0]}: unknown spec key; allowed: {sorted(SPEC_KEYS)}")
    raw = d.get("parameters") or {}
    types = {}
    if isinstance(raw, dict):
        raw = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
        for k, v in raw.items():
            if isinstance(v, dict) and "type" in v:
                types[k] = v.pop("type")
                if types[k] not in TYPES:
                    raise ConfigError(f"parameters.{k}.type = {types[k]!r}: allowed: int, float")
    parameters = parse_parameters(raw)
    count, uncertainty = brands_of(d)
    objective = mapping(d, "objective", OBJECTIVE_KEYS)
    metric = str(objective.get("metric", ""))
    if not (metric.startswith("npv_") and metric.endswith("d") and metric[4:-1].isdigit()):
        raise ConfigError(f"objective.metric = {metric!r}: give npv_<H>d, e.g. npv_1095d")
    downside = objective.get("downside")
    if downside is not None and downside not in DOWNSIDES:
        raise ConfigError(
            f"objective.downside = {downside!r}: allowed: null, {', '.join(DOWNSIDES)}"
        )
    scen = scenario_of(d)
    starts, presets = _named(d, "starts"), _named(d, "presets")
    if both := sorted(set(starts) & set(presets)):
        raise ConfigError(f"starts.{both[0]}: also a preset's name; give each policy one name")
    trials = whole(d, "trials", 16, 1)
    if trials < 1 + len(starts):
        raise ConfigError(f"trials = {trials}: fewer than the starting points (the scenario's "
                          f"and {len(starts)} in `starts`), which are trials")  # fmt: skip
    return Spec(
        name=str(d.get("name", "optimize")),
        parameters=parameters,
        metric=metric,
        types=types,
        scenario=scen,
        uncertainty=uncertainty,
        brands=count,
        downside=downside,
        trials=trials,
        sampler_seed=whole(d, "sampler_seed", 0, 0),
        population=whole(d, "population", 50, 2),
        fresh_brands=whole(d, "fresh_brands", 6, 1),
        question=str(d.get("question", "")),
        starts=starts,
        presets=presets,
        prune=_prune(d.get("prune")),
        futility=_futility(d.get("prune")),
    )


def _named(d: dict, key: str) -> dict:
    """`starts` / `presets`: names, each a non-empty mapping keyed by dotted config keys."""
    v = d.get(key) or {}
    if not isinstance(v, dict):
        raise ConfigError(f"{key}: expected a mapping of names, each `{{dotted.key: value}}`")
    for name, entry in v.items():
        if name in (START, CHOSEN):
            raise ConfigError(f"{key}.{name}: a reserved name (the report's {name!r}); rename it")
        if not isinstance(entry, dict) or not entry:
            raise ConfigError(f"{key}.{name}: expected a non-empty mapping `{{dotted.key: value}}`")
    return {str(n): dict(e) for n, e in v.items()}


def _prune(v) -> tuple[int, int] | None:
    if v is None or v is False:
        return None
    if not isinstance(v, dict):
        raise ConfigError(f"prune = {v!r}: give null or {{brands, factor}}")
    if unknown := sorted(set(v) - PRUNE_KEYS):
        raise ConfigError(f"prune.{unknown[0]}: unknown; allowed: {sorted(PRUNE_KEYS)}")
    first = whole({"prune.brands": v.get("brands")}, "prune.brands", 0, 1)
    return first, whole({"prune.factor": v.get("factor")}, "prune.factor", 0, 2)


def _futility(v) -> float | None:
    a = v.get("futility") if isinstance(v, dict) else None
    if a is None:
        return None
    if isinstance(a, bool) or not isinstance(a, int | float) or not 0 < a < 1:
        raise ConfigError(f"prune.futility = {a!r}: give null or a share in (0, 1), e.g. 0.05")
    return float(a)


def spec_names() -> list[str]:
    return group_options(SPEC_GROUP)


def load_spec(name: str, overrides: list[str] | None = None) -> Spec:
    """Compose `configs/optimize/<name>.yaml` with Hydra overrides into a `Spec`."""
    return spec_from_dict(compose_spec(SPEC_GROUP, name, overrides, "optimisation spec"))


def check_spec(spec: Spec) -> tuple[dict, list[Parameter], dict]:
    """(the brands' composed config, the checked parameters, the starting point): keys exist
    and are numbers, both bounds pass the schema (`check_parameters`), neither the horizon nor
    an uncertainty key is searched (they describe the brand, not the policy), the metric's
    horizon is reported by the run, and the starting point lies in every range (else the
    guarantee "never worse than where it started" could not hold)."""
    base = compose(spec.overrides())
    spec.uncertainty.check(base)
    parameters = check_parameters(
        spec.parameters,
        base,
        fixed=not_searched(spec.uncertainty, "the objective's (objective.metric)"),
    )
    out = []
    for p in parameters:
        kind = spec.types.get(p.key)
        if kind == "float" and p.integer:
            raise ConfigError(f"parameters.{p.key}.type = float: the config holds an integer")
        out.append(replace(p, integer=p.integer or kind == "int"))
    h = spec.horizon()
    if h not in base["economics"]["npv_horizons_days"] or h > base["horizon_days"]:
        raise ConfigError(
            f"objective.metric = {spec.metric}: H must be one of economics.npv_horizons_days "
            f"({base['economics']['npv_horizons_days']}) and at most horizon_days "
            f"({base['horizon_days']})"
        )
    tree = OmegaConf.create(base)
    start = {}
    for p in out:
        v = OmegaConf.select(tree, p.key)
        if v is None or not p.low <= v <= p.high:
            raise ConfigError(
                f"parameters.{p.key}: the starting point (the scenario's value, {v}) is outside "
                f"[{p.low}, {p.high}]; widen the range or set it in `scenario`"
            )
        start[p.key] = v
    return base, out, start


def check_offered(spec: Spec, parameters: list[Parameter], start: dict) -> tuple[dict, dict]:
    """(every starting point's values by name, the scenario's first as `START`; each preset's
    composed config by name), checked before any run: a start names searched parameters only,
    each inside its range (a whole number where the search draws whole numbers); a preset sets
    neither the horizon nor an uncertainty key, and composes and builds as a run would."""
    searched = {p.key: p for p in parameters}
    starts = {START: dict(start)}
    for name, values in spec.starts.items():
        for k, v in values.items():
            if (p := searched.get(k)) is None:
                raise ConfigError(f"starts.{name}.{k}: not a searched parameter; searched: "
                                  f"{', '.join(searched)}")  # fmt: skip
            if (isinstance(v, bool) or not isinstance(v, int | float)
                    or not p.low <= v <= p.high or (p.integer and v != int(v))):  # fmt: skip
                kind = "a whole number" if p.integer else "a number"
                raise ConfigError(f"starts.{name}.{k} = {v!r}: must be {kind} in the searched "
                                  f"range [{p.low:g}, {p.high:g}]")  # fmt: skip
        starts[name] = {**start, **values}
    presets, fixed = {}, not_searched(spec.uncertainty, "the objective's (objective.metric)")
    for name, policy in spec.presets.items():
        if bad := next((k for k in policy if k in fixed), None):
            raise ConfigError(f"presets.{name}.{bad}: {fixed[bad]}; every policy is measured "
                              "on the same brands and horizon")  # fmt: skip
        try:
            presets[name] = compose(spec.overrides(policy))
            build(presets[name])
        except (ConfigError, UnknownOption, HydraException, OmegaConfBaseException) as e:
            raise ConfigError(f"presets.{name}: {str(e).strip().splitlines()[0]}") from None
    return starts, presets


# ---------------------------------------------------------------------------- measures


def downside_value(kind: str, npv: np.ndarray) -> float:
    """The downside measure over brands' NPVs (definitions in the module docstring)."""
    if kind == "loss_probability":
        return float(np.mean(npv < 0))
    k = max(1, math.ceil(CVAR_SHARE * npv.size))
    return float(np.mean(np.sort(npv)[:k]))


def no_worse(kind: str, a: float, b: float) -> bool:
    """Whether downside `a` is no worse than `b`."""
    return a <= b if DOWNSIDES[kind] == "minimize" else a >= b
