"""The transaction log (`outputs.transactions`): transactions.parquet and customers.parquet agree
with the daily table and the population arrays, are deterministic, never change results, and are
absent (and cost nothing) by default."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.ledger import CUSTOMER_COLUMNS, TRANSACTION_COLUMNS
from sim.core.model import PrivateDomainModel
from sim.core.params import ConfigError
from sim.core.stage import Stage
from sim.experiment import jobs
from sim.experiment.config import compose, model_kwargs
from sim.experiment.run import run

HORIZON = 120
START = "2025-12-30"  # crosses a year end: dates are real calendar dates


def _cfg(*more: str) -> dict:
    return compose(
        [f"horizon_days={HORIZON}", "seed=4", "outputs.transactions=true", *more]
        + [f"outputs.start_date={START}"]
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One run written by `run()` with the log on, and the same config simulated in memory."""
    cfg = _cfg()
    out = tmp_path_factory.mktemp("tx")
    run(cfg, out, resume=False)
    model = PrivateDomainModel(**model_kwargs(cfg)).run()
    return (
        cfg,
        out,
        pd.read_parquet(out / jobs.TRANSACTIONS),
        pd.read_parquet(out / jobs.CUSTOMERS),
        pd.read_parquet(out / jobs.DAILY),
        model,
    )


def test_one_row_per_order_of_the_daily_table(exported):
    _, _, tx, _, daily, _ = exported
    assert len(tx) == daily["orders"].sum() > 100
    per_day = tx.groupby("day").size().reindex(daily["day"], fill_value=0).to_numpy()
    np.testing.assert_array_equal(per_day, daily["orders"].to_numpy())
    firsts = (tx["product"] == "lead").groupby(tx["day"]).sum()
    np.testing.assert_array_equal(
        firsts.reindex(daily["day"], fill_value=0).to_numpy(), daily["first_purchases"]
    )
    by_day = tx.groupby("day")[["monetary_value", "margin"]].sum()
    by_day = by_day.reindex(daily["day"], fill_value=0.0)
    np.testing.assert_allclose(by_day["monetary_value"], daily["revenue"], rtol=1e-12)
    np.testing.assert_allclose(by_day["margin"], daily["margin"], rtol=1e-12)


def test_per_customer_spend_and_orders_match_the_population(exported):
    _, _, tx, customers, _, model = exported
    pop = model.population
    assert len(customers) == pop.n  # every user who joined, buyer or not
    n = np.bincount(tx["customer_id"], minlength=pop.n)
    spend = np.bincount(tx["customer_id"], weights=tx["monetary_value"], minlength=pop.n)
    margin = np.bincount(tx["customer_id"], weights=tx["margin"], minlength=pop.n)
    np.testing.assert_array_equal(n, pop.orders)
    np.testing.assert_allclose(spend, pop.spend, rtol=1e-12)
    np.testing.assert_allclose(margin, pop.margin, rtol=1e-12)
    np.testing.assert_array_equal(customers["orders"], pop.orders)
    np.testing.assert_array_equal(customers["spend"], pop.spend)
    np.testing.assert_array_equal(customers["ltv_margin"], pop.ltv_margin)
    last = tx.groupby("customer_id")["day"].max()
    np.testing.assert_array_equal(last.to_numpy(), pop.last_buy_day[last.index])
    # each order carries its customer's channel
    names = np.array(model.channel_names)
    np.testing.assert_array_equal(
        tx["channel"].astype(str).to_numpy(), names[pop.channel[tx["customer_id"]]]
    )


def test_dates_are_calendar_dates_within_the_horizon(exported):
    _, _, tx, customers, _, _ = exported
    assert tx["day"].between(0, HORIZON - 1).all()
    start = pd.Timestamp(START)
    assert (tx["date"] == start + pd.to_timedelta(tx["day"], unit="D")).all()
    assert tx["date"].min() >= start and tx["date"].max() <= start + pd.Timedelta(days=HORIZON - 1)
    assert (customers["join_date"] == start + pd.to_timedelta(customers["join_day"], "D")).all()
    churned = customers["churn_day"] >= 0
    assert customers["churn_date"].isna().to_numpy().tolist() == (~churned).tolist()
    assert (customers.loc[churned, "churn_day"] >= customers.loc[churned, "join_day"]).all()


