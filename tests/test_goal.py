"""Goal seek (`sim.experiment.goal`, issue #24): the search logic on stand-in evaluators whose
answers are known exactly, one real run end to end whose answer is derived, the report, and the
refusals.

The real set-up with a derivable answer (as tests/test_optimize.py's): the operators' salary
enters the model only as a cost (`sim/core/model.py`: profit −= salary × operators; no rule
reads it), and the steady strategy pays its two operators from day 0 (DOMAIN §3: 0-1 runs on
1-2 people), so on one brand (same seed: common random numbers)
NPV at 30 days = NPV₀ − salary × D, D = 2 × Σ_{t<30} (1 + r)^(−t/365), r = 0.1 the annual
discount rate; the mean over brands is the same line. The largest salary keeping the mean NPV
≥ NPV₀ − 415 × D is then 410 on a grid of 10 yuan (415 lies between two grid values, so
no rounding can tip it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.cli import goal as cli
from sim.core.params import ConfigError
from sim.experiment import brands
from sim.experiment import goal as g
from sim.experiment.batch import simulate
from sim.experiment.config import compose
from sim.experiment.goal_spec import check_spec, grid_value, spec_from_dict
from sim.viz.goal import answer_text, write

OFFSETS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])  # five brands around the mean; they sum to 0


def checked(**kw):
    d = {"name": "t", "search": "smallest",
         "parameters": {"operators.fixed": {"low": 1, "high": 40}}, "keep": "conversion_30d>=0.15",
         "scenario": {"strategy": "steady"}, "brands": {"count": OFFSETS.size}}  # fmt: skip
    d.update(kw)
    return check_spec(spec_from_dict(d))[1]


def fake(f):
    """An evaluator: the metric on brand k at value v is f(v) + OFFSETS[k] / 1000, so the mean
    over brands is f(v) exactly; it counts the values it was asked for."""
    asked = []

    def evaluate(values):
        asked.extend(values)
        return [f(v) + OFFSETS / 1000 for v in values]

    return evaluate, asked


def brute(spec, ok):
    """Every grid value, in order, with whether `ok(value)`."""
    values = [grid_value(spec.parameter, spec.steps, k) for k in range(spec.steps + 1)]
    return [(v, ok(v)) for v in values]


@pytest.mark.parametrize("x", [0.005, 0.105, 0.155, 0.205, 0.395])
def test_bisection_finds_the_known_threshold(x):
    """Mean = v / 100 on operators.fixed 1 … 40: the smallest v with v/100 >= x is the first
    whole number above 100 x; the values tried are the 5 of the first grid and at most
    ceil(log2(10)) = 4 of the bisection (the widest bracket of the first grid spans 10)."""
    spec = checked(keep=f"conversion_30d>={x}")
    evaluate, asked = fake(lambda v: v / 100)
    r = g.search(spec, evaluate)
    want = next(v for v, ok in brute(spec, lambda v: v / 100 >= x) if ok)
    assert r.outcome == ("everywhere" if want == 1 else "found")
    assert r.answer.value == want and r.answer.meets
    assert len(asked) == len(set(asked)) <= 5 + 4
    if r.outcome == "found":
        (below,) = r.neighbours
        assert below.value == want - 1 and not below.meets
    assert not r.contradicting
    assert g.runs_planned(spec) >= len(asked) * spec.brands


def test_largest_mirrors_smallest():
    """Mean = 1 − v / 100 on 1 … 40: the largest v with 1 − v/100 ≥ 0.695 is 30 (31 fails);
    1 − v/100 ≤ 0.995 holds everywhere, so the largest is the range's end, 40."""
    evaluate, _ = fake(lambda v: 1 - v / 100)
    r = g.search(checked(search="largest", keep="conversion_30d>=0.695"), evaluate)
    assert (r.outcome, r.answer.value, r.neighbours[0].value) == ("found", 30, 31)
    r = g.search(checked(search="largest", keep="conversion_30d<=0.995"), evaluate)
    assert (r.outcome, r.answer.value) == ("everywhere", 40)


def test_met_nowhere_and_a_contradicted_assumption_are_said():
    evaluate, _ = fake(lambda v: v / 100)
    r = g.search(checked(keep="conversion_30d>=0.9"), evaluate)
    assert r.outcome == "nowhere" and r.answer is None
    assert "No value of operators.fixed in [1, 40] people" in answer_text(r)
    # meets at 1 (the first grid value), fails at 11 (the second), meets from 21.5 on
    evaluate, _ = fake(lambda v: 0.2 if v < 5 or v > 21.5 else 0.1)
    r = g.search(checked(), evaluate)
    assert r.outcome == "found" and r.answer.value == 22
    assert [q.value for q in r.contradicting] == [1]
    assert any("contradict" in n for n in r.notes)


