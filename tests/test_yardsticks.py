"""The multi-year yardsticks (issue #23): NPV at fixed horizons from a run's own daily profit,
and the day one strategy's cumulative profit overtakes another's, per brand and its median."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiment.comparison import overtake_day, overtake_median, overtakes, paired
from sim.experiment.sweep import add_groups, group_keys
from sim.viz.report import write_report

from conftest import build

NAN = np.nan


# --- NPV --------------------------------------------------------------------------------------


def test_npv_is_the_daily_profit_discounted_by_hand_and_nan_beyond_the_run():
    """NPV at H = sum over days t < H of profit_t / (1 + r)^(t / 365), recomputed with a Python
    loop from the run's own daily table; a horizon one day past the run is NaN, not an
    extrapolation; the run's last day itself is available."""
    m = build({"economics.npv_horizons_days": [10, 40, 41]}, seed=0, horizon_days=40).run()
    s = m.summary()
    profit = m.daily()["profit"].to_list()
    assert len(profit) == 40 and any(p != 0 for p in profit)
    r = m.params.economics.discount_rate_annual
    assert r > 0  # else discounting is not tested
    for h in (10, 40):
        hand = sum(profit[t] / (1.0 + r) ** (t / 365.0) for t in range(h))
        assert s[f"npv_{h}d"] == pytest.approx(hand, rel=1e-12, abs=1e-6)
    assert np.isnan(s["npv_41d"])
    # discounting is visible: the undiscounted 40-day sum is the run's profit, and differs
    assert s["profit"] == pytest.approx(sum(profit), rel=1e-12)
    assert s["npv_40d"] != pytest.approx(s["profit"], rel=1e-9)


def test_npv_at_a_zero_rate_is_the_cumulative_profit():
    m = build(
        {"economics.npv_horizons_days": [20], "economics.discount_rate_annual": 0.0},
        seed=1,
        horizon_days=20,
    ).run()
    s = m.summary()
    assert s["npv_20d"] == pytest.approx(s["profit"], rel=1e-12)


def test_default_npv_horizons_are_one_two_and_three_years_and_nan_in_a_shorter_run():
    s = build(seed=0, horizon_days=30).run().summary()
    assert [k for k in s if k.startswith("npv_")] == ["npv_365d", "npv_730d", "npv_1095d"]
    assert all(np.isnan(s[k]) for k in ("npv_365d", "npv_730d", "npv_1095d"))


# --- overtaking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, day",
    [
        ([0, 1, 2, 3, 4], [2, 2, 2, 2, 2], 3.0),  # crosses once: above from day 3 on
        ([5, 6, 7], [1, 2, 3], 0.0),  # ahead on every day
        ([0, 1, 1], [2, 2, 2], NAN),  # never crosses
        ([0, 3, 3, 1], [2, 2, 2, 2], NAN),  # crosses, then crosses back: a lead lost
        ([0, 3, 1, 3, 4], [2, 2, 2, 2, 2], 3.0),  # crosses, back, again: the last crossing
        ([0, 1, 2, 2], [2, 2, 2, 2], NAN),  # catches up but only ties: not ahead
        ([0, 3, 2, 3], [2, 2, 2, 2], 3.0),  # a tie on day 2 interrupts the lead
    ],
)
def test_overtake_day_on_constructed_series(a, b, day):
    got = overtake_day(np.array(a, float), np.array(b, float))
    assert (np.isnan(got) and np.isnan(day)) or got == day


def test_at_most_one_of_two_overtakes_the_other():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = rng.normal(size=(2, 30)).cumsum(axis=1)
        da, db = overtake_day(a, b), overtake_day(b, a)
        assert np.isnan(da) or np.isnan(db)
        assert np.isnan(da) == (a[-1] <= b[-1])


@pytest.mark.parametrize(
    "days, median",
    [
        ([10, 30, 20], 20.0),
        ([10, 20, NAN], 20.0),  # never counts as later than any day
        ([10, NAN, NAN], NAN),  # happened in fewer than half the brands
        ([10, NAN], NAN),  # in exactly half: not more than half
        ([10, 20, 30, NAN], 25.0),
        ([], NAN),
    ],
)
def test_overtake_median_counts_never_as_latest(days, median):
    got = overtake_median(days)
    assert (np.isnan(got) and np.isnan(median)) or got == median


