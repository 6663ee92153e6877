"""Sensitivity studies (`sim.experiment.sensitivity`, `privsim-sensitivity`): indices that could
fail (a parameter that cannot matter scores 0, a dominant one ranks first), bad specs refused
before any run naming the entry, and the command's outputs."""

import pandas as pd
import pytest

from sim.cli.sensitivity import main
from sim.core.params import ConfigError
from sim.experiment import sensitivity
from sim.experiment.sensitivity import Output, run_study, spec_from_dict
from sim.viz.sensitivity import question_md

# Tiny runs: 20 days of the default staged strategy (its first phase only: 0-1 lasts >= 60 days).
TINY = {"horizon_days": 20}
DAILY_USERS = "strategy.phases.0.daily_users"


def spec(**kw) -> dict:
    d = {
        "name": "t",
        "method": "sobol",
        "samples": 8,
        "seeds": 1,
        "resamples": 200,
        "scenario": TINY,
        "parameters": {
            DAILY_USERS: {"low": 5, "high": 50, "scale": "log"},
            # the monetary threshold of the RFM classes: a label, no mechanism reads it
            "economics.rfm_monetary": {"low": 100, "high": 2000},
        },
        "outputs": ["users_acquired", "profit"],
    }
    d.update(kw)
    return d


@pytest.fixture(scope="module")
def sobol():
    return run_study(spec_from_dict(spec()), n_jobs=1, progress=False)


def row(result, output, parameter):
    i = result.indices
    return i[(i["output"] == output) & (i["parameter"] == parameter)].iloc[0]


def test_parameter_that_cannot_matter_has_zero_total_index(sobol):
    r = row(sobol, "profit", "economics.rfm_monetary")
    assert abs(r["ST"]) <= r["ST_conf"] + 1e-9 and abs(r["S1"]) <= r["S1_conf"] + 1e-9
    # and the index is not zero for want of variation: daily_users moves profit
    assert row(sobol, "profit", DAILY_USERS)["ST"] > 0.5


def test_dominant_parameter_ranks_first(sobol):
    assert row(sobol, "users_acquired", DAILY_USERS)["rank"] == 1
    morris = spec(
        method="morris",
        samples=4,
        parameters={
            "trust.learning_rate": {"low": 0.05, "high": 0.3},
            DAILY_USERS: {"low": 5, "high": 50},
            "economics.rfm_monetary": {"low": 100, "high": 2000},
        },
        outputs=["users_acquired"],
    )
    m = run_study(spec_from_dict(morris), n_jobs=1, progress=False).indices
    assert m.iloc[0]["parameter"] == DAILY_USERS
    assert m.set_index("parameter").loc["economics.rfm_monetary", "mu_star"] == 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"parameters": {"operators.capacty": {"low": 1, "high": 2}}}, r"operators\.capacty"),
        ({"parameters": {"trust.learning_rate": {"low": 0.3, "high": 0.3}}},
         r"parameters\.trust\.learning_rate: low = 0.3 must be below high"),
        ({"parameters": {"churn.base_rate": {"low": 0, "high": 0.01, "scale": "log"}}},
         r"parameters\.churn\.base_rate: a log range needs low > 0"),
        ({"parameters": {"trust.learning_rate": {"low": 0.1, "high": 3.0}}},
         r"trust\.learning_rate = 3\.0 is out of range"),
        ({"outputs": ["profit", "proft"]}, r"proft is not a numeric summary value"),
        ({"outputs": ["profit[staged] - profit[premature]"]}, r"unknown arm 'staged'"),
        ({"method": "fast"}, r"method = 'fast'"),
        ({"samples": 6}, r"samples = 6: Sobol's base sample N must be a power of 2"),
    ],
)  # fmt: skip
def test_bad_spec_refused_before_any_run(monkeypatch, change, message):
    def no_run(*a, **k):
        raise AssertionError("a run started")

    monkeypatch.setattr(sensitivity, "run_batch", no_run)
    d = spec()
    d["parameters"] = {**d["parameters"], **change.pop("parameters", {})}
    with pytest.raises(ConfigError, match=message):
        run_study(spec_from_dict({**d, **change}), n_jobs=1, progress=False)


def test_output_syntax():
    o = Output.parse("ltv_cac_90d[staged] - ltv_cac_90d[premature] + rfm.important_value[a]")
    assert o.terms == (
        (1.0, "ltv_cac_90d", "staged"),
        (-1.0, "ltv_cac_90d", "premature"),
        (1.0, "rfm.important_value", "a"),
    )
    runs = {"staged": {"ltv_cac_90d": 2.0}, "premature": {"ltv_cac_90d": 0.5}, "a": {}}
    assert Output.parse("ltv_cac_90d[staged] - ltv_cac_90d[premature]").value(runs, "a") == 1.5
    for bad in ("profit profit", "profit[", "- [x]"):
        with pytest.raises(ConfigError, match="outputs"):
            Output.parse(bad)


def test_command_writes_tables_figure_report_and_refuses_bad_input(tmp_path, capsys):
    args = ["premature_scaling", "samples=1", "seeds=1", "scenario.horizon_days=10"]
    with pytest.raises(SystemExit) as e:
        main([*args, "--out", str(tmp_path), "--jobs", "1"])
    assert e.value.code == 0, capsys.readouterr().err
    for name in ("samples.parquet", "points.parquet", "indices.parquet", "sensitivity.png"):
        assert (tmp_path / name).stat().st_size > 0
    samples = pd.read_parquet(tmp_path / "samples.parquet")
    assert len(samples) == 13 * 2 and set(samples["base"]) == {"staged", "premature"}
    assert (samples["status"] == "finished").all()
    # 10 days: no cohort is 30 or 90 days old, so only profit has indices; the report says why
    assert len(pd.read_parquet(tmp_path / "indices.parquet")) == 12
    report = (tmp_path / "report.md").read_text()
    # the question names the horizon the runs had (10 days), not the spec's default year
    question = next(line for line in report.splitlines() if line.startswith("**Question.**"))
    assert "on profit over 10 days," in question and "{horizon}" not in question
    assert "## `profit[staged] - profit[premature]` (yuan)" in report
    assert "ltv_cac_90d[staged] - ltv_cac_90d[premature]: 13 of 13 points have no value" in report
    for bad, message in (
        ("samples=0", "samples = 0: must be an integer >= 1"),
        ("sample=4", "sample"),
    ):
        with pytest.raises(SystemExit) as e:
            main([*args, bad, "--out", str(tmp_path / "x")])
        assert e.value.code == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_question_without_the_placeholder_still_names_the_horizon():
    assert question_md("Does A beat B?", (180,)) == "Does A beat B? (Runs of 180 days.)"
    assert question_md("Profit over {horizon}?", (365, 1095)) == "Profit over 365 and 1,095 days?"