def best_spec(**kw):
    d = {"search": "best",
         "parameters": {"channels.paid_ads.budget_per_day": {"low": 0, "high": 20000}},
         "keep": None, "maximise": "npv_365d", "loss_probability": "<=0.2", "grid": 7}  # fmt: skip
    return checked(**d | kw)


def concave(v):
    """Mean NPV peaking at 12,000 yuan/day (a grid value: steps of 200)."""
    return 1.0 - ((v - 12000) / 8000) ** 2


SLOPES = np.array([-0.3, -0.1, 0.1, 0.3, 0.5])  # per 1,000 yuan/day, brands 0 … 4


def lines(values):
    """Brand k's NPV = 1.005 + SLOPES[k] × v / 1000: the mean (1.005 + 0.1 v / 1000) rises to
    the range's end, while brand 0 loses beyond v = 3,350 and brand 1 beyond 10,050."""
    return [1.005 + SLOPES * v / 1000 for v in values]


def test_best_finds_an_interior_optimum():
    """With the cap not binding, the brute-force optimum over every grid value is the answer
    once the refinement reaches the grid (refine=5); with the default two rounds it is within
    the last round's spacing, derived: 7 values over 100 steps (spacing 16.7), then 7 between
    the best's neighbours (span ≤ 34, spacing ≤ 5.7), then again (span ≤ 12, spacing ≤ 2):
    within 2 grid steps = 400 yuan/day."""
    spec = best_spec(refine=5)
    r = g.search(spec, fake(concave)[0])
    want = max((v for v, _ in brute(spec, bool)), key=lambda v: (concave(v), -v))
    assert r.outcome == "found" and r.answer.value == want == 12000
    near = g.search(best_spec(), fake(concave)[0])
    assert abs(near.answer.value - want) <= 2 * 200


@pytest.mark.parametrize("cap, want", [("<=0.2", 10000), ("<=0", 3200), (None, 20000)])
def test_best_respects_the_loss_cap(cap, want):
    """`lines`: at most one brand of five losing (cap 0.2) allows v ≤ 10,050, so the best grid
    value is 10,000; none losing allows v ≤ 3,350: 3,200; no cap: the range's end."""
    r = g.search(best_spec(refine=5, loss_probability=cap), lines)
    assert r.outcome == "found" and r.answer.value == want
    for q in r.probes:  # the cap is checked at every value, and the answer is feasible
        assert q.loss == np.mean(1.005 + SLOPES * q.value / 1000 < 0)
        assert q.meets == (cap is None or q.loss <= float(cap[2:]))
    assert any("range's end" in n for n in r.notes) == (cap is None)
    shifted = g.search(best_spec(loss_probability="<=0"),
                       lambda vs: [x - 2 for x in lines(vs)])  # fmt: skip
    assert shifted.outcome == "infeasible" and shifted.answer is None
    assert "No value of channels.paid_ads.budget_per_day" in answer_text(shifted)


# ---------------------------------------------------------------------------- one real run

SALARY = "operators.salary_per_day"
SCENARIO = {"strategy": "steady", "horizon_days": 30, "economics.npv_horizons_days": [30]}


def real_spec(x):
    return spec_from_dict({
        "name": "salary", "search": "largest", "parameters": {SALARY: {"low": 0, "high": 1000}},
        "keep": f"npv_30d>={x!r}", "steps": 100, "scenario": SCENARIO,
        "brands": {"count": 2, "uncertainty": {"fit.spread": 0.5}},
    })  # fmt: skip


@pytest.fixture(scope="module")
def salary_run(tmp_path_factory):
    """The set-up of the module docstring: NPV₀ from two brands at salary 0, then the search."""
    base = compose([f"{k}={v}" for k, v in SCENARIO.items()] + ["fit.spread=0.5"])
    npv0 = np.mean([simulate({**base, "seed": s, "operators": {**base["operators"],
                    "salary_per_day": 0.0}})[0]["npv_30d"] for s in (0, 1)])  # fmt: skip
    d = 2 * sum((1 + base["economics"]["discount_rate_annual"]) ** (-t / 365) for t in range(30))
    out = tmp_path_factory.mktemp("salary")
    spec = real_spec(float(npv0 - 415 * d))
    return spec, g.seek(spec, out, n_jobs=1, progress=False), out


