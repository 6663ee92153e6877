"""The workshop game's settings and a team's monthly decision (issue #26), and how a plan of
decisions becomes a plain strategy (DOMAIN §3) on the hidden brand's config.

Settings come from `configs/workshop/<name>.yaml` with Hydra overrides (composed like the study
specs, `study_spec.compose_spec`). Every key is declared below with its range (`ranged`, as the
parameter records do); an unknown key, a missing one or a value out of range is a `ConfigError`
naming the full key and what is allowed, before any run.

A decision maps one-to-one onto a `Phase` (`phase`): a month is a phase of `month_days` days
(min_days = max_days, no gate: it ends when the month does; the last phase never ends,
`sim.core.strategy`, so the plan so far runs exactly its months). Its fields:

- team_size → `team_size`: operators hired up to on entry (DOMAIN §2.2). Hires arrive after
  `operators.lead_days` and ramp up; the model never lays off (`sim.core.team.Team.hire`), so a
  size below the headcount keeps the team.
- budget (yuan/day) → `daily_users` = budget ÷ c, c = Σ share × base_cost over the workshop's
  `channel_mix` (the mix's unit cost at day 0 with nothing bought yet, `configs/channels`).
  Unit costs then rise with time and with the volume bought (the black-forest law, §2.5), so the
  same budget buys fewer users later and the real spend drifts above the budget: the game shows
  the real spend from the run's `spend_<channel>` columns (`Team.monthly`).
- test → `test`: a 0-1 test of people, goods and place (§3.1) with the workshop's test settings,
  marked `continues`, so consecutive test months are one test: its arms fill and mature across
  months whatever the team or budget (a test is sized in users, §3.2). The first scale month
  after a test commits, per dimension, the candidate with the best measured metric over the
  test's users who have matured by then (`sim.core.fit.Brand.enter`); a test whose users have not
  matured yet commits nothing, and the guess runs on.
- koc → `koc_programme` (§2.3), when the workshop offers it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from dataclasses import dataclass, field, fields

from sim.core.checks import shares
from sim.core.params import ConfigError
from sim.core.ranges import (
    FIT_DIMENSIONS,
    HEADCOUNT,
    MAX_HORIZON_DAYS,
    MONEY,
    NONNEG,
    PROB,
    SEED,
    TEST_METRIC,
    Allowed,
    at_least,
    described,
    integer_in,
    is_number,
    out_of_range,
    ranged,
)
from sim.core.strategy_params import Gate, Phase, Rules, Strategy, Test
from sim.experiment.config import compose, group_options, override

GROUP = "workshop"
BOOL = Allowed(lambda v: isinstance(v, bool), "true or false")
TEXTS = Allowed(
    lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of text"
)
DIMENSIONS = Allowed(
    lambda v: isinstance(v, list) and bool(v) and set(v) <= set(FIT_DIMENSIONS),
    f"a non-empty list of {FIT_DIMENSIONS}",
)
MIX = Allowed(lambda v: isinstance(v, dict) and bool(v), "a mapping of channel to share")
EXPERIMENTS = group_options("experiment")
EXPERIMENT = Allowed(lambda v: v in EXPERIMENTS, f"one of {EXPERIMENTS}")
# keys the workshop sets itself (`brand_overrides`, the team's plan): not for brand.scenario
RESERVED = ("experiment", "fit.spread", "seed", "fit.truth.replicates", "horizon_days", "strategy")


@dataclass(frozen=True)
class BrandSpec:
    """The hidden brand: a brand of an experiment with candidates (DOMAIN §3.1)."""

    experiment: str = ranged(EXPERIMENT, doc="configs/experiment/<name> giving the candidates")
    fit_spread: float = ranged(NONNEG, doc="fit.spread: how unsure the brand is", unit="log fit")
    seed: int = ranged(SEED, doc="the brand and the run's draws", unit="integer")
    truth_replicates: int = ranged(
        at_least(0), doc="fit.truth.replicates of every run (0: no evaluation)", unit="runs"
    )
    scenario: list = ranged(TEXTS, doc="further privsim overrides of the brand", unit="overrides")


@dataclass(frozen=True)
class Span:
    """A decision's range on the page: min, max, step and the default offered."""

    min: float
    max: float
    step: float
    default: float


