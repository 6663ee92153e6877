"""The first screen's four numbers per arm (cumulative profit, with NPV at the horizons
reached; LTV/CAC at the shortest horizon, 30-day conversion of the latest `ROLLING_DAYS` joining
days whose 30 days are over (the conversion chart's and "What happened"'s number), users per
operator: DOMAIN.md §4), each read from the arms' own outputs, with B − A coloured by
whether it favours B."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core import metrics
from sim.core.metrics import CONVERSION_WINDOW
from sim.viz.pages.pair import MIN_POOLED, LivePair
from sim.viz.pages.story import conversion_now, joiners, yuan


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


def headline(pair: LivePair) -> list[Metric]:
    """The four cards: cumulative profit, horizon-matched LTV/CAC at the shortest horizon,
    30-day conversion of the latest pooled joining days (`story.conversion_now`), users per
    operator today. Every value is read from the arms' own outputs (daily table, summary,
    conversion by joining day)."""
    if not pair.arms:
        return []
    day = pair.day
    out = []

    profit = tuple(float(a.daily()["profit"].sum()) if day else 0.0 for a in pair.arms)
    sums = [a.summary() for a in pair.arms] if day else []
    out.append(
        Metric(
            "profit",
            "Cumulative profit",
            profit,
            tuple(yuan(v) for v in profit),
            f"margin − all costs, days 0–{max(day - 1, 0)}" + npv_note(sums),
            "higher",
        )
    )

    if day:
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

    now = conversion_now([a.conversion() for a in pair.arms])
    conv = tuple(now[1]) if now else tuple(math.nan for _ in pair.arms)
    texts = tuple(f"{v:.1f} %" if np.isfinite(v) else "not yet measurable" for v in conv)
    if now:
        note = f"of {joiners(now[0])}, each followed {CONVERSION_WINDOW} days"
    else:
        note = f"measured once {MIN_POOLED} joiners have had their {CONVERSION_WINDOW} days"
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


def npv_note(sums: list[dict]) -> str:
    """`; NPV at 365 days ¥1.2M / ¥0.9M` for each NPV horizon the arms have reached (profit
    discounted to day 0: `metrics.npv_at`), or nothing before the first."""
    parts = []
    for h in metrics.horizons_in(sums[0], "npv") if sums else []:
        v = [s[f"npv_{h}d"] for s in sums]
        if all(np.isfinite(v)):
            parts.append(f"NPV at {h} days " + " / ".join(yuan(x) for x in v))
    return "".join(f"; {p}" for p in parts)


def _with_difference(m: Metric) -> Metric:
    if len(m.values) < 2 or not all(np.isfinite(m.values)):
        return m
    a, b = m.values
    d = b - a
    if m.key == "profit":
        text = yuan(d, sign=True)
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
