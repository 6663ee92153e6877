"""The what-if page's data logic: scenario controls → overrides (refusing values not offered),
batch results → comparison table (a known answer on synthetic results)."""

from __future__ import annotations

import math

import pytest

from sim.experiment.batch import Evaluation, Result
from sim.experiment.config import compose
from sim.viz.pages import whatif as w


def test_default_scenario_is_three_group_choices():
    assert w.Plan().overrides() == [
        "strategy=staged",
        "pool=nurturing",
        "business=high_freq_high_margin",
    ]


def test_controls_become_overrides_that_compose():
    s = w.Plan(strategy="premature", team=3, ad_budget=2000, fission=0.5)
    ov = s.overrides()
    assert "operators.fixed=3" in ov
    assert "channels.paid_ads.budget_per_day=2000.0" in ov
    cfg = compose(w.run_overrides(s, 30))
    assert cfg["operators"]["fixed"] == 3
    assert cfg["channels"]["paid_ads"]["budget_per_day"] == 2000.0
    assert cfg["horizon_days"] == 30
    mixes = [p["channel_mix"] for p in cfg["strategy"]["phases"] if "fission" in p["channel_mix"]]
    assert mixes, "premature uses fission in some phase"
    for mix in mixes:
        assert mix["fission"] == pytest.approx(0.5)
        assert sum(mix.values()) == pytest.approx(1.0)


def test_command_reproduces_the_seeds():
    s = w.Plan(team=5)
    cmd = w.command(s, 7, 60)
    assert cmd.startswith("privsim -m strategy=staged ")
    assert "operators.fixed=5" in cmd and "horizon_days=60" in cmd
    assert cmd.endswith("'seed=range(0,7)'")
    assert "horizon_days" not in w.command(s, 7)


@pytest.mark.parametrize(
    "change",
    [
        {"strategy": "../../etc/x"},
        {"pool": "nope"},
        {"team": 4},  # not in the offered list
        {"team": True},
        {"ad_budget": 1234},
        {"ad_budget": "lots"},
        {"fission": 0.55},
    ],
)
def test_values_not_offered_are_refused(change):
    (name,) = change
    with pytest.raises(ValueError, match=f"{name} = .*allowed"):
        w.Plan(**change)


@pytest.mark.parametrize("seeds, horizon", [(1, None), (51, None), (2, 0), (2, 4000), (2.5, 30)])
def test_run_settings_out_of_range_are_refused(seeds, horizon):
    with pytest.raises(ValueError, match="allowed"):
        w.evaluations([w.Plan()], seeds, horizon)


def test_more_than_four_scenarios_refused():
    with pytest.raises(ValueError, match="scenarios"):
        w.evaluations([w.Plan()] * 5, 2)


def test_evaluations_pair_the_seeds():
    bases, evs = w.evaluations([w.Plan(), w.Plan(strategy="premature")], 3, 30)
    assert list(bases) == ["S1 · staged", "S2 · premature"]
    assert [(e.base, e.seed) for e in evs] == [(b, s) for b in bases for s in range(3)]


def _result(base, seed, profit=None, payback=math.nan, error=None):
    summary = None
    if error is None:
        summary = dict(
            profit=profit, ltv_cac_90d=profit / 10, conversion_30d=0.2, payback_day=payback
        )
    return Result(Evaluation({}, seed, base=base), f"{base}{seed}", summary, error=error)


def test_comparison_known_answer():
    a, b = "S1 · staged", "S2 · premature"
    results = [
        _result(a, 0, 10, 50),
        _result(a, 1, 20),
        _result(a, 2, 30, 70),
        _result(a, 3, 100, 60),
        _result(b, 0, 15),
        _result(b, 1, 5),
        _result(b, 2, 40),
        _result(b, 3, error="ValueError: boom"),
    ]
    t = w.comparison(results).set_index("scenario")
    assert list(t.index) == [a, b]
    assert t.loc[a, "runs"] == 4 and t.loc[b, "runs"] == 3 and t.loc[b, "failed"] == 1
    # numpy's linear percentiles of A's profits 10, 20, 30, 100
    assert t.loc[a, ["profit_p10", "profit_p50", "profit_p90"]].tolist() == pytest.approx(
        [13.0, 25.0, 79.0]
    )
    assert t.loc[b, "profit_p50"] == pytest.approx(15.0)
    assert t.loc[a, "ltv_cac_90d_p50"] == pytest.approx(2.5)
    # payback: over the 3 seeds that paid back (50, 70, 60); B never did
    assert t.loc[a, "payback_day_n"] == 3 and t.loc[a, "payback_day_p50"] == pytest.approx(60)
    assert t.loc[b, "payback_day_n"] == 0
    # P(best) paired by seed over seeds 0-2 (B has no seed 3): B wins 0 and 2, A wins 1
    assert t.loc[a, "p_best"] == pytest.approx(1 / 3)
    assert t.loc[b, "p_best"] == pytest.approx(2 / 3)
    html = w.table_html(t.reset_index(), {a: "privsim -m x", b: "privsim -m y"})
    assert html.count("scenario-row") == 2 and "privsim -m y" in html
    assert "25 (13 – 79)" in html and "not within the horizon" in html
    assert "[3 of 4 seeds]" in html and "1 failed" in html


def test_runs_through_the_batch_engine():
    """Two tiny scenarios end to end through run_batch (in process)."""
    scs = [w.Plan(), w.Plan(strategy="premature")]
    results = w.run(scs, 2, 20, n_jobs=1)
    assert all(r.ok for r in results) and len(results) == 4
    t = w.comparison(results)
    assert t["runs"].tolist() == [2, 2]
    assert t["p_best"].sum() == pytest.approx(1.0)
    fig = w.figure(results)
    assert len(fig.axes) == 2
