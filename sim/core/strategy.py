"""Running a scaling strategy (DOMAIN §3): which phase is active, and when its exit rule lets
it end.

A phase ends when it has run `min_days` and every condition of its gate holds on measured
cohorts (the gate *passes*). If the gate has not held when the phase has run `max_days`, it
*fails*, and the phase's `on_gate_fail` says what follows (DOMAIN §3.1: 1-10 starts only after
the 0-1 test succeeds):

- `advance`: the next phase starts anyway;
- `hold`: the phase goes on with its own settings and its gate is still checked daily; if it
  passes later, the next phase starts then;
- `stop`: the phase goes on with its team, circle and systems but buys no more users (its
  channels bring nobody; members' referrals go on, DOMAIN §2.3); the gate is no longer checked.

A phase with no gate conditions ends at `max_days` (or runs to the horizon without one). The last
phase never ends: its gate, if any, is still recorded, and `stop` still stops acquisition.
Changes take effect from the next day. `outcomes()` reports each gate for the run's summary.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sim.core.metrics import CONVERSION_WINDOW
from sim.core.params import Gate, Phase, Strategy


class PhaseClock:
    def __init__(self, strategy: Strategy):
        self.strategy = strategy
        self.index = 0
        self.started_day = 0
        self.stopped = False  # acquisition stopped by a failed gate (`stop`)
        self._passed: dict[int, int] = {}  # phase index -> day its gate held
        self._failed: dict[int, int] = {}  # phase index -> day it reached max_days unheld

    @property
    def phase(self) -> Phase:
        return self.strategy.phases[self.index]

    def days_in_phase(self, day: int) -> int:
        return day - self.started_day + 1

    def end_of_day(
        self,
        day: int,
        conversion: Callable[[int, int], float],
        ready: bool = True,
        value: Callable[[int, int, int], float] | None = None,
    ) -> bool:
        """Apply the current phase's exit rule at the end of `day`; True if the next phase
        starts tomorrow.

        `conversion(first_day, last_day)` gives the 30-day conversion of users who joined in
        that window (NaN when none has matured); `value(first_day, last_day, horizon)` their
        LTV/CAC at `horizon` days (a gate's `min_ltv_cac`). `ready` is False while the phase's
        0-1 test (`sim.core.fit`) still waits for users or for them to mature: its gate cannot
        pass.
        """
        i, phase, days = self.index, self.phase, self.days_in_phase(day)
        last = i == len(self.strategy.phases) - 1
        if not phase.gate.conditions():
            done = not last and phase.max_days is not None and days >= phase.max_days
            return self._advance(day) if done else False
        if self.stopped or i in self._passed:
            return False
        if days >= phase.min_days and ready and gate_holds(phase.gate, day, conversion, value):
            self._passed[i] = day
            return False if last else self._advance(day)
        if i not in self._failed and phase.max_days is not None and days >= phase.max_days:
            self._failed[i] = day
            if phase.on_gate_fail == "stop":
                self.stop()
            elif phase.on_gate_fail == "advance" and not last:
                return self._advance(day)
        return False

    def stop(self) -> None:
        """Buy no more users from tomorrow (a failed gate's `stop`, or a stop-loss rule)."""
        self.stopped = True

    def _advance(self, day: int) -> bool:
        self.index += 1
        self.started_day = day + 1
        return True

    def outcomes(self, days_run: int) -> dict[str, dict]:
        """Each gate after `days_run` days, by phase name: `outcome` (`not_reached`: the phase
        never ran; `no_gate`: it ran without gate conditions; `passed`; `failed`; `pending`:
        still running, its gate not held and `max_days` not reached), `day` (the day the gate
        held or, if it never did, the day it failed; else None) and `action` (the `on_gate_fail`
        applied when the gate failed; None if it never failed). A gate that failed under `hold`
        and held later reads `passed` with action `hold`."""
        ran = self.index if self.started_day < days_run else self.index - 1
        out = {}
        for i, phase in enumerate(self.strategy.phases):
            passed, failed = self._passed.get(i), self._failed.get(i)
            if i > ran:
                outcome = "not_reached"
            elif not phase.gate.conditions():
                outcome = "no_gate"
            elif passed is not None:
                outcome = "passed"
            elif failed is not None:
                outcome = "failed"
            else:
                outcome = "pending"
            out[phase.name] = {
                "outcome": outcome,
                "day": passed if passed is not None else failed,
                "action": None if failed is None else phase.on_gate_fail,
            }
        return out


def gate_holds(
    gate: Gate,
    day: int,
    conversion: Callable[[int, int], float],
    value: Callable[[int, int, int], float] | None = None,
) -> bool:
    """True when the gate has conditions and all hold on the latest matured cohorts (for
    `min_ltv_cac`, the latest window matured to `ltv_horizon_days`: §3.2, a first order that
    "almost pays back", 001 ~389, and a renewal that does, ~600)."""
    if not gate.conditions():
        return False
    w = gate.window_days
    if gate.min_ltv_cac is not None:
        last = day - gate.ltv_horizon_days + 1
        ratio = math.nan if value is None else value(last - w + 1, last, gate.ltv_horizon_days)
        if not ratio >= gate.min_ltv_cac:  # NaN (not yet measured) holds nothing
            return False
    if gate.min_conversion_30d is None and gate.max_conversion_drop is None:
        return True
    last = day - CONVERSION_WINDOW
    latest = conversion(last - w + 1, last)
    if math.isnan(latest):
        return False
    if gate.min_conversion_30d is not None and latest < gate.min_conversion_30d:
        return False
    if gate.max_conversion_drop is not None:
        previous = conversion(last - 2 * w + 1, last - w)
        if math.isnan(previous) or latest < (1.0 - gate.max_conversion_drop) * previous:
            return False
    return True
