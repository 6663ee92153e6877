"""Parameter records: one dataclass per config group, and `Scenario`, the whole model input.

Each record maps one-to-one onto a Hydra config node and `Scenario`'s fields are exactly the
`PrivateDomainModel` constructor arguments: `sim.experiment.config` registers `Scenario` as the
schema of `configs/config.yaml`, so Hydra itself rejects unknown keys and wrong types, and a
notebook passes plain dicts or records, which `scenario()` structures the same way (OmegaConf).
Defaults live in `configs/`, where each number cites its DOMAIN.md source or says it is an
assumption; the records only say what is *allowed*: a range per field (`ranged`) and, where a
rule spans fields, a `checks` method. `validate` applies them all before any simulation work,
raising `ConfigError` as "key = value is out of range; allowed: …" with the full dotted key.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import math
import typing
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, make_dataclass

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, MissingMandatoryValue, OmegaConfBaseException

from sim.core.population import memory_shortfall
from sim.core.stage import Stage


class ConfigError(ValueError):
    """A configuration value is unknown, missing or out of its allowed range."""


# --- range rules ----------------------------------------------------------------------------


def out_of_range(key: str, value, allowed: str) -> ConfigError:
    return ConfigError(f"{key} = {value!r} is out of range; allowed: {allowed}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Allowed:
    """What a field may hold: a test of one value, and how to say it in a message."""

    test: Callable[[object], bool]
    text: str


def _number(test: Callable[[float], bool], text: str) -> Allowed:
    return Allowed(lambda v: _is_number(v) and test(v), text)


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
    return _number(
        lambda v: lo <= v <= hi, f"a number in [{lo:g}, {hi:g}]" + (f" ({why})" if why else "")
    )


STAGE_NAMES = [s.name.lower() for s in Stage if s is not Stage.CHURNED]

PROB = _number(lambda v: 0 <= v <= 1, "a probability in [0, 1]")
NONNEG = _number(lambda v: v >= 0, "a number >= 0")
POSITIVE = _number(lambda v: v > 0, "a number > 0")
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
TEST_METRICS = ["conversion_30d", "margin_per_user"]  # what a 0-1 test measures per arm
TEST_METRIC = Allowed(lambda v: v in TEST_METRICS, f"one of {TEST_METRICS}")


def ranged(allowed: Allowed, default=MISSING, *, doc: str = "", unit: str = ""):
    """A field with a range rule; None (where the type allows it) is always allowed. `doc` (what
    it means) and `unit` feed the parameter reference (docs/parameters.md, `privsim-params`)."""
    return field(default=default, metadata={"allowed": allowed, "doc": doc, "unit": unit})


def described(doc: str, unit: str = "", default=MISSING):
    """A field without a range rule, with its meaning and unit for the parameter reference."""
    return field(default=default, metadata={"doc": doc, "unit": unit})


def shares(mapping: dict, name: str, known) -> None:
    """A mix: known keys, non-negative values summing to 1 (within 1e-6)."""
    for k, v in mapping.items():
        if k not in known:
            raise ConfigError(f"{name}.{k}: unknown key; allowed: {sorted(known)}")
        if not (_is_number(v) and v >= 0):
            raise out_of_range(f"{name}.{k}", v, "a share >= 0")
    if abs(sum(mapping.values()) - 1.0) >= 1e-6:
        raise out_of_range(name, dict(mapping), "shares summing to 1")


# --- records --------------------------------------------------------------------------------


@dataclass
class Touchpoint:
    """One WeChat-ecosystem touchpoint (DOMAIN §2.4): reach, trust, friction, cost, risk."""

    reach: float = ranged(
        PROB, doc="daily probability a member sees broadcast content here", unit="probability/day"
    )
    trust_effect: float = ranged(
        NONNEG, doc="trust per value exposure, relative to other touchpoints", unit="weight"
    )
    one_to_one: float = ranged(
        PROB, doc="how well operators' 1:1 chat is carried here", unit="share"
    )
    friction: float = ranged(
        PROB, doc="purchase friction when buying through here (orders lost)", unit="share"
    )
    ban_risk: float = ranged(
        PROB,
        doc="daily loss probability per member at the tolerated promo share",
        unit="probability/day",
    )
    join_prob: float = ranged(
        PROB, doc="share of pool members who join this touchpoint", unit="probability"
    )
    cost_per_member_day: float = ranged(
        MONEY, doc="running cost per member", unit="yuan/member-day"
    )


@dataclass
class Pool:
    """A pool (沉淀池) is a mix of touchpoints plus its content policy (DOMAIN §2.1, §2.4)."""

    name: str = described("the pool preset's name (reported in summaries)", "label")
    touchpoints: list[str] = described(
        "the pool's touchpoints (names in `touchpoints`); the first is joined by every member",
        "names",
    )
    promo_share: float = ranged(
        PROB, doc="share of every touch (broadcast, 1:1, KOC) that asks", unit="share"
    )
    promo_tolerance: float = ranged(
        _number(lambda v: 0 < v <= 1, "a share in (0, 1]"),
        doc="tolerated promo share before the potential gap turns (003: 20 %)",
        unit="share",
    )
    content_quality: float = ranged(
        PROB, doc="pool potential added by value content", unit="potential"
    )

    # seed 004's pyramid (DOMAIN §2.3, §2.4); null: one mix for every member (the pool above)
    layers: Pyramid | None = described(
        "seed 004's pyramid: per-layer mixes new/pool/core (configs/pool/pyramid.yaml); null: "
        "one mix for every member",
        "record",
        None,
    )

    def checks(self, key: str) -> None:
        if not self.touchpoints:
            raise ConfigError(
                f"{key}.touchpoints is empty; allowed: a non-empty list of touchpoints"
            )


@dataclass
class PoolLayer:
    """One layer of seed 004's pyramid: its own touchpoint mix and content policy (DOMAIN §2.3,
    §2.4); the promo tolerance is the pool's."""

    touchpoints: list[str] = described(
        "the layer's touchpoints (names in `touchpoints`); the first is joined by every member",
        "names",
    )
    promo_share: float = ranged(
        PROB, doc="share of every touch to this layer's members that asks", unit="share"
    )
    content_quality: float = ranged(
        PROB, doc="pool potential added by this layer's value content", unit="potential"
    )

    def checks(self, key: str) -> None:
        if not self.touchpoints:
            raise ConfigError(
                f"{key}.touchpoints is empty; allowed: a non-empty list of touchpoints"
            )


