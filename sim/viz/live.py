"""The trainer's live view, without the browser: build a pair of models from control values,
advance them together, compute the series the page plots and the "what happened" text.

Everything here is plain Python (numpy, pandas, matplotlib's object API); `sim.viz.app` only wires
it into a Solara page. The models are built exactly as the CLI builds them: the controls become
Hydra overrides (`overrides()`), composed by `sim.experiment.config.compose` against the versioned
`configs/`, so `cli_command()` prints the `privsim` line that reproduces an arm.

How the controls map onto the config (the page shows the same wording):

- *strategy A / B*: `strategy=<name>` (any file under `configs/strategy/`).
- *experiment*: `experiment=<name>` (a named study's config; its sweep settings do not apply).
- *pool preset*, *business quadrant*: `pool=<name>`, `business=<name>`.
- *operators*: 0 keeps the strategy's own hiring; N > 0 fixes the team at N
  (`operators.fixed=N`) for both arms.
- *ad volume* (control `ad_budget`): a multiplier on paid-ads users per day, not on money,
  `channels.paid_ads.volume_scale` (1 = as planned, 2 = twice the paid users per day at rising
  unit cost, 0 = no paid ads); a budget in yuan is `channels.paid_ads.budget_per_day`.
- *fission share*: the share of each phase's acquisition that comes through fission, in the
  phases that use fission at all; the other channels keep their proportions
  (`strategy.phases.<i>.channel_mix.*`).
- *KOC programme*: "as planned" (the strategy's own `koc_programme` per phase), "on" or "off"
  in every phase (`strategy.phases.<i>.koc_programme`).
- *users cap*: the market size in thousands of users (`market_size`; 0 = unlimited): arrivals
  thin as the pool approaches it.
- *seed*: `seed`, the same for both arms.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field

import mesa
import numpy as np
import pandas as pd

from sim.core import metrics
from sim.core.metrics import CONVERSION_WINDOW, converted_within
from sim.core.model import IMPORTED, PrivateDomainModel
from sim.experiment.batch import Evaluation, Result, run_batch
from sim.experiment.config import compose, group_options, model_kwargs
from sim.viz import plots

KOC_CHOICES = ("as planned", "on", "off")
ROLLING_DAYS = 28  # joining days pooled per point of the conversion-over-time series
MIN_POOLED = 50  # joiners needed before a pooled conversion is shown


# --- controls -> configs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Controls:
    """The page's control values (the defaults are the page's defaults)."""

    strategy_a: str = "staged"
    strategy_b: str = "premature"
    side_by_side: bool = True
    experiment: str = "none"
    pool: str = "nurturing"
    business: str = "high_freq_high_margin"
    operators: int = 0
    ad_budget: float = 1.0
    fission_share: float = 0.3
    koc: str = "as planned"
    users_cap: int = 0
    seed: int = 0
    fit_spread: float = 0.0

    def __post_init__(self):
        """Accept only the page's options and sane numbers, whatever a client sends: the
        values become Hydra overrides, and a group value such as `../../x` would make Hydra
        load any YAML it names."""
        for name, group in (
            ("strategy_a", "strategy"),
            ("strategy_b", "strategy"),
            ("pool", "pool"),
            ("business", "business"),
        ):
            if getattr(self, name) not in group_options(group):
                raise ValueError(f"{name} = {getattr(self, name)!r}; allowed: one of the options")
        if self.experiment not in ("none", *group_options("experiment")):
            raise ValueError(f"experiment = {self.experiment!r}; allowed: one of the options")
        if self.koc not in KOC_CHOICES:
            raise ValueError(f"koc = {self.koc!r}; allowed: {list(KOC_CHOICES)}")
        for name, lo, hi in (
            ("operators", 0, 10_000),
            ("users_cap", 0, 10**9),
            ("seed", 0, 2**63 - 1),
        ):
            v = getattr(self, name)
            if not (type(v) is int and lo <= v <= hi):
                raise ValueError(f"{name} = {v!r}; allowed: a whole number in [{lo}, {hi}]")
        for name, lo, hi in (
            ("ad_budget", 0.0, 1000.0),
            ("fission_share", 0.0, 1.0),
            ("fit_spread", 0.0, 5.0),
        ):
            v = getattr(self, name)
            if not (type(v) is float and math.isfinite(v) and lo <= v <= hi):
                raise ValueError(f"{name} = {v!r}; allowed: a number in [{lo:g}, {hi:g}]")

    @classmethod
    def parse(cls, **values) -> Controls:
        """Controls from what a page sends (strings, numbers): converted, then checked."""
        conv = {}
        for name, kind in (
            ("operators", int),
            ("users_cap", int),
            ("seed", int),
            ("ad_budget", float),
            ("fission_share", float),
            ("fit_spread", float),
        ):
            if name in values:
                v = values[name]
                try:
                    if isinstance(v, bool) or (
                        kind is int and isinstance(v, float) and not v.is_integer()
                    ):
                        raise ValueError
                    conv[name] = kind(v)
                except (TypeError, ValueError, OverflowError):
                    raise ValueError(f"{name} = {v!r}; allowed: a number") from None
        if "side_by_side" in values:
            conv["side_by_side"] = bool(values["side_by_side"])
        for name in ("strategy_a", "strategy_b", "experiment", "pool", "business", "koc"):
            if name in values:
                conv[name] = values[name] if isinstance(values[name], str) else repr(values[name])
        return cls(**conv)


def base_overrides(c: Controls, strategy: str) -> list[str]:
    """Hydra overrides for everything that does not depend on the strategy's phases."""
    if c.koc not in KOC_CHOICES:
        raise ValueError(f"koc = {c.koc!r}; allowed: {list(KOC_CHOICES)}")
    out = []
    if c.experiment and c.experiment != "none":
        out.append(f"experiment={c.experiment}")
    out += [
        f"strategy={strategy}",
        f"pool={c.pool}",
        f"business={c.business}",
        f"seed={int(c.seed)}",
    ]
    if c.operators:
        out.append(f"operators.fixed={int(c.operators)}")
    if c.ad_budget != 1.0:
        out.append(f"++channels.paid_ads.volume_scale={_num(c.ad_budget)}")
    if c.users_cap:
        out.append(f"market_size={int(c.users_cap) * 1000}")
    if c.fit_spread:
        out.append(f"fit.spread={_num(c.fit_spread)}")
    return out


