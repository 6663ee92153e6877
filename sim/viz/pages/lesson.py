"""The live page's first screen at second zero: the question the pair asks, each arm in words
(read from its strategy's phases, DOMAIN.md §3) and a preview of where the run ends.

The preview is the pair on screen run ahead to its horizon by the batch engine
(`sim.experiment.batch.run_batch`, in this process, in the page's background): the same
configs (`arm_config`) and the same seed, so it is the same model and the same result the page
is about to play, day for day (same config + seed => bit-identical results). The page draws it
faintly under the live lines, which trace over it as the year plays. Previews are kept per
scenario (`preview`, in memory: a Reset back to a scenario shows its preview at once).
"""

from __future__ import annotations

from functools import lru_cache

from sim.experiment.batch import Evaluation, run_batch
from sim.viz.pages.bands import SeedBands, band_plan, per_brand, seed_bands, yardstick_words
from sim.viz.pages.pair import Arm, Controls
from sim.viz.pages.story import yuan

QUESTION = "Does scaling before the team and the fit are ready destroy value?"
PREVIEWS_KEPT = 16  # scenarios whose preview the page keeps in memory
DIMENSIONS = ("place", "goods", "people")  # what a 0-1 test can test (DOMAIN §3.1)


# --- the arms in words ---------------------------------------------------------------------------


def phase_words(phase, tested: list[str]) -> str:
    """One phase in words: its name, acquisition pace, the team it hires up to (hires arrive
    after `operators.lead_days`, §2.2), KOC circle and its 0-1 test."""
    parts = [f"{phase.daily_users:,.0f} new users/day"]
    parts.append(f"team {phase.team_size}" if phase.team_size is not None else "same team")
    parts.append("KOC circle on" if phase.koc_programme else "no KOC circle")
    dims = [d for d in phase.test.dimensions if d in tested] if phase.test else []
    if dims:
        parts.append(
            f"tests {', '.join(dims)} ({phase.test.users_per_arm:,} users per candidate)"
        )
    return f"“{phase.name}”: " + ", ".join(parts)


def arm_words(arm: Arm) -> str:
    """What an arm does, from its strategy's phases: each phase's `phase_words`, and when the
    next starts (its gate, DOMAIN §3: advance when stable)."""
    m = arm.model
    phases = m.params.strategy.phases
    tested = [d for d in DIMENSIONS if len(m.brand.fit.get(d, ())) > 1]
    text = phase_words(phases[0], tested)
    for prev, phase in zip(phases, phases[1:], strict=False):
        if prev.gate.conditions():
            when = f"after ≥ {prev.min_days} days and its gate"
        else:
            when = f"after {prev.max_days} days"
        text += f" → {when}: {phase_words(phase, tested)}"
    fixed = m.params.operators.fixed
    if fixed is not None:
        text += f" (but the Operators control fixes the team at {fixed})"
    return f"{arm.name}: {text}."


# --- the preview -----------------------------------------------------------------------------


@lru_cache(maxsize=PREVIEWS_KEPT)
def preview(c: Controls, horizon_days: int | None = None) -> SeedBands:
    """The pair of controls `c` run to its horizon (`horizon_days` shortens it: tests) at its
    own seed, in this process: each arm's daily profit and summary, as `bands.SeedBands` of
    one brand. Kept per scenario; blocking (the page calls it in a thread)."""
    bases, _, names = band_plan(c, 1, horizon_days)
    values = {} if horizon_days is None else {"horizon_days": int(horizon_days)}
    evals = [Evaluation(values, seed=c.seed, base=label) for label in bases]
    results = run_batch(bases, evals, n_jobs=1, daily_columns=("profit",), progress=False)
    return seed_bands(c, 1, names, results, bases["A"]["economics"]["discount_rate_annual"])


def preview_line(b: SeedBands) -> str:
    """Where the run ends, in a sentence: each arm's cumulative profit at the horizon, B − A,
    and NPV at the longest horizon reached (`bands.yardstick_words`)."""
    if b.failed:
        return f"Preview: the run stopped ({b.failed[0]})."
    end = int(b.daily["day"].max()) if len(b.daily) else 0
    names = list(b.names.values())
    labels = [n.split(" ")[0] for n in names]  # "A", "B": the arms are named just above
    profit = per_brand(b, "profit").iloc[0]
    text = (
        f"Preview — this is where this run ends (the same model and seed, run ahead): by day "
        f"{end:,}, cumulative profit "
        + " vs ".join(f"{k} {yuan(float(profit[n]))}" for k, n in zip(labels, names, strict=True))
    )
    if len(names) == 2:
        text += f" (B − A {yuan(float(profit[names[1]] - profit[names[0]]), sign=True)})"
    column, what = yardstick_words(b, end + 1)
    if column != "profit":
        v = per_brand(b, column).iloc[0]
        text += f"; {what}: " + " vs ".join(
            f"{k} {yuan(float(v[n]))}" for k, n in zip(labels, names, strict=True)
        )
    return text + "."
