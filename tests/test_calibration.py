"""Calibration (`sim.experiment.calibration`, `privsim-calibrate`): parameters recovered from data
the model made with known values, bad data refused naming the column and the row (exit 2), the
likelihood's pieces, a resumable optuna study, and a calibrated.yaml that `privsim` runs."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_export import images, self_contained

from sim.cli.calibrate import main
from sim.core.params import ConfigError
from sim.experiment import calibration as cal
from sim.experiment import likelihood, observed
from sim.experiment.config import compose
from sim.viz.calibration import write

# The recovery scenario: a small 0-1 pilot, ~30 users a day for 75 days (about 2,250 users).
SCENARIO = {"strategy": "steady", "strategy.phases.0.daily_users": 30, "horizon_days": 75}
TRUTH = {"purchase.first_buy_rate": 0.3, "churn.base_rate": 0.002}
PARAMETERS = {
    "purchase.first_buy_rate": {"low": 0.05, "high": 0.6, "scale": "log"},
    "churn.base_rate": {"low": 0.0002, "high": 0.005, "scale": "log"},
}
SERIES = ["new_users", "first_purchases", "orders", "churned"]


def spec_dict(data, **kw) -> dict:
    d = {
        "name": "t",
        "data": str(data),
        "scenario": SCENARIO,
        "parameters": PARAMETERS,
        "series": {s: {"likelihood": "negbin", "dispersion": "fit"} for s in SERIES},
        "seeds": 2,
        "trials": 24,
        "abc": {"draws": 120, "accept": 0.15, "seed": 1},
        "band_seeds": 2,
    }
    d.update(kw)
    return d


def synthetic(base, path: Path, seed=99) -> Path:
    df = observed.synthetic_observed(
        base, TRUTH, seed=seed, series=SERIES, dispersion=30.0, sigma=0.15, noise_seed=seed
    )
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def recovered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("calibration")
    base = compose([f"{k}={v}" for k, v in SCENARIO.items()])
    data = synthetic(base, tmp / "brand.csv")
    spec = cal.spec_from_dict(spec_dict(data))
    result = cal.calibrate(spec, tmp / "out", n_jobs=2, progress=False)
    write(result, tmp / "out")
    return result, tmp / "out"


@pytest.mark.slow
def test_parameters_recovered_and_covered(recovered):
    """The 90 % ABC interval covers the truth, and the point estimate lands near it.

    Tolerance: first_buy_rate within a factor 1.5 of the truth, churn.base_rate within a factor
    2. Not the counting error (~600 first orders pin a rate to ~5 %): the likelihood is flat
    along a ridge where a higher first_buy_rate trades against a higher churn and against the
    seed noise of 2 seeds per trial, and the data's own 90 % interval spans about a factor 2 for
    each (0.27-0.55 and 0.0014-0.0038 in experiments/calibration_example.md): half of that
    width on the log scale is the resolution the data give. Across 24 synthetic brands of this
    set-up (`benchmarks/calibration.py --brands 24`, experiments/calibration_example.md) the
    largest errors were factors 1.36 and 1.79: the bounds sit just above the worst of 24, and
    this test's seed, at 0.41 (+37 %), is about as far off as the worst of them."""
    result, _ = recovered
    t = result.table.set_index("parameter")
    print(t[["estimate", "abc_median", "q05", "q95"]].to_string())
    for key, truth in TRUTH.items():
        assert t.loc[key, "q05"] <= truth <= t.loc[key, "q95"], (key, t.loc[key].to_dict())
        # the interval is informative: narrower than the prior (log width)
        width = math.log(t.loc[key, "q95"] / t.loc[key, "q05"])
        assert width < 0.8 * math.log(t.loc[key, "high"] / t.loc[key, "low"]), key
    assert abs(math.log(result.estimate["purchase.first_buy_rate"] / 0.3)) <= math.log(1.5)
    assert abs(math.log(result.estimate["churn.base_rate"] / 0.002)) <= math.log(2.0)
    assert not any("ABC draws accepted" in n for n in result.notes), result.notes  # 18 kept