@dataclass
class Camps:
    """Seed 004's conversion camps (DOMAIN §2.3): new users converted in ~100-user groups over
    ~7 days with concentrated operator effort; at a camp's end its members join the pool layer,
    bought or not (`sim.core.pyramid`)."""

    enabled: bool = described("run conversion camps for new users", "on/off")
    size: int = ranged(
        integer_in(1, 100_000, "users"), doc="new users per camp (004: ~100)", unit="users"
    )
    days: int = ranged(
        integer_in(1, 3650, "days"), doc="how long a camp runs (004: ~7 days)", unit="days"
    )
    effort_share: float = ranged(
        number_in(0.01, 1.0),
        doc="share of one operator's 1:1 capacity a running camp takes; an operator runs at "
        "most 1 / share camps at once",
        unit="share",
    )


@dataclass
class Washes:
    """Seed 004's periodic marketing washes over the pool layer (DOMAIN §2.3): every
    `every_days` days, for `days` days, a share `reach` of the pool layer's live users gets
    `promo_share` of every touch as asks instead of the layer's own share (`sim.core.pyramid`).
    The asks and their cost are the model's one promotion rule (§2.1): more first orders from
    ready users, more trust spent, and above `pool.promo_tolerance` the churn hazard rises."""

    enabled: bool = described("run periodic washes over the pool layer", "on/off")
    every_days: int = ranged(
        integer_in(1, 3650, "days"), doc="days from one wash's start to the next", unit="days"
    )
    days: int = ranged(
        integer_in(1, 3650, "days"), doc="how long a wash runs (at most every_days)", unit="days"
    )
    reach: float = ranged(
        number_in(0.0, 1.0),
        doc="share of the pool layer's live users a wash reaches (004: never all users at once)",
        unit="share",
    )
    promo_share: float = ranged(
        PROB, doc="share of every touch to a reached user that asks during a wash", unit="share"
    )

    def checks(self, key: str) -> None:
        if self.days > self.every_days:
            raise ConfigError(
                f"{key}.days = {self.days} is out of range; allowed: at most "
                f"{key}.every_days = {self.every_days} (washes do not overlap)"
            )


@dataclass
class Pyramid:
    """Seed 004's three layers (DOMAIN §2.3): new users of the lead product (to convert), the
    pool of users marketed to at least once, paid or not (retention), core buyers of the
    high-price product (activity). Users move new -> pool after their conversion push, pool
    -> core on a premium order (`sim.core.pyramid`)."""

    new: PoolLayer
    pool: PoolLayer
    core: PoolLayer
    to_pool_days: int = ranged(
        integer_in(1, 3650, "days"),
        doc="days in the new layer before joining the pool, bought or not (004: a ~7-day push)",
        unit="days",
    )
    core_max: int | None = ranged(
        at_least(1),
        None,
        doc="most members of the core layer (004: < 1,000); null: none",
        unit="users",
    )
    camps: Camps | None = described(
        "conversion camps for new users (004); null: none", "", default=None
    )
    washes: Washes | None = described(
        "periodic marketing washes over the pool layer (004); null: none", "", default=None
    )
    circle_in_core: bool = described(
        "KOCs are chosen only among the core layer's users (004: the closed circle lives in "
        "the core); false: among all buyers, as in single-mix pools",
        "on/off",
        default=False,
    )


