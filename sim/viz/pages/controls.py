"""Every control of both pages, declared once: what it is called, what it says, how it is shown,
the values it takes, its unit, the config key it sets and its default.

The trainer's live page (`live_page`) and the strategist's what-if page (`whatif_page`, its run
settings and goal-seek panel) build their widgets from `CONTROLS`; the values a page (or a
client, a shared file or link) sends are checked from the same rows (`check`: a value not
offered is refused with what is allowed, a close name suggested), and turned into the Hydra
overrides the CLI takes from the same rows (`overrides`, `phase_overrides`, `rule_overrides`).
The composed config then goes through the one config build (`sim.experiment.config.model_kwargs`
→ `sim.core.params.scenario`), so a page refuses a scenario with the CLI's words.

Defaults are the config's: the composed default config (`base()`: horizon, existing customers,
brand fit, the channels offered a budget), the goal-seek presets (`goal_spec`), and the policy
search's ranges for the rules it varies (`searched`, configs/optimize/staged_policy.yaml).

The live page's `lesson` select sets no key itself: it sets the other controls from a prepared
lesson (`sim.viz.pages.lessons`, configs/lesson/). Its `horizon` offers the NPV yardsticks
(`economics.npv_horizons_days`), so each has its NPV at the end.

A control that leaves the config as composed has a `keep` value ("as planned", an empty number
field, 0 operators …): it then sets nothing. Two controls with the same words but different
meanings get different names: `ad_volume` scales paid-ads *users* per day
(`channels.paid_ads.volume_scale`, DOMAIN.md §2.5: unit cost climbs with volume),
`budget_paid_ads` fixes paid-ads *money* per day (`channels.paid_ads.budget_per_day`, yuan).
The what-if page's `alternatives` loads an experiment's brand (its candidates) the way the live
page's `experiment` does; the what-if plan then pins what that experiment also sweeps
(`whatif.Plan.overrides`).
"""

from __future__ import annotations

import difflib
import functools
import math
from dataclasses import dataclass, field, make_dataclass
from typing import Any

from sim.experiment.config import compose, group_options
from sim.viz.labels import words

# the pages (RUN: the what-if run settings, GOAL: its goal-seek panel)
LIVE, WHATIF, RUN, GOAL = "live", "whatif", "whatif run", "whatif goal"
AS_PLANNED = "as planned"
NO_LESSON = "none"  # the live page's Lesson select: no prepared lesson, the controls as set
_NO_KEEP = object()  # a control every value of which sets its key