@pytest.mark.slow
def test_outputs_and_privsim_runs_calibrated_yaml(recovered, tmp_path):
    result, out = recovered
    for f in ("calibrated.yaml", "calibrated.args", "estimates.args", "parameters.parquet",
              "fit.png", "study.db", "report.md", "trials.parquet", "abc.parquet"):  # fmt: skip
        assert (out / f).exists(), f
    table = pd.read_parquet(out / "parameters.parquet")
    assert list(table["parameter"]) == list(TRUTH)
    assert "90 % interval" in (out / "report.md").read_text()
    page = (out / "report.html").read_text()  # issue #25: the report to forward, fit.png inside
    assert images(page) == 1 and self_contained(page) and "<th>90 % interval</th>" in page
    assert all(f"<code>{k}</code>" in page for k in TRUTH)
    privsim = str(Path(sys.executable).with_name("privsim"))
    runs = {
        "yaml": [privsim, "--config-dir", str(out.resolve()), "--config-name", "calibrated"],
        "args": [privsim, *(out / "calibrated.args").read_text().split()],
    }
    configs = {}
    for name, cmd in runs.items():
        run_dir = tmp_path / name
        p = subprocess.run([*cmd, "horizon_days=5", f"hydra.run.dir={run_dir}"],
                           capture_output=True, text=True)  # fmt: skip
        assert p.returncode == 0, p.stderr
        configs[name] = json.loads((run_dir / "config.json").read_text())
    assert configs["yaml"] == configs["args"]
    cfg = configs["yaml"]
    assert cfg["purchase"]["first_buy_rate"] == pytest.approx(
        result.estimate["purchase.first_buy_rate"]
    )
    assert cfg["churn"]["base_rate"] == pytest.approx(result.estimate["churn.base_rate"])
    assert cfg["strategy"]["name"] == "steady"
    assert cfg["strategy"]["phases"][0]["daily_users"] == 30
    # and a multirun on top of it
    sweep = tmp_path / "sweep"
    p = subprocess.run([*runs["yaml"], "-m", "horizon_days=5", "seed=0,1",
                        f"hydra.sweep.dir={sweep}"], capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert (sweep / "1" / "config.json").exists()


# ---------------------------------------------------------------------------- bad data

GOOD = pd.DataFrame({"day": [0, 1, 2, 3], "new_users": [30, 28, 31, 29], "orders": [0, 2, 3, 1]})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.drop(columns="day"), r"no `day` or `date` column in its header \(2 columns"),
        (lambda d: d.assign(orders=[0, 2, -3, 1]), r"column `orders`, row 3: negative value -3"),
        (lambda d: d.assign(orders=[0, 2, np.nan, 1]), r"column `orders`, row 3: missing"),
        (lambda d: d.assign(day=[0, 2, 1, 3]), r"column `day`, row 3: day 1 comes after day 2"),
        (lambda d: d.assign(day=[0, 1, 1, 3]), r"column `day`, row 3: day 1 repeats row 2"),
        (lambda d: d.assign(clicks=1), r"column 4 of the header is not a series the model"),
        (lambda d: d.assign(orders=[0, 2, 2.5, 1]), r"column `orders`, row 3: a count must be"),
    ],
)
def test_bad_data_refused_naming_column_and_row(tmp_path, change, message):
    path = tmp_path / "d.csv"
    change(GOOD.copy()).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=message):
        observed.load_observed(path)


def test_weekly_rows_labelled_by_last_day_and_dates(tmp_path):
    path = tmp_path / "w.csv"
    pd.DataFrame({"day": [6, 14], "orders": [3, 4]}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"column `day`, row 2: weekly rows .* got day 14"):
        observed.load_observed(path, "weekly")
    pd.DataFrame({"date": ["2026-01-07", "2026-01-14"], "orders": [3, 4]}).to_csv(path, index=False)
    assert list(observed.load_observed(path, "weekly")["day"]) == [6, 13]
    assert list(observed.load_observed(path, "weekly", "2026-01-01")["day"]) == [6, 13]


def test_horizon_longer_than_scenario_and_missing_series_refused(tmp_path):
    path = tmp_path / "d.csv"
    GOOD.to_csv(path, index=False)
    spec = cal.spec_from_dict(spec_dict(path, series={"orders": {}}))
    with pytest.raises(
        ConfigError, match=r"column `day`, row 4: day 3 is beyond .*horizon_days = 3"
    ):
        observed.check_data(spec, observed.load_observed(path), 3)
    spec = cal.spec_from_dict(spec_dict(path, series={"churned": {}}))
    with pytest.raises(ConfigError, match=r"series\.churned: not in the data"):
        observed.check_data(spec, observed.load_observed(path), 75)
    with pytest.raises(ConfigError, match=r"series\.profit: not a series the model produces"):
        cal.spec_from_dict(spec_dict(path, series={"profit": {}}))