@dataclass
class Channel:
    """An acquisition channel (DOMAIN §2.5): cost rising with time and volume, traffic quality."""

    base_cost: float = ranged(MONEY, doc="unit cost of an acquired user on day 0", unit="yuan/user")
    cost_growth_per_year: float = ranged(
        NONNEG, doc="black-forest law: unit cost x (1 + g) per year", unit="1/year"
    )
    saturation_users: float = ranged(
        POSITIVE, doc="users bought at which the volume premium bites", unit="users"
    )
    volume_elasticity: float = ranged(
        NONNEG, doc="unit cost x (1 + bought / saturation) ** e", unit="exponent"
    )
    arrival_stage: str = ranged(STAGE, doc="stage a new user arrives in", unit="stage")
    intent_mean: float = ranged(
        _number(lambda v: 0 < v < 1, "a mean in (0, 1)"),
        doc="mean traffic quality (purchase intent) of arrivals, Beta-distributed",
        unit="intent",
    )
    intent_concentration: float = ranged(
        POSITIVE, doc="Beta concentration of intent (higher = less spread)", unit="a + b"
    )
    # x1000 of any strategy: beyond, arrivals overflow
    volume_scale: float = ranged(
        number_in(0, 1000, "x1000 a strategy's volume at most"),
        1.0,
        doc="multiplier on the strategy's volume on this channel",
        unit="multiplier",
    )
    budget_per_day: float | None = ranged(
        MONEY,
        None,
        doc="spend on this channel per day, whatever the strategy's volume (overrides its mix "
        "and volume_scale here): users = budget / today's unit cost, Poisson; null: the "
        "strategy's volume",
        unit="yuan/day",
    )


@dataclass
class Product:
    """A rung of the product ladder (DOMAIN §2.6)."""

    price: float = ranged(MONEY, doc="price of one order", unit="yuan/order")
    margin: float = ranged(PROB, doc="gross margin share of price", unit="share")
    min_trust: float = ranged(
        PROB, 0.0, doc="trust around which it starts to sell (lead: 1st orders)", unit="trust"
    )


@dataclass
class Business:
    """Frequency x margin quadrant and product ladder (DOMAIN §2.6)."""

    name: str = described("the quadrant's name (reported in summaries)", "label")
    # A daily model orders at most once a day, so at least 1.
    purchase_cycle_days: float = ranged(
        _number(lambda v: v >= 1, "a number of days >= 1"),
        doc="mean days between orders of a ready customer (trust >= trust_to_buy + "
        "readiness_softness) buying through a frictionless touchpoint; friction f keeps 1 - f "
        "of them: cycle / (1 - f)",
        unit="days",
    )
    trust_to_buy: float = ranged(
        PROB, doc="trust of the `trust` stage, needed for star (repeat) orders", unit="trust"
    )
    brand_awareness: float = ranged(
        PROB, doc="share of the missing trust a known brand's arrivals already carry", unit="share"
    )
    lead: Product
    star: Product
    premium: Product
    premium_share: float = ranged(
        PROB, doc="chance a qualifying repeat order is premium", unit="probability"
    )


@dataclass
class Staffing:
    """The operating team (DOMAIN §2.2): 1:1 capacity, deep-relationship limit, hiring."""

    count: int = ranged(HEADCOUNT, doc="operators on day 0", unit="people")
    capacity: float = ranged(
        NONNEG, doc="1:1 touches an operator gives per day at full ramp", unit="touches/day"
    )
    deep_limit: int = ranged(
        COUNT, doc="core users one operator can deeply serve (001: 15-20)", unit="users"
    )
    salary_per_day: float = ranged(MONEY, doc="cost of one arrived operator", unit="yuan/day")
    lead_days: int = ranged(
        COUNT, doc="days from hiring decision to arrival, unprepared", unit="days"
    )
    ramp_days: int = ranged(
        COUNT, doc="days from arrival to full capacity (linear), unprepared", unit="days"
    )
    prepared_lead_days: int = ranged(
        COUNT, doc="lead days once capability was prepared earlier", unit="days"
    )
    prepared_ramp_days: int = ranged(
        COUNT, doc="ramp days once capability was prepared earlier", unit="days"
    )
    capability_days: int = ranged(
        COUNT, doc="days of capability building that count as prepared (001)", unit="days"
    )
    capability_share: float = ranged(
        PROB,
        doc="share of 1:1 capacity spent building capability while a phase does (001)",
        unit="share",
    )
    max_touches_per_user_day: float = ranged(
        POSITIVE, doc="1:1 attention a user absorbs a day", unit="touches/user-day"
    )
    max_count: int | None = ranged(
        HEADCOUNT, None, doc='headcount cap ("keep 3 operators"); null: none', unit="people"
    )
    friend_cap: int | None = ranged(
        at_least(1),
        None,
        doc="friends one operator's personal account holds (WeChat: 5,000; outside the seeds); "
        "new users wait unassigned while every arrived account is full; null: no cap",
        unit="users",
    )
    handover_share: float = ranged(
        PROB,
        0.0,
        doc="share of existing live users handed to a new hire when one arrives (taken from the "
        "operators already there); 0: relationships are continuous",
        unit="share",
    )
    handover_trust_cost: float = ranged(
        PROB,
        0.0,
        doc="trust a handed-over user loses with the person they knew (§2.1-§2.2)",
        unit="trust",
    )
    fixed: int | None = ranged(
        HEADCOUNT,
        None,
        doc='a fixed team ("we have 3 operators"): exactly this many from day 0, no phase hires '
        "(overrides count and max_count); null: as the strategy hires",
        unit="people",
    )