@dataclass(frozen=True)
class Control:
    """One control. `choices` are the values offered (a str names the config group whose files
    are offered); `span` is the one range (lo, hi, step) of a slider or number. `sets` is the
    config key (or group) it sets, None for the page's own switches; `scale` turns the shown
    value into the config's (thousands of users → users); `per_phase` controls rewrite each
    phase of the composed strategy (`phase_overrides`), a policy rule's (`phase_key`, the key
    inside a phase) those phases that have it, only the one named `phase` if given
    (`rule_overrides`). `means` maps a choice in words to the config value it sets. `withheld`:
    options of the config group not offered (a name, or a folder of names)."""

    name: str
    label: str
    widget: str  # "select", "check", "slider" or "number"
    kind: type  # str, bool, int or float
    default: Any
    pages: tuple[str, ...]
    choices: tuple | str | None = None
    span: tuple[float, float, float] | None = None
    unit: str = ""
    sets: str | None = None
    keep: Any = _NO_KEEP
    scale: int = 1
    per_phase: bool = False
    phase_key: str | None = None
    phase: str | None = None
    means: dict | None = None
    withheld: tuple[str, ...] = ()

    def options(self) -> list:
        """The values offered by a select: the `keep` value first, then the choices."""
        base = group_options(self.choices) if isinstance(self.choices, str) else list(self.choices)
        base = [b for b in base if not any(b == w or b.startswith(f"{w}/") for w in self.withheld)]
        keep = [self.keep] if self.keep is not _NO_KEEP and self.keep not in base else []
        return keep + base

    def keeps(self, value) -> bool:
        return self.keep is not _NO_KEEP and value == self.keep and type(value) is type(self.keep)

    def check(self, value):
        """The value if this control takes it; else ValueError naming the control and what it
        takes. Option lists are enforced: a group value such as `../../x` would make Hydra load
        any YAML it names."""
        if self.keeps(value):
            return value
        if self.choices is not None:
            options = self.options()
            if isinstance(value, bool) or value not in options:
                allowed = ", ".join(map(str, options))
                hint = nearest(str(value), map(str, options))
                raise ValueError(f"{self.name} = {value!r}{hint}; allowed: {allowed}")
            return value
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} = {value!r}; allowed: true or false")
            return value
        lo, hi, _ = self.span
        if self.kind is int:
            if not (type(value) is int and lo <= value <= hi):
                allowed = f"a whole number in [{lo}, {hi}]"
                raise ValueError(f"{self.name} = {value!r}; allowed: {allowed}")
            return value
        ok = type(value) in (int, float) and math.isfinite(value)
        if not (ok and lo <= value <= hi):
            raise ValueError(f"{self.name} = {value!r}; allowed: a number in [{lo:g}, {hi:g}]")
        return value

    def parse(self, value):
        """What a page or client sends (strings, numbers) as this control's kind, unchecked."""
        if self.keeps(value):
            return value
        if value == "" and self.keep is None:  # an emptied number field: the config's
            return None
        if self.kind is bool:
            return bool(value)
        if self.kind is str:
            return value if isinstance(value, str) else repr(value)
        if self.choices is not None:  # a numeric select: the values offered, as offered
            return value
        try:
            if isinstance(value, bool) or (
                self.kind is int and isinstance(value, float) and not value.is_integer()
            ):
                raise ValueError
            return self.kind(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{self.name} = {value!r}; allowed: a number") from None

    def override(self, value) -> list[str]:
        """The Hydra override this value makes, as on the CLI ([] when it keeps the config)."""
        if self.sets is None or self.per_phase or self.keeps(value):
            return []
        if self.means is not None:
            v = self.means[value]
            return [f"{self.sets}={v if isinstance(v, str) else number(v)}"]
        if self.kind is str:
            return [f"{self.sets}={value}"]
        return [f"{self.sets}={number(value * self.scale, self.kind)}"]

    def shown(self, value) -> str:
        """The value as the page writes it beside the label (an empty number: as planned)."""
        if value is None:
            return AS_PLANNED
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


def number(v, kind: type = float) -> str:
    """A number as an override value: whole numbers plain, others by `repr` (round-trip exact)."""
    return str(int(v)) if kind is int else repr(round(float(v), 12))


# strategies the configs build for studies, not plans to pick: their headers call them probes
# ("A probe, not a scaling strategy", "Channel probe"; experiments operator_staffing,
# koc_leverage, channel_mix vary one thing on them); no page's strategy select offers them
PROBES = ("steady", "channel")
_STRATEGY = dict(widget="select", kind=str, choices="strategy", sets="strategy", withheld=PROBES)


@functools.cache
def base() -> dict:
    """The composed default config: the defaults and channels the what-if controls show."""
    return compose([])


@functools.cache
def searched(key: str) -> tuple[float, float]:
    """(low, high) the policy search varies `key` over (configs/optimize/staged_policy.yaml):
    the what-if page's range for the same rule."""
    from sim.experiment.optimize_spec import load_spec

    (p,) = [p for p in load_spec(POLICY_SEARCH).parameters if p.key == key]
    return p.low, p.high


@functools.cache
def goal_spec(name: str):
    """A goal-seek preset (configs/goal/<name>.yaml): the goal panel's defaults."""
    from sim.experiment.goal_spec import load_spec

    return load_spec(name)


POLICY_SEARCH = "staged_policy"
# "How sure are you that it fits?" -> fit.spread (sd of log fit, DOMAIN §3.1): the strategy
# map's four spreads (configs/experiment/strategy_map.yaml), in words
FIT_WORDS = {"sure": 0.0, "fairly sure": 0.25, "unsure": 0.5, "very unsure": 1.0}
FIT_QUESTION = "How sure are you that this pool / product / channel fits your brand?"
# "Does the brand have alternatives to test?" -> the experiment whose brand has them: the
# testing_value experiment's candidate pools and lead products (DOMAIN §3.1); "no": the configs'
# brand, which has none
NO_ALTERNATIVES = "no"
ALTERNATIVES = {
    NO_ALTERNATIVES: None,
    "yes: the testing_value experiment's candidate pools and lead products": "testing_value",
}
ALTERNATIVES_QUESTION = "Does the brand have alternatives to test?"
MONEY_PER_DAY = (0.0, 100_000.0, 100.0)  # yuan/day a channel budget may take (the page's range)


def _fit_default() -> str:
    spread = base()["fit"]["spread"]
    return next((w for w, v in FIT_WORDS.items() if v == spread), str(spread))


def _budgets() -> list[Control]:
    """One budget per channel of the composed config (configs/channels/), yuan/day."""
    return [
        Control(f"budget_{ch}", f"{words(ch)[0].upper()}{words(ch)[1:]} budget (yuan/day; "
                "empty = as planned)", "number", float, None, (WHATIF,), span=MONEY_PER_DAY,
                unit="yuan per day", sets=f"channels.{ch}.budget_per_day", keep=None)
        for ch in sorted(base()["channels"])
    ]  # fmt: skip


def _rule(name, label, kind, key, phase_key, step, phase=None, span=None) -> Control:
    """A policy rule of the strategy's phases, offered where the strategy has it; its range is
    the policy search's (`searched`) unless given."""
    lo, hi = span or searched(key)
    return Control(name, label, "number", kind, None, (WHATIF,), span=(lo, hi, step),
                   sets=f"strategy.phases.<i>.{phase_key}", keep=None, per_phase=True,
                   phase_key=phase_key, phase=phase)  # fmt: skip


def _table() -> dict[str, Control]:
    horizon = base()["horizon_days"]
    return {
        c.name: c
        for c in (
            Control("lesson", "Lesson: a prepared pair (sets the controls below)", "select",
                    str, NO_LESSON, (LIVE,), choices="lesson", keep=NO_LESSON),
            Control("experiment", "Load an experiment's config", "select", str, "none", (LIVE,),
                    choices="experiment", sets="experiment", keep="none"),
            Control("strategy_a", "Strategy A", default="staged", pages=(LIVE,), **_STRATEGY),
            Control("strategy_b", "Strategy B (side by side)", default="premature",
                    pages=(LIVE,), **_STRATEGY),
            Control("strategy", "Strategy", default="staged", pages=(WHATIF,), **_STRATEGY),
            Control("side_by_side", "Side by side: run B next to A", "check", bool, True,
                    (LIVE,)),
            Control("pool", "Pool preset", "select", str, "nurturing", (LIVE, WHATIF),
                    choices="pool", sets="pool"),
            Control("business", "Business quadrant", "select", str, "high_freq_high_margin",
                    (LIVE, WHATIF), choices="business", sets="business"),
            Control("koc", "KOC programme", "select", str, AS_PLANNED, (LIVE,),
                    choices=("on", "off"), keep=AS_PLANNED, per_phase=True,
                    sets="strategy.phases.<i>.koc_programme"),
            Control("operators", "Operators: fixed team size (0 = as the strategy hires)",
                    "slider", int, 0, (LIVE,), span=(0, 40, 1), unit="people",
                    sets="operators.fixed", keep=0),
            Control("team", "Operators: a fixed team from day 0 (people; empty = as the "
                    "strategy hires)", "number", int, None, (WHATIF,), span=(1, 200, 1),
                    unit="people", sets="operators.fixed", keep=None),
            Control("initial_users", "Existing customers imported on day 0 (users)", "number",
                    int, base()["initial_users"], (WHATIF,), span=(0, 1_000_000, 1),
                    unit="users", sets="initial_users", keep=base()["initial_users"]),
            Control("ad_volume", "Paid-ads volume (× the plan's users per day, every phase; "
                    "spend rises faster: unit cost climbs)", "slider", float, 1.0, (LIVE, WHATIF),
                    span=(0.0, 3.0, 0.25), unit="× planned users per day",
                    sets="++channels.paid_ads.volume_scale", keep=1.0),
            *_budgets(),
            Control("fission_share", "Fission share of acquisition (in phases that use "
                    "fission)", "slider", float, 0.3, (LIVE,), span=(0.0, 0.9, 0.05),
                    unit="share", sets="strategy.phases.<i>.channel_mix", per_phase=True),
            Control("fission", "Fission share of acquisition", "select", float, AS_PLANNED,
                    (WHATIF,), choices=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                    unit="share", sets="strategy.phases.<i>.channel_mix", keep=AS_PLANNED,
                    per_phase=True),
            Control("alternatives", ALTERNATIVES_QUESTION, "select", str, NO_ALTERNATIVES,
                    (WHATIF,), choices=tuple(ALTERNATIVES), means=ALTERNATIVES, sets="experiment",
                    keep=NO_ALTERNATIVES),
            Control("fit", FIT_QUESTION, "select", str, _fit_default(), (WHATIF,),
                    choices=tuple(FIT_WORDS), means=FIT_WORDS, unit="fit.spread",
                    sets="fit.spread", keep=_fit_default()),
            _rule("test_users", "0-1 test: users per arm (empty = as the strategy plans)", int,
                  "strategy.phases.0.test.users_per_arm", "test.users_per_arm", 1),
            _rule("payback", "Spend rule: keep paid ads while their 90-day LTV/CAC is at least "
                  "(× CAC; empty = as planned)", float,
                  "strategy.phases.2.rules.spend.paid_ads.min_ltv_cac",
                  "rules.spend.paid_ads.min_ltv_cac", 0.05),
            _rule("stop_loss", "Stop-loss: stop buying when 30-day conversion falls below "
                  "(share; empty = as planned)", float, None, "rules.stop_loss.below", 0.01,
                  span=(0.0, 0.5)),
            _rule("scale_team", "10-N team size (people; empty = as planned)", int,
                  "strategy.phases.2.team_size", "team_size", 1, phase="ten_to_n"),
            Control("users_cap", "Users cap: market size, thousand users (0 = unlimited)",
                    "slider", int, 0, (LIVE,), span=(0, 500, 10), unit="thousand users",
                    sets="market_size", keep=0, scale=1000),
            Control("horizon", "Horizon (days; as planned = the config's or the experiment's)",
                    "select", int, AS_PLANNED, (LIVE,),
                    choices=tuple(base()["economics"]["npv_horizons_days"]), unit="days",
                    sets="horizon_days", keep=AS_PLANNED),
            Control("seed", "Seed (the same for A and B)", "slider", int, 0, (LIVE,),
                    span=(0, 99, 1), sets="seed"),
            Control("fit_spread", "Fit spread: how much is unknown about the brand's "
                    "candidates (fit.spread)", "slider", float, 0.0, (LIVE,),
                    span=(0.0, 2.0, 0.25), unit="sd of log fit", sets="fit.spread", keep=0.0),
            Control("goal_conversion", "x: 30-day conversion to keep (share)", "number", float,
                    goal_spec("team_for_conversion").keep.threshold, (GOAL,),
                    span=(0.01, 0.5, 0.01), unit="share of users"),
            Control("goal_users", "y: existing customers (users)", "number", int,
                    goal_spec("team_for_conversion").scenario["initial_users"], (GOAL,),
                    span=(0, 500_000, 1000), unit="users"),
            Control("goal_loss", "z: largest share of brands allowed to lose money", "number",
                    float, goal_spec("budget_for_npv").loss_cap, (GOAL,), span=(0.0, 1.0, 0.05),
                    unit="share of brands"),
            Control("goal_brands", "Brands per value (the presets use "
                    f"{goal_spec('team_for_conversion').brands}; fewer: quicker, rougher)",
                    "number", int, 3, (GOAL,), span=(2, 30, 1), unit="brands"),
            Control("goal_refine", "Refinement rounds (best budget; the preset: "
                    f"{goal_spec('budget_for_npv').refine})", "number", int, 1, (GOAL,),
                    span=(0, 4, 1), unit="rounds"),
            Control("seeds", "Seeds per scenario", "slider", int, 10, (RUN,), span=(2, 50, 1),
                    unit="seeds"),
            Control("horizon_days", f"Horizon (days; the config's: {horizon})", "number", int,
                    horizon, (RUN,), span=(1, 1095, 1), unit="days", sets="horizon_days",
                    keep=horizon),
        )
    }  # fmt: skip


CONTROLS: dict[str, Control] = _table()


def nearest(word: str, names) -> str:
    """` (did you mean X?)` for the closest of `names`, or nothing."""
    near = difflib.get_close_matches(word, list(names), n=1)
    return f" (did you mean {near[0]}?)" if near else ""


def page(name: str) -> dict[str, Control]:
    """A page's controls, in the order shown."""
    return {k: c for k, c in CONTROLS.items() if name in c.pages}


def defaults(name: str) -> dict:
    return {k: c.default for k, c in page(name).items()}


def check(name: str, values: dict) -> dict:
    """`values` (every control of page `name`; missing ones take their default) parsed and
    checked; ValueError names the first control refused."""
    controls = page(name)
    unknown = sorted(set(values) - set(controls))
    if unknown:
        hint = nearest(unknown[0], controls)
        raise ValueError(f"{unknown[0]}: not a control of the {name} page{hint};"
                         f" allowed: {', '.join(controls)}")  # fmt: skip
    out = {}
    for k, c in controls.items():
        out[k] = c.check(c.parse(values[k])) if k in values else c.default
    return out


def overrides(name: str, values: dict, strategy: str | None = None) -> list[str]:
    """The Hydra overrides of page `name`'s checked `values`, in the table's order, without the
    per-phase ones (`phase_overrides`). `strategy`: the one arm's strategy, for a page whose
    arms each pick one (`strategy_a`, `strategy_b`)."""
    out = []
    for k, c in page(name).items():
        if c.sets == "strategy" and strategy is not None:
            if f"strategy={strategy}" not in out:
                out.append(f"strategy={strategy}")
            continue
        out += c.override(values[k])
    return out


def phase_overrides(cfg: dict, fission_share=None, koc: str | None = None) -> list[str]:
    """Overrides of the composed strategy's phases: the fission share of acquisition in the
    phases that use fission, the other channels keeping their proportions (DOMAIN.md §2.5), and
    the KOC programme "on"/"off" in every phase (§2.3). None (or a `keep` value) changes
    nothing."""
    share = None if fission_share in (None, AS_PLANNED) else float(fission_share)
    out = []
    for i, phase in enumerate(cfg["strategy"]["phases"]):
        mix = phase["channel_mix"]
        f0 = mix.get("fission")
        if share is not None and f0 is not None and abs(share - f0) > 1e-9 and f0 < 1.0:
            scale = (1.0 - share) / (1.0 - f0)
            new = {k: v * scale for k, v in mix.items() if k != "fission"}
            new["fission"] = share
            for k, v in new.items():
                out.append(f"strategy.phases.{i}.channel_mix.{k}={number(v)}")
        if koc not in (None, AS_PLANNED):
            want = koc == "on"
            if bool(phase["koc_programme"]) != want:
                out.append(f"strategy.phases.{i}.koc_programme={str(want).lower()}")
    return out


def _at(node, dotted: str):
    for part in dotted.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            return None
        node = node[part]
    return node


def rule_phases(c: Control, cfg: dict) -> list[int]:
    """The phases of the composed strategy where policy rule `c` applies: those holding its
    `phase_key` (a 0-1 test, a paid-ads spend rule, a stop-loss), only the one named `c.phase`
    if set (DOMAIN §3)."""
    return [
        i
        for i, ph in enumerate(cfg["strategy"]["phases"])
        if (c.phase is None or ph["name"] == c.phase) and _at(ph, c.phase_key) is not None
    ]


def rule_overrides(name: str, cfg: dict, values: dict) -> list[str]:
    """Overrides of page `name`'s policy rules (`Control.phase_key`) in the phases of the
    composed strategy that have them; ValueError where a rule is set that the strategy has not
    (the strategy and the rules the page offers for it)."""
    out = []
    for k, c in page(name).items():
        if c.phase_key is None or c.keeps(values[k]):
            continue
        where = rule_phases(c, cfg)
        if not where:
            offered = [x for x, r in page(name).items() if r.phase_key and rule_phases(r, cfg)]
            raise ValueError(
                f"{k} = {values[k]!r}: strategy {cfg['strategy']['name']} has no such rule; "
                f"allowed: empty (as planned). Its rules: {', '.join(offered) or 'none'}"
            )
        out += [f"strategy.phases.{i}.{c.phase_key}={number(values[k], c.kind)}" for i in where]
    return out


def values_class(name: str, cls_name: str, doc: str, **methods):
    """A frozen dataclass whose fields are page `name`'s controls (defaults from the table),
    checked on creation; `parse(**values)` converts what a page sends first; `methods` are
    added to the class."""

    def __post_init__(self):
        for k, c in page(name).items():
            c.check(getattr(self, k))

    def parse(cls, **values):
        return cls(**check(name, values))

    fields = [(k, Any, field(default=c.default)) for k, c in page(name).items()]
    ns = {"__post_init__": __post_init__, "parse": classmethod(parse), "__doc__": doc, **methods}
    return make_dataclass(cls_name, fields, frozen=True, namespace=ns)