def phase_overrides(cfg: dict, c: Controls) -> list[str]:
    """Overrides of the composed strategy's phases for the fission share and KOC controls."""
    out = []
    for i, phase in enumerate(cfg["strategy"]["phases"]):
        mix = phase["channel_mix"]
        f0 = mix.get("fission")
        if f0 is not None and abs(c.fission_share - f0) > 1e-9 and f0 < 1.0:
            others = {k: v for k, v in mix.items() if k != "fission"}
            scale = (1.0 - c.fission_share) / (1.0 - f0)
            new = {k: v * scale for k, v in others.items()}
            new["fission"] = c.fission_share
            for k, v in new.items():
                out.append(f"strategy.phases.{i}.channel_mix.{k}={_num(v)}")
        if c.koc != "as planned":
            want = c.koc == "on"
            if bool(phase["koc_programme"]) != want:
                out.append(f"strategy.phases.{i}.koc_programme={str(want).lower()}")
    return out


def arm_config(c: Controls, strategy: str) -> tuple[dict, list[str]]:
    """The composed config of one arm and the overrides that produce it (as on the CLI)."""
    ov = base_overrides(c, strategy)
    cfg = compose(ov)
    extra = phase_overrides(cfg, c)
    if extra:
        ov = ov + extra
        cfg = compose(ov)
    return cfg, ov


def pending_changes(pair: LivePair, values: dict) -> list[str]:
    """The controls whose value differs from the scenario the pair runs (they apply on Reset),
    as "name: running → new" lines; [] when the page shows what the controls say."""
    now = pair.requested
    out = []
    for name, v in values.items():
        if name in now and v != now[name]:
            out.append(f"{name.replace('_', ' ')}: {now[name]} → {v}")
    return out


def cli_command(overrides: list[str]) -> str:
    return "privsim " + " ".join(overrides)


def _num(v: float) -> str:
    return repr(round(float(v), 12))


# --- the pair ----------------------------------------------------------------------------------


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
        """`conversion_by_join_day` of this arm, computed once per simulated day."""
        if self._conversion is None or self._conversion[0] != self.model.day:
            self._conversion = (self.model.day, conversion_by_join_day(self.model))
        return self._conversion[1]

    def daily(self) -> pd.DataFrame:
        """The model's daily table, built once per simulated day (a redraw reads it often)."""
        if self._daily is None or self._daily[0] != self.model.day:
            self._daily = (self.model.day, self.model.daily())
        return self._daily[1]

    def record(self) -> None:
        """Append today's LTV/CAC of the users acquired so far (imported users excluded)."""
        pop = self.model.population
        self.ltv_cac.append(
            metrics.ltv_cac(pop, pop.channel != self.model.channel_names.index(IMPORTED))
        )


class LivePair(mesa.Model):
    """Two private-domain models with the same seed and business, different strategies,
    advanced together: one step of the pair is one day of each.

    A Mesa model itself, so Mesa's SolaraViz can play, step and reset it; its keyword
    arguments are the page's controls (see `Controls`). With `strict=False` (the page) invalid
    controls give a pair with no arms and `error` set instead of raising.
    """

    def __init__(
        self,
        strategy_a: str = Controls.strategy_a,
        strategy_b: str = Controls.strategy_b,
        side_by_side: bool = Controls.side_by_side,
        experiment: str = Controls.experiment,
        pool: str = Controls.pool,
        business: str = Controls.business,
        operators: int = Controls.operators,
        ad_budget: float = Controls.ad_budget,
        fission_share: float = Controls.fission_share,
        koc: str = Controls.koc,
        users_cap: int = Controls.users_cap,
        seed: int = Controls.seed,
        fit_spread: float = Controls.fit_spread,
        strict: bool = True,
    ):
        self.arms: list[Arm] = []
        self.error: str | None = None  # why the scenario is invalid (only when not strict)
        self.requested = dict(  # the control values asked for (valid or not): see pending_changes
            strategy_a=strategy_a,
            strategy_b=strategy_b,
            side_by_side=side_by_side,
            experiment=experiment,
            pool=pool,
            business=business,
            operators=operators,
            ad_budget=ad_budget,
            fission_share=fission_share,
            koc=koc,
            users_cap=users_cap,
            seed=seed,
            fit_spread=fit_spread,
        )
        self.day = 0
        try:
            self.controls = Controls.parse(**self.requested)
        except ValueError as e:
            if strict:
                raise
            super().__init__(rng=0)
            self.controls, self.error, self.running = Controls(), f"ValueError: {e}", False
            self.horizon_days = 0
            self.lock = threading.RLock()
            self._frames = None
            self._marks = None
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
        # The page steps in one thread and draws in others: hold this while reading the arms.
        self.lock = threading.RLock()
        self._frames = None  # (day, daily, cohorts): see `frames`
        self._marks = None  # (day, marks): see `marks`

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


def build_pair(controls: Controls | None = None, **changes) -> LivePair:
    """A pair from control values (defaults: staged vs premature, default config, seed 0)."""
    c = controls or Controls()
    values = {**c.__dict__, **changes}
    return LivePair(**values)


def advance(pair: LivePair, days: int) -> LivePair:
    """Advance both models `days` days (stops at the horizon)."""
    for _ in range(max(0, min(days, pair.horizon_days - pair.day))):
        pair.step()
    return pair


# --- plot series ------------------------------------------------------------------------------