@dataclass
class CoreCircle:
    """Core-circle KOCs (DOMAIN §2.3): selection, cap, reach, referral leverage."""

    reselect_days: int = ranged(at_least(1), doc="circle re-selection period", unit="days")
    max_share: float = ranged(
        PROB,
        doc="core users per live pool member (003: ~10 per 500-member group)",
        unit="share",
    )
    min_trust: float = ranged(PROB, doc="trust a buyer needs to qualify", unit="trust")
    capacity: int = ranged(COUNT, doc="users one KOC maintains", unit="users")
    strength: float = ranged(
        NONNEG, doc="a KOC touch relative to an operator's 1:1 touch", unit="weight"
    )
    # 1000 leaves room; beyond, the referral draw overflows
    referral_multiplier: float = ranged(
        number_in(0, 1000, "word of mouth x1000 at most"),
        doc="a KOC's word of mouth vs an ordinary user's (001: \"dozens of times\")",
        unit="multiplier",
    )
    potential_boost: float = ranged(
        NONNEG, doc="pool potential added at full KOC activity", unit="potential"
    )
    influence_trust: float = ranged(
        PROB, doc="trust above which a buyer is in the influence layer", unit="trust"
    )
    reward_per_day: float = ranged(
        MONEY, doc="cost per KOC (rights of the core group)", unit="yuan/KOC-day"
    )


@dataclass
class Trust:
    """Trust accumulation and decay (DOMAIN §2.1)."""

    arrival: dict[str, float] = ranged(
        PROB, doc="trust on arrival by stage, before brand awareness", unit="trust"
    )
    familiar_at: float = ranged(PROB, doc="trust at which aware -> familiar", unit="trust")
    # above 1 one touch would overshoot full trust (and very large values overflow float32 to
    # inf, then NaN)
    learning_rate: float = ranged(
        number_in(0, 1, "a share of the missing trust per touch"),
        doc="scale of daily gains: a share of the trust still missing",
        unit="share/touch",
    )
    one_to_one_weight: float = ranged(NONNEG, doc="value of one operator 1:1 touch", unit="weight")
    broadcast_weight: float = ranged(
        NONNEG, doc="value of one broadcast value exposure", unit="weight"
    )
    promo_cost: float = ranged(NONNEG, doc="trust spent per promotional exposure", unit="trust")
    neglect_rate: float = ranged(
        PROB, doc="daily share of trust lost (decays with or without touches)", unit="share/day"
    )

    def checks(self, key: str) -> None:
        for k in self.arrival:
            if k not in STAGE_NAMES:
                raise ConfigError(f"{key}.arrival.{k}: unknown stage; allowed: {STAGE_NAMES}")


@dataclass
class Purchase:
    """Purchase hazards (DOMAIN §2.1, §2.6)."""

    first_buy_rate: float = ranged(
        PROB,
        doc="first-order hazard per ask at full readiness and intent, no friction",
        unit="probability/ask",
    )
    readiness_softness: float = ranged(
        POSITIVE, doc="trust width of readiness above its threshold", unit="trust"
    )
    new_user_offer_days: int = ranged(
        COUNT, doc="days after joining a new-user offer runs (003: 3)", unit="days"
    )
    new_user_offer_boost: float = ranged(
        NONNEG, doc="first-order hazard multiplier during the offer", unit="multiplier"
    )
    # Each user's repeat-rate multiplier, drawn on arrival (BG/NBD, DOMAIN §5): Gamma with shape
    # `rate_shape` (CV = 1/sqrt(shape)) and mean 1 + rate_intent_coef x (2 intent - 1), so a
    # user of intent 0.5 rebuys every `business.purchase_cycle_days` on average and deal hunters
    # less (Dholakia 2011). None: no spread (the mean itself); None and 0: everyone the same.
    rate_shape: float | None = ranged(
        POSITIVE,
        None,
        doc="Gamma shape r of each user's repeat-rate multiplier (CV 1/sqrt(r)); null: no spread",
        unit="shape",
    )
    rate_intent_coef: float = ranged(
        PROB,
        0.0,
        doc="mean repeat-rate multiplier 1 + coef x (2 intent - 1): deal hunters rebuy less",
        unit="coefficient",
    )


