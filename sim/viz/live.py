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
  (`operators.count=N operators.max_count=N`) for both arms.
- *ad budget*: a multiplier on paid-ads volume, `channels.paid_ads.volume_scale` (1 = as
  planned, 2 = twice the paid users per day at rising unit cost, 0 = no paid ads).
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
import threading
from dataclasses import dataclass, field

import mesa
import numpy as np
import pandas as pd

from sim.core import metrics
from sim.core.metrics import CONVERSION_WINDOW, converted_within
from sim.core.model import IMPORTED, PrivateDomainModel
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
        for name, lo, hi in (("ad_budget", 0.0, 1000.0), ("fission_share", 0.0, 1.0)):
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
        out += [f"operators.count={int(c.operators)}", f"operators.max_count={int(c.operators)}"]
    if c.ad_budget != 1.0:
        out.append(f"++channels.paid_ads.volume_scale={_num(c.ad_budget)}")
    if c.users_cap:
        out.append(f"market_size={int(c.users_cap) * 1000}")
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

    @property
    def name(self) -> str:
        return f"{self.label} ({self.model.strategy.name})"

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
        strict: bool = True,
    ):
        self.arms: list[Arm] = []
        self.error: str | None = None  # why the scenario is invalid (only when not strict)
        self.day = 0
        try:
            self.controls = Controls.parse(
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
            )
        except ValueError as e:
            if strict:
                raise
            super().__init__(rng=0)
            self.controls, self.error, self.running = Controls(), f"ValueError: {e}", False
            self.horizon_days = 0
            self.lock = threading.RLock()
            self._frames = None
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
        d = arm.model.daily()
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


def phase_history(model: PrivateDomainModel) -> list[tuple[str, int, int]]:
    """(phase name, first day, last day) of each phase run so far."""
    d = model.daily()
    if d.empty:
        return []
    g = d.groupby("phase")["day"].agg(["min", "max"]).sort_values("min")
    return [
        (model.strategy.phases[int(i)].name, int(r["min"]), int(r["max"])) for i, r in g.iterrows()
    ]


def current_phase(model: PrivateDomainModel) -> tuple[str, int]:
    """The phase the next day runs in, and the day it started."""
    return model.strategy.phases[model.clock.index].name, model.clock.started_day


def what_happened(pair: LivePair) -> list[str]:
    """Plain sentences for the panel: where each arm is, and when one's conversion fell below
    the other's (from the cohorts, not scripted)."""
    if pair.error:
        return [f"This scenario cannot run — {pair.error}. Change the controls and press Reset."]
    lines = [f"Day {pair.day} of {pair.horizon_days}."]
    for arm in pair.arms:
        m = arm.model
        name, started = current_phase(m)
        hist = [f"{p} days {a}–{b}" for p, a, b in phase_history(m) if p != name or a != started]
        before = f" (before: {', '.join(hist)})" if hist else ""
        line = f"{arm.name} is in phase “{name}” since day {started}{before}."
        if pair.day:
            t = m.daily().iloc[-1]
            upo = t["users_per_operator"]
            upo_s = f"{upo:,.0f} users per operator" if np.isfinite(upo) else "no operator yet"
            s = m.summary()
            h = metrics.horizons_in(s)[0]
            ltv = s[f"ltv_cac_{h}d"]
            ltv_s = (
                f"LTV/CAC at {h} days {ltv:.2f} (users who joined by day {pair.day - h})"
                if np.isfinite(ltv)
                else f"LTV/CAC at {h} days not yet measurable (no user {h} days old)"
            )
            profit = float(m.daily()["profit"].sum())
            line += (
                f" {int(t['live_users']):,} live users, {int(t['operators'])} operators "
                f"({upo_s}), cumulative profit ¥{profit:,.0f}, {ltv_s}."
            )
        lines.append(line)
    if len(pair.arms) < 2:
        lines.append("Side-by-side mode is off: no comparison.")
        return lines
    series = [conversion_by_join_day(a.model) for a in pair.arms]
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


# --- figures (sim.viz.plots on fixed-margin figures: no pyplot state, no layout engine) --------

PLOTS = {
    "funnel": (
        "Funnel: users in each stage over time",
        "Look at the bottom bands (buy, rebuy) against the top (aware, familiar): a fat top over "
        "a thin bottom means users arrive faster than the team can nurture them.",
    ),
    "conversion": (
        "30-day conversion of weekly cohorts vs pool size",
        "Each dot is one joining week. Look for the slope: as the pool outgrows the team, "
        "new users convert less (conversion decay).",
    ),
    "operators": (
        "Users per operator",
        "1:1 attention is operator capacity shared over this load: watch which arm runs far "
        "above a few thousand users per operator, and for how long.",
    ),
    "profit": (
        "Cumulative profit and LTV/CAC",
        "Left: who is ahead in money, and when the lines cross. Right: value per yuan of "
        "acquisition (1 = break-even); a falling line means each new user is worth less.",
    ),
    "churn": (
        "Churn: users lost per day",
        "Compare the level after each arm scales: a higher line means acquisition is pouring "
        "into a leaking pool.",
    ),
}
DPI = 95


def _figure(width=6.4, height=3.4, ncols=1, sharey=False, left=0.13, wspace=0.2, top=0.88):
    """A figure with fixed margins (a layout engine would double the cost of every redraw)."""
    fig, axes = plots.figure(width, height, ncols=ncols, sharey=sharey, dpi=DPI)
    fig.subplots_adjust(left=left, right=0.98, bottom=0.15, top=top, wspace=wspace)
    for ax in axes:
        ax.tick_params(labelsize=9)
    return fig, axes


def _drop_legend(ax) -> None:
    if ax.get_legend():
        ax.get_legend().remove()


def figure_funnel(pair: LivePair):
    daily, _ = frames(pair)
    fig, axes = _figure(12.0, 3.6, len(pair.arms), sharey=True, left=0.07, wspace=0.05, top=0.85)
    for i, (ax, arm) in enumerate(zip(axes, pair.arms, strict=True)):
        plots.funnel(ax, daily[daily["job"] == arm.label])
        ax.set_title(arm.name, fontsize=10)
        if i:  # one y label and one legend for the shared axis
            ax.set_ylabel("")
            _drop_legend(ax)
    fig.suptitle(PLOTS["funnel"][0], fontsize=11)
    return fig


def figure_conversion(pair: LivePair):
    fig, (ax,) = _figure()
    plots.conversion_decay(ax, frames(pair)[1], "pool_size")
    ax.set_title(PLOTS["conversion"][0], fontsize=11)
    return fig


def figure_operators(pair: LivePair):
    fig, (ax,) = _figure()
    plots.users_per_operator(ax, frames(pair)[0])
    ax.set_title(PLOTS["operators"][0], fontsize=11)
    return fig


def figure_profit(pair: LivePair):
    daily, _ = frames(pair)
    fig, (ax, ax2) = _figure(ncols=2, left=0.12, wspace=0.38, top=0.85)
    plots.cumulative_profit(ax, daily)
    plots.ltv_cac_over_time(ax2, daily)
    _drop_legend(ax2)  # the same arms as on the left
    fig.suptitle(PLOTS["profit"][0], fontsize=11)
    return fig


def figure_churn(pair: LivePair):
    fig, (ax,) = _figure()
    plots.churn(ax, frames(pair)[0])
    ax.set_title(PLOTS["churn"][0], fontsize=11)
    return fig


FIGURES = {
    "funnel": figure_funnel,
    "conversion": figure_conversion,
    "operators": figure_operators,
    "profit": figure_profit,
    "churn": figure_churn,
}
