"""The testing_value study's tables (sim.viz.testing_value): the break-even spread at each
horizon, the day testing first overtakes a launch, and the stop-losses that fired, computed
from small tables whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.viz import testing_value as tv


def _summary(medians: dict[float, float]) -> pd.DataFrame:
    return pd.DataFrame({"spread": list(medians), "median": list(medians.values())})


def test_break_even_interpolates_the_last_crossing():
    assert tv.break_even(_summary({0.0: -4.0, 0.5: -2.0, 1.0: 2.0})) == "0.75 (between 0.5 and 1)"
    # a positive median that falls back below zero does not count: the last crossing does
    assert tv.break_even(_summary({0.0: 1.0, 0.5: -1.0, 1.0: 3.0})) == "0.62 (between 0.5 and 1)"
    assert tv.break_even(_summary({0.0: 1.0, 1.0: 2.0})) == "ahead at every spread"
    assert tv.break_even(_summary({0.0: -1.0, 0.25: 2.0, 1.0: 0.0})) == "not up to 1"


def _runs():
    rows = []
    for spread in (0.0, 1.0):
        for g in ("staged", "ten_to_n"):
            for seed in range(3):
                rows.append(("finished", f"{g}/{spread}", g, spread, seed))
    return pd.DataFrame(rows, columns=["status", "group", "strategy", "fit.spread", "seed"])


def test_overtaking_reads_the_testers_side_of_each_pair():
    # the report's pairs put the group that appears first as A: staged at 0, ten_to_n at 1
    over = pd.DataFrame(
        [
            ("staged/0.0", "ten_to_n/0.0", "strategy", 0, 100.0, np.nan),
            ("staged/0.0", "ten_to_n/0.0", "strategy", 1, 300.0, np.nan),
            ("staged/0.0", "ten_to_n/0.0", "strategy", 2, np.nan, 5.0),
            ("ten_to_n/1.0", "staged/1.0", "strategy", 0, np.nan, 50.0),
            ("ten_to_n/1.0", "staged/1.0", "strategy", 1, 0.0, np.nan),
            ("ten_to_n/1.0", "staged/1.0", "strategy", 2, 7.0, np.nan),
            ("staged/0.0", "staged/1.0", "fit.spread", 0, 1.0, np.nan),
        ],
        columns=["a", "b", "differs_in", "seed", "a_overtakes_day", "b_overtakes_day"],
    )
    o = tv.overtaking(_runs(), over).set_index("spread")
    assert o.loc[0.0, "versus"] == "ten_to_n" and o.loc[0.0, "brands"] == 3
    assert o.loc[0.0, "overtaken"] == 2 and o.loc[0.0, "median_day"] == 300.0
    # staged overtook in one brand of three: no median day ("never")
    assert o.loc[1.0, "overtaken"] == 1 and np.isnan(o.loc[1.0, "median_day"])
    text = tv.markdown(_runs().assign(profit=1.0), over)
    assert "| ten_to_n | 0 | 2/3 | 300 |" in text and "| ten_to_n | 1 | 1/3 | never |" in text


def test_stop_losses_count_the_brands_where_buying_stopped():
    t = _runs().assign(**{"rules.stop_loss_day": [None] * 3 + [60.0, None, 80.0] + [None] * 6})
    t.loc[t["strategy"] == "staged", "rules.stop_loss_day"] = None
    s = tv.stop_losses(t)
    assert s.loc[("ten_to_n", 0.0), "stopped"] == 2 and s.loc[("ten_to_n", 0.0), "median_day"] == 70
    assert s.loc[("ten_to_n", 1.0), "stopped"] == 0 and ("staged", 0.0) not in s.index


def test_advantage_axis_spans_the_bands_and_counts_the_brands_beyond():
    from sim.viz import plots

    diffs = pd.DataFrame(
        {
            "versus": "ten_to_n",
            "spread": [0.0] * 10 + [1.0] * 10,
            "seed": list(range(10)) * 2,
            "diff": [float(i) for i in range(10)] + [float(i) for i in range(9)] + [1000.0],
        }
    )
    fig, (ax,) = plots.figure(4, 3)
    plots.advantage_by_spread(ax, diffs, "staged − other")
    lo, hi = ax.get_ylim()
    band_hi = diffs.groupby("spread")["diff"].quantile(0.9).max()  # the outlier's spread: 90.9
    assert lo < 0 < band_hi < hi < 1000.0
    assert "1 brand dots beyond the axis" in ax.get_legend().get_title().get_text()
