"""The page's words, read from the data they describe: "what happened" (where each arm is,
and when one's 30-day conversion fell below the other's, DOMAIN.md §2.2) and each plot's
one-line caption (its directions computed from the plotted lines, never scripted)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core import metrics
from sim.core.metrics import CONVERSION_WINDOW
from sim.viz import plots
from sim.viz.pages.pair import ROLLING_DAYS, Arm, LivePair


def yuan(v: float, sign: bool = False) -> str:
    """Money as the page writes it, everywhere (cards, sentences, axes): ¥1,234, ¥56k, ¥1.23M,
    −¥99k (a minus sign before the ¥, or + when `sign`)."""
    a = abs(v)
    s = "−" if v < 0 else ("+" if sign and v > 0 else "")
    if a >= 1e6:
        return f"{s}¥{a / 1e6:,.2f}M"
    return f"{s}¥{a / 1e3:,.0f}k" if a >= 1e4 else f"{s}¥{a:,.0f}"


@dataclass(frozen=True)
class Crossing:
    """When `x`'s conversion fell below `y`'s: the joining day of the current run below it."""

    below_now: bool
    since_join_day: int | None  # first joining day of the current run below (None if not below)
    first_join_day: int | None  # first joining day it was ever below
    x_pct: float  # latest pooled conversions compared
    y_pct: float
    last_join_day: int | None  # latest comparable joining day
    first_comparable: int | None = None  # earliest comparable joining day

    @property
    def crossed(self) -> bool:
        """Below now after having been at or above: a crossing to mark (not below throughout)."""
        return self.below_now and self.since_join_day != self.first_comparable


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
        int(days[0]),
    )


def joiners(join_day: int) -> str:
    """The users a pooled 30-day conversion at `join_day` counts, in words (one definition for
    the card, the sentences and the chart: `series.conversion_by_join_day`)."""
    return f"users who joined days {max(join_day - ROLLING_DAYS + 1, 0)}–{join_day}"


def conversion_now(series: list[pd.DataFrame]) -> tuple[int, list[float]] | None:
    """The latest joining day at which every arm's pooled 30-day conversion is measured
    (`Arm.conversion`), and each arm's value there (%); None before there is one."""
    if not series:
        return None
    m = series[0].rename(columns={"conversion_pct": 0})
    for i, s in enumerate(series[1:], 1):
        m = m.merge(s.rename(columns={"conversion_pct": i}), on="join_day")
    m = m.dropna()
    if m.empty:
        return None
    last = m.iloc[-1]
    return int(last["join_day"]), [float(last[i]) for i in range(len(series))]


def phase_history(model, daily: pd.DataFrame | None = None) -> list[tuple[str, int, int]]:
    """(phase name, first day, last day) of each phase run so far."""
    d = model.daily() if daily is None else daily
    if d.empty:
        return []
    g = d.groupby("phase")["day"].agg(["min", "max"]).sort_values("min")
    return [
        (model.params.strategy.phases[int(i)].name, int(r["min"]), int(r["max"]))
        for i, r in g.iterrows()
    ]


def current_phase(model) -> tuple[str, int]:
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
                f"({upo_s}), cumulative profit {yuan(profit)} (days 0–{pair.day - 1}), {ltv_s}."
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
    now = f"{c.x_pct:.1f} % vs {c.y_pct:.1f} % for {joiners(c.last_join_day)}"
    if c.below_now and not c.crossed:
        return (
            f"{who}: 30-day conversion has been below {vs}'s for every joining day measured "
            f"(from day {c.since_join_day}); now {now}."
        )
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
    parts = [f"{j} {yuan(v[-1])}" for j, v in cum.items()]
    text = f"Money made so far: {', '.join(parts)}."
    if len(cum) == 2:
        (ja, a), (jb, b) = cum.items()
        n = min(len(a), len(b))
        diff = a[:n] - b[:n]
        lead = ja if diff[-1] > 0 else jb if diff[-1] < 0 else None
        text += f" {lead} is ahead by {yuan(abs(diff[-1]))}." if lead else " Level."
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


def caption_churn(daily: pd.DataFrame) -> str:
    base = "Churned to date: users lost so far as a share of every user who joined so far"
    if not len(daily):
        return base + "."
    parts = []
    for j, d in _by_arm(plots.churned_share(daily)):
        parts.append(f"{j} {float(d['churned_pct'].iloc[-1]):.0f} %")
    return f"{base}: by day {int(daily['day'].max())}, {', '.join(parts)}."
