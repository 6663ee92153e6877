"""Parameter records: one frozen dataclass per config group, validated on construction.

Each dataclass maps one-to-one onto a Hydra config node and onto a `PrivateDomainModel`
constructor argument, so a notebook can pass plain dicts or these objects and the CLI passes
what Hydra composed. Defaults live in `configs/`, where each number cites its DOMAIN.md source
or says it is an assumption; the dataclasses only say what is *allowed*.

Validation happens here, before any simulation work: an unknown key, a value out of range or a
share vector that does not sum to 1 raises `ConfigError` naming the key, the value and the range.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field

from sim.core.stage import Stage


class ConfigError(ValueError):
    """A configuration value is unknown, missing or out of its allowed range."""


# --- range checks -------------------------------------------------------------------------


def _check(ok: bool, key: str, value, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key} = {value!r} is out of range; allowed: {allowed}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def prob(obj, name: str) -> None:
    v = getattr(obj, name)
    _check(_is_number(v) and 0.0 <= v <= 1.0, name, v, "a probability in [0, 1]")


def nonneg(obj, name: str) -> None:
    v = getattr(obj, name)
    _check(_is_number(v) and v >= 0, name, v, "a number >= 0")


def positive(obj, name: str) -> None:
    v = getattr(obj, name)
    _check(_is_number(v) and v > 0, name, v, "a number > 0")


def count(obj, name: str, minimum: int = 0) -> None:
    v = getattr(obj, name)
    _check(
        isinstance(v, int) and not isinstance(v, bool) and v >= minimum,
        name,
        v,
        f"an integer >= {minimum}",
    )


def shares(mapping: dict, name: str, known) -> None:
    """A mix: known keys, non-negative values summing to 1 (within 1e-6)."""
    for k, v in mapping.items():
        if k not in known:
            raise ConfigError(f"{name}.{k}: unknown key; allowed: {sorted(known)}")
        _check(_is_number(v) and v >= 0, f"{name}.{k}", v, "a share >= 0")
    total = sum(mapping.values())
    _check(abs(total - 1.0) < 1e-6, name, dict(mapping), "shares summing to 1")


STAGE_NAMES = [s.name.lower() for s in Stage if s is not Stage.CHURNED]


def stage_name(obj, name: str) -> None:
    v = getattr(obj, name)
    _check(v in STAGE_NAMES, name, v, f"one of {STAGE_NAMES}")


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Touchpoint:
    """One WeChat-ecosystem touchpoint (DOMAIN §2.4): reach, trust, friction, cost, risk."""

    reach: float  # daily probability a member sees broadcast content here
    trust_effect: float  # trust per value exposure, relative to other touchpoints
    one_to_one: float  # how well operators' 1:1 chat is carried here, in [0, 1]
    friction: float  # purchase friction when buying through here, in [0, 1]
    ban_risk: float  # daily loss probability per member at the tolerated promo share
    join_prob: float  # share of pool members who join this touchpoint
    cost_per_member_day: float  # yuan per member per day

    def __post_init__(self):
        for f in ("reach", "one_to_one", "friction", "ban_risk", "join_prob"):
            prob(self, f)
        for f in ("trust_effect", "cost_per_member_day"):
            nonneg(self, f)


@dataclass(frozen=True)
class Pool:
    """A pool (沉淀池) is a mix of touchpoints plus its content policy (DOMAIN §2.1, §2.4)."""

    name: str
    touchpoints: list[str]
    promo_share: float  # share of every touch (broadcast, 1:1, KOC) that asks (sells)
    promo_tolerance: float  # tolerated promo share before the potential gap turns (003: 20 %)
    content_quality: float  # potential added by value content, in [0, 1]

    def __post_init__(self):
        if not self.touchpoints:
            raise ConfigError("pool.touchpoints is empty; allowed: a non-empty list of touchpoints")
        for f in ("promo_share", "content_quality"):
            prob(self, f)
        _check(
            _is_number(self.promo_tolerance) and 0 < self.promo_tolerance <= 1,
            "promo_tolerance",
            self.promo_tolerance,
            "a share in (0, 1]",
        )


@dataclass(frozen=True)
class Channel:
    """An acquisition channel (DOMAIN §2.5): cost rising with time and volume, traffic quality."""

    base_cost: float  # yuan per acquired user on day 0
    cost_growth_per_year: float  # black-forest law: unit cost x (1 + g) per year
    saturation_users: float  # cumulative users bought at which the volume premium bites
    volume_elasticity: float  # unit cost x (1 + bought / saturation) ** elasticity
    arrival_stage: str  # stage a new user arrives in
    intent_mean: float  # mean traffic quality (purchase intent) in [0, 1]
    intent_concentration: float  # Beta concentration of intent (higher = less spread)
    volume_scale: float = 1.0  # multiplier on the strategy's volume for this channel

    def __post_init__(self):
        for f in ("base_cost", "cost_growth_per_year", "volume_elasticity", "volume_scale"):
            nonneg(self, f)
        positive(self, "saturation_users")
        positive(self, "intent_concentration")
        stage_name(self, "arrival_stage")
        _check(
            _is_number(self.intent_mean) and 0 < self.intent_mean < 1,
            "intent_mean",
            self.intent_mean,
            "a mean in (0, 1)",
        )


@dataclass(frozen=True)
class Product:
    """A rung of the product ladder (DOMAIN §2.6)."""

    price: float  # yuan per order
    margin: float  # gross margin share of price
    min_trust: float = 0.0  # trust around which this product starts to sell (lead: first orders)

    def __post_init__(self):
        nonneg(self, "price")
        prob(self, "margin")
        prob(self, "min_trust")


@dataclass(frozen=True)
class Business:
    """Frequency x margin quadrant and product ladder (DOMAIN §2.6)."""

    name: str
    # mean days between orders of a ready customer (trust >= trust_to_buy + readiness_softness)
    # buying through a frictionless touchpoint; friction f keeps 1 - f of them: cycle / (1 - f)
    purchase_cycle_days: float
    trust_to_buy: float  # trust of the `trust` stage, needed for star (repeat) orders
    brand_awareness: float  # trust a known brand's arrivals already carry, in [0, 1]
    lead: Product
    star: Product
    premium: Product
    premium_share: float  # chance a qualifying repeat order is the premium product

    def __post_init__(self):
        v = self.purchase_cycle_days  # a daily model orders at most once a day
        _check(_is_number(v) and v >= 1, "purchase_cycle_days", v, "a number of days >= 1")
        prob(self, "trust_to_buy")
        prob(self, "brand_awareness")
        prob(self, "premium_share")


@dataclass(frozen=True)
class Operators:
    """The operating team (DOMAIN §2.2): 1:1 capacity, deep-relationship limit, hiring."""

    count: int  # operators on day 0
    capacity: float  # 1:1 touches an operator gives per day at full ramp
    deep_limit: int  # core users one operator can deeply serve (001: 15-20)
    salary_per_day: float  # yuan
    lead_days: int  # days from hiring decision to arrival, capability unprepared
    ramp_days: int  # days from arrival to full capacity, capability unprepared
    prepared_lead_days: int  # the same once capability was prepared in an earlier phase
    prepared_ramp_days: int
    capability_days: int  # days of capability building that count as prepared (001: a quarter)
    max_touches_per_user_day: float  # a user absorbs at most this much 1:1 attention a day
    max_count: int | None = None  # hard cap on headcount ("keep 3 operators"); None = no cap

    def __post_init__(self):
        for f in ("count", "deep_limit", "lead_days", "ramp_days", "prepared_lead_days"):
            count(self, f)
        count(self, "prepared_ramp_days")
        count(self, "capability_days")
        for f in ("capacity", "salary_per_day"):
            nonneg(self, f)
        positive(self, "max_touches_per_user_day")
        if self.max_count is not None:
            count(self, "max_count")


@dataclass(frozen=True)
class KOC:
    """Core-circle KOCs (DOMAIN §2.3): selection, cap, reach, referral leverage."""

    reselect_days: int  # circle re-selection period
    max_share: float  # core users per pool member (003: ~10 per 500-member group)
    min_trust: float  # trust a buyer needs to qualify
    capacity: int  # users one KOC maintains
    strength: float  # a KOC touch relative to an operator's 1:1 touch
    referral_multiplier: float  # word of mouth vs an ordinary user (001: "dozens of times")
    potential_boost: float  # pool potential added at full KOC activity
    influence_trust: float  # trust above which a buyer counts in the influence layer
    reward_per_day: float  # yuan per KOC per day (rights of the core group)

    def __post_init__(self):
        count(self, "reselect_days", 1)
        count(self, "capacity")
        for f in ("max_share", "min_trust", "influence_trust"):
            prob(self, f)
        for f in ("strength", "referral_multiplier", "potential_boost", "reward_per_day"):
            nonneg(self, f)


@dataclass(frozen=True)
class Trust:
    """Trust accumulation and decay (DOMAIN §2.1)."""

    arrival: dict[str, float]  # trust on arrival by arrival stage, before brand awareness
    familiar_at: float  # trust at which aware -> familiar
    learning_rate: float  # scale of daily gains
    one_to_one_weight: float  # value of one operator 1:1 touch
    broadcast_weight: float  # value of one broadcast value exposure
    promo_cost: float  # trust spent per promotional exposure
    neglect_rate: float  # daily share of trust lost without touches

    def __post_init__(self):
        for k, v in self.arrival.items():
            if k not in STAGE_NAMES:
                raise ConfigError(f"arrival.{k}: unknown stage; allowed: {STAGE_NAMES}")
            _check(_is_number(v) and 0 <= v <= 1, f"arrival.{k}", v, "a probability in [0, 1]")
        prob(self, "familiar_at")
        prob(self, "neglect_rate")
        for f in ("learning_rate", "one_to_one_weight", "broadcast_weight", "promo_cost"):
            nonneg(self, f)


@dataclass(frozen=True)
class Purchase:
    """Purchase hazards (DOMAIN §2.1, §2.6)."""

    first_buy_rate: float  # daily first-order hazard at full readiness and no friction
    readiness_softness: float  # trust width over which readiness rises above trust_to_buy
    new_user_offer_days: int  # days after joining a new-user offer runs (003: 3 days)
    new_user_offer_boost: float  # multiplier on the first-order hazard during the offer

    def __post_init__(self):
        prob(self, "first_buy_rate")
        positive(self, "readiness_softness")
        count(self, "new_user_offer_days")
        nonneg(self, "new_user_offer_boost")


@dataclass(frozen=True)
class Churn:
    """Churn (block/delete/leave) hazards (DOMAIN §2.1, §2.5, §1)."""

    base_rate: float  # daily hazard of a trusting, high-intent user under tolerated promo
    promo_coef: float  # relative rise per tolerance-width of promo above tolerance
    trust_coef: float  # relative rise at zero trust
    intent_coef: float  # relative rise at zero intent (deal hunters)
    bait_dropout: float  # chance a zero-intent user leaves right after a first order

    def __post_init__(self):
        prob(self, "base_rate")
        prob(self, "bait_dropout")
        for f in ("promo_coef", "trust_coef", "intent_coef"):
            nonneg(self, f)


@dataclass(frozen=True)
class Referral:
    """Word of mouth (DOMAIN §2.3, §5): warm users referred by trusting members and KOCs."""

    rate_per_day: float  # referrals per fully trusting member per day
    min_stage: str  # members from this stage on refer
    reward: float  # yuan paid per referred user (its CAC)
    arrival_stage: str
    intent_mean: float
    intent_concentration: float

    def __post_init__(self):
        nonneg(self, "rate_per_day")
        nonneg(self, "reward")
        stage_name(self, "min_stage")
        stage_name(self, "arrival_stage")
        prob(self, "intent_mean")
        positive(self, "intent_concentration")


@dataclass(frozen=True)
class Systems:
    """SCRM, tags, content and data systems (DOMAIN §2.2): multiply one-to-many reach only."""

    reach_boost: float  # broadcast reach x (1 + boost x level)
    cost_per_day: float  # yuan per day at level 1

    def __post_init__(self):
        nonneg(self, "reach_boost")
        nonneg(self, "cost_per_day")


@dataclass(frozen=True)
class Economics:
    """Money and segment definitions (DOMAIN §2.7, §4)."""

    discount_rate_annual: float  # for LTV
    rfm_recent_days: int  # 000: set your own R, F, M standards
    rfm_frequent_orders: int
    rfm_monetary: float  # yuan of lifetime spend
    ltv_horizons_days: list[int]  # ages H at which LTV is compared (cohorts old enough only)

    def __post_init__(self):
        nonneg(self, "discount_rate_annual")
        count(self, "rfm_recent_days")
        count(self, "rfm_frequent_orders")
        nonneg(self, "rfm_monetary")
        h = self.ltv_horizons_days
        _check(
            bool(h)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in h)
            and list(h) == sorted(set(h)),
            "ltv_horizons_days",
            h,
            "a non-empty increasing list of integers >= 1",
        )


@dataclass(frozen=True)
class Gate:
    """Conditions that must all hold before a phase may end (DOMAIN §3: advance when stable)."""

    min_conversion_30d: float | None = None  # of the latest matured cohorts
    max_conversion_drop: float | None = None  # relative drop, latest vs previous window
    window_days: int = 28  # joining window whose 30-day conversion is measured

    def __post_init__(self):
        if self.min_conversion_30d is not None:
            prob(self, "min_conversion_30d")
        if self.max_conversion_drop is not None:
            prob(self, "max_conversion_drop")
        count(self, "window_days", 1)


@dataclass(frozen=True)
class Phase:
    """One phase of a scaling strategy (DOMAIN §3)."""

    name: str
    daily_users: float  # users bought per day across channels
    channel_mix: dict[str, float]  # shares of daily_users by channel
    team_size: int | None  # operator headcount to hire up to; None keeps the team
    koc_programme: bool  # run the core circle
    systems: float  # systems level in [0, 1]
    build_capability: bool  # prepare the hiring capability model (001: in 1-10)
    min_days: int  # the phase lasts at least this long
    max_days: int | None  # and at most this long (None: until the gate holds or forever)
    gate: Gate = field(default_factory=Gate)

    def __post_init__(self):
        nonneg(self, "daily_users")
        if self.team_size is not None:
            count(self, "team_size")
        prob(self, "systems")
        count(self, "min_days")
        if self.max_days is not None:
            count(self, "max_days", 1)
            _check(self.max_days >= self.min_days, "max_days", self.max_days, ">= min_days")


@dataclass(frozen=True)
class Strategy:
    """A scaling strategy is an ordered list of phases (DOMAIN §3)."""

    name: str
    phases: list[Phase]

    def __post_init__(self):
        if not self.phases:
            raise ConfigError("strategy.phases is empty; allowed: a non-empty list of phases")


# --- building records from plain data -------------------------------------------------------


def build(cls, data, key: str):
    """Build `cls` from a plain mapping, strictly: unknown or missing keys raise ConfigError.

    `key` is the dotted config path, used to name the offending key in messages.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{key} = {data!r}: expected a mapping of {cls.__name__} fields")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ConfigError(f"{key}.{sorted(unknown)[0]}: unknown key; allowed: {sorted(fields)}")
    missing = [
        n
        for n, f in fields.items()
        if n not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}: missing; required keys: {sorted(fields)}")
    kwargs = {name: _coerce(hints[name], value, f"{key}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{key}.{e}") from None


def _coerce(hint, value, key: str):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, key)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} = {value!r}: expected a list")
        return [_coerce(args[0], v, f"{key}.{i}") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} = {value!r}: expected a mapping")
        return {k: _coerce(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r}: expected true or false")
    if hint is str and not isinstance(value, str):
        raise ConfigError(f"{key} = {value!r}: expected a string")
    return value
