"""`Scenario`, the whole model input, and the records of the market, the team and the users'
behaviour it holds beside the pool (`sim.core.pool_params`) and the strategy
(`sim.core.strategy_params`): channels, business and products, operators, the core circle,
trust, purchase, churn, referral, systems, economics, outputs (DOMAIN §2). Each record maps
one-to-one onto a Hydra config node (`Scenario` is the schema of `configs/config.yaml`);
defaults live in `configs/`, where each number cites its source; the rules across fields are in
`sim.core.checks`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.core.mechanism_params import Capability, Market, Reputation
from sim.core.pool_params import Pool, Touchpoint
from sim.core.ranges import (
    COUNT,
    FIT_DIMENSIONS,
    HEADCOUNT,
    ISO_DATE,
    MAX_HORIZON_DAYS,
    MONEY,
    NONNEG,
    POSITIVE,
    PROB,
    SEED,
    STAGE,
    at_least,
    described,
    horizons,
    integer_in,
    number,
    number_in,
    ranged,
)
from sim.core.strategy_params import Fit, Strategy


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
        number(lambda v: 0 < v < 1, "a mean in (0, 1)"),
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
        number(lambda v: v >= 1, "a number of days >= 1"),
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
        number(lambda v: 0 < v < 1, "a mean in (0, 1)"),
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
        NONNEG, doc="discount rate of margin for LTV and of profit for NPV", unit="1/year"
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
        horizons("no user is older than the longest horizon_days"),
        doc="ages H at which LTV is compared, over cohorts old enough only (DOMAIN §4)",
        unit="days",
    )
    npv_horizons_days: list[int] = ranged(
        horizons("one longer than horizon_days is reported as NaN, not extrapolated"),
        doc="days H at which NPV is reported: profit of days 0 … H−1 discounted to day 0 at "
        "discount_rate_annual (DOMAIN §4)",
        unit="days",
    )


@dataclass
class Outputs:
    """Optional outputs of a run (docs/outputs.md); they never change results."""

    transactions: bool = described(
        "write transactions.parquet + customers.parquet (one row per order / per user)",
        "on/off",
        False,
    )
    spend_by_channel: bool = described(
        "add each channel's acquisition spend to the daily table (`spend_<channel>`) and the "
        "summary",
        "on/off",
        True,
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
    horizon_days: int = ranged(
        integer_in(1, MAX_HORIZON_DAYS, "ten years"), doc="days simulated", unit="days"
    )
    # also refused when they cannot fit in memory (`sim.core.checks`)
    initial_users: int = ranged(
        integer_in(0, 1_000_000_000, "users"),
        doc="existing customers imported on day 0 (not acquired: outside conversion, LTV, CAC)",
        unit="users",
    )
    initial_channel: str = described(
        "channel whose arrival stage and intent the imported users get", "channel"
    )
    market_size: int | None = ranged(
        at_least(1),
        doc="people the brand can reach, all channels and referrals together: contacts with "
        "people already in the pool are lost (Bass, §5); per-channel audiences that cost more as "
        "they burn: `market`; null: an unlimited market",
        unit="users",
    )
    fit: Fit = field(default_factory=Fit)  # brand fit unknown until tested (DOMAIN §3.1)
    # issue #22's mechanisms (`sim.core.mechanism_params`), each built unless enabled: false
    reputation: Reputation = field(default_factory=Reputation)
    market: Market = field(default_factory=Market)
    capability: Capability = field(default_factory=Capability)
    seed: int | None = ranged(
        SEED, None, doc="random seed; null draws one (recorded)", unit="integer"
    )
    outputs: Outputs = field(default_factory=Outputs)


def candidates(sc: Scenario) -> dict[str, list[str]]:
    """Brand-fit candidate names per dimension (DOMAIN §3.1, `sim.core.fit`): the scenario's own
    first, alternatives sorted (so the order keys were written in changes nothing, as with
    channels)."""
    f = sc.fit
    place, goods, people = FIT_DIMENSIONS
    return {
        place: [sc.pool.name, *sorted(f.place.pools)],
        goods: [sc.business.name, *sorted(f.goods.variants)],
        people: sorted(f.people.channels),
    }


def guesses(sc: Scenario) -> dict[str, str | None]:
    """The candidate each dimension runs untested (its guess; null: the scenario's own)."""
    f = sc.fit
    place, goods, people = FIT_DIMENSIONS
    return {
        place: sc.pool.name if f.place.guess is None else f.place.guess,
        goods: sc.business.name if f.goods.guess is None else f.goods.guess,
        people: f.people.guess,
    }
