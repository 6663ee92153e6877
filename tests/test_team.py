"""Operators (DOMAIN §2.2): relationships are continuous across hires, capability costs time."""

import numpy as np

from sim.core import team

from conftest import assert_greater, build, one_phase


def test_a_hire_does_not_move_existing_users_and_takes_new_ones_as_it_ramps():
    m = build({"strategy": one_phase(100, {"paid_ads": 1.0})}, seed=0, horizon_days=200)
    m.run(30)
    before = m.population.operator.copy()
    assert (before >= 0).all() and set(np.unique(before)) == {0, 1}
    m.team.hire(4, m.day, prepared=False)  # two hires: 60 days' lead, 60 days' ramp
    arrival = m.operators[-1].arrival_day
    m.run(arrival + 10 - m.day)
    pop = m.population
    assert (pop.operator[: before.size] == before).all(), "existing users kept their operator"
    joined = np.flatnonzero(pop.join_day >= arrival)
    share_new = np.isin(pop.operator[joined], [2, 3]).mean()
    # ten days into a 60-day ramp a hire has ~1/10 of full capacity: new users go mostly to the
    # two at full capacity (expected share 2 x 0.1 / 2.2 ≈ 0.09, not the full 0.5)
    assert 0.02 < share_new < 0.2


def test_users_who_joined_before_any_operator_get_one_when_they_arrive():
    strategy = one_phase(50, {"paid_ads": 1.0}, team_size=2)
    m = build({"strategy": strategy, "operators.count": 0}, seed=0, horizon_days=90)
    m.run(10)
    assert (m.population.operator == -1).all()
    m.run(m.operators[0].arrival_day + 1 - m.day)
    pop = m.population
    assert (pop.operator[pop.live()] >= 0).all()


def _building(share: float, building: bool, seed: int):
    strategy = one_phase(100, {"paid_ads": 1.0})
    strategy["phases"][0]["build_capability"] = building
    changes = {"strategy": strategy, "koc.max_share": 0.0, "operators.capability_share": share}
    return build(changes, seed=seed, horizon_days=120).run()


def test_building_capability_takes_operators_time():
    """§2.2/§3 (001): capability is 1-10's second job, done by its own 3-5 people, so a phase
    that builds it gives less 1:1 attention: lower capacity, hence lower conversion."""
    seeds = range(8)
    idle = [_building(0.5, False, s) for s in seeds]
    busy = [_building(0.5, True, s) for s in seeds]
    cap_idle = idle[0].daily()["operator_capacity"].to_numpy()
    cap_busy = busy[0].daily()["operator_capacity"].to_numpy()
    np.testing.assert_allclose(cap_busy, 0.5 * cap_idle)
    free = _building(0.0, True, 0).daily()["operator_capacity"].to_numpy()
    np.testing.assert_allclose(free, cap_idle)  # share 0 switches the mechanism off

    def conversion(models):
        return np.array([m.summary()["conversion_30d"] for m in models])

    assert_greater(conversion(idle), conversion(busy))


def test_assign_draws_what_numpy_choice_draws():
    """`team.assign` inverts the capacity CDF itself (cheaper than `Generator.choice`, whose
    checks cost as much as the draw): same operators, same random stream afterwards."""
    for seed in range(200):
        g = np.random.default_rng(seed)
        cap = g.random(int(g.integers(1, 20))) * 40
        cap[g.random(cap.size) < 0.3] = 0.0
        cap[0] += 1.0
        n = int(g.integers(0, 200))
        ours, numpy_ = np.random.default_rng(seed), np.random.default_rng(seed)
        got = team.assign(ours, n, cap)
        want = numpy_.choice(cap.size, size=n, p=cap / cap.sum())
        assert np.array_equal(got, want)
        assert ours.random() == numpy_.random()


def test_team_capacities_are_the_ramp_rule_for_each_operator_bit_for_bit():
    """The team's arrays give each operator's capacity by the rule (0 before arrival, linear
    over the ramp, full after), to the last bit, whatever the day and hiring order."""
    m = build({"strategy": one_phase(0, {"paid_ads": 1.0})}, seed=0, horizon_days=10)
    t = m.team
    g = np.random.default_rng(0)
    for _ in range(20):
        t.add(int(g.integers(1, 3)), int(g.integers(0, 40)), int(g.integers(0, 30)))
    cap = t.params.capacity
    for day in range(0, 80, 3):
        want = [
            0.0
            if day < o.arrival_day
            else cap
            if o.ramp_days == 0
            else cap * min(1.0, (day - o.arrival_day + 1) / o.ramp_days)
            for o in m.operators
        ]
        got = t.capacities(day)
        assert got.tobytes() == np.array(want, dtype=np.float64).tobytes()
        assert (t.arrived(day) == np.array([o.arrival_day <= day for o in m.operators])).all()