@dataclass(frozen=True)
class TestSpec:
    """What a test month runs (a `Test` record, §3.1)."""

    dimensions: list = ranged(DIMENSIONS, doc="dimensions tested", unit="names")
    users_per_arm: int = ranged(at_least(1), doc="users per arm (003: >= 1,000)", unit="users")
    metric: str = ranged(TEST_METRIC, doc="what the arms are compared on", unit="metric")
    horizon_days: int = ranged(at_least(1), doc="age of the ltv metric", unit="days")


@dataclass(frozen=True)
class Settings:
    """A workshop's composed, checked settings (`configs/workshop/<name>.yaml`)."""

    name: str
    brand: BrandSpec
    months: int = ranged(integer_in(1, 120), doc="months played", unit="months")
    month_days: int = ranged(integer_in(1, 365), doc="days in a month (one phase)", unit="days")
    team_size: Span = described("the hiring range offered", "people")
    budget: Span = described("the ad budget range offered", "yuan/day")
    koc_choice: bool = ranged(BOOL, doc="offer the KOC programme on/off", unit="on/off")
    koc_default: bool = ranged(BOOL, doc="the KOC programme's default", unit="on/off")
    channel_mix: dict = ranged(MIX, doc="shares of the budget's users by channel", unit="share")
    systems: float = ranged(PROB, doc="systems level of every month", unit="level")
    build_capability: bool = ranged(BOOL, doc="build capability every month", unit="on/off")
    test: TestSpec = described("what a test month runs", "record")
    unit_cost: float = field(default=math.nan)  # yuan per user of the mix at day 0 (derived)

    @property
    def horizon_days(self) -> int:
        """The game's horizon: months × month_days (the leaderboard's NPV horizon)."""
        return self.months * self.month_days


SPANS = {"team_size": HEADCOUNT, "budget": MONEY}  # what each span's bounds may be at most


def names() -> list[str]:
    return group_options(GROUP)


def load(name: str = "default", overrides=()) -> Settings:
    """`configs/workshop/<name>.yaml` with Hydra `overrides`, checked; `ConfigError` naming the
    key and its range for anything wrong (also an experiment, override or channel the brand's
    config does not have: the base config is composed once to check)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sim.experiment.study_spec import compose_spec

    parser = OverridesParser.create()
    for arg in overrides:
        with refused(f"workshop: override {arg!r}"):
            parser.parse_override(arg)
    with refused("workshop"):
        d = compose_spec(GROUP, name, list(overrides), "workshop")
    return from_dict(name, d)


@contextlib.contextmanager
def refused(key: str):
    """Hydra's and OmegaConf's refusals (an override's syntax, a key it cannot set) as one
    `ConfigError` line naming `key`."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        yield
    except (HydraException, OmegaConfBaseException) as e:
        line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"{key}: {line}") from None


def from_dict(name: str, d: dict, base: dict | None = None) -> Settings:
    """Settings from a composed mapping (`load`), or as saved in a workshop folder with the
    brand's config `base` it saved (default: composed now, `base_config`)."""
    d = {k: v for k, v in d.items() if k not in ("name", "unit_cost")}
    s = _record(Settings, d, "workshop", name=name)
    if s.horizon_days > MAX_HORIZON_DAYS:
        raise out_of_range(
            "workshop.months", s.months, f"months × month_days <= {MAX_HORIZON_DAYS:,} days"
        )
    for i, arg in enumerate(s.brand.scenario):
        if arg.lstrip("+~").split("=")[0].split("@")[0] in RESERVED:
            raise out_of_range(
                f"workshop.brand.scenario.{i}", arg, f"an override of a key other than {RESERVED}"
            )
    if base is None:
        with refused("workshop.brand: the brand's config"):
            base = base_config(s)
    channels = base["channels"]
    shares(s.channel_mix, "workshop.channel_mix", channels)
    cost = sum(v * channels[c]["base_cost"] for c, v in s.channel_mix.items())
    if not cost > 0:
        raise out_of_range("workshop.channel_mix", s.channel_mix, "a mix whose users cost > 0")
    return dataclasses.replace(s, unit_cost=float(cost))


