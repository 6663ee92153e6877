"""A goal-seek question (issue #24, "goal seek for the everyday questions"): one config key over
a range, the answer a value of it. `configs/goal/<name>.yaml`, composed by Hydra like the other
study specs (`sim.experiment.study_spec`: `parameters.operators.fixed.high=60`,
`scenario.initial_users=80000` on the command line), or the same mapping built from
`privsim-goal smallest|largest|best KEY …` flags (`sim.cli.goal`).

- `search`: `smallest` / `largest`, the smallest (largest) value whose mean over brands of a
  metric meets `keep` (`conversion_30d>=0.15`); or `best`, the value with the highest mean over
  brands of `maximise` (`npv_730d`) among those whose *loss probability* (share of brands with
  that metric < 0) is at most `loss_probability` (`<=0.1`, optional);
- `parameters`: the one searched key, `{key: {low, high, scale, why, unit}}` (shape and schema
  bounds checked by `sim.experiment.study_parameters`, as for the other studies); a key the
  schema types as an integer (`operators.fixed`, even with its null default) is searched in
  whole numbers, its unit taken from the schema unless `unit` says it;
- `steps`: the range is a grid of `steps` equal intervals (in log10 for a log scale), the
  answer's resolution; default: every whole number of an integer range up to 100 intervals,
  else 100;
- `grid`: values probed evenly over the range first, both ends included; `refine` (`best`):
  rounds of a finer grid between the best feasible value's probed neighbours;
- `scenario` (Hydra overrides of the base) and `brands: {count, uncertainty}`: seeds 0 … count−1
  of the scenario with the `uncertainty`'s shared overrides and per-brand draws
  (`sim.experiment.uncertainty`), the same brands for every value (common random numbers,
  `sim.experiment.brands`).

Metrics (`METRICS`, each with its definition and horizon): `conversion_30d`, `npv_<H>d`,
`ltv_<H>d`, `ltv_cac_<H>d`, `profit`, `churn_rate` (definitions: `sim.core.metrics`, DOMAIN §4).
Every problem raises `ConfigError` naming its key and what is allowed, before any run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from sim.core.params import ConfigError
from sim.experiment.config import compose, group_options
from sim.experiment.reference import describe
from sim.experiment.study_parameters import Parameter, check_parameters, parse_parameters
from sim.experiment.study_spec import (
    brand_overrides,
    brands_of,
    compose_spec,
    not_searched,
    scenario_of,
    whole,
)
from sim.experiment.uncertainty import Uncertainty

SPEC_GROUP = "goal"
SEARCHES = ("smallest", "largest", "best")
SPEC_KEYS = {
    "name", "question", "search", "parameters", "steps", "keep", "maximise", "loss_probability",
    "grid", "refine", "scenario", "brands",
}  # fmt: skip
MAX_STEPS = 100  # default intervals of the range's grid: the answer within 1 % of the range
OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
       ">": lambda a, b: a > b, "<": lambda a, b: a < b}  # fmt: skip
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
CONSTRAINT = re.compile(rf"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*({NUMBER})\s*")
CAP = re.compile(rf"\s*(?:<=)?\s*({NUMBER})\s*")


@dataclass(frozen=True)
class Metric:
    """A summary key in words: label (with its horizon), unit, format, definition, and the
    horizon list of the config it must be in (None: none)."""

    key: str
    label: str
    unit: str
    fmt: str
    definition: str
    horizons: str | None = None
    horizon: int | None = None

    @property
    def money(self) -> bool:
        return self.unit.startswith("yuan")

    def show(self, v: float) -> str:
        if v != v:
            return "n/a"
        return f"{v / 1e6:,.2f} M yuan" if self.unit == "yuan" else format(v, self.fmt)


_PATTERNS = [
    (r"conversion_30d", lambda h: Metric(
        "conversion_30d", "30-day conversion", "share of users", ".2%",
        "the share of acquired users (day-0 imports excluded) whose first order came within 30 "
        "days of joining (join day included), over those who joined at least 30 days before the "
        "run's last day (DOMAIN §4)")),
    (r"npv_(\d+)d", lambda h: Metric(
        f"npv_{h}d", f"NPV at {h} days", "yuan", ",.0f",
        "the brand's daily profit (margin − acquisition spend − team, KOC and systems cost) of "
        f"days 0 … {h - 1}, each discounted to day 0 at economics.discount_rate_annual "
        "(DOMAIN §4)", "npv_horizons_days", h)),
    (r"ltv_cac_(\d+)d", lambda h: Metric(
        f"ltv_cac_{h}d", f"LTV/CAC at {h} days", "ratio", ".2f",
        f"discounted margin booked at ages below {h} days ÷ CAC, over the acquired users at "
        f"least {h} days old at the run's end (DOMAIN §4)", "ltv_horizons_days", h)),
    (r"ltv_(\d+)d", lambda h: Metric(
        f"ltv_{h}d", f"LTV at {h} days", "yuan per user", ",.2f",
        f"(discounted margin booked at ages below {h} days − CAC) ÷ users, over the acquired "
        f"users at least {h} days old at the run's end (DOMAIN §4)", "ltv_horizons_days", h)),
    (r"profit", lambda h: Metric(
        "profit", "profit over the run", "yuan", ",.0f",
        "margin − acquisition spend − team, KOC and systems cost, summed undiscounted over the "
        "run's horizon_days (DOMAIN §2.7)")),
    (r"churn_rate", lambda h: Metric(
        "churn_rate", "churn rate", "share of users", ".2%",
        "the share of acquired users churned (blocked, deleted or left) by the run's last day "
        "(DOMAIN §1, §4)")),
]  # fmt: skip
KNOWN = "conversion_30d, npv_<H>d, ltv_<H>d, ltv_cac_<H>d, profit, churn_rate"


def metric(key: str, where: str) -> Metric:
    """The metric named `key`, or `ConfigError` at `where` listing the known ones."""
    for pattern, make in _PATTERNS:
        if m := re.fullmatch(pattern, key):
            return make(int(m[1]) if m.groups() else None)
    raise ConfigError(f"{where}: unknown metric {key!r}; known: {KNOWN}")


@dataclass(frozen=True)
class Constraint:
    """`metric op threshold` on the mean over brands."""

    metric: Metric
    op: str
    threshold: float

    def holds(self, mean: float) -> bool:
        return OPS[self.op](mean, self.threshold)


def parse_constraint(text, where: str = "keep") -> Constraint:
    m = CONSTRAINT.fullmatch(str(text))
    if m is None:
        raise ConfigError(
            f"{where} = {text!r}: expected <metric><op><number> with op one of "
            f"{', '.join(OPS)}, e.g. conversion_30d>=0.15"
        )
    return Constraint(metric(m[1], where), m[2], float(m[3]))


def parse_cap(text, where: str = "loss_probability") -> float:
    """A cap on the loss probability: `<=z` or `z`, z in [0, 1]."""
    m = CAP.fullmatch(str(text))
    if isinstance(text, bool) or m is None or not 0 <= float(m[1]) <= 1:
        raise ConfigError(f"{where} = {text!r}: expected a cap <=z with z in [0, 1], e.g. <=0.1")
    return float(m[1])


@dataclass
class GoalSpec:
    name: str
    search: str
    parameter: Parameter
    metric: Metric  # keep's metric, or the one maximised
    keep: Constraint | None = None
    loss_cap: float | None = None
    steps: int | None = None  # None: the default (module docstring)
    grid: int = 5
    refine: int = 2
    scenario: dict = field(default_factory=dict)
    uncertainty: Uncertainty = field(default_factory=Uncertainty)
    brands: int = 6
    question: str = ""

    def overrides(self) -> list[str]:
        return brand_overrides(self.scenario, self.uncertainty)


def spec_from_dict(d: dict) -> GoalSpec:
    """A `GoalSpec` from a plain mapping (a composed spec, the command line's flags or a
    test's dict), shape checked; keys and bounds against the model: `check_spec`."""
    d = dict(d)
    if unknown := sorted(set(d) - SPEC_KEYS):
        raise ConfigError(f"{unknown[0]}: unknown spec key; allowed: {sorted(SPEC_KEYS)}")
    search = d.get("search")
    if search not in SEARCHES:
        raise ConfigError(f"search = {search!r}: allowed: {', '.join(SEARCHES)}")
    parameters = parse_parameters(d.get("parameters"))
    if len(parameters) != 1:
        keys = ", ".join(p.key for p in parameters)
        raise ConfigError(f"parameters: a goal seek searches one key; got {keys}")
    brands, uncertainty = brands_of(d)
    keep = maximise = cap = None
    if search == "best":
        if d.get("keep") is not None:
            raise ConfigError("keep: a `best` search maximises; state the risk as loss_probability")
        if d.get("maximise") is None:
            raise ConfigError("maximise: a `best` search needs its metric, e.g. npv_730d")
        maximise = metric(str(d["maximise"]), "maximise")
        if d.get("loss_probability") is not None:
            cap = parse_cap(d["loss_probability"])
            if not maximise.money:
                raise ConfigError(
                    f"loss_probability: a loss is {maximise.key} < 0, which needs a metric in "
                    f"yuan (npv_<H>d, ltv_<H>d, profit), not {maximise.key}"
                )
    else:
        for k in ("maximise", "loss_probability"):
            if d.get(k) is not None:
                raise ConfigError(f"{k}: only for a `best` search; {search} takes keep")
        if d.get("keep") is None:
            raise ConfigError(
                f"keep: a `{search}` search needs a constraint, e.g. conversion_30d>=0.15"
            )
        keep = parse_constraint(d["keep"])
    steps = d.get("steps")
    return GoalSpec(
        name=str(d.get("name", f"{search}_{parameters[0].key}")),
        search=search,
        parameter=parameters[0],
        metric=keep.metric if keep else maximise,
        keep=keep,
        loss_cap=cap,
        steps=None if steps is None else whole(d, "steps", 0, 1),
        grid=whole(d, "grid", 5, 3 if search == "best" else 2),
        refine=whole(d, "refine", 2, 0),
        scenario=scenario_of(d),
        uncertainty=uncertainty,
        brands=brands,
        question=str(d.get("question", "")),
    )


def spec_names() -> list[str]:
    return group_options(SPEC_GROUP)


def load_spec(name: str, overrides: list[str] | None = None) -> GoalSpec:
    """Compose `configs/goal/<name>.yaml` with Hydra overrides into a `GoalSpec`."""
    return spec_from_dict(compose_spec(SPEC_GROUP, name, overrides, "goal question"))


def check_spec(spec: GoalSpec) -> tuple[dict, GoalSpec]:
    """(the brands' composed config, the spec with its parameter's `integer`, `unit` and
    `steps` settled): the key exists and holds a number (or null), both bounds pass the schema
    (`check_parameters`), neither the horizon nor an uncertainty key is searched (they
    describe the brand, not the decision), and the metric is reported by a run this long."""
    base = compose(spec.overrides())
    spec.uncertainty.check(base)
    p = spec.parameter
    [checked] = check_parameters([p], base, fixed=not_searched(spec.uncertainty, "the metric's"))
    info = describe(p.key)  # the schema's type: a null default (operators.fixed) has none
    integer = checked.integer or (info is not None and info.integer)
    if integer and not all(float(v).is_integer() for v in (p.low, p.high)):
        raise ConfigError(f"parameters.{p.key}: a whole-number key; give whole-number low and high")
    unit = p.unit or (info.unit if info else "")
    low, high = (int(p.low), int(p.high)) if integer else (p.low, p.high)
    checked = replace(checked, integer=integer, unit=unit, low=low, high=high)
    steps = spec.steps
    if steps is None:
        whole_range = integer and p.scale == "linear"
        steps = min(int(p.high - p.low), MAX_STEPS) if whole_range else MAX_STEPS
    _check_horizon(spec.metric, base, "keep" if spec.keep else "maximise")
    return base, replace(spec, parameter=checked, steps=steps)


def _check_horizon(m: Metric, base: dict, where: str) -> None:
    days = base["horizon_days"]
    if m.horizons and (m.horizon not in base["economics"][m.horizons] or m.horizon > days):
        raise ConfigError(
            f"{where}: {m.key}: H must be one of economics.{m.horizons} "
            f"({base['economics'][m.horizons]}) and at most horizon_days ({days})"
        )
    if m.key == "conversion_30d" and days <= 30:
        raise ConfigError(
            f"{where}: conversion_30d needs horizon_days >= 31 (a cohort 30 days old); "
            f"horizon_days = {days}"
        )


def grid_value(p: Parameter, steps: int, k: int):
    """The value at grid index `k` of `steps` equal intervals (log10 for a log scale)."""
    lo, hi = p.bounds()
    v = p.value(lo + (hi - lo) * k / steps)
    return v if p.integer else float(f"{v:.12g}")  # tidy floats: stable cache keys and tables