def frames(pair: LivePair) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The arms' `daily` (with each day's LTV/CAC so far) and closed weekly `cohorts` as tidy
    frames for `sim.viz.plots`: `group` is the arm's name, `job` its label (one seed each).
    Computed once per simulated day: the five figures of a redraw share them."""
    if pair._frames is not None and pair._frames[0] == pair.day:
        return pair._frames[1:]
    daily, cohorts = [], []
    for arm in pair.arms:
        tag = dict(group=arm.name, job=arm.label)
        d = arm.daily()
        daily.append(d.assign(ltv_cac=np.array(arm.ltv_cac[: len(d)], dtype=float), **tag))
        if arm.model.day:  # no cohort table before the first day
            c = arm.model.cohorts()
            cohorts.append(c[(c["size"] > 0) & c["conversion_30d"].notna()].assign(**tag))
    empty = pd.DataFrame(columns=["group", "job", "day", "week", "size", "conversion_30d"])
    out = (
        pd.concat(daily, ignore_index=True) if daily else empty,
        pd.concat(cohorts, ignore_index=True) if cohorts else empty,
    )
    pair._frames = (pair.day, *out)
    return out


def conversion_by_join_day(
    model: PrivateDomainModel, window: int = ROLLING_DAYS, min_pooled: int = MIN_POOLED
) -> pd.DataFrame:
    """30-day conversion of acquired users by joining day, pooled over the `window` joining days
    ending on each day; only joiners whose 30 days are over count. NaN with too few joiners."""
    pop = model.population
    last = model.day - 1 - CONVERSION_WINDOW  # latest joining day whose window has closed
    if last < 0:
        return pd.DataFrame({"join_day": np.empty(0, int), "conversion_pct": np.empty(0)})
    acquired = (pop.channel != model.channel_names.index(IMPORTED)) & (pop.join_day <= last)
    jd = pop.join_day[acquired]
    conv = converted_within(pop, acquired).astype(float)
    n = np.bincount(jd, minlength=last + 1).astype(float)
    k = np.bincount(jd, weights=conv, minlength=last + 1)
    kernel = np.ones(window)
    n_w = np.convolve(n, kernel)[: last + 1]
    k_w = np.convolve(k, kernel)[: last + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n_w >= min_pooled, 100.0 * k_w / n_w, np.nan)
    return pd.DataFrame({"join_day": np.arange(last + 1), "conversion_pct": pct})


# --- what happened ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    """When `x`'s conversion fell below `y`'s: the joining day of the current run below it."""

    below_now: bool
    since_join_day: int | None  # first joining day of the current run below (None if not below)
    first_join_day: int | None  # first joining day it was ever below
    x_pct: float  # latest pooled conversions compared
    y_pct: float
    last_join_day: int | None  # latest comparable joining day


def fell_below(x: pd.DataFrame, y: pd.DataFrame) -> Crossing | None:
    """Compare two `conversion_by_join_day` series; None when no joining day is comparable."""
    m = x.merge(y, on="join_day", suffixes=("_x", "_y")).dropna()
    if m.empty:
        return None
    below = (m["conversion_pct_x"] < m["conversion_pct_y"]).to_numpy()
    days = m["join_day"].to_numpy()
    first = int(days[np.argmax(below)]) if below.any() else None
    since = None
    if below[-1]:
        above = np.flatnonzero(~below)
        since = int(days[above[-1] + 1]) if above.size else int(days[0])
    return Crossing(
        bool(below[-1]),
        since,
        first,
        float(m["conversion_pct_x"].iloc[-1]),
        float(m["conversion_pct_y"].iloc[-1]),
        int(days[-1]),
    )


def phase_history(
    model: PrivateDomainModel, daily: pd.DataFrame | None = None
) -> list[tuple[str, int, int]]:
    """(phase name, first day, last day) of each phase run so far."""
    d = model.daily() if daily is None else daily
    if d.empty:
        return []
    g = d.groupby("phase")["day"].agg(["min", "max"]).sort_values("min")
    return [
        (model.params.strategy.phases[int(i)].name, int(r["min"]), int(r["max"]))
        for i, r in g.iterrows()
    ]


def current_phase(model: PrivateDomainModel) -> tuple[str, int]:
    """The phase the next day runs in, and the day it started."""
    return model.params.strategy.phases[model.clock.index].name, model.clock.started_day


def what_happened(pair: LivePair) -> list[str]:
    """Plain sentences for the panel: where each arm is, and when one's conversion fell below
    the other's (from the cohorts, not scripted)."""
    if pair.error:
        return [f"This scenario cannot run — {pair.error}. Change the controls and press Reset."]
    lines = [f"Day {pair.day} of {pair.horizon_days}."]
    for arm in pair.arms:
        m = arm.model
        name, started = current_phase(m)
        hist = [
            f"{p} days {a}–{b}"
            for p, a, b in phase_history(m, arm.daily())
            if p != name or a != started
        ]
        before = f" (before: {', '.join(hist)})" if hist else ""
        line = f"{arm.name} is in phase “{name}” since day {started}{before}."
        if pair.day:
            t = arm.daily().iloc[-1]
            upo = t["users_per_operator"]
            upo_s = f"{upo:,.0f} users per operator" if np.isfinite(upo) else "no operator yet"
            s = arm.summary()
            h = metrics.horizons_in(s)[0]
            ltv = s[f"ltv_cac_{h}d"]
            ltv_s = (
                f"LTV/CAC at {h} days {ltv:.2f} (users who joined by day {pair.day - h})"
                if np.isfinite(ltv)
                else f"LTV/CAC at {h} days not yet measurable (no user {h} days old)"
            )
            profit = float(arm.daily()["profit"].sum())
            line += (
                f" {int(t['live_users']):,} live users, {int(t['operators'])} operators "
                f"({upo_s}), cumulative profit ¥{profit:,.0f}, {ltv_s}."
            )
        lines.append(line)
    if len(pair.arms) < 2:
        lines.append("Side-by-side mode is off: no comparison.")
        return lines
    series = [a.conversion() for a in pair.arms]
    for i, (arm, other) in enumerate(zip(pair.arms, pair.arms[::-1], strict=True)):
        c = fell_below(series[i], series[1 - i])
        lines.append(_crossing_sentence(arm, other, c, pair.day))
    return lines


def _crossing_sentence(arm: Arm, other: Arm, c: Crossing | None, day: int) -> str:
    who, vs = arm.name, other.label
    if c is None:
        wait = CONVERSION_WINDOW + ROLLING_DAYS
        return (
            f"{who}: 30-day conversion not comparable yet (a joining cohort needs "
            f"{CONVERSION_WINDOW} days to close; first comparison around day {wait})."
        )
    now = f"{c.x_pct:.1f} % vs {c.y_pct:.1f} % for users joining around day {c.last_join_day}"
    if c.below_now:
        return (
            f"{who}: 30-day conversion fell below {vs}'s for users who joined from day "
            f"{c.since_join_day} on "
            f"(known at the end of day {c.since_join_day + CONVERSION_WINDOW}); "
            f"now {now}."
        )
    if c.first_join_day is not None:
        return (
            f"{who}: 30-day conversion dipped below {vs}'s for users joining from day "
            f"{c.first_join_day}, but is at or above it again ({now})."
        )
    return f"{who}: 30-day conversion has not fallen below {vs}'s ({now})."