def test_cli_exits_2_naming_column_and_row(tmp_path, capsys):
    path = tmp_path / "d.csv"
    GOOD.assign(new_users=[30, -1, 31, 29]).to_csv(path, index=False)
    with pytest.raises(SystemExit) as e:
        main(["synthetic_brand", "--data", str(path), "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "column `new_users`, row 2: negative value -1" in err
    assert not (tmp_path / "o" / "study.db").exists()  # nothing run


# ---------------------------------------------------------------------------- pieces


def test_fitted_dispersion_recovers_the_negative_binomial_size():
    rng = np.random.default_rng(0)
    mu = np.full(2000, 20.0)
    for size in (2.0, 30.0):
        y = rng.negative_binomial(size, size / (size + mu))
        _, k = likelihood.negbin_nll(y, mu, None)
        # ML size from 2,000 draws: within ~±25 % (its sd is ~7-10 % at these sizes)
        assert abs(math.log(k / size)) < math.log(1.25), (size, k)
    # and the likelihood prefers the true mean
    y = rng.negative_binomial(5.0, 5.0 / 25.0, 500)
    assert (
        likelihood.negbin_nll(y, np.full(500, 20.0), 5.0)[0]
        < likelihood.negbin_nll(y, np.full(500, 30.0), 5.0)[0]
    )


def test_weekly_aggregation_sums_flows_and_takes_stocks_at_week_end():
    daily = np.arange(14, dtype=float)
    days = np.array([6, 13])
    assert list(likelihood.aggregate(daily, days, 7, stock=False)) == [21.0, 70.0]
    assert list(likelihood.aggregate(daily, days, 7, stock=True)) == [6.0, 13.0]


def test_study_resumes_from_its_database(tmp_path):
    base = compose(["strategy=steady", "strategy.phases.0.daily_users=10", "horizon_days=10"])
    data = tmp_path / "d.csv"
    observed.synthetic_observed(base, TRUTH, seed=1, series=["orders"], dispersion=30.0, sigma=0.1,
                           noise_seed=1).to_csv(data, index=False)  # fmt: skip
    scen = {"strategy": "steady", "strategy.phases.0.daily_users": 10, "horizon_days": 10}
    kw = dict(scenario=scen, series={"orders": {}}, seeds=1)
    spec = cal.spec_from_dict(spec_dict(data, trials=2, **kw))
    params = cal.check_spec(spec, base)
    obs = observed.load_observed(data)
    cal.point_fit(spec, params, base, obs, tmp_path / "out", n_jobs=1, progress=False)
    spec3 = cal.spec_from_dict(spec_dict(data, trials=3, **kw))
    study = cal.point_fit(spec3, params, base, obs, tmp_path / "out", n_jobs=1, progress=False)
    assert len(study.trials) == 3  # two resumed from study.db, one new
    assert len(list((tmp_path / "out" / "evaluations").glob("*.json"))) == 3


def test_too_few_accepted_draws_are_flagged_not_read_as_an_interval(tmp_path):
    """3 accepted ABC draws (draws 12 x accept 0.25): the report and the notes say the interval
    is not one to read (below `MIN_ACCEPTED`; the recovery set-up keeps 18 and is not flagged)."""
    base = compose(["strategy=steady", "strategy.phases.0.daily_users=10", "horizon_days=10"])
    data = tmp_path / "d.csv"
    observed.synthetic_observed(base, TRUTH, seed=1, series=["orders"], dispersion=30.0, sigma=0.1,
                           noise_seed=1).to_csv(data, index=False)  # fmt: skip
    scen = {"strategy": "steady", "strategy.phases.0.daily_users": 10, "horizon_days": 10}
    spec = cal.spec_from_dict(
        spec_dict(data, scenario=scen, series={"orders": {}}, seeds=1, trials=2,
                  abc={"draws": 12, "accept": 0.25, "seed": 1}, band_seeds=1)
    )  # fmt: skip
    result = cal.calibrate(spec, tmp_path / "out", n_jobs=1, progress=False)
    assert int(result.abc["accepted"].sum()) == 3
    assert any("only 3 ABC draws accepted" in n for n in result.notes), result.notes
    write(result, tmp_path / "out")
    assert "Not yet to be read: only 3 ABC draws" in (tmp_path / "out" / "report.md").read_text()


def test_the_example_brand_is_what_its_script_makes_now():
    """examples/calibration/synthetic_brand.csv is what `make_synthetic_brand.py` makes from
    the model as it is (the example's page reads its fit; stale data, or a script that no
    longer imports, would go unnoticed otherwise). After a change that moves results on
    purpose, re-run the script beside the baseline."""
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "examples/calibration/make_synthetic_brand.py"
    loader = importlib.util.spec_from_file_location("make_synthetic_brand", script)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    made = module.synthetic_brand()
    committed = pd.read_csv(module.PATH)
    pd.testing.assert_frame_equal(made.reset_index(drop=True), committed, check_dtype=False,
                                  rtol=1e-12)  # fmt: skip
