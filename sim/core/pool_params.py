"""Pool records: touchpoints, the pool's mix and content policy, seed 004's pyramid (DOMAIN §2.1,
§2.3, §2.4). Each record maps one-to-one onto a Hydra config node; defaults live in `configs/`,
each field here says what it means and what it allows (`sim.core.ranges`). Rules across fields
(a pool's touchpoints known and at most `MAX_TOUCHPOINTS`, washes not overlapping) are in
`sim.core.checks`."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.ranges import (
    MONEY,
    NONNEG,
    PROB,
    at_least,
    described,
    integer_in,
    number,
    number_in,
    ranged,
)

# a user's touchpoint memberships are one byte (`Population.touchpoints`, `sim.core.pool`)
MAX_TOUCHPOINTS = 8


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
        number(lambda v: 0 < v <= 1, "a share in (0, 1]"),
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