# --- the headline: four numbers per arm, on the first screen ----------------------------------


@dataclass(frozen=True)
class Metric:
    """One headline card: a number per arm (NaN: not measurable yet), shown as `texts`, and
    B − A coloured by whether it favours B (`better`: "higher", "lower" or None)."""

    key: str
    title: str
    values: tuple[float, ...]  # one per arm, in the pair's order
    texts: tuple[str, ...]
    note: str  # what the number is over, in a line
    better: str | None
    diff_text: str | None = None  # "B − A: …" (None: no comparison)
    b_better: bool | None = None  # colour of the difference (None: neutral / not comparable)


def _yuan(v: float, sign: bool = False) -> str:
    a = abs(v)
    s = "−" if v < 0 else ("+" if sign and v > 0 else "")
    if a >= 1e6:
        return f"{s}¥{a / 1e6:,.2f}M"
    return f"{s}¥{a / 1e3:,.0f}k" if a >= 1e4 else f"{s}¥{a:,.0f}"


def latest_matured_week(model: PrivateDomainModel, cohorts: pd.DataFrame) -> pd.Series | None:
    """The latest weekly joining cohort all of whose joiners have had their 30 days (the
    week's last joining day ≤ last day − 30), or None before there is one."""
    last = model.day - 1 - CONVERSION_WINDOW
    if cohorts is None or not len(cohorts):
        return None
    done = cohorts[(cohorts["first_day"] + 6 <= last) & (cohorts["size"] > 0)]
    done = done[done["conversion_30d"].notna()]
    return done.iloc[-1] if len(done) else None


def headline(pair: LivePair) -> list[Metric]:
    """The four cards: cumulative profit, horizon-matched LTV/CAC at the shortest horizon,
    30-day conversion of the latest matured weekly cohort, users per operator today. Every
    value is read from the arms' own outputs (daily table, summary, cohorts)."""
    if not pair.arms:
        return []
    _, cohorts = frames(pair)
    day = pair.day
    out = []

    profit = tuple(float(a.daily()["profit"].sum()) if day else 0.0 for a in pair.arms)
    out.append(
        Metric(
            "profit",
            "Cumulative profit",
            profit,
            tuple(_yuan(v) for v in profit),
            f"margin − all costs, days 0–{max(day - 1, 0)}",
            "higher",
        )
    )

    if day:
        sums = [a.summary() for a in pair.arms]
        h = metrics.horizons_in(sums[0])[0]
        ratio = tuple(float(s[f"ltv_cac_{h}d"]) for s in sums)
        users = [int(s[f"ltv_{h}d_users"]) for s in sums]
    else:
        h = min(pair.arms[0].model.params.economics.ltv_horizons_days)
        ratio, users = tuple(math.nan for _ in pair.arms), [0 for _ in pair.arms]
    texts = tuple(f"{v:.2f}" if np.isfinite(v) else "not yet measurable" for v in ratio)
    if day >= h:
        counts = " / ".join(f"{n:,}" for n in users)
        note = f"first-{h}-day margin ÷ CAC of users who joined by day {day - h} ({counts})"
    else:
        note = f"first-{h}-day margin ÷ CAC: no user is {h} days old before day {h}"
    out.append(Metric(f"ltv_cac_{h}d", f"LTV/CAC at {h} days", ratio, texts, note, "higher"))

    conv, weeks = [], []
    for arm in pair.arms:
        c = cohorts[cohorts["job"] == arm.label] if len(cohorts) else cohorts
        w = latest_matured_week(arm.model, c)
        conv.append(100.0 * float(w["conversion_30d"]) if w is not None else math.nan)
        weeks.append(int(w["first_day"]) if w is not None else None)
    conv = tuple(conv)
    texts = tuple(f"{v:.1f} %" if np.isfinite(v) else "no week matured yet" for v in conv)
    if weeks[0] is not None:
        note = (
            f"of the latest week whose joiners all had 30 days (joined days "
            f"{weeks[0]}–{weeks[0] + 6})"
        )
    else:
        note = (
            f"of the latest week whose joiners all had {CONVERSION_WINDOW} days: the first "
            f"is measured on day {CONVERSION_WINDOW + 7}"
        )
    out.append(Metric("conversion_30d", "30-day conversion", conv, texts, note, "higher"))

    upo = tuple(
        float(a.daily()["users_per_operator"].iloc[-1]) if day else math.nan for a in pair.arms
    )
    texts = tuple(f"{v:,.0f}" if np.isfinite(v) else "—" for v in upo)
    out.append(
        Metric(
            "users_per_operator",
            "Users per operator",
            upo,
            texts,
            "live users ÷ operators today",
            "lower",
        )
    )
    return [_with_difference(m) for m in out]


def _with_difference(m: Metric) -> Metric:
    if len(m.values) < 2 or not all(np.isfinite(m.values)):
        return m
    a, b = m.values
    d = b - a
    if m.key == "profit":
        text = _yuan(d, sign=True)
    elif m.key.startswith("ltv_cac"):
        text = f"{d:+.2f}"
    elif m.key == "conversion_30d":
        text = f"{d:+.1f} pts"
    else:
        text = f"{d:+,.0f}"
    text = text.replace("-", "−")
    b_better = None if d == 0 else ((d > 0) == (m.better == "higher"))
    word = "" if b_better is None else (" · B better" if b_better else " · B worse")
    return Metric(**{**m.__dict__, "diff_text": f"B − A {text}{word}", "b_better": b_better})


# --- captions: derived from the lines they describe --------------------------------------------

TREND_DAYS = 28  # days over which a caption calls a line rising or falling
TREND_TOLERANCE = 0.05  # relative change under which a line is "about flat"


