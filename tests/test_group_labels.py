"""Sweep groups say what they are (issue #25): a sweep that varies one key labels its groups
`paid ads 1,000 yuan/day`, not `1000`, in report.md, report.html, the workbook, paired.csv and
every figure, while the `group` column keeps its values (other code keys on them)."""

from __future__ import annotations

import matplotlib.text
import pandas as pd
import pytest
from test_export import sheet
from test_sweep import TINY, privsim_m

from sim.viz import plots, sweep_export
from sim.viz import report as rep
from sim.viz.labels import level_label

KEY = "channels.paid_ads.budget_per_day"
LABELS = {"1000": "paid ads 1,000 yuan/day", "2000": "paid ads 2,000 yuan/day"}


def test_levels_name_their_key():
    assert level_label(KEY, "1000") == LABELS["1000"]
    assert level_label("++channels.kol.volume_scale", "2") == "KOL ×2"
    assert level_label("initial_users", "5000") == "5,000 existing customers"
    assert level_label("horizon_days", "365") == "365-day horizon"
    assert level_label("fit.spread", "0.5") == "fit spread 0.5"
    assert level_label("strategy", "staged") == "staged"
    # no words of its own: the key itself, never a bare value
    assert level_label("strategy.phases.0.team_size", "3") == "strategy.phases.0.team_size=3"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("budget")
    r = privsim_m([f"{KEY}=1000,2000", "seed=0,1", *TINY], d)
    assert r.returncode == 0, r.stderr
    return d


def test_a_one_key_sweep_names_the_key_in_tables(sweep):
    summary = pd.read_csv(sweep / rep.SUMMARY_CSV, dtype={"group": str})
    assert sorted(set(summary["group"])) == ["1000", "2000"]  # the group values stay
    assert dict(zip(summary["group"], summary["group_label"], strict=True)) == LABELS
    md = (sweep / rep.REPORT).read_text()
    html = (sweep / sweep_export.HTML).read_text()
    for label in LABELS.values():
        assert f"| {label} | 2 |" in md  # NPV and results tables: group, runs
        assert f"**{label}**" in md  # key assumptions
        assert label in html
    assert f"**{LABELS['1000']} vs {LABELS['2000']}**" in md  # the paired comparison
    rows = [line.split(" | ")[0] for line in md.splitlines() if line.startswith("| ")]
    assert not {"| 1000", "| 2000"} & set(rows)  # no row named by a bare value

    paired = pd.read_csv(sweep / rep.PAIRED_CSV, dtype={"a": str, "b": str})
    assert set(paired["a_label"]) | set(paired["b_label"]) == set(LABELS.values())
    assert paired["sentence"].str.contains("paid ads 1,000 yuan/day beat|no brand").all()

    book = sweep / sweep_export.WORKBOOK
    for name in ("runs", "groups", "daily by group", "cohorts by group"):
        got = sheet(book, name)
        assert set(got["group_label"]) == set(LABELS.values()), name
    about = sheet(book, "About")
    assert about.iloc[:, 0].str.contains("group_label").any()


def test_a_one_key_sweeps_figures_name_the_key(sweep, tmp_path, monkeypatch):
    texts: dict[str, set[str]] = {}

    def record(fig, path, **kw):
        fig.draw_without_rendering()  # tick labels are made as the figure is drawn
        texts[path.name] = {t.get_text() for t in fig.findobj(matplotlib.text.Text)}

    monkeypatch.setattr(plots, "save", record)
    table, keys = rep.read_sweep(sweep)
    assert keys == [KEY]
    drawn = rep.sweep_figures(sweep, table, keys, tmp_path)
    assert rep.paired_figure(tmp_path, table, rep.paired(table, keys)[0])
    assert set(texts) == {*drawn, "paired.png"}
    for name in ("ltv_cac.png", "funnel.png", "cumulative_profit.png"):
        assert set(LABELS.values()) <= texts[name], name
    assert f"{LABELS['1000']} − {LABELS['2000']}" in texts["paired.png"]
    for name, found in texts.items():
        assert not {"1000", "2000"} & found, name  # a bare value as a label