@dataclass
class Churn:
    """Churn (block/delete/leave) hazards (DOMAIN §2.1, §2.5, §1)."""

    base_rate: float = ranged(
        PROB, doc="daily churn hazard of a trusting, high-intent user", unit="probability/day"
    )
    promo_coef: float = ranged(
        NONNEG, doc="relative rise per tolerance-width above tolerance", unit="coefficient"
    )
    trust_coef: float = ranged(NONNEG, doc="relative rise at zero trust", unit="coefficient")
    intent_coef: float = ranged(
        NONNEG, doc="relative rise at zero intent (deal hunters)", unit="coefficient"
    )
    bait_dropout: float = ranged(
        PROB, doc="chance a zero-intent user leaves after a first order", unit="probability"
    )
    # BG/NBD dropout (DOMAIN §5): each user's chance of stopping buying for good after each
    # repeat order (they stay in the pool, see `dynamics.repeat_dropout`) is drawn on arrival
    # from Beta(dropout_a, dropout_b). None for both: no dropout after repeat orders.
    dropout_a: float | None = ranged(
        POSITIVE, None, doc="Beta a of each user's dropout chance per repeat order", unit="shape"
    )
    dropout_b: float | None = ranged(
        POSITIVE, None, doc="Beta b of each user's dropout chance per repeat order", unit="shape"
    )

    def checks(self, key: str) -> None:
        if (self.dropout_a is None) != (self.dropout_b is None):
            unset = "dropout_a" if self.dropout_a is None else "dropout_b"
            raise ConfigError(f"{key}.{unset} = None: set both dropout_a and dropout_b, or neither")


@dataclass
class Referral:
    """Word of mouth (DOMAIN §2.3, §5): warm users referred by trusting members and KOCs."""

    # more than one a day is not word of mouth (and huge rates overflow the Poisson draw)
    rate_per_day: float = ranged(
        number_in(0, 1, "referrals per member-day"),
        doc="referrals per fully trusting member per day",
        unit="users/member-day",
    )
    min_stage: str = ranged(STAGE, doc="members from this stage on refer", unit="stage")
    periphery_weight: float = ranged(
        PROB, doc="a periphery member's word of mouth vs a talker's", unit="weight"
    )
    reward: float = ranged(MONEY, doc="paid per referred user (its CAC)", unit="yuan/user")
    arrival_stage: str = ranged(STAGE, doc="stage referred users arrive in", unit="stage")
    # the Beta draw of intent needs a mean strictly inside (0, 1)
    intent_mean: float = ranged(
        _number(lambda v: 0 < v < 1, "a mean in (0, 1)"),
        doc="mean intent of referred users, Beta-distributed",
        unit="intent",
    )
    intent_concentration: float = ranged(
        POSITIVE, doc="Beta concentration of referred users' intent", unit="a + b"
    )


@dataclass
class Systems:
    """SCRM, tags, content and data systems (DOMAIN §2.2): multiply one-to-many reach only."""

    reach_boost: float = ranged(
        NONNEG, doc="broadcast reach x (1 + boost x systems level)", unit="multiplier"
    )
    cost_per_day: float = ranged(MONEY, doc="systems cost at level 1", unit="yuan/day")


@dataclass
class Economics:
    """Money and segment definitions (DOMAIN §2.7, §4)."""

    discount_rate_annual: float = ranged(
        NONNEG, doc="discount rate of margin for LTV", unit="1/year"
    )
    rfm_recent_days: int = ranged(
        COUNT, doc="RFM recency: last order within this many days (000)", unit="days"
    )
    rfm_frequent_orders: int = ranged(
        COUNT, doc="RFM frequency: at least this many orders", unit="orders"
    )
    rfm_monetary: float = ranged(
        NONNEG, doc="RFM monetary value: at least this lifetime spend", unit="yuan"
    )
    ltv_horizons_days: list[int] = ranged(
        Allowed(
            lambda h: (
                bool(h)
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in h)
                and list(h) == sorted(set(h))
            ),
            "a non-empty increasing list of integers >= 1",
        ),
        doc="ages H at which LTV is compared, over cohorts old enough only (DOMAIN §4)",
        unit="days",
    )


@dataclass
class Gate:
    """Conditions that must all hold before a phase may end (DOMAIN §3: advance when stable)."""

    min_conversion_30d: float | None = ranged(
        PROB, None, doc="30-day conversion of the latest matured joining window", unit="share"
    )
    max_conversion_drop: float | None = ranged(
        PROB, None, doc="relative conversion drop, latest window vs previous", unit="share"
    )
    window_days: int = ranged(
        at_least(1), 28, doc="joining window whose conversion is measured", unit="days"
    )

    def conditions(self) -> bool:
        """Whether the gate has any condition (a gate without one never holds)."""
        return self.min_conversion_30d is not None or self.max_conversion_drop is not None


