"""Paired comparisons in the sweep report: runs of two groups with the same seed face the same
brand, so groups that differ in one override are compared seed by seed (`sim.viz.report.paired`).
Synthetic sweep tables whose answers are known exactly, then one tiny real sweep end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiment.comparison import PAIRED_COLUMNS, paired
from sim.experiment.sweep import add_groups, group_keys
from sim.viz import plots
from sim.viz.report import paired_lines, write_paired

NAN = np.nan
# as tests/test_sweep.py: staged, premature × seeds 0, 1; 40 days, 20 users a day in phase one
TINY_SWEEP = ["strategy=staged,premature", "seed=0,1", "horizon_days=40"]
TINY_SWEEP += ["strategy.phases.0.daily_users=20"]


def sweep_table(rows: list[dict], keys=("strategy", "seed", "horizon_days")) -> pd.DataFrame:
    """A collected sweep table (as `collect` gives), grouped by the real `group_keys`."""
    table = pd.DataFrame(
        [
            {"job": str(i), "status": "finished", "horizon_days": 400, **r}
            for i, r in enumerate(rows)
        ]
    )
    table.attrs["override_keys"] = list(keys)
    return add_groups(table, group_keys(table))


def two_strategies(a_profit, b_profit, a_ratio=None, b_ratio=None) -> pd.DataFrame:
    a_ratio = a_ratio or [1.0] * len(a_profit)
    b_ratio = b_ratio or [1.0] * len(b_profit)
    rows = []
    for strategy, profit, ratio in (
        ("staged", a_profit, a_ratio),
        ("premature", b_profit, b_ratio),
    ):
        for seed, (p, r) in enumerate(zip(profit, ratio, strict=True)):
            # ltv_cac_180d is a longer horizon: the shortest one (90) is the yardstick
            rows.append(
                dict(strategy=strategy, seed=seed, profit=p, ltv_cac_90d=r, ltv_cac_180d=-1.0)
            )
    return sweep_table(rows)


def pair_rows(table):
    frame, refused = paired(table, group_keys(table))
    return frame.set_index("yardstick"), refused


A_PROFIT, B_PROFIT = [10.0, 20.0, 30.0, 40.0], [5.0, 25.0, 20.0, 30.0]  # A − B: 5, -5, 10, 10
A_RATIO, B_RATIO = [1.0, 2.0, 1.5, NAN], [1.0, 1.0, 2.0, 0.5]  # seed 3 unpaired: 0, 1, -0.5


def test_win_rate_mean_difference_interval_and_spread_are_exact():
    frame, refused = pair_rows(two_strategies(A_PROFIT, B_PROFIT, A_RATIO, B_RATIO))
    assert refused == [] and list(frame.index) == ["profit", "ltv_cac_90d"]
    assert (frame["context"] == "").all()  # only strategy varies
    p = frame.loc["profit"]
    assert (p["a"], p["b"], p["differs_in"], p["a_level"], p["b_level"]) == (
        "staged",
        "premature",
        "strategy",
        "staged",
        "premature",
    )
    assert (p["brands"], p["a_wins"], p["b_wins"], p["ties"], p["seeds"]) == (4, 3, 1, 0, "0,1,2,3")
    assert p["mean_diff"] == pytest.approx(5.0)
    ci = stats.ttest_rel(A_PROFIT, B_PROFIT).confidence_interval(0.95)
    assert (p["ci_low"], p["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert p["ci_low"] < 0 < p["ci_high"]  # 3 of 4 wins, yet the interval spans zero
    pa, pb = np.percentile(A_PROFIT, [10, 50, 90]), np.percentile(B_PROFIT, [10, 50, 90])
    assert [p["a_p10"], p["a_p50"], p["a_p90"]] == pytest.approx(pa)
    assert [p["b_p10"], p["b_p50"], p["b_p90"]] == pytest.approx(pb)
    assert p["spread_ratio"] == pytest.approx(19 / 24)  # (28.5 - 9.5) / (37 - 13)
    assert p["sentence"] == (
        "staged beat premature in 3 of 4 brands; premature's profit spread "
        "(10th–90th percentile range) is 0.79 times staged's."
    )

    r = frame.loc["ltv_cac_90d"]  # a tie, and seed 3 dropped: no LTV/CAC for staged there
    assert (r["brands"], r["a_wins"], r["b_wins"], r["ties"], r["seeds"]) == (3, 1, 1, 1, "0,1,2")
    ci = stats.ttest_rel(A_RATIO[:3], B_RATIO[:3]).confidence_interval(0.95)
    assert (r["mean_diff"], r["ci_low"], r["ci_high"]) == pytest.approx((1 / 6, ci.low, ci.high))
    assert r["sentence"].startswith(
        "On LTV/CAC at 90 days, staged beat premature in 1 of 3 brands (1 tie); "
    )


def test_zero_spread_is_said_not_divided_by():
    frame, _ = pair_rows(two_strategies([7.0] * 4, B_PROFIT))
    p = frame.loc["profit"]
    assert (p["a_wins"], p["b_wins"]) == (1, 3) and np.isnan(p["spread_ratio"])
    assert p["sentence"] == (
        "staged beat premature in 1 of 4 brands; staged's profit is the same in every brand "
        "(zero spread), so premature's spread is no multiple of it."
    )
    frame, _ = pair_rows(two_strategies([7.0] * 3, [7.0] * 3))
    p = frame.loc["profit"]
    assert (p["a_wins"], p["b_wins"], p["ties"], p["mean_diff"]) == (0, 0, 3, 0.0)
    assert "neither's profit spreads" in p["sentence"] and "3 ties" in p["sentence"]


def test_one_brand_and_no_brand():
    frame, _ = pair_rows(two_strategies([3.0], [1.0], [NAN], [2.0]))
    p, r = frame.loc["profit"], frame.loc["ltv_cac_90d"]
    assert (p["brands"], p["mean_diff"]) == (1, 2.0) and np.isnan(p["ci_low"])
    assert p["sentence"].endswith("in 1 of 1 brands; with one brand there is no spread to compare.")
    assert r["brands"] == 0 and np.isnan(r["mean_diff"]) and np.isnan(r["a_p50"])
    assert (
        r["sentence"]
        == "On LTV/CAC at 90 days, no brand has a value for both staged and premature."
    )
    text = "\n".join(paired_lines(frame.reset_index(), [], 2))
    assert "| 2 (one brand: no CI) |" in text and "| 0 | 0 | 0 | 0 | – | – | – |" in text


def test_groups_that_differ_in_two_overrides_are_not_paired():
    keys = ("strategy", "pool", "seed")
    diagonal = [
        dict(strategy=s, pool=p, seed=seed, profit=float(seed))
        for s, p in (("staged", "nurturing"), ("premature", "conversion"))
        for seed in (0, 1)
    ]
    frame, refused = paired(t := sweep_table(diagonal, keys), group_keys(t))
    assert frame.empty and list(frame.columns) == list(PAIRED_COLUMNS)
    assert refused == [
        ("strategy=staged, pool=nurturing", "strategy=premature, pool=conversion",
         "they differ in 2 overrides (strategy, pool)")
    ]  # fmt: skip
    text = "\n".join(paired_lines(frame, refused, 2))
    assert "Not paired: 1 pair of groups that differ in more than one override" in text
    assert "beat" not in text and "| A | B |" not in text

    # the full 2 × 2: the four pairs that differ in one override are paired, the two diagonals not
    full = [
        dict(strategy=s, pool=p, seed=seed, profit=float(seed + 10 * (s == "staged")))
        for s in ("staged", "premature")
        for p in ("nurturing", "conversion")
        for seed in (0, 1)
    ]
    frame, refused = paired(t := sweep_table(full, keys), group_keys(t))
    profit = frame[frame["yardstick"] == "profit"]
    assert sorted(profit["differs_in"]) == ["pool", "pool", "strategy", "strategy"]
    assert len(refused) == 2 and all("2 overrides" in why for *_, why in refused)
    by_strategy = profit[profit["differs_in"] == "strategy"]
    assert (by_strategy["mean_diff"] == 10.0).all() and (by_strategy["a_wins"] == 2).all()
    assert by_strategy["context"].tolist() == ["pool=nurturing", "pool=conversion"]
    assert by_strategy["sentence"].iloc[0] == (
        "Within pool=nurturing, strategy=staged beat strategy=premature in 2 of 2 brands; "
        "strategy=premature's profit spread (10th–90th percentile range) is 1.00 times "
        "strategy=staged's."
    )
    text = "\n".join(paired_lines(frame, refused, 4))
    assert "Not paired: 2 pairs of groups" in text
    assert "- **strategy=staged, pool=nurturing vs strategy=premature, pool=nurturing**" in text


def test_groups_without_a_common_seed_are_not_paired():
    rows = [dict(strategy="staged", seed=s, profit=1.0) for s in (0, 1)]
    rows += [dict(strategy="premature", seed=s, profit=2.0) for s in (2, 3)]
    frame, refused = paired(t := sweep_table(rows), group_keys(t))
    assert frame.empty and refused == [("staged", "premature", "they have no seed in common")]
    assert "Not paired: staged vs premature: they have no seed in common." in paired_lines(
        frame, refused, 2
    )
    rows += [dict(strategy="staged", seed=2, profit=1.0)] * 2  # two runs of staged with seed 2
    frame, refused = paired(t := sweep_table(rows), group_keys(t))
    assert frame.empty and refused == [
        ("staged", "premature", "seed 2 has more than one run in staged")
    ]


def test_paired_files_are_written_atomically_and_agree(tmp_path):
    frame, _ = paired(t := two_strategies(A_PROFIT, B_PROFIT), group_keys(t))
    write_paired(tmp_path, frame)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "paired.parquet"), frame)
    csv = pd.read_csv(tmp_path / "paired.csv", dtype={"seeds": str})
    assert csv["sentence"].tolist() == frame["sentence"].tolist()
    assert csv["mean_diff"].tolist() == pytest.approx(frame["mean_diff"].tolist(), nan_ok=True)
    assert not list(tmp_path.glob("*.partial"))


def test_paired_differences_figure_is_labelled():
    diffs = pd.DataFrame({"pair": "a − b", "seed": [0, 1, 2], "diff": [1.0, -2.0, 4.0]})
    summary = pd.DataFrame({"pair": ["a − b"], "mean_diff": [1.0], "ci_low": [-5], "ci_high": [7]})
    fig, (ax,) = plots.figure(6, 3)
    plots.paired_differences(ax, diffs, summary, "profit, A − B (yuan)")
    assert ax.get_xlabel() == "profit, A − B (yuan)" and "A − B" in ax.get_ylabel()
    assert set(ax.get_legend().get_texts()[i].get_text() for i in range(3)) == {
        "one brand (seed): A − B",
        "no difference",
        "mean difference, 95 % CI of the mean (t-interval)",
    }
    (mean,) = [c for c in ax.collections if c.get_offsets().shape[0] == 3]  # the three seeds
    assert sorted(mean.get_offsets()[:, 0]) == [-2.0, 1.0, 4.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a − b"]


def test_tiny_sweep_report_has_the_paired_section(tmp_path):
    exe = Path(sys.executable).parent / "privsim"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sim"]
    r = subprocess.run(
        [*cmd, "-m", *TINY_SWEEP, f"hydra.sweep.dir={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "report.md").read_text()
    assert "## Paired comparisons (same seed = same brand)" in text
    assert "- **staged vs premature** (differ in `strategy`): staged beat premature in " in text
    assert " of 2 brands; " in text and "![Paired differences" in text
    summary = pd.read_parquet(tmp_path / "summary.parquet").set_index(["strategy", "seed"])
    frame = pd.read_parquet(tmp_path / "paired.parquet").set_index("yardstick")
    assert list(frame.index) == ["profit", "ltv_cac_90d"]
    p = frame.loc["profit"]
    diffs = [
        summary.at[("staged", s), "profit"] - summary.at[("premature", s), "profit"] for s in (0, 1)
    ]
    assert p["brands"] == 2 and p["mean_diff"] == pytest.approx(np.mean(diffs))
    assert p["a_wins"] == sum(d > 0 for d in diffs) and f"in {p['a_wins']} of 2 brands" in text
    assert (tmp_path / "paired.png").stat().st_size > 10_000
    assert pd.read_csv(tmp_path / "paired.csv")["yardstick"].tolist() == ["profit", "ltv_cac_90d"]
    # 40 days: nobody has lived 90, so there is no LTV/CAC to pair, and the report says so
    assert frame.loc["ltv_cac_90d", "brands"] == 0
    assert "On LTV/CAC at 90 days, no brand has a value for both staged and premature." in text
    # the multi-year section leads (issue #23): 40 days reach no NPV horizon, and each brand's
    # overtaking agrees with which strategy ended ahead on profit
    assert text.index("## Multi-year yardsticks") < text.index("## Results by group")
    over = pd.read_csv(tmp_path / "overtakes.csv").set_index("seed")
    assert list(over.index) == [0, 1] and (over["days"] == 40).all()
    for s, d in zip((0, 1), diffs, strict=True):
        a, b = over.loc[s, "a_overtakes_day"], over.loc[s, "b_overtakes_day"]
        assert (a >= 0) == (d > 0) and (b >= 0) == (d < 0)
    assert not list(tmp_path.glob("*.partial"))