def test_a_real_search_finds_the_derived_threshold(salary_run):
    spec, r, out = salary_run
    assert r.outcome == "found" and r.answer.value == 410.0
    assert r.neighbours[0].value == 420.0 and not r.neighbours[0].meets
    assert r.computed == len(r.probes) * 2  # nothing cached yet, every value simulated once
    # paired by brand, 10 yuan/day more salary costs 10 × D on every brand (exactly linear)
    a, b = r.answer.brands, r.neighbours[0].brands
    d = 2 * sum(1.1 ** (-t / 365) for t in range(30))
    assert np.allclose(a - b, 10 * d, rtol=1e-9)


def test_the_report_is_written_and_a_rerun_reads_the_cache(salary_run):
    spec, r, out = salary_run
    path = write(r, out, "privsim-goal test")
    report = path.read_text()
    assert "**410 yuan/day**" in report and "NPV at 30 days" in report
    assert "days 0 … 29, each discounted to day 0" in report
    frame = (out / "probes.csv").read_text().splitlines()
    assert len(frame) == 1 + len(r.probes) and "brand_1" in frame[0]
    assert (out / "goal.png").read_bytes()[:4] == b"\x89PNG"
    again = g.seek(spec, out, n_jobs=1, progress=False)
    assert again.computed == 0  # every run read from <out>/evaluations
    assert [q.value for q in again.probes] == [q.value for q in r.probes]
    assert again.answer.value == r.answer.value


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "change, says",
    [
        ({"parameters": {"operators.fixd": {"low": 1, "high": 4}}}, "operators.fixd: unknown key"),
        ({"parameters": {"operators.fixed": {"low": 1, "high": 20000}}},
         r"operators.fixed = 20000 is out of range; allowed: an integer in \[0, 10,000\]"),
        ({"parameters": {"operators.count": {"low": 1.5, "high": 4}}}, "whole-number"),
        ({"keep": "conversion>>0.1"}, "keep = 'conversion>>0.1': expected <metric><op><number>"),
        ({"keep": "conversion>=0.1"}, "keep: unknown metric 'conversion'; known: conversion_30d"),
        ({"keep": "npv_730d>=0"}, r"npv_730d: H must be one of economics.npv_horizons_days"),
        ({"search": "best", "keep": None, "maximise": "conversion_30d",
          "loss_probability": "<=0.1"}, "loss_probability: a loss is conversion_30d < 0"),
        ({"search": "best", "keep": None, "maximise": "npv_365d", "loss_probability": ">=0.1"},
         "loss_probability = '>=0.1'"),
        ({"parameters": {"horizon_days": {"low": 31, "high": 90}}}, "horizon is the metric's"),
        ({"search": "cheapest"}, "search = 'cheapest': allowed: smallest, largest, best"),
    ],
)  # fmt: skip
def test_a_bad_question_is_refused_before_any_run(change, says, tmp_path, monkeypatch):
    def no_runs(*a, **k):
        raise AssertionError("ran")

    monkeypatch.setattr(brands, "run_batch", no_runs)
    with pytest.raises(ConfigError, match=says):
        d = {"name": "t", "search": "smallest", "keep": "conversion_30d>=0.15",
             "parameters": {"operators.fixed": {"low": 1, "high": 40}}} | change  # fmt: skip
        g.seek(spec_from_dict(d), tmp_path / "o", n_jobs=1, progress=False)
    assert not (tmp_path / "o").exists()


def test_the_command_refuses_naming_the_key_and_the_allowed_range(tmp_path, capsys):
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as e:
        cli.main(["smallest", "operators.fixed", "--keep", "conversion_30d>=0.1",
                  "--range", "1", "20000", "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert "operators.fixed = 20000 is out of range; allowed: an integer in [0, 10,000]" in err
    assert not out.exists()


def test_the_command_prints_the_answer(tmp_path, capsys):
    """A tiny question from the flags: one brand, 35 days (the first cohort reaches 30 days)."""
    out = tmp_path / "o"
    cli.main(["largest", SALARY, "--keep", "npv_30d>=-1e9", "--range", "0", "1000",
              "--set", "strategy=steady", "--set", "horizon_days=35",
              "--set", "economics.npv_horizons_days=[30]", "--brands", "1", "--grid", "2",
              "--jobs", "1", "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr()
    assert "Largest operators.salary_per_day in [0, 1,000] yuan/day" in printed.out
    assert "Note: the constraint holds already at the range's end" in printed.out
    assert "runs planned" in printed.err and "[privsim]" in printed.err
    assert {p.name for p in out.iterdir()} >= {"report.md", "probes.csv", "goal.png"}
    assert math.isfinite(float((out / "probes.csv").read_text().splitlines()[1].split(",")[3]))
