"""Every control of both pages, declared once: what it is called, what it says, how it is shown,
the values it takes, its unit, the config key it sets and its default.

The trainer's live page (`live_page`) and the strategist's what-if page (`whatif_page`) build
their widgets from `CONTROLS`; the values a page (or a client) sends are checked from the same
rows (`check`), and turned into the Hydra overrides the CLI takes from the same rows
(`overrides`, `phase_overrides`). The composed config then goes through the one config build
(`sim.experiment.config.model_kwargs` → `sim.core.params.scenario`), so a page refuses a
scenario with the CLI's words.

A control that leaves the config as composed has a `keep` value ("as planned", 0 operators …):
it then sets nothing. Two controls with the same words but different meanings get different
names: `ad_volume` scales paid-ads *users* per day (`channels.paid_ads.volume_scale`, DOMAIN.md
§2.5: unit cost climbs with volume), `ad_budget` fixes paid-ads *money* per day
(`channels.paid_ads.budget_per_day`, yuan).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, make_dataclass
from typing import Any

from sim.experiment.config import group_options

LIVE, WHATIF, RUN = "live", "whatif", "whatif run"  # the pages (RUN: the what-if run settings)
AS_PLANNED = "as planned"
AS_HIRED = "as the strategy hires"
_NO_KEEP = object()  # a control every value of which sets its key


@dataclass(frozen=True)
class Control:
    """One control. `choices` are the values offered (a str names the config group whose files
    are offered); `span` is the one range (lo, hi, step) of a slider or number. `sets` is the
    config key (or group) it sets, None for the page's own switches; `scale` turns the shown
    value into the config's (thousands of users → users); `per_phase` controls rewrite each
    phase of the composed strategy (`phase_overrides`)."""

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

    def options(self) -> list:
        """The values offered by a select: the `keep` value first, then the choices."""
        base = group_options(self.choices) if isinstance(self.choices, str) else list(self.choices)
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
                raise ValueError(f"{self.name} = {value!r}; allowed: {allowed}")
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
        if not (type(value) is float and math.isfinite(value) and lo <= value <= hi):
            raise ValueError(f"{self.name} = {value!r}; allowed: a number in [{lo:g}, {hi:g}]")
        return value

    def parse(self, value):
        """What a page or client sends (strings, numbers) as this control's kind, unchecked."""
        if self.keeps(value):
            return value
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
        if self.kind is str:
            return [f"{self.sets}={value}"]
        return [f"{self.sets}={number(value * self.scale, self.kind)}"]

    def shown(self, value) -> str:
        """The value as the page writes it beside the label."""
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


def number(v, kind: type = float) -> str:
    """A number as an override value: whole numbers plain, others by `repr` (round-trip exact)."""
    return str(int(v)) if kind is int else repr(round(float(v), 12))


_STRATEGY = dict(widget="select", kind=str, choices="strategy", sets="strategy")

CONTROLS: dict[str, Control] = {
    c.name: c
    for c in (
        Control("experiment", "Load an experiment's config", "select", str, "none", (LIVE,),
                choices="experiment", sets="experiment", keep="none"),
        Control("strategy_a", "Strategy A", default="staged", pages=(LIVE,), **_STRATEGY),
        Control("strategy_b", "Strategy B (side by side)", default="premature", pages=(LIVE,),
                **_STRATEGY),
        Control("strategy", "Strategy", default="staged", pages=(WHATIF,), **_STRATEGY),
        Control("side_by_side", "Side by side: run B next to A", "check", bool, True, (LIVE,)),
        Control("pool", "Pool preset", "select", str, "nurturing", (LIVE, WHATIF),
                choices="pool", sets="pool"),
        Control("business", "Business quadrant", "select", str, "high_freq_high_margin",
                (LIVE, WHATIF), choices="business", sets="business"),
        Control("koc", "KOC programme", "select", str, AS_PLANNED, (LIVE,),
                choices=("on", "off"), keep=AS_PLANNED, per_phase=True,
                sets="strategy.phases.<i>.koc_programme"),
        Control("operators", "Operators: fixed team size (0 = as the strategy hires)", "slider",
                int, 0, (LIVE,), span=(0, 40, 1), unit="people", sets="operators.fixed", keep=0),
        Control("team", "Fixed team (operators.fixed, people)", "select", int, AS_HIRED,
                (WHATIF,), choices=(1, 2, 3, 5, 8, 10, 15, 20, 30), unit="people",
                sets="operators.fixed", keep=AS_HIRED),
        Control("ad_volume", "Ad volume: paid-ads users per day × (volume_scale; spend rises "
                "faster: unit cost climbs)", "slider", float, 1.0, (LIVE,), span=(0.0, 3.0, 0.25),
                unit="× planned users per day", sets="++channels.paid_ads.volume_scale", keep=1.0),
        Control("ad_budget", "Paid-ads budget (yuan/day)", "select", float, AS_PLANNED, (WHATIF,),
                choices=(0, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000), unit="yuan per day",
                sets="channels.paid_ads.budget_per_day", keep=AS_PLANNED),
        Control("fission_share", "Fission share of acquisition (in phases that use fission)",
                "slider", float, 0.3, (LIVE,), span=(0.0, 0.9, 0.05), unit="share",
                sets="strategy.phases.<i>.channel_mix", per_phase=True),
        Control("fission", "Fission share of acquisition", "select", float, AS_PLANNED,
                (WHATIF,), choices=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                unit="share", sets="strategy.phases.<i>.channel_mix", keep=AS_PLANNED,
                per_phase=True),
        Control("users_cap", "Users cap: market size, thousand users (0 = unlimited)", "slider",
                int, 0, (LIVE,), span=(0, 500, 10), unit="thousand users", sets="market_size",
                keep=0, scale=1000),
        Control("seed", "Seed (the same for A and B)", "slider", int, 0, (LIVE,),
                span=(0, 99, 1), sets="seed"),
        Control("fit_spread", "Fit spread: how much is unknown about the brand's candidates "
                "(fit.spread)", "slider", float, 0.0, (LIVE,), span=(0.0, 2.0, 0.25),
                unit="sd of log fit", sets="fit.spread", keep=0.0),
        Control("seeds", "Seeds per scenario", "slider", int, 10, (RUN,), span=(2, 50, 1),
                unit="seeds"),
        Control("horizon_days", "Horizon (days; empty = the config's)", "number", int, None,
                (RUN,), span=(1, 3650, 1), unit="days", sets="horizon_days", keep=None),
    )
}  # fmt: skip


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
        raise ValueError(f"{unknown[0]}: not a control of the {name} page; allowed: "
                         f"{', '.join(controls)}")  # fmt: skip
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