def trend(values: pd.Series | np.ndarray, tolerance: float = TREND_TOLERANCE) -> str:
    """ "rising", "falling" or "about flat": the last finite value against the first of
    `values` (relative change beyond `tolerance`); "not yet shown" without two values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return "not yet shown"
    first, last = v[0], v[-1]
    scale = max(abs(first), abs(last), 1e-12)
    change = (last - first) / scale
    if abs(change) <= tolerance:
        return "about flat"
    return "rising" if change > 0 else "falling"


def relation(x: np.ndarray, y: np.ndarray, threshold: float = 0.3) -> str:
    """How `y` moves as `x` grows (rank correlation): "falls", "rises" or "shows no clear
    trend" (|rho| < `threshold`, or fewer than 4 points)."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 4:
        return "shows no clear trend yet"
    rx = pd.Series(x[ok]).rank().to_numpy()
    ry = pd.Series(y[ok]).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return "shows no clear trend"
    rho = float(np.corrcoef(rx, ry)[0, 1])
    if abs(rho) < threshold:
        return "shows no clear trend"
    return "rises" if rho > 0 else "falls"


def _by_arm(daily: pd.DataFrame):
    for job, d in daily.groupby("job", sort=True):
        yield job, d.sort_values("day")


def caption_profit(daily: pd.DataFrame) -> str:
    if not len(daily):
        return "Cumulative profit of each arm: margin minus every cost, from day 0."
    cum = {j: d["profit"].cumsum().to_numpy() for j, d in _by_arm(daily)}
    parts = [f"{j} {_yuan(v[-1])}" for j, v in cum.items()]
    text = f"Money made so far: {', '.join(parts)}."
    if len(cum) == 2:
        (ja, a), (jb, b) = cum.items()
        n = min(len(a), len(b))
        diff = a[:n] - b[:n]
        lead = ja if diff[-1] > 0 else jb if diff[-1] < 0 else None
        text += f" {lead} is ahead by {_yuan(abs(diff[-1]))}." if lead else " Level."
        nz = np.flatnonzero(diff)  # days one arm is strictly ahead
        sign = np.sign(diff[nz])
        change = np.flatnonzero(sign[1:] != sign[:-1])
        if change.size:
            text += f" The lines last crossed on day {int(nz[change[-1] + 1])}."
    return text


def caption_ltv_cac(daily: pd.DataFrame, days: int = TREND_DAYS) -> str:
    base = "LTV/CAC to date of the users acquired so far (1 = break-even)"
    words = []
    for j, d in _by_arm(daily):
        recent = d[d["day"] > d["day"].max() - days]["ltv_cac"]
        words.append(f"{j}'s is {trend(recent)}")
    if not words:
        return base + "."
    return f"{base}: over the last {days} days {', '.join(words)}."


def caption_conversion(cohorts: pd.DataFrame) -> str:
    base = "Each dot is a joining week's 30-day conversion, against the pool size it met"
    if not len(cohorts):
        return base + f"; the first week is measured on day {CONVERSION_WINDOW + 7}."
    parts = [
        f"{j}'s {relation(c['pool_size'].to_numpy(float), c['conversion_30d'].to_numpy(float))}"
        for j, c in cohorts.groupby("job", sort=True)
    ]
    return f"{base}. As its pool grew, {', '.join(parts)}."


def caption_funnel(daily: pd.DataFrame) -> str:
    base = "Stages of the live users; the bottom bands (buy, rebuy) are customers"
    if not len(daily):
        return base + "."
    parts = []
    for j, d in _by_arm(daily):
        t = d.iloc[-1]
        live = sum(float(t[s]) for s in plots.STAGES)
        share = 100 * (float(t["buy"]) + float(t["rebuy"])) / live if live else math.nan
        parts.append(f"{j} {share:.0f} % customers of {live:,.0f}")
    return f"{base}. A bigger pile is not a better pool: {', '.join(parts)}."


def caption_operators(daily: pd.DataFrame) -> str:
    base = "Live users per operator: the load 1:1 attention is shared over"
    if not len(daily):
        return base + "."
    parts = []
    for j, d in _by_arm(daily):
        v = d["users_per_operator"].replace([np.inf, -np.inf], np.nan)
        if v.notna().any():
            parts.append(f"{j} peaked at {v.max():,.0f} (day {int(d.loc[v.idxmax(), 'day'])})")
    return f"{base}. {', '.join(parts)}." if parts else base + "."


def caption_churn(daily: pd.DataFrame, window: int = 7) -> str:
    base = f"Users lost per day as a share of the pool ({window}-day mean)"
    if not len(daily):
        return base + "."
    rate = plots.churn_rate(daily, window)
    parts = []
    for j, d in _by_arm(rate):
        v = d["churn_pct_per_day"]
        parts.append(f"{j} {float(v.iloc[-1]):.2f} % now, {trend(v.tail(TREND_DAYS))}")
    return f"{base}: {', '.join(parts)}."


def caption(key: str, pair: LivePair) -> str:
    """The plot's caption, its directions read from the plotted data."""
    daily, cohorts = frames(pair)
    if key == "profit":
        return caption_profit(daily)
    if key == "ltv_cac":
        return caption_ltv_cac(daily)
    if key == "conversion":
        return caption_conversion(cohorts)
    if key == "funnel":
        return caption_funnel(daily)
    if key == "operators":
        return caption_operators(daily)
    return caption_churn(daily)


# --- marks on the time plots: phase starts and the conversion crossing ---------------------------


def phase_marks(pair: LivePair) -> list[plots.Mark]:
    """A mark where each arm's later phases start (from the daily `phase` index)."""
    out = []
    for arm in pair.arms:
        d = arm.daily()
        if not len(d):
            continue
        ph = d["phase"].to_numpy()
        for k in np.flatnonzero(ph[1:] != ph[:-1]) + 1:
            name = arm.model.params.strategy.phases[int(ph[k])].name
            out.append(plots.Mark(int(d["day"].iloc[k]), f"{arm.label}: {name}", arm.name))
    return out


def crossing_marks(pair: LivePair) -> list[plots.Mark]:
    """Where an arm's 30-day conversion fell below the other's and stayed there: at the first
    joining day of that run (`fell_below`), known 30 days later."""
    if len(pair.arms) < 2:
        return []
    series = [a.conversion() for a in pair.arms]
    out = []
    for i, arm in enumerate(pair.arms):
        other = pair.arms[1 - i]
        c = fell_below(series[i], series[1 - i])
        if c is not None and c.below_now:
            out.append(
                plots.Mark(
                    c.since_join_day,
                    f"{arm.label} converts below {other.label} "
                    f"(joiners from day {c.since_join_day})",
                    arm.name,
                    kind="event",
                )
            )
    return out


