"""The policy search (`sim.experiment.optimize`, issue #24), at reduced size: 30-day runs of
the steady strategy (~0.1 s each), two to four brands, a few trials, one process.

The synthetic set-up with a known optimum: the operators' salary enters the model only as a cost
(`sim/core/model.py`: profit −= salary × operators arrived; no rule reads it), so on the same
brand (same seed: common random numbers) NPV = NPV₀ − salary × Σₜ arrivedₜ·discountₜ, strictly
decreasing in the salary while a team is paid (steady pays two operators from day 0, DOMAIN §3:
0-1 runs on 1-2 people). The best salary in any range is its low end, on every brand alone.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from test_export import images, self_contained, sheet

from sim.cli import optimize as cli
from sim.core.params import ConfigError
from sim.experiment import brands
from sim.experiment import optimize as opt
from sim.experiment.batch import simulate
from sim.experiment.optimize_spec import downside_value, spec_from_dict
from sim.viz.optimize import write

SALARY = "operators.salary_per_day"
LOW, HIGH = 100.0, 1000.0  # the default 400 (the starting point) lies inside
CHEAP = {"cheap": {SALARY: 150.0}}  # a named starting point, better than the scenario's 400
PRESET = {"zero_to_one": {"strategy": "zero_to_one"}}  # another strategy, run as it is


def spec(**kw):
    d = {
        "name": "t",
        "scenario": {"strategy": "steady", "horizon_days": 30,
                     "economics.npv_horizons_days": [30]},  # fmt: skip
        "parameters": {SALARY: {"low": LOW, "high": HIGH, "unit": "yuan/day",
                                "why": "an operator's daily pay (a cost only)"}},  # fmt: skip
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
    return run(spec(trials=30, presets=PRESET), out), out


def test_a_monotone_objective_is_optimised_at_the_end_of_its_range(monotone):
    """The optimum is salary = LOW (module docstring). Tolerance: 25 % of the range. For 29 draws
    uniform on the range (random search), the chance that none falls within it is 0.75²⁹ =
    2.4e-4; TPE draws its first 10 trials so and later ones from the density of the best
    trials, which here lie at the low end. The per-trial means are checked against the
    derivation itself: strictly decreasing in the salary."""
    result, _ = monotone
    assert result.importances == pytest.approx({SALARY: 1.0})  # 30 completed: over all brands
    assert result.importance_basis == "the completed trials' mean NPV over all 2 search brands"
    df = result.trials.sort_values(SALARY)
    assert (df["state"] == "COMPLETE").all()
    assert np.all(np.diff(df["mean_npv_30d"].to_numpy()) < 0), df
    assert result.chosen[SALARY] == df[SALARY].min()  # the best is the smallest tried
    assert result.chosen[SALARY] <= LOW + 0.25 * (HIGH - LOW), result.chosen


def test_the_chosen_policy_is_never_worse_in_sample_than_the_starting_points(monotone, tmp_path):
    """Trial 0 is the scenario's value (400); in a four-trial search, trial 1 is the named start
    `cheap` (150): the chosen policy's in-sample mean is at least the best of theirs, so its
    salary is at most cheap's. Two
    objectives: no starting point beats the chosen policy on both (its downside is no worse
    than the best start's, its mean no lower than that start's); pruning is off there."""
    result, _ = monotone
    assert result.trials.loc[0, "start"] == "start" and result.trials.loc[0, SALARY] == 400
    assert result.in_sample["chosen"].mean >= result.in_sample["start"].mean
    result = run(spec(trials=4, starts=CHEAP), tmp_path / "one")
    df = result.trials
    assert df["start"].tolist()[:2] == ["start", "cheap"] and df[SALARY].tolist()[:2] == [400, 150]
    ins = result.in_sample
    assert ins["chosen"].mean >= max(ins["start"].mean, ins["cheap"].mean)
    assert result.chosen[SALARY] <= 150.0
    two = run(spec(trials=4, starts=CHEAP, prune={"brands": 1, "factor": 2},
                   objective={"metric": "npv_30d", "downside": "cvar10"}),
               tmp_path / "two")  # fmt: skip
    ins = two.in_sample
    best = max(("start", "cheap"), key=lambda n: ins[n].downside)  # cvar10: higher is better
    assert ins["chosen"].downside >= ins[best].downside and ins["chosen"].mean >= ins[best].mean
    for n in ("start", "cheap"):
        assert ins["chosen"].mean >= ins[n].mean or ins["chosen"].downside > ins[n].downside
    assert two.trials["pareto"].any() and (two.trials["state"] == "COMPLETE").all()
    assert any("no pruning" in n for n in two.notes)


def test_fresh_brands_are_not_the_search_brands(monotone):
    """Validation runs seeds 2-3 (the search's are 0-1): other brands, other NPVs; every policy
    (chosen, starting points, preset) has both, in that order."""
    result, _ = monotone
    order = ["chosen", "start", "zero_to_one"]
    assert list(result.fresh) == order and list(result.in_sample) == order
    assert all(o.npv.size == 2 for o in [*result.fresh.values(), *result.in_sample.values()])
    for name in order:
        assert not np.isin(result.fresh[name].npv, result.in_sample[name].npv).any()
    # the preset is another strategy: its own NPVs, not the searched policy's
    assert not np.isin(result.fresh["zero_to_one"].npv, result.fresh["start"].npv).any()


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
    assert "search brands beside fresh brands" in report and "NPV at 30 days" in report
    assert "| preset zero_to_one |" in report and "(fresh.png)" in report
    assert f"`{SALARY}`: **" in report and "yuan/day**, down from 400 yuan/day at the" in report
    assert (tmp_path / "fresh.png").stat().st_size > 0 and not (tmp_path / "front.png").exists()
    page = (tmp_path / "report.html").read_text()  # issue #25: the report to forward
    assert images(page) == 1 and self_contained(page) and "| preset zero_to_one |" not in page
    assert "<td>preset zero_to_one</td>" in page and "NPV at 30 days" in page
    trials = sheet(tmp_path / "workbook.xlsx", "trials")
    csv = pd.read_csv(tmp_path / "trials.csv")
    assert trials["mean_npv_30d"].tolist() == pytest.approx(csv["mean_npv_30d"].tolist())
    brands = sheet(tmp_path / "workbook.xlsx", "NPV by brand").set_index(["policy", "brands"])
    assert brands.loc[("chosen", "fresh"), "npv_30d"].tolist() == list(result.fresh["chosen"].npv)
    about = sheet(tmp_path / "workbook.xlsx", "About").set_index("term")["definition"]
    assert {f"trials: {c}" for c in trials} <= set(about.index)


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


def test_pruned_trials_stop_early_and_are_never_chosen(tmp_path):
    """Four brands, rungs after 1 and 2 (`prune: {brands: 1, factor: 2}`). Successive halving
    stops a trial at a rung unless its mean there ranks among the best n/2 (at least the best)
    of the n trials scored there. With NPV decreasing in the salary on every brand, the trial
    with the lowest salary is the best at every rung whenever it is scored, so it completes and
    is chosen; every pruned trial has a higher salary. Pruned trials keep the NPVs of the
    brands they ran (the first ones, in order: common random numbers), and the runs they did
    not make are counted as saved."""
    result = run(spec(trials=10, brands={"count": 4, "uncertainty": {"fit.spread": 0.5}},
                      prune={"brands": 1, "factor": 2}), tmp_path)  # fmt: skip
    df = result.trials
    pruned = df[df["state"] == "PRUNED"]
    assert len(pruned) and (df["state"] != "FAIL").all() and len(df) == 10
    assert set(pruned["brands"]) <= {1, 2}
    assert (df.loc[df["state"] == "COMPLETE", "brands"] == 4).all()
    assert df.loc[df["chosen"], "state"].item() == "COMPLETE"
    assert pruned[SALARY].min() > result.chosen[SALARY] == df[SALARY].min()
    assert result.computed["saved"] == (4 - pruned["brands"]).sum()
    assert result.computed["search"] == df["brands"].sum() == 10 * 4 - result.computed["saved"]
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    trials = optuna.load_study(study_name="t", storage=storage).trials
    full = trials[int(df.loc[df["chosen"], "trial"].item())].user_attrs["npv"]
    for t in (t for t in trials if t.state.name == "PRUNED"):
        k = len(t.user_attrs["npv"])
        assert np.mean(t.user_attrs["npv"]) == t.intermediate_values[k]
        assert np.mean(t.user_attrs["npv"]) < np.mean(full[:k])  # the same first k brands
    # fewer than 10 completed: fANOVA reads every finished trial's mean on the first rung's
    # brand, the same for all 10 (one parameter: all of the main effects)
    completed = int((df["state"] == "COMPLETE").sum())
    assert completed < 10 and result.importances == pytest.approx({SALARY: 1.0})
    assert result.importance_basis == (
        "every finished trial's mean NPV over the first search brand (the first rung, which "
        f"all 10 reached; {completed} completed)")
    report = opt_report(result, tmp_path)
    assert f"saving {result.computed['saved']} runs" in report
    assert f"Each parameter's main effect on {result.importance_basis}" in report


def opt_report(result, out):
    write(result, out, "test")
    return (out / "report.md").read_text()


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


@pytest.mark.parametrize(
    "kw, says",
    [
        ({"starts": {"a": {"operators.count": 3}}}, "starts.a.operators.count: not a searched"),
        ({"starts": {"a": {SALARY: 5000}}}, f"starts.a.{SALARY} = 5000: must be a number in"),
        ({"starts": {"start": {SALARY: 200}}}, "starts.start: a reserved name"),
        ({"starts": {"a": {SALARY: 200}}, "trials": 1}, "trials = 1: fewer than the starting"),
        ({"starts": {"a": {SALARY: 200}}, "presets": {"a": {"strategy": "premature"}}},
         "starts.a: also a preset's name"),
        ({"presets": {"p": {}}}, "presets.p: expected a non-empty mapping"),
        ({"presets": {"p": {"fit.spread": 0.1}}}, "presets.p.fit.spread: an uncertainty"),
        ({"presets": {"p": {"horizon_days": 60}}}, "presets.p.horizon_days: the horizon"),
        ({"presets": {"p": {"strategy": "no_such"}}}, "presets.p: "),
        ({"presets": {"p": {"operators.salary_per_dya": 3}}}, "presets.p: "),
        ({"presets": {"p": {"operators.salary_per_day": -3}}}, "presets.p: "),
        ({"prune": {"brands": 1, "factr": 3}}, "prune.factr: unknown"),
        ({"prune": {"brands": 1, "factor": 1}}, "prune.factor = 1: must be an integer >= 2"),
        ({"prune": True}, "prune = True: give null or"),
        ({"prune": {"brands": 1, "factor": 2, "futility": 1.5}},
         "prune.futility = 1.5: give null or a share in"),
    ],
)  # fmt: skip
def test_a_bad_start_preset_or_pruning_is_refused_before_any_run(kw, says, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    def no_runs(*a, **k):
        raise AssertionError("ran")

    monkeypatch.setattr(brands, "run_batch", no_runs)
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        run(spec(**kw), tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_the_command_exits_1_naming_a_failed_validation(tmp_path, capsys, monkeypatch):
    """docs/policy_search.md's spec at a 30-day horizon, one trial on one brand (too few to
    prune: said); the preset `premature`'s runs are made to fail: the report is still written,
    the failure named, exit 1."""
    real = brands.run_batch

    def premature_fails(bases, evs, **kw):
        return [replace(r, summary=None, error="boom") if r.evaluation.base == "preset:premature"
                else r for r in real(bases, evs, **kw)]  # fmt: skip

    monkeypatch.setattr(brands, "run_batch", premature_fails)
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as e:
        cli.main(["staged_policy", "trials=1", "brands.count=1", "fresh_brands=1",
                  "scenario.horizon_days=30", "+scenario.economics.npv_horizons_days=[30]",
                  "objective.metric=npv_30d", "--jobs", "1", "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert e.value.code == 1, err
    assert "failed: the premature policy failed on the fresh brands: boom" in err
    assert "failed: the premature policy failed on the search's brands: boom" in err
    assert "no pruning: prune.brands (2) is not below brands.count (1)" in err
    report = (out / "report.md").read_text()
    assert "| preset premature | failed | failed |" in report and "Failed: the premature" in report
    assert "| preset ten_to_n |" in report


@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time under xdist
def test_the_same_search_on_ray_gives_the_same_trials(tmp_path):
    """The search's runs through Ray (`ray_address`) instead of local processes: the same
    trials, values and validation (as tests/test_batch.py for one batch)."""
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    s = spec(trials=3, presets=PRESET)
    local = run(s, tmp_path / "local")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir="/tmp/privsim-ray")
    try:
        remote = opt.optimize(s, tmp_path / "ray", ray_address="auto", progress=False)
    finally:
        ray.shutdown()
    cols = ["state", SALARY, "mean_npv_30d", "chosen"]
    assert remote.trials[cols].equals(local.trials[cols])
    for name, o in local.fresh.items():
        assert np.array_equal(o.npv, remote.fresh[name].npv)
    assert remote.computed == local.computed  # nothing read from a cache: both ran everything


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


def test_the_win_probability_is_the_predictive_t_of_its_derivation():
    """sim.experiment.futility: P(the trial's mean over N brands ends above the incumbent's),
    from k paired differences, checked against a Monte Carlo of the model it is derived from
    (μ, σ² from their posterior under p(μ, σ²) ∝ 1/σ², the N − k brands still to run drawn
    from N(μ, σ²)). 400,000 draws: the simulated probability's standard error is at most
    √(0.25 / 4e5) = 0.0008; tolerance 5 of them."""
    from sim.experiment.futility import win_probability

    rng = np.random.default_rng(0)
    n, draws = 10, 400_000
    for d in ([-1.0, -3.0], [2.0, -1.0, 0.5], [-0.5, -0.2, -0.9, 0.4, -0.1, -0.3]):
        d = np.asarray(d)
        k, mean, s = d.size, d.mean(), d.std(ddof=1)
        sigma2 = (k - 1) * s**2 / rng.chisquare(k - 1, draws)
        mu = rng.normal(mean, np.sqrt(sigma2 / k))
        rest = rng.normal(mu * (n - k), np.sqrt(sigma2 * (n - k)))  # sum of the brands left
        simulated = np.mean(k * mean + rest > 0)
        got = win_probability(d, np.zeros(n), n)
        assert abs(got - simulated) < 5 * 0.0008, (d, got, simulated)
    assert win_probability([1.0] * n, np.zeros(n), n) == 1.0  # every brand run: certain
    assert win_probability([-1.0] * n, np.zeros(n), n) == 0.0
    assert win_probability([-1.0, -1.0], np.zeros(n), n) == 0.0  # behind, no spread
    assert win_probability([-1.0], np.zeros(n), n) == 1.0  # one brand: no spread to read


def test_the_futility_rule_stops_only_trials_behind_the_best_completed_one(tmp_path):
    """The salary set-up (module docstring): a trial with a higher salary than the best
    completed trial (the incumbent) is behind it on every brand, so every paired difference is
    negative and its chance of ending above is small; a trial with a lower salary is ahead on
    every brand (chance above 1/2), never stopped by the rule. Four brands, one rung (2):
    successive halving keeps the best n/3 of the trials scored there, so from the sixth trial
    on it lets a runner-up through, which the rule (α = 0.05) stops; the best is chosen."""
    result = run(spec(trials=12, brands={"count": 4, "uncertainty": {"fit.spread": 0.5}},
                      prune={"brands": 2, "factor": 3, "futility": 0.05}), tmp_path)  # fmt: skip
    df = result.trials
    futile = df[df["pruned_by"] == "futility"]
    assert len(futile), df
    for _, row in futile.iterrows():
        before = df[(df["trial"] < row["trial"]) & (df["state"] == "COMPLETE")]
        assert row[SALARY] > before[SALARY].min()  # behind the incumbent on every brand
    completed = df[df["state"] == "COMPLETE"].sort_values("trial")
    assert np.all(np.diff(completed[SALARY].to_numpy()) < 0)  # each a new best
    assert result.chosen[SALARY] == df[SALARY].min()
    assert (futile["brands"] == 2).all() and set(df["pruned_by"]) <= {"", "halving", "futility"}
    assert "trials stopped so" in opt_report(result, tmp_path)


def test_idle_workers_run_the_validation_ahead_without_changing_a_number(tmp_path):
    """Two local workers: the validation's runs no trial decides go to a worker a trial's batch
    leaves idle (sim.experiment.backfill); the trials, the choice and every NPV are those of
    the one-process search, and no run is made twice."""
    s = spec(trials=3, presets=PRESET)
    one = run(s, tmp_path / "one")
    two = opt.optimize(s, tmp_path / "two", n_jobs=2, progress=False)
    cols = ["state", SALARY, "mean_npv_30d", "chosen"]
    assert two.trials[cols].equals(one.trials[cols])
    for name, o in one.fresh.items():
        assert np.array_equal(o.npv, two.fresh[name].npv)
        assert np.array_equal(one.in_sample[name].npv, two.in_sample[name].npv)
    assert two.computed["ahead"] > 0 and one.computed["ahead"] == 0
    assert {k: two.computed[k] for k in ("search", "validation")} == \
        {k: one.computed[k] for k in ("search", "validation")}
    assert len(list((tmp_path / "two" / "evaluations").glob("*.json"))) == \
        one.computed["search"] + one.computed["validation"]


def test_the_tested_policy_spec_searches_a_brand_with_candidates():
    """configs/optimize/tested_policy.yaml: testing_value's brand (candidate pools and
    products, so the 0-1 test has something to choose), its team range widened past
    staged_policy's 24; passes every check before any run; a range past the schema's refused."""
    from sim.experiment.optimize_spec import check_offered, check_spec, load_spec

    s = load_spec("tested_policy")
    base, parameters, start = check_spec(s)
    assert set(base["fit"]["place"]["pools"]) == {"conversion", "b2b"}
    assert base["fit"]["goods"]["variants"] == ["variant_b", "variant_c"]
    assert base["fit"]["spread"] == 0.5 and base["horizon_days"] == 1095
    team = next(p for p in parameters if p.key == "strategy.phases.2.team_size")
    assert team.high > 24 and start["strategy.phases.0.test.users_per_arm"] == 1000
    assert set(check_offered(s, parameters, start)[1]) == {"ten_to_n", "ten_to_n_stoploss",
                                                           "premature"}  # fmt: skip
    with pytest.raises(ConfigError, match=r"high bounds\): strategy\.phases\.0\.test\.daily_users"):
        check_spec(load_spec("tested_policy",
                             ["parameters.strategy.phases.0.test.daily_users.high=2e6"]))


def test_the_tested_policy_market_spec_draws_each_brands_market():
    """configs/optimize/tested_policy_market.yaml: tested_policy's question with the market's
    size drawn per brand (log-uniform 100,000-1,000,000), the team's range to 120, and
    tested_policy's answer as a named start equal to its strategy YAML's values (so the search
    is never worse in-sample than that answer)."""
    from omegaconf import OmegaConf

    from sim.experiment.config import compose
    from sim.experiment.optimize_spec import check_offered, check_spec, load_spec

    s = load_spec("tested_policy_market")
    base, parameters, start = check_spec(s)
    assert base["market_size"] is None and base["fit"]["spread"] == 0.5  # drawn per brand
    sizes = [s.uncertainty.values(k)["market_size"] for k in range(s.brands + s.fresh_brands)]
    assert all(100_000 <= v <= 1_000_000 for v in sizes) and len(set(sizes)) == len(sizes)
    team = next(p for p in parameters if p.key == "strategy.phases.2.team_size")
    assert team.high == 120
    starts, presets = check_offered(s, parameters, start)
    assert "optimized_staged_policy" in presets
    tree = OmegaConf.create(compose(["strategy=optimized_tested_policy"]))
    for key, v in starts["tested_policy"].items():
        assert OmegaConf.select(tree, key) == v, key
