"""The strategy map (sim.viz.strategy_map): the winner of each condition × horizon, its paired
margin over the runner-up, ties by construction merged, and 'clear' only beyond the noise —
on small tables whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.viz import plots
from sim.viz import strategy_map as sm


def _table(npv: dict[tuple[str, float], list[float]]) -> pd.DataFrame:
    rows = []
    for (policy, spread), values in npv.items():
        for seed, v in enumerate(values):
            rows.append(dict(status="finished", strategy=policy, seed=seed, npv_365d=v,
                             **{"fit.spread": spread}))  # fmt: skip
    t = pd.DataFrame(rows)
    t.attrs["override_keys"] = ["strategy", "fit.spread", "seed"]
    return t


def test_the_winner_its_paired_margin_and_the_brands_it_won():
    a = [10.0, 20.0, 30.0, 40.0]
    t = _table({
        ("staged", 0.5): a,
        ("launch", 0.5): [v - d for v, d in zip(a, [1, 2, 3, -1], strict=True)],
    })
    c = sm.cells(t).iloc[0]
    assert (c["winner"], c["runner_up"], c["horizon"]) == ("staged", "launch", 365)
    d = np.array([1, 2, 3, -1.0])
    assert c["margin"] == pytest.approx(d.mean())
    assert c["margin_se"] == pytest.approx(d.std(ddof=1) / 2)
    assert (c["won"], c["tied"], c["brands"]) == (3, 0, 4)
    # 1.25 against a standard error of 0.85: within 2 standard errors, not a clear win
    assert not c["clear"]


def test_a_clear_win_per_spread_and_policies_identical_in_every_brand_count_as_one():
    t = _table({
        ("staged", 0.0): [5.0, 6.0, 7.0], ("launch", 0.0): [9.0, 10.0, 11.5],
        ("launch_stoploss", 0.0): [9.0, 10.0, 11.5],  # a stop-loss that never fired
        ("staged", 1.0): [9.0, 10.0, 11.0], ("launch", 1.0): [5.0, 6.0, 7.5],
        ("launch_stoploss", 1.0): [5.0, 6.0, 8.0],
    })  # fmt: skip
    c = sm.cells(t).set_index("fit.spread")
    assert c.loc[0.0, "winner"] == "launch = launch_stoploss"
    assert c.loc[0.0, "runner_up"] == "staged" and c.loc[0.0, "clear"]
    assert c.loc[1.0, "winner"] == "staged" and c.loc[1.0, "runner_up"] == "launch_stoploss"
    assert c.loc[1.0, "margin"] == pytest.approx(np.mean([4.0, 4.0, 3.0]))
    assert c.loc[1.0, "mean:launch"] == pytest.approx(6.1666667)
    text = sm.markdown(t)
    assert "| 0 | launch = launch_stoploss | staged |" in text


def test_brands_missing_a_policy_are_left_out_of_the_pairs_and_unpaired_cells_skipped():
    t = _table({("staged", 0.0): [1.0, 2.0, 3.0], ("launch", 0.0): [0.0, 1.0, np.nan],
                ("staged", 1.0): [1.0, 2.0]})  # fmt: skip
    c = sm.cells(t)
    assert len(c) == 1 and c.iloc[0]["brands"] == 2
    assert sm.conditions(t) == ["fit.spread"]


def test_the_figure_draws_a_panel_per_other_condition(tmp_path):
    t = _table({(p, s): [1.0 + i, 2.0 + i, 3.5] for i, p in enumerate(["a", "b"])
                for s in (0.0, 1.0)})  # fmt: skip
    t = pd.concat([t.assign(market="small"), t.assign(market="large")], ignore_index=True)
    t.attrs["override_keys"] = ["strategy", "fit.spread", "market", "seed"]
    assert sm.conditions(t) == ["fit.spread", "market"]
    fig = sm.figure(t)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Which policy has the highest mean NPV (market large)",
        "Which policy has the highest mean NPV (market small)",
    ]
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


def test_the_policies_winning_most_cells_get_the_most_distinct_colours():
    """`b` wins both cells, `a` none: `b` takes the palette's first colour, `a` the second,
    whichever the sweep listed first."""
    t = _table({("a", 0.0): [1.0, 2.0], ("b", 0.0): [3.0, 4.0],
                ("a", 1.0): [1.0, 2.0], ("b", 1.0): [3.0, 4.0]})  # fmt: skip
    from matplotlib.colors import to_hex

    legend = {h.get_label(): to_hex(h.get_facecolor(), keep_alpha=False)
              for h in sm.figure(t).legends[0].legend_handles}  # fmt: skip
    assert legend["b"] == to_hex(plots.PALETTE[0]) and legend["a"] == to_hex(plots.PALETTE[1])


def test_the_command_refuses_a_sweep_without_a_report(tmp_path, capsys):
    from sim.cli import strategy_map as cli

    with pytest.raises(SystemExit) as e:
        cli.main([str(tmp_path)])
    assert e.value.code == 2 and "summary.parquet: missing" in capsys.readouterr().err


def test_sweeps_read_as_one_table_take_a_missing_key_as_its_default():
    first = _table({("staged", 0.0): [1.0, 2.0], ("launch", 0.0): [2.0, 3.0]})
    later = _table({("staged", 0.0): [0.0, 1.0], ("launch", 0.0): [3.0, 5.0]}).assign(
        market_size=150000.0
    )
    later.attrs["override_keys"] = ["strategy", "fit.spread", "market_size", "seed"]
    t = sm.combined([first, later])
    assert sm.conditions(t) == ["market_size"] and len(t) == 8
    c = sm.cells(t)
    assert len(c) == 2 and sorted(c["margin"]) == [1.0, 3.5]
    # the same runs twice: kept once
    assert len(sm.combined([first, first])) == 4
    # in words: the default as the schema says its null reads, a set value with its unit
    titles = [ax.get_title() for ax in sm.figure(t).axes]
    assert titles[0].endswith("(an unlimited market)"), titles
    assert titles[1].endswith("(market size 150,000 users)"), titles
    assert "| default | launch | staged |" in sm.markdown(t)


def test_a_sweep_over_null_and_a_number_reads_like_one_that_set_the_number():
    keys = ["strategy", "fit.spread", "market_size", "seed"]
    base = _table({("staged", 0.0): [1.0, 2.0], ("launch", 0.0): [2.0, 3.0]})
    a = pd.concat([base.assign(market_size=m) for m in ("null", "150000")], ignore_index=True)
    a["market_size"] = a["market_size"].astype("string")  # as a sweep over null,150000 has it
    a.attrs["override_keys"] = keys
    b = _table({("tuned", 0.0): [5.0, 5.0]}).assign(market_size=150000)
    b.attrs["override_keys"] = keys
    t = sm.combined([a, b])
    assert set(t["market_size"].dropna()) == {150000} and t["market_size"].isna().sum() == 4
    c = sm.cells(t).set_index("market_size", drop=False)
    # the tuned policy meets the others at 150000, not in a group of its own
    assert len(c) == 2 and c["mean:tuned"].notna().sum() == 1
    assert (c["winner"] == "tuned").sum() == 1