@dataclass
class Test:
    """A 0-1 test run inside a phase (DOMAIN §3.1, `sim.core.fit`): arrivals are randomised
    across the candidates of each tested dimension until every arm has `users_per_arm` users;
    when the phase ends, the candidate with the best measured metric is committed."""

    dimensions: list[str] = described(
        "dimensions tested: place, goods, people (one without several candidates is skipped)",
        "names",
    )
    candidates: dict[str, list[str]] = field(
        default_factory=dict,
        metadata={
            "doc": "candidates to test per dimension (default: all of that dimension's)",
            "unit": "names",
        },
    )
    users_per_arm: int = ranged(
        at_least(1), 1000, doc="users randomised into each arm (003: >= 1,000)", unit="users"
    )
    metric: str = ranged(
        TEST_METRIC,
        "conversion_30d",
        doc="what the arms are compared on, over each arm's matured users",
        unit="metric",
    )

    def checks(self, key: str) -> None:
        for i, d in enumerate(self.dimensions):
            if d not in FIT_DIMENSIONS:
                raise ConfigError(
                    f"{key}.dimensions.{i} = {d!r}: unknown dimension; allowed: {FIT_DIMENSIONS}"
                )
        for d in self.candidates:
            if d not in self.dimensions:
                raise ConfigError(
                    f"{key}.candidates.{d}: not a tested dimension; allowed: {self.dimensions}"
                )


@dataclass
class Phase:
    """One phase of a scaling strategy (DOMAIN §3)."""

    name: str = described("the phase's name (phase_starts, gates)", "label")
    # a million a day is beyond any brand's private domain (each user is a row in memory:
    # sim.core.population.PEAK_BYTES_PER_USER)
    daily_users: float = ranged(
        number_in(0, 1e6, "users per day"),
        doc="expected users bought per day across channels",
        unit="users/day",
    )
    channel_mix: dict[str, float] = described(
        "shares of daily_users by channel (summing to 1)", "share"
    )
    team_size: int | None = ranged(
        HEADCOUNT, doc="headcount to hire up to on entry; null keeps the team", unit="people"
    )
    koc_programme: bool = described("run the core circle (KOC selection)", "on/off")
    systems: float = ranged(PROB, doc="systems level (SCRM, tags, content, data)", unit="level")
    build_capability: bool = described(
        "prepare the hiring capability model (001: in 1-10)", "on/off"
    )
    min_days: int = ranged(COUNT, doc="the phase lasts at least this long", unit="days")
    max_days: int | None = ranged(
        at_least(1), doc="and at most (null: until the gate holds)", unit="days"
    )
    gate: Gate = field(default_factory=Gate)
    on_gate_fail: str = ranged(
        GATE_ACTION,
        "advance",
        doc="when the gate has not held by max_days: advance to the next phase anyway, hold "
        "(stay, still waiting for the gate) or stop (stay, buying no more users)",
        unit="action",
    )
    test: Test | None = described(
        "a 0-1 test of people, goods, place run in this phase (§3.1): dimensions, candidates, "
        "users_per_arm, metric; null: none",
        "record",
        None,
    )

    def checks(self, key: str) -> None:
        if self.max_days is not None and self.max_days < self.min_days:
            raise out_of_range(f"{key}.max_days", self.max_days, ">= min_days")
        if self.on_gate_fail != "advance" and not self.gate.conditions():
            raise out_of_range(
                f"{key}.on_gate_fail", self.on_gate_fail, "'advance' for a phase without a gate"
            )


@dataclass
class Strategy:
    """A scaling strategy is an ordered list of phases (DOMAIN §3)."""

    name: str = described("the strategy's name (reported in summaries)", "label")
    phases: list[Phase]

    def checks(self, key: str) -> None:
        if not self.phases:
            raise ConfigError(f"{key}.phases is empty; allowed: a non-empty list of phases")


@dataclass
class PlaceFit:
    """Candidate pools (场): the scenario's `pool` (named by its `name`) and `pools`."""

    guess: str | None = described(
        "the pool run untested; null: the scenario's `pool`", "name", None
    )
    pools: dict[str, Pool] = field(  # alternatives, by candidate name (records as `pool`)
        default_factory=dict,
        metadata={"doc": "alternative candidate pools, by name (each a `pool` record)"},
    )


@dataclass
class GoodsFit:
    """Candidate lead/star product variants (货) at the business's prices and margins; the
    business's own variant is named by `business.name`."""

    guess: str | None = described(
        "the product variant run untested; null: the business's own", "name", None
    )
    variants: list[str] = field(
        default_factory=list,
        metadata={
            "doc": "alternative lead/star variants' names (the business's prices)",
            "unit": "names",
        },
    )
    letdown_trust: float = ranged(
        PROB,
        0.0,
        doc="trust a first buyer loses when the lead product's fit is 0 (scaled by 1 - fit, §3.1)",
        unit="trust",
    )


@dataclass
class PeopleFit:
    """Candidate acquisition channels (人): where the phases' shares of these channels go."""

    guess: str | None = described(
        "the channel run untested; required when channels are listed", "channel", None
    )
    channels: list[str] = field(
        default_factory=list,
        metadata={"doc": "candidate acquisition channels (names from `channels`)", "unit": "names"},
    )