def _record(cls, d, key: str, **given):
    if not isinstance(d, dict):
        raise out_of_range(key, d, "a mapping")
    known = [f.name for f in fields(cls) if f.name not in ("name", "unit_cost")]
    for k in d:
        if k not in known:
            raise ConfigError(f"{key}.{k}: unknown key; allowed: {', '.join(known)}")
    out = dict(given)
    for f in fields(cls):
        if f.name in ("name", "unit_cost"):
            continue
        k = f"{key}.{f.name}"
        if f.name not in d:
            if f.default is not dataclasses.MISSING:
                continue
            raise ConfigError(f"{k}: missing; allowed: {_allowed_text(f)}")
        v = d[f.name]
        if f.type in ("BrandSpec", "TestSpec"):
            v = _record(BrandSpec if f.type == "BrandSpec" else TestSpec, v, k)
        elif f.type == "Span":
            v = _span(v, k, SPANS[f.name])
        elif (allowed := f.metadata.get("allowed")) is not None and not allowed.test(v):
            raise out_of_range(k, v, allowed.text)
        out[f.name] = v
    return cls(**out)


def _allowed_text(f) -> str:
    allowed = f.metadata.get("allowed")
    return allowed.text if allowed is not None else f.metadata.get("doc", "a value")


def _span(d, key: str, limit: Allowed) -> Span:
    """A range offered: min ≤ default ≤ max, step > 0, bounds within `limit`."""
    if not isinstance(d, dict):
        raise out_of_range(key, d, "a mapping with min, max, step, default")
    want = [f.name for f in fields(Span)]
    for k in d:
        if k not in want:
            raise ConfigError(f"{key}.{k}: unknown key; allowed: {', '.join(want)}")
    for k in want:
        if k not in d:
            raise ConfigError(f"{key}.{k}: missing; allowed: {limit.text}")
        if not limit.test(d[k]) and not (k == "step" and is_number(d[k])):
            raise out_of_range(f"{key}.{k}", d[k], limit.text)
    if not d["step"] > 0:
        raise out_of_range(f"{key}.step", d["step"], "a number > 0")
    if not d["min"] <= d["max"]:
        raise out_of_range(f"{key}.max", d["max"], f"a number >= min ({d['min']})")
    if not d["min"] <= d["default"] <= d["max"]:
        raise out_of_range(f"{key}.default", d["default"], f"in [{d['min']}, {d['max']}]")
    return Span(**{k: d[k] for k in want})


def as_dict(s: Settings) -> dict:
    """The settings as plain data (saved in the workshop folder; `from_dict` reads it back)."""
    return dataclasses.asdict(s)


# --- the brand's config ---------------------------------------------------------------------


def brand_overrides(s: Settings, days: int | None = None) -> list[str]:
    """The privsim overrides of the hidden brand over `days` (default: the game's horizon)."""
    b = s.brand
    return [
        override("experiment", b.experiment),
        override("fit.spread", b.fit_spread),
        override("seed", b.seed),
        override("fit.truth.replicates", b.truth_replicates),
        override("horizon_days", s.horizon_days if days is None else days),
        *b.scenario,
    ]


def base_config(s: Settings, days: int | None = None) -> dict:
    """The brand's composed config (its own strategy, e.g. staged, until a plan replaces it)."""
    return compose(brand_overrides(s, days))


# --- a team's decision ----------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One month of a team's play: a phase of the team's strategy (module docstring)."""

    team_size: int = ranged(
        HEADCOUNT,
        doc="operators hired up to this month (DOMAIN §2.2); hires arrive after the lead time "
        "and ramp up; nobody is laid off, so a smaller size keeps the team",
        unit="people",
    )
    budget: float = ranged(
        MONEY,
        doc="ad budget; users bought per day = budget ÷ the mix's unit cost at day 0 (§2.5: "
        "costs rise with time and volume, so the real spend drifts above it)",
        unit="yuan/day",
    )
    test: bool = ranged(
        BOOL,
        False,
        doc="test people, goods and place this month (DOMAIN §3.1); consecutive test months are "
        "one test; the next scale month commits what it measured",
        unit="test/scale",
    )
    koc: bool = ranged(BOOL, False, doc="run the KOC programme (core circle, §2.3)", unit="on/off")


