"""Phase exit rules (`sim.core.strategy`, DOMAIN §3, §3.1): a gate passes on the first day it
holds after `min_days`; when it has not held by `max_days` the phase advances, holds or stops
acquisition as its `on_gate_fail` says, and the summary records what happened."""

import numpy as np
import pytest

from sim.core.params import REFERRAL
from sim.core.strategy import gate_holds

from conftest import build

# staged, shortened so that both gated phases reach max_days well inside the horizon: 0-1 may
# end from day 30 and fails on day 39; 1-10 may end 20 days in and fails 30 days in
SHORT = {
    "strategy.phases.0.min_days": 30,
    "strategy.phases.0.max_days": 40,
    "strategy.phases.1.min_days": 20,
    "strategy.phases.1.max_days": 30,
}
HOPELESS = {**SHORT, "purchase.first_buy_rate": 0.0}  # nobody ever buys: no gate can hold
HORIZON = 120


def run(changes: dict, seed: int = 0, horizon: int = HORIZON):
    m = build(changes, seed=seed, horizon_days=horizon).run()
    return m, m.daily(), m.summary()


@pytest.mark.parametrize("seed", [0, 1])
def test_a_passing_gate_advances_on_the_first_day_it_holds_after_min_days(seed):
    """At defaults staged's gates hold: each phase starts the day after the first day, from
    its min_days on, that its gate held — and min_days binds: the gate held earlier too."""
    m, daily, s = run({}, seed, horizon=200)
    phases, start = m.params.strategy.phases, s["phase_starts"]
    for i in (0, 1):
        phase, g = phases[i], s["gates"][phases[i].name]
        assert g["outcome"] == "passed" and g["action"] is None
        assert start[phases[i + 1].name] == g["day"] + 1
        first = start[phase.name]
        may_end = first + phase.min_days - 1  # the phase's min_days-th day
        held = [
            d
            for d in range(first, g["day"] + 1)
            if gate_holds(phase.gate, d, m.window_conversion, m.window_ltv_cac)
        ]
        assert [d for d in held if d >= may_end][0] == g["day"]
        assert held[0] < may_end, "the gate held before min_days and had to wait"
    assert s["gates"]["ten_to_n"] == {"outcome": "no_gate", "day": None, "action": None}
    assert (np.diff(daily["phase"]) >= 0).all()


def test_hold_never_scales_a_failed_test():
    """staged (0-1 and 1-10 hold, DOMAIN §3.1): with a first-buy rate of 0 the 0-1 gate fails
    at max_days and the run stays in 0-1 to the horizon, acquiring at 0-1's volume."""
    m, daily, s = run(HOPELESS)
    assert (daily["phase"] == 0).all(), "never leaves 0-1, let alone reaches 10-N"
    assert s["gates"]["zero_to_one"] == {"outcome": "failed", "day": 39, "action": "hold"}
    assert s["gates"]["one_to_ten"]["outcome"] == "not_reached"
    assert s["gates"]["ten_to_n"]["outcome"] == "not_reached"
    assert s["phase_starts"] == {"zero_to_one": 0}
    assert daily.loc[daily["day"] > 39, "new_users"].sum() > 0, "0-1 keeps acquiring"


def test_advance_scales_a_failed_test_at_max_days():
    """The same hopeless run with `advance` (today's rule) reaches 10-N when 1-10's gate has
    failed too: 0-1 ends on day 39, 1-10 on day 69."""
    advance = {
        **HOPELESS,
        "strategy.phases.0.on_gate_fail": "advance",
        "strategy.phases.1.on_gate_fail": "advance",
    }
    m, daily, s = run(advance)
    assert s["phase_starts"] == {"zero_to_one": 0, "one_to_ten": 40, "ten_to_n": 70}
    assert s["gates"]["zero_to_one"] == {"outcome": "failed", "day": 39, "action": "advance"}
    assert s["gates"]["one_to_ten"] == {"outcome": "failed", "day": 69, "action": "advance"}
    assert daily["phase"].max() == 2


def test_stop_ends_bought_acquisition_from_the_day_after_the_gate_fails():
    """`stop`: from the day after the failure no channel brings anyone; the phase, its team
    and members' referrals (word of mouth, DOMAIN §2.3) go on."""
    m, daily, s = run({**HOPELESS, "strategy.phases.0.on_gate_fail": "stop"})
    assert s["gates"]["zero_to_one"] == {"outcome": "failed", "day": 39, "action": "stop"}
    assert (daily["phase"] == 0).all()
    bought = daily["new_users"] - daily["new_referral"]
    assert bought[daily["day"] <= 39].sum() > 0
    assert (bought[daily["day"] > 39] == 0).all()
    after = daily[daily["day"] > 39]
    reward = m.params.referral.reward
    assert np.allclose(after["acquisition_spend"], after["new_referral"] * reward), "no ad spend"
    pop = m.population
    joined_after = pop.join_day[: pop.n] > 39
    channel_after = pop.channel[: pop.n][joined_after]
    assert (channel_after == m._code[REFERRAL]).all(), "only referrals join after the stop"
    assert daily["operators"].iloc[-1] == daily.loc[daily["day"] == 39, "operators"].item()


def test_a_gate_failing_under_hold_can_still_pass_later():
    """`hold` waits for the gate: a 0-1 phase whose max_days comes before its gate could hold
    is held, and advances the day after its gate first holds."""
    early = {"strategy.phases.0.min_days": 1, "strategy.phases.0.max_days": 20}
    m, daily, s = run(early)
    g = s["gates"]["zero_to_one"]
    assert g["outcome"] == "passed" and g["action"] == "hold" and g["day"] > 19
    assert s["phase_starts"]["one_to_ten"] == g["day"] + 1