@dataclass
class Fit:
    """Brand fit unknown until tested (DOMAIN §3.1); read in `sim.core.fit`."""

    spread: float = ranged(
        NONNEG,
        0.0,
        doc="sd of each candidate's log fit, fit = exp(spread z); 0: every candidate fits as "
        "configured",
        unit="log fit",
    )
    brand_seed: int | None = described(
        "seed of the latent fits (the brand); null: the run's seed", "integer", None
    )
    place: PlaceFit = field(default_factory=PlaceFit)
    goods: GoodsFit = field(default_factory=GoodsFit)
    people: PeopleFit = field(default_factory=PeopleFit)


def _iso_date(v) -> bool:
    if not isinstance(v, str):
        return False
    try:
        datetime.date.fromisoformat(v)
    except ValueError:
        return False
    return len(v) == 10  # YYYY-MM-DD only (fromisoformat also takes 20260101)


ISO_DATE = Allowed(_iso_date, "a calendar date written YYYY-MM-DD")


@dataclass
class Outputs:
    """Optional outputs of a run (README, "Running scenarios"); they never change results."""

    transactions: bool = described(
        "write transactions.parquet + customers.parquet (one row per order / per user)",
        "on/off",
        False,
    )
    start_date: str = ranged(
        ISO_DATE, "2026-01-01", doc="calendar date of day 0 in the transaction log", unit="date"
    )


REFERRAL, IMPORTED = "referral", "imported"  # channel names the model gives its own users


@dataclass
class Scenario:
    """Everything one model run needs: the `PrivateDomainModel` arguments and the config root."""

    pool: Pool
    touchpoints: dict[str, Touchpoint]
    business: Business
    channels: dict[str, Channel]
    strategy: Strategy
    operators: Staffing
    koc: CoreCircle
    trust: Trust
    purchase: Purchase
    churn: Churn
    referral: Referral
    systems: Systems
    economics: Economics
    # ten years: the cost and behaviour rules describe a brand's first years, and each day is
    # a row of the daily table
    horizon_days: int = ranged(integer_in(1, 3650, "ten years"), doc="days simulated", unit="days")
    # also refused when they cannot fit in memory (see `checks`)
    initial_users: int = ranged(
        integer_in(0, 1_000_000_000, "users"),
        doc="existing customers imported on day 0 (not acquired: outside conversion, LTV, CAC)",
        unit="users",
    )
    initial_channel: str = described(
        "channel whose arrival stage and intent the imported users get", "channel"
    )
    market_size: int | None = ranged(
        at_least(1), doc="people the brand can reach; null: an unlimited market", unit="users"
    )
    fit: Fit = field(default_factory=Fit)  # brand fit unknown until tested (DOMAIN §3.1)
    seed: int | None = ranged(
        SEED, None, doc="random seed; null draws one (recorded)", unit="integer"
    )
    outputs: Outputs = field(default_factory=Outputs)

    def checks(self, key: str) -> None:
        """Rules across groups (DOMAIN §2.5, §5)."""
        for name in ("touchpoints", "channels"):
            if not getattr(self, name):
                raise ConfigError(f"{name} = {{}}: expected a non-empty mapping of names")
        if why := memory_shortfall(self.initial_users * 5 // 4):  # the model's first capacity
            raise ConfigError(f"initial_users = {self.initial_users:,} cannot fit: {why}")
        if self.market_size is not None and self.initial_users > self.market_size:
            raise out_of_range(
                "initial_users", self.initial_users, f"<= market_size ({self.market_size})"
            )
        for reserved in (REFERRAL, IMPORTED):
            if reserved in self.channels:
                raise ConfigError(f"channels.{reserved}: reserved name; configure it elsewhere")
        if self.initial_channel not in self.channels:
            raise ConfigError(
                f"initial_channel = {self.initial_channel!r}: unknown channel; allowed: "
                f"{sorted(self.channels)}"
            )
        for i, phase in enumerate(self.strategy.phases):
            shares(phase.channel_mix, f"strategy.phases.{i}.channel_mix", self.channels)
        used = {c.arrival_stage for c in self.channels.values()} | {self.referral.arrival_stage}
        for s in sorted(used - set(self.trust.arrival)):
            raise ConfigError(f"trust.arrival.{s}: missing; every arrival stage needs a trust")
        from sim.core.pyramid import check_layers  # the layers' rules live with the mechanism

        check_layers(self)
        from sim.core.fit import check_fit  # the candidates' rules live with the mechanism

        check_fit(self)


# --- from plain data to checked records -----------------------------------------------------


def validate(value, key: str = "") -> None:
    """Apply every range rule and `checks` in `value` and the records, lists and dicts inside it,
    naming the offending value by its full dotted key (e.g. `strategy.phases.2.team_size`)."""
    if is_dataclass(value):
        for f in fields(value):
            v, k = getattr(value, f.name), _join(key, f.name)
            if (allowed := f.metadata.get("allowed")) is not None:
                for kk, vv in _leaves(v, k):
                    if vv is not None and not allowed.test(vv):
                        raise out_of_range(kk, vv, allowed.text)
            validate(v, k)
        if hasattr(value, "checks"):
            value.checks(key)
    elif isinstance(value, dict):
        for k, v in value.items():
            validate(v, _join(key, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            validate(v, _join(key, str(i)))


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _leaves(value, key: str) -> Iterator[tuple[str, object]]:
    """A field's values to range-check: the value itself, or each value of a mapping."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{key}.{k}", v
    else:
        yield key, value


def structured(cls, data, key: str = ""):
    """Build record `cls` from a plain mapping (or a record), strictly: OmegaConf rejects
    unknown keys, missing keys and wrong types, re-raised as `ConfigError` naming the full key.
    Ranges are not checked here (see `validate`).

    OmegaConf is slow (a whole config takes ~0.1 s, more than a short run), and a study builds
    the same records for every evaluation, so plain data (as YAML or JSON holds it) is built
    once per process: the record is kept under its data and key (`_BUILT`) and each call gets
    a copy. Records built here from plain data are checked, so a record holding them sends
    only its own plain fields through OmegaConf (`_plain_schema`)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{key} = {data!r}: expected a mapping of {cls.__name__} fields")
    memo = _memo_key(cls, data, key)
    if memo is not None and memo in _BUILT:
        return copy.deepcopy(_BUILT[memo])
    hints = _hints(cls)
    data = {k: _nested(hints.get(k), v, _join(key, k)) for k, v in data.items()}
    built = _records_and_plain(cls, hints, data) if memo is not None else None
    try:
        if built is None:
            out = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), data))
        else:
            records, plain = built
            checked = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(plain), data))
            out = cls(**vars(checked), **records)
    except OmegaConfBaseException as e:
        raise ConfigError(_message(e, key)) from None
    if memo is not None:
        if len(_BUILT) >= 1024:
            _BUILT.clear()
        _BUILT[memo] = copy.deepcopy(out)
    return out


