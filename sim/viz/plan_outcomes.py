"""What each group's strategy decided as it ran: the sweep report's section "What the
strategies' gates and rules did" (`plan_lines`) and the what-if page's row under each plan
(`decisions`, through `sim.viz.pages.whatif.decided`).

A strategy is conditional, not a calendar (DOMAIN §3.2, issue #23): phase gates advance or hold
it, spend rules cut a channel that does not pay back, a pace rule buys no more than the team
can serve, a stop-loss stops buying. Two groups can therefore end with identical numbers for a
reason the tables cannot show (a stop-loss that never fired makes `ten_to_n_stoploss` run as
`ten_to_n`), and the reader needs the decisions beside the outcomes. Everything here is read
from the runs' summaries (`gates.*`, `rules.*`, flattened into the sweep's table by
`sim.experiment.sweep.collect`) and each group's first `config.json`, built
(`sim.experiment.config.build`) for the gates and rules the strategy has with their values: a
rule that never fired leaves nothing in a summary.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.params import ConfigError
from sim.core.strategy_params import Gate, Phase, StopLoss, Strategy
from sim.experiment import jobs
from sim.experiment.config import build
from sim.viz.labels import label_of, words

PHASES = {"zero_to_one": "0-1", "one_to_ten": "1-10", "ten_to_n": "10-N"}
ON_FAIL = {  # `on_gate_fail`, as done
    "advance": "advanced anyway",
    "hold": "held the phase",
    "stop": "stopped buying",
}
NOTE = (
    "Per group, over its runs: each phase gate's outcome (*passed*: its conditions held on that "
    "day and the next phase began; *failed*: the phase's time ran out first, and what "
    "`on_gate_fail` then did; *undecided*: still in the phase at the end; *not reached*), each "
    "spend rule's cuts, the pace rule's hires and the stop-loss, from the runs' `summary.json` "
    "and the strategy in the group's first `config.json`. Days count from the run's day 0."
)


def _phase(name: str) -> str:
    return PHASES.get(name, words(name))


def _column(sub: pd.DataFrame, key: str) -> pd.Series:
    """A summary column of the group's runs; all missing where no run reported it."""
    return sub[key] if key in sub else pd.Series(np.nan, index=sub.index)


def _days(values) -> str:
    d = sorted({int(v) for v in values if not pd.isna(v)})
    if not d:
        return ""
    return f"day {d[0]:,}" if len(d) == 1 else f"days {d[0]:,}–{d[-1]:,}"


def _gate_conditions(gate: Gate) -> str:
    said = []
    if gate.min_conversion_30d is not None:
        said.append(f"30-day conversion ≥ {gate.min_conversion_30d:g}")
    if gate.max_conversion_drop is not None:
        said.append(f"conversion drop ≤ {gate.max_conversion_drop:.0%}")
    if gate.min_ltv_cac is not None:
        said.append(f"LTV/CAC at {gate.ltv_horizon_days} days ≥ {gate.min_ltv_cac:g}")
    return ", ".join(said)


def _gate(sub: pd.DataFrame, phase: Phase) -> str:
    """One phase's gate over the group's runs."""
    outcome = _column(sub, f"gates.{phase.name}.outcome").fillna("not_reached")
    day = _column(sub, f"gates.{phase.name}.day")
    n, parts = len(sub), []
    for kind, said in (
        ("passed", "passed"),
        ("failed", "failed"),
        ("pending", "undecided"),
        ("not_reached", "not reached"),
    ):
        hit = outcome == kind
        if hit.any():
            when = _days(day[hit])
            act = phase.on_gate_fail
            then = f", then {ON_FAIL.get(act, act)}" if kind == "failed" else ""
            parts.append(f"{said} in {hit.sum()} of {n}" + (f" ({when}{then})" if when else ""))
    return f"{_phase(phase.name)} gate ({_gate_conditions(phase.gate)}): " + "; ".join(parts)


def _spend(sub: pd.DataFrame, channel: str, phases: list[str]) -> str:
    """A channel's spend rule (in `phases`) over the runs: cut or not, and where no run reached
    a phase that has it, said so rather than "never cut"."""
    n = len(sub)
    rule = f"{words(channel)} spend rule in {' and '.join(map(_phase, phases))}"
    reached = np.logical_or.reduce([_column(sub, f"phase_starts.{p}").notna() for p in phases])
    missed = f"; its phase not reached in {n - reached.sum()} of {n}" if not reached.all() else ""
    if not reached.any():
        return f"{rule}: its phase not reached in {n} of {n}"
    first = _column(sub, f"rules.first_cut_day.{channel}")
    cut = first.notna()
    if not cut.any():
        return f"{rule}: never cut in {reached.sum()} of {n}{missed}"
    end = _column(sub, f"rules.final_spend_scale.{channel}")[cut].dropna()
    ending = f", ending at ×{end.median():g} of the plan (median)" if len(end) else ""
    return f"{rule}: cut in {cut.sum()} of {n} (first cut {_days(first[cut])}){ending}{missed}"


def _stop_loss(sub: pd.DataFrame, phase: str, stop: StopLoss) -> str:
    metric = (
        "30-day conversion"
        if stop.metric == "conversion_30d"
        else f"LTV/CAC at {stop.horizon_days} days"
    )
    day = _column(sub, "rules.stop_loss_day")
    fired = day.notna()
    said = f"fired in {fired.sum()} of {len(sub)}"
    return (
        f"{_phase(phase)} stop-loss ({metric} below {stop.below:g}, checked from day "
        f"{stop.after_days} of the phase): {said}"
        + (f" ({_days(day[fired])})" if fired.any() else "")
    )


def _pace(sub: pd.DataFrame, phase: str) -> str:
    hires = _column(sub, "rules.fired.pace_hire").fillna(0)
    return f"{_phase(phase)} pace rule: hired ahead {hires.sum():,.0f} times over {len(sub)} runs"


def plan_lines(sweep_dir: Path, done: pd.DataFrame) -> list[str]:
    """The report's section: per group, what its gates and rules did over its runs."""
    lines = ["", "## What the strategies' gates and rules did", "", NOTE, ""]
    names = label_of(done)
    for g in dict.fromkeys(done["group"]):
        sub = done[done["group"] == g]
        job = sub["job"].iloc[0]
        try:
            cfg = json.loads((Path(sweep_dir) / str(job) / jobs.CONFIG).read_text())
            strategy = build(cfg).strategy
        except (OSError, ValueError, ConfigError):
            lines.append(f"- **{names[g]}**: its `config.json` could not be read.")
            continue
        runs = f"{len(sub)} run{'s' if len(sub) > 1 else ''}"
        lines.append(f"- **{names[g]}** ({runs}): {decisions(strategy, sub)}.")
    return lines


def decisions(strategy: Strategy, runs: pd.DataFrame) -> str:
    """What `strategy`'s gates and rules did over `runs` (its runs' summary rows), in words."""
    said, channels = [], {}
    for phase in strategy.phases:
        if phase.gate.conditions():
            said.append(_gate(runs, phase))
        rules = phase.rules
        for c in rules.spend:
            channels.setdefault(c, []).append(phase.name)
        if rules.pace is not None:
            said.append(_pace(runs, phase.name))
        if rules.stop_loss is not None:
            said.append(_stop_loss(runs, phase.name, rules.stop_loss))
    said += [_spend(runs, c, phases) for c, phases in channels.items()]
    return "; ".join(said) if said else "no gates or rules: the plan ran as a calendar"
