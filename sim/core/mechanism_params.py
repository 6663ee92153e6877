"""Records of issue #22's mechanisms: reputation, the finite market, capability as effectiveness
(DOMAIN §2.1, §2.2, §3.2, §5). Each maps one-to-one onto a Hydra config node (`reputation`,
`market`, `capability` in `configs/config.yaml`, where each default cites its source or says it
is an assumption); each is on by default; `enabled: false` does not build it at all
(`sim.core.model.mechanisms`), so a run without it is today's model bit for bit. The rule
across groups (the market's channels known) is in `sim.core.checks`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.core.ranges import NONNEG, POSITIVE, at_least, described, number, ranged


@dataclass
class Reputation:
    """Negative word of mouth of users who left after a bad experience (`sim.core.reputation`)."""

    enabled: bool = described(
        "users who leave after being over-asked, neglected or let down spread negative word "
        "of mouth that lowers the intent of later arrivals from the market",
        "on/off",
        False,
    )
    # below 1: an arrival's intent mean must stay > 0 (a Beta mean)
    strength: float = ranged(
        number(lambda v: 0 <= v < 1, "a share in [0, 1)"),
        0.3,
        doc="share of arrivals' mean intent lost when all of the brand's word of mouth is "
        "negative (intent x (1 - strength x negative share))",
        unit="share",
    )
    half_life_days: float = ranged(
        POSITIVE, 90.0, doc="days after which a detractor's story reaches half as many", unit="days"
    )
    voice: float = ranged(
        NONNEG,
        1.0,
        doc="a detractor's word of mouth vs a fully trusting talker's (the referral weight)",
        unit="weight",
    )


@dataclass
class Market:
    """A finite addressable market per channel that burns (`sim.core.market`)."""

    enabled: bool = described(
        "each listed channel reaches a finite audience: everyone it brought in (churned "
        "included) is gone from it, and the rest cost more and intend less",
        "on/off",
        False,
    )
    addressable: dict[str, float] = field(
        default_factory=dict,
        metadata={
            "allowed": POSITIVE,
            "doc": "people each channel can ever bring in (channels not listed: unlimited)",
            "unit": "users",
        },
    )
    cost_elasticity: float = ranged(
        NONNEG,
        1.0,
        doc="unit cost x (addressable / remaining) ** e: deeper audiences cost more",
        unit="exponent",
    )
    intent_elasticity: float = ranged(
        NONNEG,
        0.5,
        doc="arrivals' mean intent x (remaining / addressable) ** e: deeper audiences want less",
        unit="exponent",
    )


@dataclass
class Capability:
    """The team's capability as the worth of a 1:1 touch (`sim.core.capability`)."""

    enabled: bool = described(
        "each operator's 1:1 touch is worth more as capability is built (phases with "
        "build_capability), learned by doing, and diluted by unprepared hires",
        "on/off",
        False,
    )
    unprepared: float = ranged(
        number(lambda v: 0 < v <= 1, "a share in (0, 1]"),
        0.5,
        doc="worth of a 1:1 touch by an operator with no capability, vs a fully capable one",
        unit="share",
    )
    build_days: int = ranged(
        at_least(1),
        90,
        doc="days of capability building that codify it fully (team model, SOPs)",
        unit="days",
    )
    learn_days: float = ranged(
        POSITIVE,
        365.0,
        doc="learning by doing: each working day an operator closes 1/learn_days of the gap",
        unit="days",
    )