def marks_legend(pair: LivePair) -> str:
    """What the vertical lines on the time plots are, in a line."""
    ms = marks(pair)
    if not ms:
        return "Vertical lines will mark phase starts (dashed) and a conversion crossing (solid)."
    phases = [f"{m.text} from day {m.day}" for m in ms if m.kind == "phase"]
    events = [m.text for m in ms if m.kind == "event"]
    out = "Dashed lines: phase starts (" + ", ".join(phases) + ")." if phases else ""
    if events:
        out += " Solid: " + "; ".join(events) + "."
    return out.strip()


def marks(pair: LivePair) -> list[plots.Mark]:
    if pair._marks is None or pair._marks[0] != pair.day:
        pair._marks = (pair.day, phase_marks(pair) + crossing_marks(pair))
    return pair._marks[1]


# --- figures (sim.viz.plots on fixed-margin figures: no pyplot state, no layout engine) --------

PLOTS = {
    "profit": "Cumulative profit: margin − acquisition − team, KOC and systems cost",
    "funnel": "Funnel: live users in each stage",
    "conversion": "30-day conversion: by joining day, and against pool size",
    "operators": "Users per operator",
    "ltv_cac": "LTV/CAC to date",
    "churn": "Churn: users lost per day",
}
DPI = 100
FONT = {False: 11, True: 14}  # base font size in points: the page, presentation mode
# figure sizes in inches at DPI, about the pixels they are shown at on a 1280-wide screen
WIDE = {False: (8.6, 2.75), True: (12.4, 3.6)}
HALF = {False: (6.0, 3.2), True: (12.4, 3.8)}


def _figure(size, ncols=1, sharey=False, left=0.09, wspace=0.2, top=0.86, bottom=0.2):
    """A figure with fixed margins (a layout engine would double the cost of every redraw)."""
    fig, axes = plots.figure(*size, ncols=ncols, sharey=sharey, dpi=DPI)
    fig.subplots_adjust(left=left, right=0.98, bottom=bottom, top=top, wspace=wspace)
    return fig, axes


def _legible(fig, big: bool) -> None:
    """Every label, tick and legend at the page's font size (the plots draw small)."""
    f = FONT[big]
    for ax in fig.axes:
        ax.tick_params(labelsize=f - 1)
        ax.xaxis.label.set_fontsize(f - 1)
        ax.yaxis.label.set_fontsize(f - 1)
        ax.title.set_fontsize(f)
        if leg := ax.get_legend():
            for t in leg.get_texts():
                t.set_fontsize(f - 2)
        for t in ax.texts:
            t.set_fontsize(f - 2)
    if fig._suptitle is not None:
        fig._suptitle.set_fontsize(f + 1)


def _drop_legend(ax) -> None:
    if ax.get_legend():
        ax.get_legend().remove()


def _time_marks(pair, axes, label_axis=None) -> None:
    col = plots.colours([a.name for a in pair.arms])
    for ax in axes:
        plots.marks(ax, marks(pair), col, label=ax is (label_axis or axes[0]))


def figure_profit(pair: LivePair, big: bool = False):
    daily, _ = frames(pair)
    fig, (ax,) = _figure(WIDE[big], left=0.08, bottom=0.17, top=0.9)
    plots.cumulative_profit(ax, daily)
    ax.set_title(PLOTS["profit"], loc="left")
    ax.set_xlim(0, max(pair.horizon_days, 7))  # the whole year from the start: room to grow
    _time_marks(pair, [ax])
    _legible(fig, big)
    return fig


def figure_funnel(pair: LivePair, big: bool = False):
    daily, _ = frames(pair)
    w, h = HALF[big]
    fig, axes = _figure(
        (w, h + 0.4), len(pair.arms), sharey=True, left=0.13, wspace=0.06, top=0.84, bottom=0.3
    )
    for i, (ax, arm) in enumerate(zip(axes, pair.arms, strict=True)):
        plots.funnel(ax, daily[daily["job"] == arm.label])
        ax.set_title(arm.name)
        if i:  # one y label for the shared axis
            ax.set_ylabel("")
        if i == 0 and ax.get_legend():  # one legend, under the panels
            h_, l_ = ax.get_legend_handles_labels()
            fig.legend(h_, l_, loc="lower center", ncol=3, fontsize=FONT[big] - 2, frameon=False)
        _drop_legend(ax)
    fig.suptitle(PLOTS["funnel"])
    col = plots.colours([a.name for a in pair.arms])
    for ax, arm in zip(axes, pair.arms, strict=True):  # each panel its own arm's phases
        own = [m for m in marks(pair) if m.group == arm.name and m.kind == "phase"]
        plots.marks(ax, own, col, label=True)
    _legible(fig, big)
    return fig


def figure_conversion(pair: LivePair, big: bool = False):
    fig, (ax1, ax2) = _figure(HALF[big], ncols=2, left=0.1, wspace=0.22, top=0.84, bottom=0.22)
    daily, cohorts = frames(pair)
    col = plots.colours([a.name for a in pair.arms])
    for arm in pair.arms:
        s = arm.conversion()
        ax1.plot(s["join_day"], s["conversion_pct"], color=col[arm.name], lw=1.8, label=arm.name)
    if not any(len(a.conversion().dropna()) for a in pair.arms):
        plots.empty(ax1, f"measured from day {CONVERSION_WINDOW + ROLLING_DAYS}")
    ax1.set_xlim(0, max(pair.day, 7))
    ax1.set_ylim(bottom=0)
    ax1.set_xlabel(f"joining day ({ROLLING_DAYS}-day pooled)")
    ax1.set_ylabel("30-day conversion (%)")
    plots.marks(ax1, marks(pair), col, label=False)
    if ax1.get_lines():
        ax1.legend(loc="lower left", framealpha=0.8)
    plots.conversion_decay(ax2, cohorts, "pool_size")
    ax2.set_ylabel("")
    ax2.set_xlabel("pool size at joining (users)")
    _drop_legend(ax2)
    fig.suptitle(PLOTS["conversion"])
    _legible(fig, big)
    return fig


