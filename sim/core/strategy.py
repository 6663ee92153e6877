"""Running a scaling strategy (DOMAIN §3): which phase is active, and when its exit rule lets
it end.

A phase ends when it has run `max_days`, or when it has run `min_days` and every condition of
its gate holds on measured cohorts. A phase with no gate conditions and no `max_days` runs to
the horizon. The last phase never ends.
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

    @property
    def phase(self) -> Phase:
        return self.strategy.phases[self.index]

    def days_in_phase(self, day: int) -> int:
        return day - self.started_day + 1

    def end_of_day(self, day: int, conversion: Callable[[int, int], float]) -> bool:
        """Advance to the next phase if the current one is done; True if it advanced.

        `conversion(first_day, last_day)` gives the 30-day conversion of users who joined in
        that window (NaN when none has matured).
        """
        if self.index == len(self.strategy.phases) - 1:
            return False
        phase, days = self.phase, self.days_in_phase(day)
        done = (phase.max_days is not None and days >= phase.max_days) or (
            days >= phase.min_days and gate_holds(phase.gate, day, conversion)
        )
        if done:
            self.index += 1
            self.started_day = day + 1
        return done


def gate_holds(gate: Gate, day: int, conversion: Callable[[int, int], float]) -> bool:
    """True when the gate has conditions and all hold on the latest matured cohorts."""
    if gate.min_conversion_30d is None and gate.max_conversion_drop is None:
        return False
    w = gate.window_days
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