def synthetic_sweep():
    """staged and premature on seeds 0-2 (listed in different orders: pairing is by seed, not
    by position), with known daily profit series, as `collect` / `load_series` give them."""
    series = {  # (strategy, seed) -> daily profit
        ("staged", 0): [-5, -5, 10, 10],  # cum -5 -10 0 10
        ("staged", 1): [-5, 0, 0, 0],  # cum -5 -5 -5 -5
        ("staged", 2): [1, 1, 1, 1],  # cum 1 2 3 4
        ("premature", 2): [0, 0, 0, 0],
        ("premature", 0): [-1, -1, -1, -1],  # cum -1 -2 -3 -4: staged ahead from day 2
        ("premature", 1): [-1, -1, -1, -1],  # cum -1 -2 -3 -4: premature ahead from day 0
    }
    rows, daily = [], []
    for job, ((strategy, seed), p) in enumerate(series.items()):
        cum = np.cumsum(p)
        npv = dict(npv_2d=float(cum[1]), npv_4d=float(cum[3]), npv_8d=NAN)  # as if r = 0
        rows.append(
            dict(job=str(job), status="finished", strategy=strategy, seed=seed, profit=cum[-1])
            | npv
        )
        daily.append(pd.DataFrame(dict(day=range(4), profit=p, job=str(job))))
    table = pd.DataFrame(rows)
    table.attrs["override_keys"] = ["strategy", "seed"]
    table = add_groups(table, group_keys(table))
    return table, pd.concat(daily, ignore_index=True)


def test_overtakes_pairs_brands_by_seed():
    table, daily = synthetic_sweep()
    keys = group_keys(table)
    over = overtakes(table, daily, keys).set_index("seed")
    assert list(over.index) == [0, 1, 2]
    assert (over["a"] == "staged").all() and (over["b"] == "premature").all()
    assert (over["days"] == 4).all()
    assert over.loc[0, "a_overtakes_day"] == 2 and np.isnan(over.loc[0, "b_overtakes_day"])
    assert np.isnan(over.loc[1, "a_overtakes_day"]) and over.loc[1, "b_overtakes_day"] == 0
    assert over.loc[2, "a_overtakes_day"] == 0
    assert overtake_median(over["a_overtakes_day"]) == 2.0  # days 2, never, 0: 0 2 never


def test_report_leads_with_npv_paired_and_overtaking(tmp_path):
    table, daily = synthetic_sweep()
    keys = group_keys(table)
    pairs = paired(table, keys)
    over = overtakes(table, daily, keys)
    write_report(tmp_path, table, keys, [], pairs, over=over)
    text = (tmp_path / "report.md").read_text()
    head = "## Multi-year yardsticks: NPV and overtaking"
    assert head in text and text.index(head) < text.index("## Results by group")
    assert "| group | runs | NPV at 2 days (yuan) | NPV at 4 days (yuan) | NPV at 8 days" in text
    # staged's NPV at 4 days over seeds 0-2: 10, -5, 4; no run lived 8 days: "–"
    x = np.array([10.0, -5.0, 4.0])
    half = stats.t.ppf(0.975, 2) * x.std(ddof=1) / np.sqrt(3)
    assert "| staged | 3 | " in text and f"{x.mean():,.0f} ± {half:,.0f} | – |" in text
    # paired by seed: mean A − B (95 % CI); wins. NPV at 8 days is not paired (no values)
    assert "### NPV, paired by brand" in text and "A − B, NPV at 8 days" not in text
    cells = []
    for d in ([-10 + 2, -5 + 2, 2 - 0], [10 + 4, -5 + 4, 4 - 0]):  # seeds 0-2 at 2 and 4 days
        d = np.array(d, float)
        h = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
        m = d.mean()
        cells.append(f"{m:,.0f} ({m - h:,.0f} to {m + h:,.0f}); {(d > 0).sum()} of 3")
    assert f"| staged | premature | {cells[0]} | {cells[1]} |" in text
    # A overtook in 2 brands (days 2, 0; never in one: median 2), B in 1 (median: never)
    row = "| staged | premature | 4 | 3 | 2 | 2 | 1 | never | "
    assert row + "0: A from 2, 1: B from 0, 2: A from 0 |" in text
    # the later paired section keeps profit and leaves NPV to the section above
    later = text[text.index("## Paired comparisons") :]
    assert "profit (yuan)" in later and "NPV at" not in later
