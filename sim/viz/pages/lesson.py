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


# --- when scaling early wins: which conditions hold ------------------------------------------


def team_of(model, phase) -> int:
    """The operators a phase runs with: a fixed team (`operators.fixed`), else the phase's
    `team_size`, else the starting team (`operators.count`)."""
    ops = model.params.operators
    if ops.fixed is not None:
        return int(ops.fixed)
    return int(phase.team_size if phase.team_size is not None else ops.count)


def early_scaling_conditions(pair) -> list[tuple[bool, str]]:
    """The conditions under which B, scaling from its first phase, can beat A's staging, each
    read from the scenario's config and whether it holds here: B is staffed for its pace (its
    first phase has at least the operators per daily user of A's last phase, DOMAIN §2.2), the
    brand's fit is known (nothing for A's 0-1 test to find, §3.1), and the horizon is short
    (the shortest NPV yardstick, `economics.npv_horizons_days`: staging pays off late, §3.2)."""
    a, b = (arm.model for arm in pair.arms[:2])
    a_last, b_first = a.params.strategy.phases[-1], b.params.strategy.phases[0]
    ta, tb = team_of(a, a_last), team_of(b, b_first)
    ua, ub = a_last.daily_users, b_first.daily_users
    staffed = tb * ua >= ta * ub
    team = (
        f"B staffed for its pace ({tb} operators for {ub:,.0f} users/day from day 0, hires "
        f"arriving after {b.params.operators.lead_days} days; A scales with {ta} for {ua:,.0f})"
    )
    spread = b.params.fit.spread
    dims = [d for d in DIMENSIONS if len(b.brand.fit.get(d, ())) > 1]
    known = spread == 0 or not dims
    choice = f"candidates on {', '.join(dims)}" if dims else "no candidates to choose between"
    fit = f"the brand's fit known (fit spread {spread:g}, {choice})"
    shortest = min(b.params.economics.npv_horizons_days)
    short = pair.horizon_days <= shortest
    horizon = f"a short horizon ({pair.horizon_days:,} days; shortest NPV yardstick {shortest:,})"
    return [(staffed, team), (known, fit), (short, horizon)]


def why_early_wins(pair, b: SeedBands) -> str | None:
    """When B ends ahead of A in the preview (on `bands.yardstick_words`'s yardstick), which
    of `early_scaling_conditions` hold here, in a sentence; None when A ends ahead, or with one
    arm."""
    if len(pair.arms) < 2 or b.failed or not len(b.daily):
        return None
    column, what = yardstick_words(b, int(b.daily["day"].max()) + 1)
    v = per_brand(b, column).iloc[0]
    a_name, b_name = list(b.names.values())[:2]
    if not v[b_name] > v[a_name]:
        return None
    return f"Why scaling early wins here ({b_name} ahead of {a_name} on {what}): {held(pair)}."


def held(pair) -> str:
    """`early_scaling_conditions` of the pair in words, each saying whether it holds here."""
    conditions = early_scaling_conditions(pair)
    return "; ".join(f"{text}: {'holds' if ok else 'does not hold'}" for ok, text in conditions)
