"""Strategy records: phases, gates and 0-1 tests (DOMAIN §3), and the brand-fit candidates a
test chooses among (§3.1). Each record maps one-to-one onto a Hydra config node; the rules
across fields (shares summing to 1, candidates known, gates for `hold`/`stop`) are in
`sim.core.checks`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sim.core.pool_params import Pool
from sim.core.ranges import (
    COUNT,
    GATE_ACTION,
    HEADCOUNT,
    NONNEG,
    POSITIVE,
    PROB,
    SEED,
    STOP_METRIC,
    TEST_METRIC,
    at_least,
    described,
    number,
    number_in,
    ranged,
)

AT_LEAST_ONE = number(lambda v: v >= 1, "a number >= 1")


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
    min_ltv_cac: float | None = ranged(
        NONNEG,
        None,
        doc="discounted margin booked by age ltv_horizon_days ÷ CAC of the latest joining window "
        "matured to that age (1: it paid back)",
        unit="ratio",
    )
    ltv_horizon_days: int = ranged(
        at_least(1), 60, doc="age at which min_ltv_cac is measured", unit="days"
    )

    def conditions(self) -> bool:
        """Whether the gate has any condition (a gate without one never holds)."""
        return (
            self.min_conversion_30d is not None
            or self.max_conversion_drop is not None
            or self.min_ltv_cac is not None
        )


@dataclass
class SpendRule:
    """Keep a channel's volume while its cohorts pay (DOMAIN §3.2, 001 ~600: paid ads are the
    first choice "if the first order or the renewal pays the cost back"); `sim.core.rules`."""

    horizon_days: int = ranged(
        at_least(1), 60, doc="age at which the channel's cohorts are valued", unit="days"
    )
    min_ltv_cac: float = ranged(
        NONNEG,
        1.0,
        doc="keep the volume while the cohorts' discounted margin by horizon_days ÷ their CAC is "
        "at least this (1: they pay back within horizon_days)",
        unit="ratio",
    )
    window_days: int = ranged(
        at_least(1), 28, doc="joining days valued together (after the last change)", unit="days"
    )
    review_days: int = ranged(at_least(1), 7, doc="days between reviews", unit="days")
    cut: float = ranged(PROB, 0.5, doc="volume multiplier when the cohorts do not pay", unit="x")
    floor: float = ranged(PROB, 0.1, doc="the volume is never cut below this share", unit="x")
    grow: float = ranged(
        AT_LEAST_ONE,
        1.0,
        doc="volume multiplier when they pay again (1: never grows back)",
        unit="x",
    )
    max_scale: float = ranged(
        AT_LEAST_ONE, 1.0, doc="the volume grows to at most this multiple of the phase's", unit="x"
    )


@dataclass
class Pace:
    """Buy no more than the arrived team can serve (DOMAIN §2.2, 001: "3 people serving 5,000
    ... at 50,000 you can't serve them"; 10-N adds operators as traffic grows, 001 ~600)."""

    users_per_operator: float = ranged(
        POSITIVE, doc="live users per arrived operator the phase's buying keeps to", unit="users"
    )
    hire: bool = described(
        "hire ahead by the lead time for the users the phase's volume brings", "on/off", False
    )
    max_team: int | None = ranged(
        HEADCOUNT, None, doc="headcount the pace rule hires up to (null: no cap)", unit="people"
    )


@dataclass
class StopLoss:
    """Stop buying when measured cohorts are hopeless (issue #23: a kill switch);
    `sim.core.rules`."""

    below: float = ranged(NONNEG, doc="stop when the metric is below this", unit="share/ratio")
    metric: str = ranged(
        STOP_METRIC,
        "conversion_30d",
        doc="conversion_30d, or ltv_cac (discounted margin by horizon_days ÷ CAC)",
        unit="metric",
    )
    after_days: int = ranged(
        COUNT, 60, doc="checked daily from this many days into the phase", unit="days"
    )
    window_days: int = ranged(
        at_least(1), 28, doc="latest joining days measured (joined in the phase)", unit="days"
    )
    horizon_days: int = ranged(at_least(1), 60, doc="age for ltv_cac", unit="days")


@dataclass
class Rules:
    """Rules a phase applies to its own measured cohorts (`sim.core.rules`; none by default)."""

    spend: dict[str, SpendRule] = field(
        default_factory=dict,
        metadata={"doc": "a spend rule per bought channel (by channel name)", "unit": "records"},
    )
    pace: Pace | None = described("the pace rule; null: none", "record", None)
    stop_loss: StopLoss | None = described("the stop-loss; null: none", "record", None)

    def any(self) -> bool:
        return bool(self.spend) or self.pace is not None or self.stop_loss is not None

    def over(self, base: Rules) -> Rules:
        """These rules laid over `base`: each one set here replaces base's of its kind (a spend
        rule per channel)."""
        return Rules(
            spend={**base.spend, **self.spend},
            pace=base.pace if self.pace is None else self.pace,
            stop_loss=base.stop_loss if self.stop_loss is None else self.stop_loss,
        )


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
        doc="what the arms are compared on, over each arm's matured users: conversion_30d, "
        "margin_per_user (discounted margin to date) or ltv (discounted margin at ages < "
        "horizon_days minus CAC, yuan per user: the business's yardstick, DOMAIN §4)",
        unit="metric",
    )
    horizon_days: int = ranged(
        at_least(1),
        90,
        doc="the age the ltv metric is measured at; its arms have matured when their last "
        "user is this many days old (other metrics: 30 days)",
        unit="days",
    )
    daily_users: float | None = ranged(
        number_in(0, 1e6, "users per day"),
        None,
        doc="users bought per day while the arms fill (null: the phase's daily_users); the "
        "test's size is its users (DOMAIN §3.2), this only sets how fast they come",
        unit="users/day",
    )
    continues: bool = described(
        "in a phase right after one whose test is still under way: carry that test on (its arms "
        "keep filling and maturing, its settings stay the first phase's) instead of committing it "
        "and starting afresh; a test is one job across phases of changing team or budget",
        "on/off",
        False,
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
    rules: Rules = field(default_factory=Rules)


@dataclass
class Strategy:
    """A scaling strategy is an ordered list of phases (DOMAIN §3)."""

    name: str = described("the strategy's name (reported in summaries)", "label")
    phases: list[Phase]
    phase_rules: dict[str, Rules] = field(
        default_factory=dict,
        metadata={
            "doc": "rules laid over the phase of this name (each rule set here replaces the "
            "phase's of its kind); a name the strategy has no phase of is ignored, so one sweep "
            "can switch a rule on in every strategy that has the phase (a sweep cannot add a key "
            "to a list element)",
            "unit": "records",
        },
    )

    def __post_init__(self):
        self.phases = [
            replace(p, rules=self.phase_rules[p.name].over(p.rules))
            if p.name in self.phase_rules
            else p
            for p in self.phases
        ]


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
class Truth:
    """How the evaluation (never a rule) values each candidate: `sim.core.truth`. A reference
    0-1 test of every candidate of each dimension with several, under the brand's latent fits,
    repeated with fresh run seeds; a candidate's value is its arms' LTV at `horizon_days`
    (yuan per user) pooled over the repeats. Off (0 repeats): the summary's value-defined best
    and regret are null."""

    replicates: int = ranged(
        COUNT, 0, doc="repeats of the reference test (0: no value-defined best)", unit="runs"
    )
    users_per_arm: int = ranged(
        at_least(1), 1000, doc="users per arm of each repeat (003: >= 1,000)", unit="users"
    )
    daily_users: float = ranged(
        number_in(0, 1e6, "users per day"),
        100.0,
        doc="users per day of the reference test, from `initial_channel` (001: seed users "
        "come from the brand's public-store customers) or the people candidates equally",
        unit="users/day",
    )
    team_size: int = ranged(
        HEADCOUNT, 2, doc="operators of the reference test (001: 0-1 runs on 1-2)", unit="people"
    )
    horizon_days: int = ranged(
        at_least(1), 90, doc="the age each candidate's LTV is measured at", unit="days"
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
    brand_seed: int | None = ranged(
        SEED, None, doc="seed of the latent fits (the brand); null: the run's seed", unit="integer"
    )
    place: PlaceFit = field(default_factory=PlaceFit)
    goods: GoodsFit = field(default_factory=GoodsFit)
    people: PeopleFit = field(default_factory=PeopleFit)
    truth: Truth = field(default_factory=Truth)
