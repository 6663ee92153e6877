"""Issue #22's mechanisms, each on its own: capability as effectiveness (`sim.core.capability`),
a finite market that burns (`sim.core.market`), reputation from bad experiences
(`sim.core.reputation`). Each is on by default; here each is switched off in one arm of
otherwise equal configs, at reduced size, and the direction is asserted beyond three standard
errors of the difference across seeds (`assert_greater`) — or exactly, where the mechanism's
state draws no random numbers. Their sizes at the default scenario: experiments/mechanisms.md.
"""

import numpy as np
import pytest

from sim.core.params import REFERRAL, ConfigError
from sim.core.stage import Stage

from conftest import across_seeds, assert_greater, build, one_phase

SEEDS = range(4)
PAID = one_phase(100, {"paid_ads": 1.0})


def conversion(m):
    return m.summary()["conversion_30d"]


def channel_intent(m, since: int = 60) -> float:
    """Mean intent of users a channel brought in from day `since` on (not referred)."""
    pop = m.population
    n = pop.n
    rows = (pop.join_day[:n] >= since) & (pop.channel[:n] != m.channel_names.index(REFERRAL))
    return float(pop.intent[:n][rows].mean())


def cac(m) -> float:
    d = m.daily()
    return float(d["acquisition_spend"].sum() / d["new_users"].sum())


# --- off is today's model; inert at the inert value --------------------------------------------


NAMES = ("capability", "market", "reputation")
COLUMNS = {"team_capability", "market_reached_share", "detractors"}


def test_the_mechanisms_are_on_by_default_and_enabled_false_does_not_build_them():
    m = build({}, seed=0, horizon_days=5).run(5)
    assert all(m.mechanism(n) is not None for n in NAMES)
    assert set(m.daily().columns) >= COLUMNS
    off = build({f"{n}.enabled": False for n in NAMES}, seed=0, horizon_days=5).run(5)
    assert all(off.mechanism(n) is None for n in NAMES)
    assert not set(off.daily().columns) & COLUMNS


@pytest.mark.parametrize(
    "inert",
    [
        {"capability.enabled": True, "capability.unprepared": 1.0},
        {"market.enabled": True, "market.cost_elasticity": 0.0, "market.intent_elasticity": 0.0},
        {"reputation.enabled": True, "reputation.strength": 0.0},
    ],
    ids=["capability", "market", "reputation"],
)
def test_a_mechanism_at_its_inert_value_changes_nothing(inert):
    """Switched on at the value that makes it inert, a mechanism adds its columns and changes
    no other number: it draws nothing and multiplies by exactly 1."""
    top = {"horizon_days": 120, "seed": 2}
    name = next(iter(inert)).partition(".")[0]
    off = build({"strategy": PAID, f"{name}.enabled": False}, **top).run()
    on = build({"strategy": PAID, **inert}, **top).run()
    a, b = off.daily(), on.daily()
    assert set(b.columns) > set(a.columns)
    assert b[a.columns].equals(a)
    assert on.summary()["profit"] == off.summary()["profit"]


def test_a_market_of_unknown_channels_is_refused():
    with pytest.raises(ConfigError, match=r"market\.addressable\.tv: unknown channel"):
        build({"market.addressable": {"tv": 1000.0}}, seed=0)


# --- capability as effectiveness (001 ~545-595) ------------------------------------------------


def test_an_unprepared_team_converts_less_than_a_capable_one():
    """A touch by an operator with no capability is worth `unprepared` of a capable one's."""
    arm = {"strategy": PAID, "operators.count": 2, "koc.max_share": 0.0}
    off = {**arm, "capability.enabled": False}
    capable = across_seeds(conversion, off, SEEDS, horizon_days=120)
    green = across_seeds(conversion, {**arm, "capability.enabled": True}, SEEDS, horizon_days=120)
    assert_greater(capable, green)


def _two_phases(build_first: bool) -> dict:
    """100 days of a 2-person team (building capability or not), then a hire to 8."""
    first = {**PAID["phases"][0], "name": "first", "min_days": 100, "max_days": 100}
    first["build_capability"] = build_first
    second = {**PAID["phases"][0], "name": "scale", "team_size": 8}
    return {"name": "probe", "phases": [first, second]}


def test_unprepared_hires_dilute_the_team_and_building_first_prevents_it():
    """Capability is built by the phases that build it, learned slowly by doing, and diluted by
    hires who arrive with nothing to be handed over (001: "no veterans to hand over"). The
    state draws no random numbers, so the comparison is exact."""
    common = {"capability.enabled": True, "operators.capability_share": 0.0}
    cols = []
    for build_first in (False, True):
        m = build({**common, "strategy": _two_phases(build_first)}, seed=0, horizon_days=200)
        cols.append(m.run().daily().set_index("day"))
    unbuilt, built = (d["team_capability"] for d in cols)
    arrive = int(cols[0].index[cols[0]["operators"] > 2][0])  # unprepared hires: 60 days' lead
    assert arrive == 160
    assert unbuilt[arrive] < unbuilt[arrive - 1]  # diluted
    assert 0.5 < unbuilt[arrive - 1] < 0.75  # the founders learned by doing, slowly
    assert built[99] == pytest.approx(1.0)  # 90 building days codify it fully
    assert built[arrive] > unbuilt[arrive] + 0.2
    # the prepared hires arrive after 14 days at the codified level: no dilution
    arrive_built = int(cols[1].index[cols[1]["operators"] > 2][0])
    assert arrive_built == 114
    assert built[arrive_built] == pytest.approx(built[arrive_built - 1], abs=1e-3)


