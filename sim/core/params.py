"""The model's parameters: the records of a `Scenario` and `scenario()`, the one build.

The records are declared by domain — `sim.core.pool_params` (touchpoints, pools, the pyramid),
`sim.core.strategy_params` (phases, gates, 0-1 tests, fit candidates), `sim.core.scenario_params`
(`Scenario` and the market, team and behaviour groups) — each field with its range rule
(`sim.core.ranges`). They map one-to-one onto Hydra config nodes: `sim.experiment.config`
registers `Scenario` as the schema of `configs/config.yaml`, so Hydra rejects unknown keys and
wrong types on the command line. Defaults live in `configs/`, where each number cites its
DOMAIN.md source or says it is an assumption; the records only say what is *allowed*.

`scenario(data)` is the one way from a composed config (or a notebook's plain dicts, records
allowed inside) to a checked `Scenario`: structured strictly (`sim.core.structure`), then every
range and every rule across fields (`sim.core.checks`), each refusal a `ConfigError` naming the
full dotted key ("key = value is out of range; allowed: …"). Import the records from here.
"""

from __future__ import annotations

from sim.core.checks import validate
from sim.core.mechanism_params import Capability, Market, Reputation
from sim.core.pool_params import (
    MAX_TOUCHPOINTS,
    Camps,
    Pool,
    PoolLayer,
    Pyramid,
    Touchpoint,
    Washes,
)
from sim.core.ranges import (
    FIT_DIMENSIONS,
    GATE_ACTIONS,
    STAGE_NAMES,
    TEST_METRICS,
    Allowed,
    ConfigError,
    out_of_range,
)
from sim.core.scenario_params import (
    IMPORTED,
    REFERRAL,
    Business,
    Channel,
    Churn,
    CoreCircle,
    Economics,
    Outputs,
    Product,
    Purchase,
    Referral,
    Scenario,
    Staffing,
    Systems,
    Trust,
    candidates,
    guesses,
)
from sim.core.strategy_params import (
    Fit,
    Gate,
    GoodsFit,
    Pace,
    PeopleFit,
    Phase,
    PlaceFit,
    Rules,
    SpendRule,
    StopLoss,
    Strategy,
    Test,
    Truth,
)
from sim.core.structure import structured

__all__ = [
    "FIT_DIMENSIONS", "GATE_ACTIONS", "IMPORTED", "MAX_TOUCHPOINTS", "REFERRAL", "STAGE_NAMES",
    "TEST_METRICS", "Allowed", "Business", "Camps", "Capability", "Channel", "Churn",
    "ConfigError", "CoreCircle", "Economics", "Fit", "Gate", "GoodsFit", "Market", "Outputs",
    "Pace", "PeopleFit", "Phase", "PlaceFit", "Pool", "PoolLayer", "Product", "Purchase", "Pyramid",
    "Referral", "Reputation", "Rules", "Scenario", "SpendRule", "StopLoss",
    "Staffing", "Strategy", "Systems", "Test", "Touchpoint",
    "Trust", "Truth", "Washes", "candidates",
    "guesses", "out_of_range", "scenario", "structured", "validate",
]  # fmt: skip


def scenario(data) -> Scenario:
    """A checked `Scenario` from a composed config or notebook mapping (records allowed inside):
    the one build. Raises `ConfigError` naming the first offending key."""
    s = structured(Scenario, data)
    validate(s)
    return s
