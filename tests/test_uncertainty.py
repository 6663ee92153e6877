"""A brand's uncertainty drawn per brand (`sim.experiment.uncertainty`, issue #24: "N brands
drawn from the stated uncertainty (fit spread, market size, business)"): the draws' shape and
statistics, their refusal before any run, and the policy search running each brand at its own
draw, the same for every policy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_optimize import SALARY, run, spec

from sim.core.params import ConfigError
from sim.experiment import brands
from sim.experiment import goal_spec as goal
from sim.experiment.batch import simulate
from sim.experiment.brands import BrandRuns
from sim.experiment.uncertainty import Draw, parse_uncertainty
from sim.viz.optimize import brands_frame, policy_args, workbook_about

MARKET = {"low": 200, "high": 2000, "scale": "log"}  # users: small enough to bind in 30 days


def test_a_value_is_shared_and_a_range_or_choices_is_drawn():
    u = parse_uncertainty({"fit.spread": 0.5, "market_size": MARKET,
                           "business.aov": {"choices": [80.0, 120.0]}})  # fmt: skip
    assert u.fixed == {"fit.spread": 0.5}
    assert [d.key for d in u.drawn] == ["market_size", "business.aov"]
    market = u.drawn[0]
    assert market.integer and market.scale == "log"  # the schema's int | None
    assert u.keys() == ["fit.spread", "market_size", "business.aov"]
    assert "market_size drawn per brand, log-uniform on [200, 2,000]" in u.words()


def test_a_brand_draws_the_same_values_every_time_and_brands_differ():
    """A function of (seed, key): the same for each call; whole numbers inside the range; and
    brands differ (a draw that ignored the seed gives one value). Two log-uniform draws on
    200-2,000 coincide with chance Σ_v (1/(v ln 10))² ≈ 8.5e-4, so 20 brands expect 0.16
    coinciding pairs (Poisson): fewer than 17 distinct values (≥ 4 pairs) has chance ~3e-5."""
    d = parse_uncertainty({"market_size": MARKET}).drawn[0]
    values = [d.value(s) for s in range(20)]
    assert values == [d.value(s) for s in range(20)]
    assert all(isinstance(v, int) and 200 <= v <= 2000 for v in values)
    assert len(set(values)) >= 17


def test_draws_follow_their_distribution():
    """Over n = 4,000 brands: log(v) of a log-uniform draw on [a, b] is uniform on [log a,
    log b], mean at the midpoint, sd (log b − log a)/√12; each of k choices has share 1/k, sd
    √(p(1−p)/n). Tolerance: 4 standard errors each."""
    n = 4000
    d = Draw("x", 10.0, 1000.0, "log")
    logs = np.log([d.value(s) for s in range(n)])
    mid, sd = (math.log(10) + math.log(1000)) / 2, (math.log(1000) - math.log(10)) / math.sqrt(12)
    assert abs(logs.mean() - mid) < 4 * sd / math.sqrt(n)
    lin = np.array([Draw("y", 0.0, 1.0).value(s) for s in range(n)])
    assert abs(lin.mean() - 0.5) < 4 * math.sqrt(1 / 12 / n)
    c = Draw("z", choices=(1, 2, None))
    share = np.mean([c.value(s) is None for s in range(n)])
    assert abs(share - 1 / 3) < 4 * math.sqrt(2 / 9 / n)
    # another key: another stream (its draws are not the first key's)
    assert [Draw("w", 0.0, 1.0).value(s) for s in range(5)] != list(lin[:5])


@pytest.mark.parametrize(
    "entry, says",
    [
        ({"low": 5, "high": 5}, "brands.uncertainty.market_size: low = 5 must be below high = 5"),
        ({"low": 0, "high": 10, "scale": "log"}, "a log range needs low > 0"),
        ({"low": 1, "high": 10, "scale": "cubic"}, "scale = 'cubic': allowed"),
        ({"low": 1.5, "high": 10}, "a whole-number key"),
        ({"low": 1, "high": 10, "sd": 2}, "brands.uncertainty.market_size.sd: unknown"),
        ({"choices": [1000]}, "choices: give a list of at least two values"),
        ({"choices": [1, 2], "low": 1}, "give either choices or low and high"),
        ({"low": "big", "high": 10}, "low = 'big': must be a finite number"),
    ],
)
def test_a_bad_draw_is_refused_naming_its_key(entry, says):
    with pytest.raises(ConfigError, match=says.replace(".", r"\.").replace("(", r"\(")):
        parse_uncertainty({"market_size": entry})


@pytest.mark.parametrize(
    "uncertainty, says",
    [
        ({"market_size": {"low": -10, "high": 100}}, "brands.uncertainty.market_size = -10"),
        ({"market_sise": {"low": 1, "high": 100}}, "brands.uncertainty.market_sise"),
        ({"purchase.first_buy_rate": {"choices": [0.1, 3.0]}},
         "brands.uncertainty.purchase.first_buy_rate = 3.0"),
    ],
)  # fmt: skip
def test_a_draw_the_schema_refuses_stops_the_search_and_the_goal_seek_before_any_run(
    uncertainty, says, tmp_path, monkeypatch
):
    def no_runs(*a, **k):
        raise AssertionError("ran")

    monkeypatch.setattr(brands, "run_batch", no_runs)
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        run(spec(brands={"count": 2, "uncertainty": uncertainty}), tmp_path / "o")
    assert not (tmp_path / "o").exists()
    g = goal.spec_from_dict({
        "search": "smallest", "keep": "conversion_30d>=0.1",
        "parameters": {"operators.fixed": {"low": 1, "high": 4}},
        "scenario": {"horizon_days": 30}, "brands": {"count": 2, "uncertainty": uncertainty},
    })  # fmt: skip
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        goal.check_spec(g)


def test_a_drawn_key_is_not_searched():
    drawn = {"operators.salary_per_day": {"low": 1, "high": 9}}
    s = spec(brands={"count": 2, "uncertainty": drawn})
    with pytest.raises(ConfigError, match=rf"parameters\.{SALARY}: an uncertainty of the brand"):
        run(s, "unused")


def test_each_brand_runs_at_its_own_draw_for_every_policy(tmp_path):
    """A two-trial search with the market's size drawn per brand (200-2,000 users: it binds
    within 30 days) and a preset: the chosen policy on a search brand and on a fresh brand,
    and the preset on a search brand, are bit for bit one plain run of that policy at that
    brand's drawn size; the brands' NPVs differ from the unlimited market's; the policy's
    command line leaves the market to the user's own brand."""
    unc = {"fit.spread": 0.5, "market_size": MARKET}
    s = spec(trials=2, brands={"count": 2, "uncertainty": unc},
             presets={"zero_to_one": {"strategy": "zero_to_one"}})  # fmt: skip
    result = run(s, tmp_path)
    draw = s.uncertainty.drawn[0]

    def plain(seed, **cfg):
        summary, _ = simulate({**result.base, **cfg, "market_size": draw.value(seed),
                               "seed": seed})  # fmt: skip
        return summary["npv_30d"]

    ops = {**result.base["operators"], "salary_per_day": result.chosen[SALARY]}
    assert plain(1, operators=ops) == result.in_sample["chosen"].npv[1]
    assert plain(2, operators=ops) == result.fresh["chosen"].npv[0]  # fresh: seeds 2-3
    assert (
        result.in_sample["chosen"].npv[1]
        != simulate({**result.base, "operators": ops, "seed": 1})[0]["npv_30d"]
    )
    from sim.experiment.config import compose

    preset = compose(s.overrides({"strategy": "zero_to_one"}))
    summary, _ = simulate({**preset, "market_size": draw.value(0), "seed": 0})
    assert summary["npv_30d"] == result.in_sample["zero_to_one"].npv[0]
    assert not any(a.startswith("market_size") for a in policy_args(result))
    assert "fit.spread=0.5" in policy_args(result)
    # the workbook's NPV by brand shows each brand's draw beside its NPV, defined in About
    frame = brands_frame(result)
    assert list(frame.columns) == ["policy", "brands", "seed", "market_size", "npv_30d"]
    assert (frame["market_size"] == frame["seed"].map(draw.value)).all()
    assert "NPV by brand: market_size" in workbook_about(result)


def test_brand_runs_set_each_brands_draws():
    u = parse_uncertainty({"market_size": {"choices": [1000, None]}})
    runs = BrandRuns({}, None, 1, None, None, u)
    ev = runs.evaluation("base", {SALARY: 300.0}, 7)
    assert ev.values == {"market_size": u.drawn[0].value(7), SALARY: 300.0}
    assert ev.seed == 7 and ev.base == "base"