LABELS = {
    "team_size": "Team size (hire up to)",
    "budget": "Ad budget",
    "test": "Test people, goods, place (else scale)",
    "koc": "KOC programme",
}


def controls(s: Settings) -> list[dict]:
    """The decision's fields as the page's widgets: name, label, kind, range, default, unit,
    doc (the field's metadata, the range the workshop offers)."""
    out = []
    for f in fields(Decision):
        if f.name == "koc" and not s.koc_choice:
            continue
        c = {"name": f.name, "label": LABELS[f.name], "unit": f.metadata["unit"]}
        c["doc"] = f.metadata["doc"]
        c |= dict.fromkeys(("min", "max", "step", "choices"))
        if f.name in SPANS:
            span = getattr(s, f.name)
            c |= {"min": span.min, "max": span.max, "step": span.step, "default": span.default}
            c["kind"] = "int" if f.name == "team_size" else "float"
        else:
            c |= {"kind": "bool", "default": s.koc_default if f.name == "koc" else False}
        out.append(c)
    return out


def decision(s: Settings, values) -> Decision:
    """A checked `Decision` from a `Decision` or a mapping of its fields; `ConfigError` naming
    the field and the workshop's range for an unknown field or a value out of range."""
    if isinstance(values, Decision):
        values = dataclasses.asdict(values)
    if not isinstance(values, dict):
        raise ConfigError(f"decision = {values!r}; allowed: a Decision or a mapping of its fields")
    offered = {c["name"]: c for c in controls(s)}
    for k in values:
        if k not in offered:
            raise ConfigError(f"decision.{k}: unknown field; allowed: {', '.join(offered)}")
    out = {}
    for name, c in offered.items():
        v = values.get(name, c["default"])
        v = v.item() if hasattr(v, "item") else v  # a numpy scalar from a widget
        if c["kind"] == "bool":
            ok, text = isinstance(v, bool), "true or false"
        else:
            integral = c["kind"] == "float" or (is_number(v) and float(v).is_integer())
            ok = is_number(v) and integral and c["min"] <= v <= c["max"]
            kind = "an integer" if c["kind"] == "int" else "a number"
            text = f"{kind} in [{c['min']:,}, {c['max']:,}] ({c['unit']})"
        if not ok:
            raise out_of_range(f"decision.{name}", v, text)
        out[name] = int(v) if c["kind"] == "int" else float(v) if c["kind"] == "float" else v
    if "koc" not in offered:
        out["koc"] = s.koc_default
    return Decision(**out)


def phase(s: Settings, d: Decision, month: int) -> Phase:
    """Month `month` (from 1) as a phase (module docstring: the mapping and why)."""
    t = s.test
    test = Test(list(t.dimensions), {}, t.users_per_arm, t.metric, t.horizon_days, None, True)
    return Phase(
        name=f"month_{month:02d}",
        daily_users=d.budget / s.unit_cost,
        channel_mix=dict(s.channel_mix),
        team_size=d.team_size,
        koc_programme=d.koc,
        systems=s.systems,
        build_capability=s.build_capability,
        min_days=s.month_days,
        max_days=s.month_days,
        gate=Gate(),
        on_gate_fail="advance",
        test=test if d.test else None,
        rules=Rules(),
    )


def strategy(s: Settings, team: str, plan: list[Decision]) -> Strategy:
    """A team's plan so far as a plain strategy: one phase per month played."""
    return Strategy(
        name=f"game_{team}", phases=[phase(s, d, i) for i, d in enumerate(plan, start=1)]
    )


def strategy_dict(st: Strategy) -> dict:
    """A strategy as configs/strategy/<name>.yaml holds it (every field, as the optimised
    policy's file)."""
    return dataclasses.asdict(st)


def run_config(base: dict, st: dict, days: int) -> dict:
    """The brand's config `base` (`base_config`) running strategy `st` for `days` days: the
    config `base_config(s, days)` with `st` as its strategy (nothing in configs/ interpolates
    horizon_days; tests/test_workshop.py checks the two agree), without composing again."""
    return {**copy.deepcopy(base), "horizon_days": int(days), "strategy": copy.deepcopy(st)}


__all__ = [
    "Decision",
    "Settings",
    "base_config",
    "controls",
    "decision",
    "load",
    "names",
    "phase",
    "run_config",
    "strategy",
]
