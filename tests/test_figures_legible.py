"""Figures a reader who did not write them can read: `paired.png` has one legend and panels that
share the pairs' axis; a group whose line equals another's is still visible and says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_report_paired import sweep_table

from sim.experiment.comparison import paired
from sim.experiment.sweep import group_keys
from sim.viz import plots, report

LEGEND = {
    "one brand (seed): A − B",
    "no difference",
    "mean difference, 95 % CI of the mean (t-interval)",
}


def drawn_figure(monkeypatch, draw):
    """The figure `draw()` saves, kept instead of written."""
    saved = []
    monkeypatch.setattr(plots, "save", lambda fig, path, **kw: saved.append(fig))
    draw()
    (fig,) = saved
    return fig


@pytest.mark.parametrize(
    ("npv", "shape"), [((), (1, 2)), (("npv_365d", "npv_730d"), (2, 2)), (("npv_365d",), (1, 3))]
)
def test_paired_figure_has_one_legend_and_shares_the_pairs_axis(monkeypatch, tmp_path, npv, shape):
    rng = np.random.default_rng(0)
    rows = [
        dict(strategy=s, seed=seed, profit=rng.normal(), ltv_cac_90d=rng.normal())
        | {c: rng.normal() for c in npv}
        for s in ("staged", "premature", "ten_to_n")
        for seed in range(3)
    ]
    table = sweep_table(rows)
    pairs, _ = paired(table, group_keys(table))
    fig = drawn_figure(monkeypatch, lambda: report.paired_figure(tmp_path, table, pairs))
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == len(npv) + 2 and fig.axes[0].get_subplotspec().get_geometry()[:2] == shape
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    assert len(legends) == 1 and {t.get_text() for t in legends[0].get_texts()} == LEGEND
    assert all(ax.get_title() and "_" not in ax.get_title() for ax in panels)
    assert "Profit over the whole run" in [ax.get_title() for ax in panels]
    ticks = ["staged − premature", "staged − ten_to_n", "premature − ten_to_n"][::-1]
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ticks
    # one axis of pairs, labelled in the first column: a pair is read across a row of panels
    assert all(ax.get_shared_y_axes().joined(panels[0], ax) for ax in panels)


def test_coinciding_lines_are_dashed_and_named_with_colours_kept(monkeypatch):
    days = np.arange(10)
    run = lambda group, job, profit: pd.DataFrame(  # noqa: E731
        dict(group=group, job=job, day=days, profit=profit)
    )
    daily = pd.concat(
        [
            run("ten_to_n", "0", 1.0 * days),
            run("ten_to_n", "1", 2.0 * days),
            run("ten_to_n_stoploss", "2", 1.0 * days),
            run("ten_to_n_stoploss", "3", 2.0 * days),
            run("staged", "4", 0.5 * days),
            run("staged", "5", 3.0 * days),
        ]
    )
    fig, (ax,) = plots.figure(6, 4)
    plots.cumulative_profit(ax, daily)
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    assert list(lines) == ["ten_to_n", "ten_to_n_stoploss (same line as ten_to_n)", "staged"]
    styles = [ln.get_linestyle() for ln in lines.values()]
    assert styles == ["-", "--", "-"]
    col = plots.colours(["ten_to_n", "ten_to_n_stoploss", "staged"])
    assert [ln.get_color() for ln in lines.values()] == list(col.values())
    # one day apart is not the same line
    daily.loc[(daily["job"] == "3") & (daily["day"] == 9), "profit"] += 1
    fig, (ax,) = plots.figure(6, 4)
    plots.cumulative_profit(ax, daily)
    assert "ten_to_n_stoploss" in [ln.get_label() for ln in ax.get_lines()]
    assert {ln.get_linestyle() for ln in ax.get_lines()} == {"-"}


def test_line_figures_keep_the_sweeps_order_of_groups():
    """Job folders "0", "2", "10" are the sweep's order; sorted as text, "10" would come second
    and take the second colour and the legend's second place."""
    daily = pd.DataFrame(
        {
            "job": ["0", "0", "2", "2", "10", "10"],
            "group": ["a", "a", "b", "b", "c", "c"],
            "day": [0, 1] * 3,
            "profit": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "churned": [0.0] * 6,
            "live_users": [10.0] * 6,
        }
    )
    c = plots.cumulative(daily, "profit")
    assert list(dict.fromkeys(c["group"])) == ["a", "b", "c"]
    assert c.loc[c["job"] == "10", "cumulative_profit"].tolist() == [5.0, 11.0]
    assert list(dict.fromkeys(plots.churned_share(daily)["group"])) == ["a", "b", "c"]