# --- a finite market that burns (§5, §3.2) ---------------------------------------------------


def test_a_burning_market_costs_more_per_user_and_brings_lower_intent():
    """Deeper into a channel's audience each user costs more and intends less, instead of
    merely fewer users at today's price; no channel brings in more people than it has."""
    arm = {"strategy": PAID, "koc.max_share": 0.0, "market.enabled": False}
    small = {**arm, "market.enabled": True, "market.addressable": {"paid_ads": 12_000.0}}
    top = {"horizon_days": 150}
    assert_greater(across_seeds(cac, small, SEEDS, **top), across_seeds(cac, arm, SEEDS, **top))
    assert_greater(
        across_seeds(channel_intent, arm, SEEDS, **top),
        across_seeds(channel_intent, small, SEEDS, **top),
    )
    m = build(small, seed=0, **top).run()
    d = m.daily()
    assert d["new_paid_ads"].sum() <= 12_000
    assert d["market_reached_share"].iloc[-1] == pytest.approx(d["new_paid_ads"].sum() / 12_000)


# --- reputation from bad experiences (§2.1, §3.2) --------------------------------------------


def test_over_asking_spreads_negative_word_that_lowers_later_arrivals_intent():
    """Users who leave after being over-asked talk; later arrivals from the market intend less
    than with the same asks and no reputation, and more over-asking means more detractors."""
    over = {"strategy": PAID, "pool.promo_share": 0.35, "koc.max_share": 0.0}
    over["reputation.enabled"] = False
    on = {**over, "reputation.enabled": True}
    top = {"horizon_days": 150}
    assert_greater(
        across_seeds(channel_intent, over, SEEDS, **top),
        across_seeds(channel_intent, on, SEEDS, **top),
    )

    def negative(m):
        return m.daily()["negative_word_share"].iloc[-60:].mean()

    under = {**on, "pool.promo_share": 0.1}
    assert_greater(
        across_seeds(negative, on, SEEDS, **top), across_seeds(negative, under, SEEDS, **top)
    )


def test_kocs_word_of_mouth_dilutes_the_negative_share_and_keeps_arrivals_intent():
    """KOCs' word counts in the brand's positive word of mouth (`reputation.promoters`), so a
    larger `koc.referral_multiplier` lowers the negative share and keeps more of channel
    arrivals' intent: how KOC leverage reaches value (experiments/mechanisms.md, issue #22
    item 5)."""
    over = {"strategy": one_phase(150, {"paid_ads": 1.0}, team_size=3, koc=True)}
    loud = {**over, "koc.referral_multiplier": 40.0}
    top = {"horizon_days": 150}

    def negative(m):
        return m.daily()["negative_word_share"].iloc[-60:].mean()

    assert_greater(
        across_seeds(negative, over, SEEDS, **top), across_seeds(negative, loud, SEEDS, **top)
    )
    assert_greater(
        across_seeds(channel_intent, loud, SEEDS, **top),
        across_seeds(channel_intent, over, SEEDS, **top),
    )


def test_a_leaver_with_full_trust_and_no_excess_asks_tells_nobody():
    """The detractor weight is the share of a leaver's churn hazard a bad experience explains."""
    m = build({"strategy": PAID, "reputation.enabled": True}, seed=0, horizon_days=1)
    rep = m.mechanism("reputation")
    pop = m.population
    m.run(1)
    rows = np.flatnonzero(pop.stage[: pop.n] != Stage.CHURNED)[:3]
    pop.trust[rows] = [1.0, 0.0, 0.5]

    class Day:
        left, excess = rows, 0.0

    before = rep.detractors
    rep.churn(m, Day)
    c = m.params.churn
    expected = sum(1 - 1 / (1 + c.trust_coef * (1 - t)) for t in (1.0, 0.0, 0.5))
    assert rep.detractors - before * rep.decay == pytest.approx(expected)


def test_the_mechanisms_study_composes_every_arm():
    """`make mechanisms` (scripts/mechanisms_study.py): every arm builds a checked scenario
    with its key parameter x1.5 of the composed config's value (the study itself takes
    minutes)."""
    import importlib.util
    import sys
    from pathlib import Path

    from sim.experiment.config import compose, model_kwargs

    path = Path(__file__).resolve().parent.parent / "scripts" / "mechanisms_study.py"
    spec = importlib.util.spec_from_file_location("mechanisms_study", path)
    study = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = study  # its dataclass looks its module up
    spec.loader.exec_module(study)
    for arm, s in {s.overrides(1.5): s for s in study.STUDIES}.items():
        value = model_kwargs(compose(list(arm)))["scenario"]
        for part in s.key.split("."):
            value = value[part] if isinstance(value, dict) else getattr(value, part)
        base = s.base()
        if isinstance(base, dict):  # market.addressable: every channel scaled
            assert value == {k: pytest.approx(v * 1.5) for k, v in base.items()}
        else:
            assert value == pytest.approx(base * 1.5, rel=0.01)