def _daily_figure(pair: LivePair, big: bool, key: str, draw, left: float = 0.12):
    """A half-width figure of one `sim.viz.plots` function over the arms' daily tables, with
    the phase and crossing marks of every time plot."""
    fig, (ax,) = _figure(HALF[big], left=left, top=0.88)
    draw(ax, frames(pair)[0])
    ax.set_title(PLOTS[key])
    _time_marks(pair, [ax])
    _legible(fig, big)
    return fig


def figure_operators(pair: LivePair, big: bool = False):
    return _daily_figure(pair, big, "operators", plots.users_per_operator, left=0.14)


def figure_ltv_cac(pair: LivePair, big: bool = False):
    return _daily_figure(pair, big, "ltv_cac", plots.ltv_cac_over_time)


def figure_churn(pair: LivePair, big: bool = False):
    return _daily_figure(pair, big, "churn", plots.churn)


FIGURES = {
    "profit": figure_profit,
    "funnel": figure_funnel,
    "conversion": figure_conversion,
    "operators": figure_operators,
    "ltv_cac": figure_ltv_cac,
    "churn": figure_churn,
}


# --- reveal the brand --------------------------------------------------------------------------

REVEAL_DIMENSIONS = (
    ("place", "place (场): pool"),
    ("goods", "goods (货): lead/star products"),
    ("people", "people (人): channel"),
)


@dataclass
class Reveal:
    """One dimension of the brand revealed: a row per candidate, sentences per arm."""

    dimension: str
    title: str
    table: pd.DataFrame  # candidate, true fit, guess, best, then per arm: tested, ran
    lines: list[str]


def reveal(pair: LivePair) -> list[Reveal]:
    """The brand both arms face, from each arm's model summary (`brand`): per dimension with
    more than one candidate, each candidate's true (latent) fit, the guess, the truly best, and
    per arm the users and measured metric of its test arm (if it tested that candidate), and
    whether it runs that candidate today (what its test committed, or the guess untested).
    Both arms share the seed and the `fit` config, so the fits agree; a pair whose arms saw
    different brands (e.g. different experiments) is refused. Needs a simulated day."""
    briefs = [(arm, arm.summary()["brand"]) for arm in pair.arms]
    if not briefs:
        return []
    first = briefs[0][1]
    out = []
    for dim, title in REVEAL_DIMENSIONS:
        names = [k.removeprefix(f"{dim}_fit_") for k in first if k.startswith(f"{dim}_fit_")]
        if len(names) < 2:
            continue
        for arm, b in briefs[1:]:
            if any(b.get(f"{dim}_fit_{n}") != first[f"{dim}_fit_{n}"] for n in names):
                raise ValueError(f"arms A and {arm.label} face different brands ({dim} fits)")
        rows = {
            "candidate": names,
            "true fit": [first[f"{dim}_fit_{n}"] for n in names],
            "guess": [n == first[f"{dim}_guess"] for n in names],
            "best": [
                first[f"{dim}_fit_{n}"] == first[f"{dim}_fit_{first[f'{dim}_best']}"] for n in names
            ],
        }
        lines = []
        for arm, b in briefs:
            rows[f"{arm.label}: test users"] = [b.get(f"{dim}_arm_users_{n}") for n in names]
            rows[f"{arm.label}: measured"] = [b.get(f"{dim}_arm_metric_{n}") for n in names]
            rows[f"{arm.label}: runs"] = [n == b[f"{dim}_run"] for n in names]
            lines.append(_reveal_sentence(arm, b, dim))
        out.append(Reveal(dim, title, pd.DataFrame(rows), lines))
    return out


def _reveal_sentence(arm: Arm, b: dict, dim: str) -> str:
    run, best = b[f"{dim}_run"], b[f"{dim}_best"]
    verdict = (
        "the truly best"
        if b[f"{dim}_run_is_best"]
        else f"not the best ({best} was; fit {b[f'{dim}_fit_{run}']:.2f} vs "
        f"{b[f'{dim}_fit_{best}']:.2f})"
    )
    committed = b.get(f"{dim}_committed", "no test")
    if committed is None:
        how = "test under way, running"
    elif committed == "no test":
        how = "ran its guess untested,"
    else:
        metric = "30-day conversion" if b.get("test_metric") == "conversion_30d" else "margin/user"
        how = f"tested and committed the best measured {metric},"
    return f"{arm.name}: {how} {run} — {verdict}."


# --- across brands: the pair over many seeds, in the background ------------------------------

BAND_SEEDS = (5, 10, 20, 50)  # how many brands (seeds) the page offers to run the pair over
BAND_SEEDS_DEFAULT = 10


def band_jobs() -> int:
    """Processes for the across-brands runs: every core but one (the page's server keeps one),
    and at least two, so that the runs never share the server's interpreter."""
    return max(2, (os.cpu_count() or 1) - 1)


def band_plan(
    c: Controls, seeds: int, horizon_days: int | None = None
) -> tuple[dict[str, dict], list[Evaluation], dict[str, str]]:
    """The batch that runs the page's pair over brands (seeds) 0 … `seeds` − 1: each arm's
    config exactly as the page composes it (`arm_config`; the page's own seed is replaced by
    each brand's), one `Evaluation` per arm and seed (seed-major: A0, B0, A1, …), and each
    arm's name as the page writes it ("A (staged)"). `horizon_days` shortens the runs (tests)."""
    if not (type(seeds) is int and seeds >= 1):
        raise ValueError(f"seeds = {seeds!r}; allowed: a whole number >= 1")
    arms = [("A", c.strategy_a)] + ([("B", c.strategy_b)] if c.side_by_side else [])
    bases = {label: arm_config(c, strategy)[0] for label, strategy in arms}
    names = {label: f"{label} ({cfg['strategy']['name']})" for label, cfg in bases.items()}
    values = {} if horizon_days is None else {"horizon_days": int(horizon_days)}
    evals = [Evaluation(values, seed=s, base=label) for s in range(seeds) for label in bases]
    return bases, evals, names


