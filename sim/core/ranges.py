"""Range rules: what one field of a parameter record may hold, and how to say it.

Every record field (`sim.core.pool_params`, `strategy_params`, `scenario_params`) declares its
rule with `ranged(...)` (or only its meaning and unit with `described(...)`); `sim.core.checks`
applies them to a built scenario and words a refusal as "key = value is out of range; allowed:
…" with the full dotted key. The meaning and unit feed the parameter reference
(docs/parameters.md, `privsim-params`).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field

from sim.core.stage import Stage


class ConfigError(ValueError):
    """A configuration value is unknown, missing or out of its allowed range."""


def out_of_range(key: str, value, allowed: str) -> ConfigError:
    return ConfigError(f"{key} = {value!r} is out of range; allowed: {allowed}")


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Allowed:
    """What a field may hold: a test of one value, and how to say it in a message."""

    test: Callable[[object], bool]
    text: str


def number(test: Callable[[float], bool], text: str) -> Allowed:
    return Allowed(lambda v: is_number(v) and test(v), text)


def at_least(minimum: int) -> Allowed:
    return Allowed(
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum,
        f"an integer >= {minimum}",
    )


def integer_in(lo: int, hi: int, why: str = "") -> Allowed:
    return Allowed(
        lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi,
        f"an integer in [{lo:,}, {hi:,}]" + (f" ({why})" if why else ""),
    )


def number_in(lo: float, hi: float, why: str = "") -> Allowed:
    return number(
        lambda v: lo <= v <= hi, f"a number in [{lo:g}, {hi:g}]" + (f" ({why})" if why else "")
    )


STAGE_NAMES = [s.name.lower() for s in Stage if s is not Stage.CHURNED]

PROB = number(lambda v: 0 <= v <= 1, "a probability in [0, 1]")
NONNEG = number(lambda v: v >= 0, "a number >= 0")
POSITIVE = number(lambda v: v > 0, "a number > 0")
COUNT = at_least(0)
# Upper bounds: the ranges in which the model works. Beyond them a run overflows float32/float64
# (inf, then NaN), overflows a Poisson draw ("lam value too large") or asks for more memory than
# any machine has; values that large describe no brand, so they are refused up front.
MONEY = number_in(0, 1e7, "yuan; beyond that sums overflow to inf")
# 1:1 touches, operators and KOCs are per-person; a team beyond this is not a private domain
# an operator model describes (and each operator is a Mesa agent)
HEADCOUNT = integer_in(0, 10_000, "a team beyond this is not modelled")
SEED = at_least(0)  # numpy seeds are non-negative integers; null draws one (recorded by privsim)
STAGE = Allowed(lambda v: v in STAGE_NAMES, f"one of {STAGE_NAMES}")
GATE_ACTIONS = ["advance", "hold", "stop"]  # what a phase does when its gate fails (Phase)
GATE_ACTION = Allowed(lambda v: v in GATE_ACTIONS, f"one of {GATE_ACTIONS}")
FIT_DIMENSIONS = ["place", "goods", "people"]  # 人、货、场 (DOMAIN §3.1), see sim.core.fit
TEST_METRICS = ["conversion_30d", "margin_per_user", "ltv"]  # what a 0-1 test measures per arm
TEST_METRIC = Allowed(lambda v: v in TEST_METRICS, f"one of {TEST_METRICS}")
# what a stop-loss measures on matured cohorts (`sim.core.rules`)
STOP_METRICS = ["conversion_30d", "ltv_cac"]
STOP_METRIC = Allowed(lambda v: v in STOP_METRICS, f"one of {STOP_METRICS}")


MAX_HORIZON_DAYS = 3650  # the longest run: ten years (`horizon_days`)


def horizons(why: str) -> Allowed:
    """A non-empty increasing list of whole days in [1, MAX_HORIZON_DAYS] (the longest
    `horizon_days`)."""
    return Allowed(
        lambda h: (
            bool(h)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in h)
            and all(1 <= v <= MAX_HORIZON_DAYS for v in h)
            and list(h) == sorted(set(h))
        ),
        f"a non-empty increasing list of integers in [1, {MAX_HORIZON_DAYS:,}] ({why})",
    )


def ranged(allowed: Allowed, default=MISSING, *, doc: str = "", unit: str = ""):
    """A field with a range rule; None (where the type allows it) is always allowed. `doc` (what
    it means) and `unit` feed the parameter reference (docs/parameters.md, `privsim-params`)."""
    return field(default=default, metadata={"allowed": allowed, "doc": doc, "unit": unit})


def described(doc: str, unit: str = "", default=MISSING):
    """A field without a range rule, with its meaning and unit for the parameter reference."""
    return field(default=default, metadata={"doc": doc, "unit": unit})


def _iso_date(v) -> bool:
    if not isinstance(v, str):
        return False
    try:
        datetime.date.fromisoformat(v)
    except ValueError:
        return False
    return len(v) == 10  # YYYY-MM-DD only (fromisoformat also takes 20260101)


ISO_DATE = Allowed(_iso_date, "a calendar date written YYYY-MM-DD")