def optimize_result(downside: str):
    """A policy search's result as `sim.viz.optimize` reads it, without running one: four
    completed trials (the starting point, a named start, two others) and the fresh brands of
    the chosen policy, the starting point and a preset."""
    from sim.experiment.optimize import OptimizeResult, outcome
    from sim.experiment.optimize_spec import spec_from_dict

    spec = spec_from_dict({
        "name": "fig_test", "parameters": {"operators.salary_per_day": {"low": 1, "high": 2}},
        "objective": {"metric": "npv_30d", "downside": downside}, "fresh_brands": 3,
        "starts": {"cheap": {"operators.salary_per_day": 1}},
        "presets": {"ten_to_n": {"strategy": "ten_to_n"}},
    })  # fmt: skip
    risk = [0.5, 0.3, 0.4, 0.6] if downside == "loss_probability" else [-2e6, -1e6, -5e5, -3e6]
    trials = pd.DataFrame({
        "trial": [0, 1, 2, 3], "state": ["COMPLETE"] * 4, "start": ["start", "cheap", "", ""],
        "mean_npv_30d": [1e6, 2e6, 3e6, 0.5e6], downside: risk,
        "pareto": [False, True, True, False], "chosen": [False, False, True, False],
    })  # fmt: skip
    fresh = {n: outcome(spec, np.array(v) * 1e6) for n, v in
             {"chosen": [1, 2, 3], "start": [0, 1, 2], "ten_to_n": [-1, 2, 4]}.items()}  # fmt: skip
    return OptimizeResult(spec, [], {}, {}, {}, 2, trials, {}, fresh, {}, 0.0, [],
                          starts={"start": {}, "cheap": {}})  # fmt: skip


def legend_texts(ax) -> set[str]:
    return {t.get_text() for t in ax.get_legend().get_texts()}


@pytest.mark.parametrize("downside", ["loss_probability", "cvar10"])
def test_policy_search_figures_say_what_and_in_which_units(downside):
    """`fresh.png`: one column per policy named as in the report, the brands joined, yuan in M;
    `front.png`: the front, the starting points and the chosen trial named in the legend, the
    downside's unit on its axis. Titles are sentences (no code names with underscores)."""
    from sim.viz import optimize as viz

    result = optimize_result(downside)
    (ax,) = viz.draw_fresh(result).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "chosen", "starting point", "preset ten_to_n"]  # fmt: skip
    assert ax.get_ylabel() == "NPV at 30 days (M yuan)" and ax.get_xlabel() == "policy"
    assert legend_texts(ax) == {"one brand (seed), joined across policies",
                                "mean over the brands", "break-even (0)"}  # fmt: skip
    assert "3 fresh brands" in ax.get_title() and "_" not in ax.get_title()
    # the per-brand values, in M yuan: brand 0 of the preset is -1 M
    assert -1.0 in np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    (ax,) = viz.draw_front(result).axes
    assert legend_texts(ax) == {"a completed trial", "Pareto front (no trial better on both)",
                                "chosen (trial 2)", "starting point (trial 0)",
                                "start cheap (trial 1)"}  # fmt: skip
    unit = "%" if downside == "loss_probability" else "M yuan"
    assert ax.get_xlabel().endswith(f"({unit})") and ax.get_ylabel().endswith("(M yuan)")
    assert ax.get_title() and "_" not in ax.get_title()
    chosen = [c for c in ax.collections if c.get_label() == "chosen (trial 2)"][0]
    assert chosen.get_offsets()[0].tolist() == ([40.0, 3.0] if unit == "%" else [-0.5, 3.0])


def test_thousands_ticks_keep_the_decimals_they_need():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    plots.thousands(ax.yaxis)
    fmt = ax.yaxis.get_major_formatter()
    ticks = [0, 950, 2_500, 7_500, 12_000, 1_250_000, 2_000_000, -2_500]
    assert [fmt(v, 0) for v in ticks] == ["0", "950", "2.5k", "7.5k", "12k", "1.25M", "2M", "-2.5k"]
