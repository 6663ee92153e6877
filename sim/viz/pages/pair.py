"""The trainer's pair: two private-domain models with the same seed and business and different
strategies, built from the live page's controls exactly as the CLI builds them, advanced
together one day at a time.

The controls (`sim.viz.pages.controls`, page "live") become Hydra overrides composed by
`sim.experiment.config.compose` against the versioned `configs/`; each arm's config goes through
the one config build (`model_kwargs`), so `cli_command()` prints the `privsim` line that
reproduces an arm and a refused scenario reads as the CLI's refusal.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import mesa
import pandas as pd

from sim.core import series
from sim.core.model import PrivateDomainModel
from sim.experiment.config import compose, model_kwargs
from sim.viz.pages import controls
from sim.viz.pages.controls import LIVE

ROLLING_DAYS = 28  # joining days pooled per point of the conversion-over-time series
MIN_POOLED = 50  # joiners needed before a pooled conversion is shown

Controls = controls.values_class(
    LIVE,
    "Controls",
    "The live page's control values (fields, defaults and checks from `controls.CONTROLS`).",
)


def base_overrides(c: Controls, strategy: str) -> list[str]:
    """Hydra overrides for everything that does not depend on the strategy's phases."""
    return controls.overrides(LIVE, c.__dict__, strategy)


def arm_config(c: Controls, strategy: str) -> tuple[dict, list[str]]:
    """The composed config of one arm and the overrides that produce it (as on the CLI)."""
    ov = base_overrides(c, strategy)
    cfg = compose(ov)
    extra = controls.phase_overrides(cfg, c.fission_share, c.koc)
    if extra:
        ov = ov + extra
        cfg = compose(ov)
    return cfg, ov


def cli_command(overrides: list[str]) -> str:
    return "privsim " + " ".join(overrides)


@dataclass
class Arm:
    """One model of the pair, with what the page needs beside Mesa's DataCollector."""

    label: str  # "A" or "B"
    strategy: str
    overrides: list[str]
    model: PrivateDomainModel
    ltv_cac: list[float] = field(default_factory=list)  # LTV/CAC of users acquired so far, per day

    _daily: tuple[int, pd.DataFrame] | None = field(default=None, repr=False)
    _summary: tuple[int, dict] | None = field(default=None, repr=False)
    _conversion: tuple[int, pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.label} ({self.model.params.strategy.name})"

    def summary(self) -> dict:
        """The model's summary (`PrivateDomainModel.summary`), computed once per simulated day."""
        if self._summary is None or self._summary[0] != self.model.day:
            self._summary = (self.model.day, self.model.summary())
        return self._summary[1]

    def conversion(self) -> pd.DataFrame:
        """`series.conversion_by_join_day` of this arm, computed once per simulated day."""
        if self._conversion is None or self._conversion[0] != self.model.day:
            s = series.conversion_by_join_day(self.model, ROLLING_DAYS, MIN_POOLED)
            self._conversion = (self.model.day, s)
        return self._conversion[1]

    def daily(self) -> pd.DataFrame:
        """The model's daily table, built once per simulated day (a redraw reads it often)."""
        if self._daily is None or self._daily[0] != self.model.day:
            self._daily = (self.model.day, self.model.daily())
        return self._daily[1]

    def record(self) -> None:
        """Append today's LTV/CAC of the users acquired so far (imported users excluded)."""
        self.ltv_cac.append(series.acquired_ltv_cac(self.model))


class LivePair(mesa.Model):
    """Two private-domain models with the same seed and business, different strategies,
    advanced together: one step of the pair is one day of each.

    A Mesa model itself, so a Mesa-style controller can play, step and reset it; its keyword
    arguments are the live page's controls (`controls.page("live")`, missing ones at their
    default). With `strict=False` (the page) invalid controls give a pair with no arms and
    `error` set instead of raising.
    """

    def __init__(self, strict: bool = True, **values):
        self.arms: list[Arm] = []
        self.error: str | None = None  # why the scenario is invalid (only when not strict)
        # the control values asked for (valid or not): see pending_changes
        self.requested = {**controls.defaults(LIVE), **values}
        self.day = 0
        self.horizon_days = 0
        # The page steps in one thread and draws in others: hold this while reading the arms.
        self.lock = threading.RLock()
        self._frames = None  # (day, daily, cohorts): see `figures.frames`
        self._marks = None  # (day, marks): see `figures.marks`
        self._layers = {}  # presentation mode → `figures.ProfitLayers`
        self.preview = None  # the pair run ahead to its horizon, set by the page (`lesson.preview`)
        self.guesses = None  # a lesson's brands: `lessons.guess_line`, set by the page
        try:
            self.controls = Controls.parse(**self.requested)
        except ValueError as e:
            if strict:
                raise
            super().__init__(rng=0)
            self.controls, self.error, self.running = Controls(), f"ValueError: {e}", False
            return
        super().__init__(rng=self.controls.seed)
        c = self.controls
        pairs = [("A", c.strategy_a)] + ([("B", c.strategy_b)] if c.side_by_side else [])
        try:
            for label, strategy in pairs:
                cfg, ov = arm_config(c, strategy)
                self.arms.append(Arm(label, strategy, ov, PrivateDomainModel(**model_kwargs(cfg))))
        except Exception as e:  # invalid controls: a message on the page instead of a crash
            if strict:
                raise
            self.arms, self.error, self.running = [], f"{type(e).__name__}: {e}", False
        self.horizon_days = min((a.model.horizon_days for a in self.arms), default=0)

    def step(self) -> None:
        with self.lock:
            if self.day >= self.horizon_days:  # Mesa's play loop may ask for a few more days
                self.running = False
                return
            for arm in self.arms:
                arm.model.step()
                arm.record()
            self.day += 1
            self.running = self.day < self.horizon_days


def build_pair(c: Controls | None = None, **changes) -> LivePair:
    """A pair from control values (defaults: staged vs premature, default config, seed 0)."""
    return LivePair(**{**(c or Controls()).__dict__, **changes})


def advance(pair: LivePair, days: int) -> LivePair:
    """Advance both models `days` days (stops at the horizon)."""
    for _ in range(max(0, min(days, pair.horizon_days - pair.day))):
        pair.step()
    return pair


def pending_changes(pair: LivePair, values: dict) -> list[str]:
    """The controls whose value differs from the scenario the pair runs (they apply on Reset),
    as "name: running → new" lines; [] when the page shows what the controls say."""
    now = pair.requested
    return [
        f"{name.replace('_', ' ')}: {now[name]} → {v}"
        for name, v in values.items()
        if name in now and v != now[name]
    ]
