"""The sweep's forwardable files (issue #25, `sim.viz.sweep_export`): a tiny real sweep's
`report.html` is self-contained and holds every table value of `report.md` and every figure;
`workbook.xlsx` holds the CSVs' numbers, the daily medians its runs give, and a definition of
every column. (A report whose export fails leaves the previous files whole:
tests/test_report_safety.py.)"""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
from test_export import images, self_contained, sheet
from test_sweep import SWEEP, privsim_m

from sim.viz import report as rep
from sim.viz import sweep_export
from sim.viz.export import markdown_sections, prose


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("xsweep")
    r = privsim_m(SWEEP, d)
    assert r.returncode == 0, r.stderr
    return d


def test_the_html_report_is_the_markdown_report_self_contained(sweep):
    page = (sweep / sweep_export.HTML).read_text()
    self_contained(page)
    pngs = [f for f in rep.FIGURES if (sweep / f).exists()]
    assert len(pngs) == 5 and images(page) == len(pngs)
    title, sections = markdown_sections((sweep / rep.REPORT).read_text(), sweep)
    assert f"<h1>{prose(title)}</h1>" in page
    tables = [s.table for s in sections if s.table is not None]
    assert len(tables) >= 5  # NPV, overtaking, results, ranking, paired
    for t in tables:
        for v in [*t.columns, *t.to_numpy().ravel()]:
            assert str(prose(v)) in page, v
    assert "30-day conversion" in page and "<dt>profit (yuan)</dt>" in page  # the glossary


def test_the_workbook_holds_the_csvs_numbers(sweep):
    book = sweep / sweep_export.WORKBOOK
    assert openpyxl.load_workbook(book).sheetnames == [
        "runs", "groups", "paired", "daily by group", "cohorts by group", "About",
    ]  # fmt: skip
    summary = pd.read_csv(sweep / rep.SUMMARY_CSV, dtype={"job": str})
    runs = sheet(book, "runs")
    assert list(runs["job"]) == list(summary["job"]) and (runs["days"] == 40).all()
    for col in runs.columns.drop(["job", "days"]):
        if pd.api.types.is_numeric_dtype(summary[col]):  # an empty cell is NaN
            got = runs[col].astype(float).tolist()
            assert got == pytest.approx(summary[col].tolist(), nan_ok=True), col
        else:
            assert runs[col].tolist() == summary[col].tolist(), col
    assert isinstance(runs["profit"].iloc[0], float)  # a number, not text

    paired = sheet(book, "paired")
    csv = pd.read_csv(sweep / rep.PAIRED_CSV)
    for col in ("a_wins", "mean_diff", "ci_low", "a_p50", "spread_ratio"):
        assert paired[col].astype(float).tolist() == pytest.approx(csv[col].tolist(), nan_ok=True)

    groups = sheet(book, "groups").set_index(["group", "yardstick"])
    for g, sub in summary.groupby("group"):
        x = sub["profit"].to_numpy()
        half = 12.706 * x.std(ddof=1) / np.sqrt(2)  # t(0.975, 1 df): two seeds a group
        row = groups.loc[(g, "profit")]
        assert (row["seeds"], row["mean"]) == (2, pytest.approx(x.mean()))
        assert row["ci95_high"] - row["mean"] == pytest.approx(half, rel=1e-4)


def test_daily_by_group_is_the_median_of_the_runs(sweep):
    daily = sheet(sweep / sweep_export.WORKBOOK, "daily by group")
    summary = pd.read_csv(sweep / rep.SUMMARY_CSV, dtype={"job": str})
    jobs = summary.loc[summary["group"] == "staged", "job"]
    runs = [pd.read_parquet(sweep / j / "daily.parquet") for j in jobs]
    mine = daily[daily["group"] == "staged"].set_index("day")
    assert len(mine) == 40 and (mine["seeds"] == 2).all()
    for col in ("live_users", "acquisition_spend", "profit"):
        assert mine[col].tolist() == pytest.approx(np.median([r[col] for r in runs], axis=0))
    cum = np.median([r["profit"].cumsum() for r in runs], axis=0)
    assert mine["cumulative_profit"].tolist() == pytest.approx(cum)


def test_every_column_of_the_workbook_is_defined(sweep):
    book = openpyxl.load_workbook(sweep / sweep_export.WORKBOOK)
    about = {k: v for k, v in book["About"].iter_rows(min_row=2, values_only=True)}
    for ws in book.worksheets[:-1]:
        for c in next(ws.iter_rows(max_row=1, values_only=True)):
            assert len(about.get(f"{ws.title}: {c}") or "") > 12, (ws.title, c)
    assert "Unit: yuan" in about["runs: profit"] and "1094" in about["runs: npv_1095d"]