@dataclass
class SeedBands:
    """The pair run over many brands (seeds): each run's daily profit as a tidy frame for
    `sim.viz.plots` (`group` the arm's name, `job` the run ("A:3"), `seed`, `day`, `profit`),
    and the runs that failed ("A, seed 3: error"), which are left out."""

    controls: Controls
    seeds: int
    names: dict[str, str]  # arm label → name, in the pair's order
    daily: pd.DataFrame
    failed: list[str] = field(default_factory=list)


def seed_bands(c: Controls, seeds: int, names: dict[str, str], results: list[Result]) -> SeedBands:
    """Collect `run_batch` results (daily `profit` asked for) into `SeedBands`."""
    frames_, failed = [], []
    for r in results:
        ev = r.evaluation
        if not r.ok:
            failed.append(f"{ev.base}, seed {ev.seed}: {r.error}")
            continue
        profit = np.asarray(r.daily["profit"], dtype=float)
        frames_.append(
            pd.DataFrame(
                {
                    "group": names[ev.base],
                    "job": f"{ev.base}:{ev.seed}",
                    "seed": ev.seed,
                    "day": np.arange(len(profit)),
                    "profit": profit,
                }
            )
        )
    empty = pd.DataFrame({"group": [], "job": [], "seed": [], "day": [], "profit": []})
    daily = pd.concat(frames_, ignore_index=True) if frames_ else empty
    return SeedBands(c, seeds, dict(names), daily, failed)


def across_brands(
    c: Controls,
    seeds: int,
    *,
    jobs: int | None = None,
    horizon_days: int | None = None,
    on_progress=None,
    cancel: threading.Event | None = None,
) -> SeedBands | None:
    """Run the page's pair over brands (seeds) 0 … `seeds` − 1 with the batch engine
    (`sim.experiment.batch.run_batch`, `jobs` local processes; 1 = in this process), a few
    seeds at a time so that `on_progress(done, total)` (runs) is called as they finish and a
    set `cancel` stops before the next few (then None is returned)."""
    jobs = band_jobs() if jobs is None else jobs
    bases, evals, names = band_plan(c, seeds, horizon_days)
    chunk = max(1, jobs) * len(bases)  # one seed's pair per process
    results: list[Result] = []
    for i in range(0, len(evals), chunk):
        if cancel is not None and cancel.is_set():
            return None
        part = evals[i : i + chunk]
        results += run_batch(
            bases, part, n_jobs=min(jobs, len(part)), daily_columns=("profit",), progress=False
        )
        if on_progress is not None:
            on_progress(len(results), len(evals))
    return seed_bands(c, seeds, names, results)


class BandRun:
    """One across-brands run for the page: `run()` (blocking; the page calls it in a thread)
    fills `done`/`total`, then `bands` or `error`; `cancel()` stops it before its next seeds."""

    def __init__(
        self,
        controls: Controls,
        seeds: int,
        jobs: int | None = None,
        horizon_days: int | None = None,
    ):
        self.controls, self.seeds = controls, seeds
        self.jobs, self.horizon_days = jobs, horizon_days
        self.total = seeds * (2 if controls.side_by_side else 1)
        self.done = 0
        self.bands: SeedBands | None = None
        self.error: str | None = None
        self.finished = False
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return not self.finished

    def cancel(self) -> None:
        self._cancel.set()

    def run(self, on_progress=None) -> None:
        def progress(done, total):
            self.done, self.total = done, total
            if on_progress is not None:
                on_progress(done, total)

        try:
            self.bands = across_brands(
                self.controls,
                self.seeds,
                jobs=self.jobs,
                horizon_days=self.horizon_days,
                on_progress=progress,
                cancel=self._cancel,
            )
        except Exception as e:  # a message on the page, not a dead thread
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.finished = True


def band_changes(bands_controls: Controls, now: Controls) -> list[str]:
    """The controls (the seed aside: the bands run their own) in which the scenario on screen
    differs from the one the bands were run for, as "name: bands' → now" lines."""
    out = []
    for name, v in bands_controls.__dict__.items():
        if name != "seed" and getattr(now, name) != v:
            out.append(f"{name.replace('_', ' ')}: {v} → {getattr(now, name)}")
    return out


def final_profits(b: SeedBands) -> pd.DataFrame:
    """Cumulative profit on the last day of each run: one row per seed, a column per arm
    (named as in the figure); seeds where an arm failed are dropped."""
    if not len(b.daily):
        return pd.DataFrame(columns=list(b.names.values()))
    total = b.daily.groupby(["seed", "group"])["profit"].sum().unstack("group")
    return total.reindex(columns=list(b.names.values())).dropna()


def bands_sentence(b: SeedBands) -> str:
    """The result in a line: in how many brands A beat B on cumulative profit at the last day,
    and the median paired (same seed) difference A − B."""
    end = int(b.daily["day"].max()) + 1 if len(b.daily) else 0
    fp = final_profits(b)
    n = len(fp)
    failed = f" ({len(b.failed)} runs failed and are left out: {b.failed[0]})" if b.failed else ""
    if not n:
        return f"No brand has a finished run{failed}."
    names = list(b.names.values())
    seeds = f"{n} brands (seeds 0–{b.seeds - 1})" if b.seeds > 1 else "1 brand (seed 0)"
    if len(names) < 2:
        return (
            f"Side by side is off: {names[0]} alone; median cumulative profit at day {end} "
            f"{_yuan(float(fp[names[0]].median()))} over {n} brands{failed}."
        )
    diff = fp[names[0]] - fp[names[1]]
    k = int((diff > 0).sum())
    return (
        f"{names[0]} beat {names[1]} on cumulative profit at day {end} in {k} of {seeds}; "
        f"median paired difference (A − B, same brand) {_yuan(float(diff.median()), sign=True)}"
        f"{failed}."
    )


def figure_bands(b: SeedBands, big: bool = False):
    """Cumulative profit over days across brands: per arm the median of the seeds as a line and
    the middle 80 % of seeds as a band (`sim.viz.plots.cumulative_profit`)."""
    fig, (ax,) = _figure(WIDE[big], left=0.08, bottom=0.17, top=0.9)
    plots.cumulative_profit(ax, b.daily)
    ax.set_title(
        f"Across brands: cumulative profit of {' and '.join(b.names)} over {b.seeds} brands "
        f"(seeds 0–{b.seeds - 1})",
        loc="left",
    )
    ax.set_xlabel("day")
    _legible(fig, big)
    return fig
