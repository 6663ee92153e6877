"""`privsim-clv`: bad input is refused with exit 2 naming what is wrong (no extra needed); the
check runs end to end where the `clv` extra (PyMC-Marketing) is installed."""

from __future__ import annotations

import importlib.util
import json
import math

import pandas as pd
import pytest

from sim.cli import clv as clv_cli
from sim.experiment import jobs
from sim.experiment.config import compose
from sim.experiment.run import run

HAVE_CLV = importlib.util.find_spec("pymc_marketing") is not None


def _exit(args, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as e:
        clv_cli.main([str(a) for a in args])
    return e.value.code, capsys.readouterr().err


@pytest.fixture(scope="module")
def with_log(tmp_path_factory):
    out = tmp_path_factory.mktemp("clv")
    run(compose(["horizon_days=120", "seed=2", "outputs.transactions=true"]), out, resume=False)
    return out


def test_a_directory_that_is_not_a_finished_run(tmp_path, capsys):
    code, err = _exit([tmp_path], capsys)
    assert code == 2 and "is not a finished run" in err and "incomplete" in err
    code, err = _exit([tmp_path / "nowhere"], capsys)
    assert code == 2 and "no such directory" in err


def test_a_damaged_run(with_log, tmp_path, capsys):
    run(compose(["horizon_days=30", "outputs.transactions=true"]), tmp_path, resume=False)
    (tmp_path / jobs.TRANSACTIONS).write_bytes(b"not parquet")
    code, err = _exit([tmp_path], capsys)
    assert code == 2 and "damaged" in err and jobs.TRANSACTIONS in err


def test_a_run_without_transactions(tmp_path, capsys):
    run(compose(["horizon_days=30"]), tmp_path, resume=False)
    code, err = _exit([tmp_path], capsys)
    assert code == 2 and "outputs.transactions=true" in err


@pytest.mark.parametrize("date", ["2025-12-31", "2026-04-30", "2027-01-01"])
def test_a_calibration_date_outside_the_horizon(with_log, capsys, date):
    code, err = _exit([with_log, "--calibration-end", date], capsys)
    assert code == 2 and "outside the run's horizon" in err and "2026-01-01 … 2026-04-29" in err


def test_a_calibration_date_that_is_not_a_date(with_log, capsys):
    code, err = _exit([with_log, "--calibration-end", "March"], capsys)
    assert code == 2 and "is not a date" in err


@pytest.mark.skipif(HAVE_CLV, reason="the clv extra is installed here")
def test_without_the_extra_the_message_names_it(with_log, capsys):
    code, err = _exit([with_log], capsys)
    assert code == 2 and "'.[clv]'" in err


@pytest.mark.slow
@pytest.mark.skipif(
    not HAVE_CLV, reason="needs the clv extra (pymc-marketing): pip install -e '.[clv]'"
)
def test_end_to_end_on_a_small_run(with_log, capsys):
    clv_cli.main([str(with_log), "--calibration-end", "2026-02-28"])
    out = with_log / "clv"
    for name in ("report.md", "calibration_holdout.png", "clv_by_channel.png"):
        assert (out / name).stat().st_size > 0, name
    per = pd.read_parquet(out / "customers.parquet")
    tx = pd.read_parquet(with_log / jobs.TRANSACTIONS)
    cal = tx[tx["date"] <= "2026-02-28"]
    # one row per customer who ordered in the calibration period, with the simulated truth
    assert sorted(per["customer_id"]) == sorted(cal["customer_id"].unique())
    hold = tx[tx["date"] > "2026-02-28"]
    assert per["holdout_orders"].sum() == hold["customer_id"].isin(per["customer_id"]).sum()
    assert (per["predicted_orders"] >= 0).all() and per["predicted_orders"].sum() > 0
    report = (out / "report.md").read_text()
    assert "| r |" in report and "0.243" in report  # fitted beside CDNOW
    cfg = json.loads((with_log / jobs.CONFIG).read_text())
    assert str(cfg["purchase"]["rate_shape"]) in report


@pytest.fixture(scope="module")
def premature_log(tmp_path_factory):
    out = tmp_path_factory.mktemp("clv_premature")
    run(
        compose(["strategy=premature", "horizon_days=120", "seed=3", "outputs.transactions=true"]),
        out,
        resume=False,
    )
    return out


def test_several_runs_refused_before_any_fit_naming_the_bad_directory(
    with_log, tmp_path, capsys, monkeypatch
):
    def no_fit(*a, **k):
        raise AssertionError("fitted before every directory was checked")

    monkeypatch.setattr(clv_cli.clv, "fit", no_fit)
    monkeypatch.setattr(clv_cli.clv, "import_clv", no_fit)  # nor the extra imported
    bad, out = tmp_path / "not_a_run", tmp_path / "cmp"
    bad.mkdir()
    code, err = _exit([with_log, bad, "--out", out], capsys)
    assert code == 2 and f"{bad} is not a finished run" in err
    code, err = _exit([with_log, with_log, "--out", out], capsys)
    assert code == 2 and "given twice" in err
    code, err = _exit([with_log, tmp_path / "nowhere", "--out", out], capsys)
    assert code == 2 and "nowhere: no such directory" in err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(
    not HAVE_CLV, reason="needs the clv extra (pymc-marketing): pip install -e '.[clv]'"
)
def test_comparison_by_strategy(with_log, premature_log, tmp_path, capsys):
    out = tmp_path / "cmp"
    clv_cli.main([str(with_log), str(premature_log), "--out", str(out)])
    table = pd.read_parquet(out / "comparison.parquet")
    # one row per run, each fitted on its own, in the order given
    assert list(table["strategy"]) == ["staged", "premature"]
    assert list(table["seed"]) == [2, 3]
    for col in (
        "predicted_orders",
        "true_orders",
        "predicted_value",
        "true_value",
        "predicted_value_per_customer",
        "true_value_per_customer",
        "r",
        "alpha",
        "a",
        "b",
    ):
        assert table[col].map(math.isfinite).all(), col
    for d, row in zip((with_log, premature_log), table.itertuples(), strict=True):
        per = pd.read_parquet(d / "clv" / "customers.parquet")  # the run's own check
        assert row.customers == len(per)
        assert row.true_orders == per["holdout_orders"].sum()
        assert row.predicted_value == pytest.approx(per["predicted_value"].sum())
    assert (out / "clv_by_strategy.png").stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "| staged | 2 |" in report and "| premature | 3 |" in report and "CDNOW" in report