def test_churn_day_is_set_exactly_where_users_churned(exported):
    _, _, _, customers, daily, model = exported
    pop = model.population
    np.testing.assert_array_equal(pop.churn_day >= 0, pop.stage == Stage.CHURNED)
    per_day = np.bincount(customers["churn_day"][customers["churn_day"] >= 0], minlength=HORIZON)
    np.testing.assert_array_equal(per_day, daily["churned_today"])


def test_columns_and_dtypes_are_the_declared_ones(exported):
    _, _, tx, customers, _, _ = exported
    for frame, declared in ((tx, TRANSACTION_COLUMNS), (customers, CUSTOMER_COLUMNS)):
        assert list(frame.columns) == list(declared)
        assert {c: str(frame[c].dtype) for c in frame} == {c: d for c, (d, _) in declared.items()}
    # the names CLV tools expect, without renaming (rfm_summary, summary_data_from_...)
    assert pd.api.types.is_datetime64_any_dtype(tx["date"])
    assert set(tx["product"].cat.categories) == {"lead", "star", "premium"}
    assert set(tx["phase"].astype(str)) <= {"zero_to_one", "one_to_ten", "ten_to_n"}


def test_the_outputs_page_lists_every_exported_column():
    page = (Path(__file__).resolve().parent.parent / "docs" / "outputs.md").read_text()
    for name, (dtype, _) in {**TRANSACTION_COLUMNS, **CUSTOMER_COLUMNS}.items():
        assert f"`{name}` ({dtype}" in page, f"docs/outputs.md lacks `{name}` ({dtype})"


def test_same_seed_gives_identical_files(exported, tmp_path):
    cfg, out, *_ = exported
    run(cfg, tmp_path, resume=False)
    for name in (jobs.TRANSACTIONS, jobs.CUSTOMERS):
        a, b = (hashlib.sha256((d / name).read_bytes()).hexdigest() for d in (out, tmp_path))
        assert a == b, name


def test_chunked_export_is_the_whole_log(exported):
    *_, model = exported
    whole = pd.concat(list(model.transactions()), ignore_index=True)
    parts = list(model.transactions(rows=97))
    assert len(parts) > 3
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_the_log_never_changes_results(exported):
    cfg, _, _, _, daily, _ = exported
    off = PrivateDomainModel(**model_kwargs({**cfg, "outputs": {"transactions": False}})).run()
    pd.testing.assert_frame_equal(off.daily(), daily)


def test_off_by_default_no_file_no_log(tmp_path):
    cfg = compose(["horizon_days=30"])
    assert cfg["outputs"]["transactions"] is False
    assert jobs.outputs_of(cfg) == jobs.OUTPUTS
    assert PrivateDomainModel(**model_kwargs(cfg)).transaction_log is None
    run(cfg, tmp_path, resume=False)
    assert not (tmp_path / jobs.TRANSACTIONS).exists()
    assert not (tmp_path / jobs.CUSTOMERS).exists()
    assert jobs.status(tmp_path) == "finished"


def test_a_run_without_orders_writes_an_empty_log_with_the_columns(tmp_path):
    cfg = _cfg("horizon_days=1", "outputs.start_date=2026-01-01")
    run(cfg, tmp_path, resume=False)
    tx = pd.read_parquet(tmp_path / jobs.TRANSACTIONS)
    assert len(tx) == pd.read_parquet(tmp_path / jobs.DAILY)["orders"].sum()
    assert list(tx.columns) == list(TRANSACTION_COLUMNS)


@pytest.mark.parametrize("name", [jobs.TRANSACTIONS, jobs.CUSTOMERS])
def test_finished_checks_the_transaction_files(exported, tmp_path, name):
    cfg, *_ = exported
    run(cfg, tmp_path, resume=False)
    assert jobs.status(tmp_path) == "finished"
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])
    assert jobs.status(tmp_path) == "damaged"
    assert name in jobs.damage(tmp_path)
    (tmp_path / name).unlink()
    assert name in jobs.damage(tmp_path)


@pytest.mark.parametrize("bad", ["2026-13-01", "20260101", "tomorrow", 5])
def test_start_date_must_be_an_iso_date(bad):
    cfg = compose(["horizon_days=30"])
    cfg["outputs"]["start_date"] = bad
    with pytest.raises(ConfigError, match=r"outputs\.start_date = .* allowed: a calendar date"):
        model_kwargs(cfg)
