"""The what-if comparison as forwardable files (issue #25, `sim.viz.pages.whatif_export`), on
a real batch of 2 scenarios × 2 seeds × 30 days: the page is self-contained and shows the
table the page shows, each scenario's command and its horizon in days; the workbook holds the
comparison's and the runs' numbers and defines every column."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from test_export import images, self_contained

from sim.experiment.config import compose
from sim.viz.export import prose
from sim.viz.pages import whatif as w
from sim.viz.pages import whatif_export as x

SEEDS, DAYS = 2, 30


@pytest.fixture(scope="module")
def batch():
    scenarios = [w.Plan(), w.Plan(strategy="premature", team=3)]
    return w.run(scenarios, SEEDS, DAYS, n_jobs=1), scenarios


def frames(data: bytes) -> dict[str, pd.DataFrame]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb:
        head, *rows = ws.iter_rows(values_only=True)
        out[ws.title] = pd.DataFrame(rows, columns=head)
    return out


def test_the_page_shows_the_comparison_self_contained(batch):
    results, scenarios = batch
    page = x.html(results, scenarios, SEEDS, DAYS)
    self_contained(page)
    assert images(page) == 1  # the figure
    table = w.comparison(results, DAYS)
    for row in table.to_dict("records"):
        assert f"<td>{prose(row['scenario'])}</td>" in page
        for col in w.YARDSTICKS:
            assert str(prose(w.cell(row, col))) in page, col
        assert w.cell(row, "profit").count("¥") == 3  # money as the pages write it
    for s in scenarios:
        assert str(prose(w.command(s, SEEDS, DAYS))) in page
    assert f"horizon {DAYS} days" in page and "operators.fixed=3" in page
    assert str(prose(x.SPEND)) in page and "paid ads: " in page
    for label, *_ in w.YARDSTICKS.values():  # every yardstick defined where it is read
        assert f"<dt>{prose(label)}</dt>" in page


def test_the_horizon_left_to_the_config_is_stated_in_days(batch):
    results, scenarios = batch
    plans = x.settings(scenarios, SEEDS, None)
    config = compose([])["horizon_days"]  # configs/config.yaml's, not 0 or "default"
    assert config > DAYS and plans["horizon (days)"].tolist() == [config, config]
    page = x.html(results, scenarios, SEEDS, None)
    assert f"horizon {config:,} days" in page


def test_the_workbook_holds_the_numbers_and_defines_every_column(batch):
    results, scenarios = batch
    book = frames(x.workbook(results, scenarios, SEEDS, DAYS))
    assert list(book) == ["comparison", "runs", "scenarios", "About"]
    table = w.comparison(results, DAYS)
    got = book["comparison"]
    assert got["scenario"].tolist() == table["scenario"].tolist()
    for col in ("profit_p10", "profit_p50", "profit_p90", "p_best"):
        assert got[col].tolist() == pytest.approx(table[col].tolist())
        assert all(isinstance(v, (int, float)) for v in got[col]), col  # numbers, not text
    runs, done = book["runs"], w.runs_table(results)
    assert len(runs) == 2 * SEEDS and runs["seed"].tolist() == done["seed"].tolist()
    for col in ("profit", "acquisition_spend", "users_acquired"):
        assert runs[col].tolist() == pytest.approx(done[col].astype(float).tolist())
    assert book["scenarios"]["horizon (days)"].tolist() == [DAYS, DAYS]
    # what each plan's gates and rules did, as the page's table says it (30 days: staged's 0-1
    # gate, min_days 60, is still undecided; premature's spend rule has nothing matured to cut)
    said = book["scenarios"][w.DECISIONS].tolist()
    assert said == list(w.decided(scenarios, results, DAYS).values())
    assert said[0].startswith("0-1 gate (30-day conversion ≥ 0.08): undecided in 2 of 2")
    assert said[1] == "paid ads spend rule in premature: never cut in 2 of 2"
    about = dict(book["About"].itertuples(index=False))
    for sheet in ("comparison", "runs", "scenarios"):
        for c in book[sheet].columns:
            assert len(about.get(f"{sheet}: {c}") or "") > 12, (sheet, c)
    assert "Unit: yuan" in about["runs: profit"]
    # acquisition spend by channel, in every output (the runs carry it)
    assert runs["spend_paid_ads"].tolist() == pytest.approx(done["spend_paid_ads"].tolist())
    assert got["spend_paid_ads_per_day_p50"].tolist() == pytest.approx(
        table["spend_paid_ads_per_day_p50"].tolist()
    )
    # only the channels that spend, as the page lists them: none of zeros only
    spent = [c for c in runs if c.startswith("spend_")]
    assert spent == [f"spend_{c}" for c in w.spend_channels(done, spent=True)]
    assert all((runs[c] > 0).any() for c in spent)
    idle = set(w.spend_channels(done)) - set(w.spend_channels(done, spent=True))
    assert not any(f"spend_{c}_per_day_p50" in got for c in idle)