_BUILT: dict[tuple, object] = {}  # records built from plain data (`structured`), by data


def _memo_key(cls, data: dict, key: str) -> tuple | None:
    """`structured`'s memo key: the record, its dotted key, and the data as JSON (key order
    kept, 1 and 1.0 apart); None if the data is not plain: it holds records or other objects,
    or JSON would blur it (keys that are not strings, tuples)."""
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):
        return None
    return (cls, key, text) if json.loads(text) == data else None


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _holds_records(hint) -> bool:
    """Whether a field of type `hint` holds records (built by `_nested`)."""
    args = typing.get_args(hint)
    return is_dataclass(hint) or any(is_dataclass(a) or _holds_records(a) for a in args)


@functools.cache
def _plain_schema(cls):
    """`cls` less its record-holding fields: the part OmegaConf still checks once the records
    inside are built (None if `cls` holds no records)."""
    hints = _hints(cls)
    keep = [f for f in fields(cls) if not _holds_records(hints[f.name])]
    if len(keep) == len(fields(cls)):
        return None
    return make_dataclass(f"{cls.__name__}Plain", [(f.name, hints[f.name], f) for f in keep])


def _records_and_plain(cls, hints: dict, data: dict):
    """(records, plain schema) when `data` (plain data, records just built from it) can skip
    OmegaConf for its records: every record field present and every key known. Else None:
    OmegaConf builds it all and words the error."""
    plain = _plain_schema(cls)
    if plain is None:
        return None
    required = {
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    }
    if not set(data) <= {f.name for f in fields(cls)}:  # unknown key
        return None
    if any(_holds_records(hints[k]) and k not in data for k in required):  # missing record
        return None
    records = {k: data.pop(k) for k in list(data) if _holds_records(hints[k])}
    return records, plain


def _nested(hint, value, key: str):
    """Records inside `value` built first, each under its own key: OmegaConf loses the path of
    an error inside a list item."""
    args = typing.get_args(hint)
    if is_dataclass(hint) and isinstance(value, dict):
        return structured(hint, value, key)
    if len(args) == 2 and type(None) in args and isinstance(value, dict):  # an optional record
        inner = args[0] if args[1] is type(None) else args[1]
        if is_dataclass(inner):
            return structured(inner, value, key)
    if typing.get_origin(hint) is list and is_dataclass(args[0]) and isinstance(value, list):
        return [structured(args[0], v, f"{key}.{i}") for i, v in enumerate(value)]
    if typing.get_origin(hint) is dict and is_dataclass(args[1]) and isinstance(value, dict):
        return {k: structured(args[1], v, f"{key}.{k}") for k, v in value.items()}
    return value


def _message(e: OmegaConfBaseException, key: str) -> str:
    full = _join(key, str(e.full_key)) if e.full_key else key
    if isinstance(e, ConfigKeyError):
        known = sorted(f.name for f in fields(e.object_type)) if e.object_type else []
        return f"{full}: unknown key; allowed: {known}"
    if isinstance(e, MissingMandatoryValue):
        return f"{full}: missing"
    return f"{full}: {str(e).splitlines()[0]}"


def scenario(data) -> Scenario:
    """A checked `Scenario` from a composed config or notebook mapping (records allowed inside)."""
    s = structured(Scenario, data)
    validate(s)
    return s
