"""The policy search (`sim.experiment.optimize`, issue #24's first increment), at reduced size:
30-day runs of the steady strategy (~0.1 s each), two brands, a few trials, one process.

The synthetic set-up with a known optimum: the operators' salary enters the model only as a cost
(`sim/core/model.py`: profit −= salary × operators arrived; no rule reads it), so on the same
brand (same seed: common random numbers) NPV = NPV₀ − salary × Σₜ arrivedₜ·discountₜ, strictly
decreasing in the salary while a team is paid (steady pays two operators from day 0, DOMAIN §3:
0-1 runs on 1-2 people). The best salary in any range is its low end.
"""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
import yaml

from sim.cli import optimize as cli
from sim.core.params import ConfigError
from sim.experiment import brands
from sim.experiment import optimize as opt
from sim.experiment.batch import simulate
from sim.experiment.optimize_spec import downside_value, spec_from_dict
from sim.viz.optimize import write

SALARY = "operators.salary_per_day"
LOW, HIGH = 100.0, 1000.0  # the default 400 (the starting point) lies inside


def spec(**kw):
    d = {
        "name": "t",
        "scenario": {"strategy": "steady", "horizon_days": 30,
                     "economics.npv_horizons_days": [30]},  # fmt: skip
        "parameters": {SALARY: {"low": LOW, "high": HIGH}},
        "brands": {"count": 2, "uncertainty": {"fit.spread": 0.5}},
        "objective": {"metric": "npv_30d"},
        "trials": 4,
        "fresh_brands": 2,
    }
    d.update(kw)
    return spec_from_dict(d)


def run(s, out):
    return opt.optimize(s, out, n_jobs=1, progress=False)


@pytest.fixture(scope="module")
def monotone(tmp_path_factory):
    out = tmp_path_factory.mktemp("monotone")
    return run(spec(trials=30), out), out


def test_a_monotone_objective_is_optimised_at_the_end_of_its_range(monotone):
    """The optimum is salary = LOW (module docstring). Tolerance: 25 % of the range. For 29 draws
    uniform on the range (random search), the chance that none falls within it is 0.75²⁹ =
    2.4e-4; TPE draws its first 10 trials so and later ones from the density of the best
    trials, which here lie at the low end. The per-trial means are checked against the
    derivation itself: strictly decreasing in the salary."""
    result, _ = monotone
    df = result.trials.sort_values(SALARY)
    assert (df["state"] == "COMPLETE").all()
    assert np.all(np.diff(df["mean_npv_30d"].to_numpy()) < 0), df
    assert result.chosen[SALARY] == df[SALARY].min()  # the best is the smallest tried
    assert result.chosen[SALARY] <= LOW + 0.25 * (HIGH - LOW), result.chosen


def test_the_chosen_policy_is_never_worse_in_sample_than_the_start(monotone, tmp_path):
    result, _ = monotone
    assert result.trials.loc[result.trials["trial"] == 0, "start"].item()
    assert result.trials.loc[0, SALARY] == 400.0  # trial 0 is the scenario's own value
    assert result.in_sample["chosen"].mean >= result.in_sample["start"].mean
    # two objectives: among trials whose downside is no worse than the start's
    two = run(spec(trials=4, objective={"metric": "npv_30d", "downside": "cvar10"}), tmp_path)
    ins = two.in_sample
    assert ins["chosen"].mean >= ins["start"].mean
    assert ins["chosen"].downside >= ins["start"].downside  # cvar10: higher is better
    assert two.trials["pareto"].any()


def test_fresh_brands_are_not_the_search_brands(monotone):
    """Validation runs seeds 2-3 (the search's are 0-1): other brands, other NPVs."""
    result, _ = monotone
    assert result.fresh["chosen"].npv.size == 2
    assert not np.isin(result.fresh["start"].npv, result.in_sample["start"].npv).any()


def test_policy_yaml_runs_the_chosen_policy(monotone, tmp_path):
    """policy.yaml + policy.args reproduce the chosen trial's brand 0 bit for bit."""
    result, _ = monotone
    write(result, tmp_path, "test")
    args = (tmp_path / "policy.args").read_text().split()
    assert f"{SALARY}={result.chosen[SALARY]}" in args and "fit.spread=0.5" in args
    strategy = yaml.safe_load((tmp_path / "policy.yaml").read_text())
    assert strategy["name"] == "optimized_t"
    cfg = {**result.base, "strategy": strategy, "seed": 0}
    cfg["operators"] = {**cfg["operators"], "salary_per_day": result.chosen[SALARY]}
    summary, _ = simulate(cfg)
    assert summary["npv_30d"] == result.in_sample["chosen"].npv[0]
    report = (tmp_path / "report.md").read_text()
    assert "Out-of-sample (fresh brands)" in report and "NPV at 30 days" in report


def test_a_killed_search_resumes_without_rerunning(tmp_path):
    """Two trials, then a trial left RUNNING (as a kill mid-trial leaves it), then a run asking
    for four: the first two keep their values and are not simulated again; the running one is
    marked failed and not counted."""
    first = run(spec(trials=2), tmp_path)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.load_study(study_name="t", storage=storage)
    study.ask()  # no `host`/`pid`: a trial no live process will finish
    cached = {p.name for p in (tmp_path / "evaluations").glob("*.json")}
    second = run(spec(trials=4), tmp_path)
    assert second.computed["search"] == 2 * 2  # two new trials x two brands
    df = second.trials
    assert list(df["state"]) == ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert df[SALARY].iloc[:2].tolist() == first.trials[SALARY].tolist()
    assert cached <= {p.name for p in (tmp_path / "evaluations").glob("*.json")}


@pytest.mark.parametrize(
    "params, says",
    [
        ({"operators.salary_per_dya": {"low": 1, "high": 2}}, "operators.salary_per_dya"),
        ({SALARY: {"low": 500, "high": 500}}, f"parameters.{SALARY}: low = 500"),
        ({SALARY: {"low": 500, "high": 900}}, f"parameters.{SALARY}: the starting point"),
        ({"operators.count": {"low": 1, "high": 3, "type": "float"}}, "operators.count.type"),
        ({"fit.spread": {"low": 0.1, "high": 1}}, "parameters.fit.spread: an uncertainty"),
        ({"purchase.first_buy_rate": {"low": 0.1, "high": 3}}, "high bounds"),
    ],
)
def test_a_bad_spec_is_refused_before_any_run(params, says, tmp_path, monkeypatch):
    def no_runs(*a, **k):
        raise AssertionError("ran")

    monkeypatch.setattr(brands, "run_batch", no_runs)
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        run(spec(parameters=params), tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_the_command_refuses_an_empty_range_naming_the_key(tmp_path, capsys):
    key = "strategy.phases.2.team_size"
    with pytest.raises(SystemExit) as e:
        cli.main(["staged_policy", f"parameters.{key}.low=30", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"parameters.{key}: low = 30 must be below high = 24" in err
    assert not (tmp_path / "o").exists()


def test_downside_measures():
    npv = np.array([-3.0, 5, 1, -1, 2, 4, 6, 7, 8, 9, 10])  # 11 brands: the worst ceil(1.1) = 2
    assert downside_value("loss_probability", npv) == 2 / 11
    assert downside_value("cvar10", npv) == -2.0
    assert math.isclose(downside_value("cvar10", np.array([4.0])), 4.0)
