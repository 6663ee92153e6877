"""What a mechanism is to the model: its state, its daily hooks, its result columns.

Starsim's modules, in our words (DOMAIN §6). A mechanism — brand fit (`sim.core.fit`), the
pyramid's layers (`sim.core.pyramid`), conversion camps (`sim.core.camps`), pool washes
(`sim.core.washes`), operator assignment with or without a friend cap
(`sim.core.assignment`), the KOC circle (`sim.core.circle`) — is one object built from the
`Scenario` that declares

- `state`: the population columns it owns (`sim.core.population.FIELDS`; every run carries
  them, so a run's memory does not depend on which mechanisms it has);
- its hooks: methods named after the phases of the day (`PHASES`), each called as
  `hook(model, day)` at one documented point of that phase, in the order of the model's
  mechanism list (`sim.core.model.mechanisms`), which is also the order of their random draws;
- `features`: the optional daily-table column groups it fills (`sim.core.results.Column.when`).

A new mechanism is a new class here and one line in that list, not a branch in the model.

Where a phase needs a *value* from the mechanisms, not a side effect, the model asks the one
that holds the role: `PoolSource` (whose tables each user reads, brand fit or the pyramid),
`sim.core.assignment.Assignment` (who gets an operator when) and the circle (KOC touches,
potential and word of mouth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from sim.core.params import Phase
from sim.core.pool import MemberEffects, PoolTables

if TYPE_CHECKING:
    from sim.core.ledger import DayOrders

# The phases of one day (`sim.core.model` docstring, DOMAIN §6): hook names, in order.
PHASES = (
    "strategy",
    "acquire",
    "staff",
    "touch",
    "trust",
    "advance",
    "churn",
    "refer",
    "circle",
    "account",
)


@dataclass
class Day:
    """What one day's phases hand on to later phases (DOMAIN §6); made fresh every step."""

    d: int
    phase: Phase
    entered: bool = False  # today the phase started (its settings, hires and tests apply)
    new: dict[str, int] = field(default_factory=dict)  # acquired per channel
    # per channel, set by the acquire hooks (a channel not named: 1, 1, no limit)
    cost_factor: dict[str, float] = field(default_factory=dict)  # x today's unit cost
    intent_factor: dict[str, float] = field(default_factory=dict)  # x arrivals' mean intent
    room: dict[str, int] = field(default_factory=dict)  # most arrivals the channel has left
    volume: dict[str, float] = field(default_factory=dict)  # x expected arrivals (rules)
    spend: float = 0.0  # acquisition spend, yuan
    spend_by: dict[str, float] = field(default_factory=dict)  # of it, per channel
    live_rows: np.ndarray | None = None  # live users' ids once staffed; at the account, again
    load: np.ndarray | None = None  # live users per operator
    caps: np.ndarray | None = None  # each operator's 1:1 touches for attention by load today
    extra: tuple[np.ndarray, np.ndarray] | None = None  # (rows, touches) on top: camps (§2.3)
    worth: float | np.ndarray = 1.0  # worth of each operator's 1:1 touch (capability)
    capacity: float = 0.0  # 1:1 touches the team gives today, net of capability building
    live_n: int = 0
    effects: MemberEffects | None = None
    promo: float | np.ndarray = 0.0  # ask share of every touch, one or per user (§2.1)
    excess: float | np.ndarray = 0.0  # asks above tolerance, in tolerance widths (§2.1)
    live_kocs: int = 0  # KOCs not churned since the last re-selection
    attention: np.ndarray | None = None  # 1:1 touches per user by operator (`team.attention`)
    buy_hazard: np.ndarray | None = None  # purchase hazards of `live_rows`, aligned with it
    orders: DayOrders | None = None
    first: np.ndarray | None = None  # today's first buyers
    churned: int = 0  # churned today, bait dropouts included
    left: np.ndarray | None = None  # ids the churn hazard took today (bait dropouts not)
    referred: int = 0
    referred_koc: int = 0  # of which referred by KOCs
    word: float = 0.0  # today's positive word of mouth: the referral weight (§2.3)
    live_trust: float = 0.0  # trust summed over live users after referrals
    live_by_key: np.ndarray | None = None  # live users per (pool, mask) row of the tables
    arrived: np.ndarray | None = None  # which operators have arrived (at the day's account)


class Mechanism:
    """Base of every mechanism: no state, no hooks, no columns (override what applies)."""

    name: str = ""  # how `PrivateDomainModel.mechanism` finds it
    state: tuple[str, ...] = ()  # population columns it owns
    features: tuple[str, ...] = ()  # optional daily-table column groups it fills

    def cohorts(self, model):
        """Columns it adds to the weekly cohort table (`PrivateDomainModel.cohorts`), or None."""
        return None

    def report(self, model):
        """Its entry in the run's summary (under `name`), or None."""
        return None

    def hooks(self) -> dict[str, object]:
        """The phase hooks this mechanism defines (bound methods), by phase name."""
        return {p: getattr(self, p) for p in PHASES if callable(getattr(self, p, None))}


class PoolSource(Protocol):
    """What decides the pool tables each user reads (DOMAIN §2.4): the brand's running pool or
    its place test's pools side by side (`sim.core.fit.Brand`), or the pyramid's layers
    (`sim.core.pyramid.Layers`). One per run, chosen when the model is built."""

    def tables(self, reach_multiplier: float) -> PoolTables:
        """Effects per (pool, membership mask) row, for a phase's systems reach."""

    def pool_index(self, pop) -> np.ndarray | None:
        """Each user's row block in the tables (None: one pool, the mask alone)."""

    def draw_membership(self, rng: np.random.Generator, pool, n: int) -> np.ndarray:
        """Touchpoint masks of `n` new users (`pool`: their place arm)."""

    def potential(self, potential: float, content_quality: float, effects) -> object:
        """The trust-gain scale of each user (pool potential × place fit, §2.1, §3.1)."""

    def promo(self, effects: MemberEffects) -> float | np.ndarray:
        """The ask share of every touch: the pool's, or each user's pool's."""

    def excess(self, effects: MemberEffects) -> float | np.ndarray:
        """Asks above the tolerated share (`sim.core.pool.promo_excess`), one or per user."""
