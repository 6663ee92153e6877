"""The live page's data functions, without a browser: controls → configs (the CLI's), the pair
of models, the plotted series and the "what happened" text."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.core import metrics, series
from sim.core.metrics import CONVERSION_WINDOW, converted_within
from sim.core.params import IMPORTED
from sim.experiment.config import compose, group_options
from sim.viz import plots
from sim.viz.pages import figures, headline, lesson, story
from sim.viz.pages import pair as pairs


@pytest.fixture(scope="module")
def pair70():
    """The default comparison (staged vs premature, seed 0) after 70 days."""
    return pairs.advance(pairs.build_pair(), 70)


# --- controls -> config ----------------------------------------------------------------------


def test_default_controls_are_the_cli_defaults():
    cfg, ov = pairs.arm_config(pairs.Controls(), "staged")
    assert ov == ["strategy=staged", "pool=nurturing", "business=high_freq_high_margin", "seed=0"]
    assert cfg == compose(["strategy=staged"])
    assert pairs.cli_command(ov) == "privsim " + " ".join(ov)


def test_each_control_maps_to_a_config_key():
    c = pairs.Controls(
        operators=4,
        ad_volume=2.0,
        users_cap=200,
        seed=7,
        pool="conversion",
        business="low_freq_high_margin",
        experiment="premature_scaling",
    )
    cfg, ov = pairs.arm_config(c, "premature")
    assert cfg == compose(ov)  # the page's config is exactly the CLI's for these overrides
    assert ov[0] == "experiment=premature_scaling"
    assert cfg["operators"]["fixed"] == 4
    assert cfg["channels"]["paid_ads"]["volume_scale"] == 2.0
    assert cfg["market_size"] == 200_000 and cfg["seed"] == 7
    assert cfg["pool"]["name"] == "conversion" and cfg["business"]["name"] == "low_freq_high_margin"


def test_fission_share_rescales_the_other_channels():
    cfg, _ = pairs.arm_config(pairs.Controls(fission_share=0.5), "staged")
    base = compose(["strategy=staged"])
    for new, old in zip(cfg["strategy"]["phases"], base["strategy"]["phases"], strict=True):
        if "fission" not in old["channel_mix"]:
            assert new["channel_mix"] == old["channel_mix"]  # phases without fission untouched
            continue
        mix, mix0 = new["channel_mix"], old["channel_mix"]
        assert mix["fission"] == pytest.approx(0.5)
        assert sum(mix.values()) == pytest.approx(1.0, abs=1e-9)
        assert mix["paid_ads"] / mix["kol"] == pytest.approx(mix0["paid_ads"] / mix0["kol"])


def test_koc_control_overrides_every_phase():
    on, _ = pairs.arm_config(pairs.Controls(koc="on"), "premature")
    off, _ = pairs.arm_config(pairs.Controls(koc="off"), "staged")
    planned, ov = pairs.arm_config(pairs.Controls(), "staged")
    assert all(p["koc_programme"] for p in on["strategy"]["phases"])
    assert not any(p["koc_programme"] for p in off["strategy"]["phases"])
    assert [p["koc_programme"] for p in planned["strategy"]["phases"]] == [False, True, True]
    with pytest.raises(ValueError, match="koc"):
        pairs.base_overrides(pairs.Controls(koc="maybe"), "staged")


def test_options_list_the_config_groups():
    strategies = group_options("strategy")
    assert {"staged", "premature", "zero_to_one", "one_to_ten", "ten_to_n"} <= set(strategies)
    assert "premature_scaling" in group_options("experiment")
    assert set(group_options("pool")) == {"nurturing", "conversion", "b2b", "pyramid"}
    assert len(group_options("business")) == 4


# --- the pair ----------------------------------------------------------------------------------


def test_pair_shares_seed_and_business_and_advances_together(pair70):
    a, b = pair70.arms
    assert (a.model.params.strategy.name, b.model.params.strategy.name) == ("staged", "premature")
    assert a.model.seed == b.model.seed == 0
    assert a.model.params.business == b.model.params.business
    assert pair70.day == a.model.day == b.model.day == 70
    assert len(a.model.daily()) == len(b.model.daily()) == len(a.ltv_cac) == 70


def test_pair_is_deterministic():
    x = pairs.advance(pairs.build_pair(seed=3), 20)
    y = pairs.advance(pairs.build_pair(seed=3), 20)
    for ax, ay in zip(x.arms, y.arms, strict=True):
        pd.testing.assert_frame_equal(ax.model.daily(), ay.model.daily())


def test_pair_stops_at_the_horizon():
    p = pairs.build_pair(side_by_side=False)
    p.horizon_days = 5
    pairs.advance(p, 50)
    assert p.day == 5 and not p.running
    p.step()  # Mesa's play loop may step past the end: a no-op
    assert p.day == 5 and p.arms[0].model.day == 5


def test_single_arm_mode_says_there_is_no_comparison():
    p = pairs.advance(pairs.build_pair(side_by_side=False, strategy_a="premature"), 3)
    assert [a.label for a in p.arms] == ["A"]
    text = story.what_happened(p)
    assert any("“premature”" in line for line in text)
    assert text[-1] == "Side-by-side mode is off: no comparison."


def test_page_controls_are_the_pair_arguments():
    """The page's widgets, the pair's keywords and the checked values are the table's rows."""
    pytest.importorskip("solara")
    from sim.viz.pages import controls, live_page

    names = set(controls.page("live"))
    assert set(live_page.CONTROLS) == names == set(pairs.Controls().__dict__)
    assert set(pairs.LivePair(strict=False).requested) == names
    assert live_page.PAGE_ONLY == {"strict": False}
    with pytest.raises(ValueError, match="not a control"):
        pairs.build_pair(colour="red")


def test_invalid_controls_raise_or_become_a_message():
    bad = {"experiment": "operator_staffing", "users_cap": 10}  # 40,000 imported > 10,000 cap
    with pytest.raises(Exception, match="market_size"):
        pairs.build_pair(**bad)
    p = pairs.build_pair(**bad, strict=False)
    assert p.arms == [] and not p.running and "market_size" in p.error
    pairs.advance(p, 5)
    assert p.day == 0
    assert story.what_happened(p)[0].startswith("This scenario cannot run")


def test_the_model_never_imports_the_page():
    code = (
        "import sys, sim.core.model, sim.experiment.config; "
        "bad = [m for m in sys.modules if m.startswith('sim.viz') or m == 'solara']; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- plot series ---------------------------------------------------------------------------------


def test_frames_are_tidy_with_one_row_per_arm_and_day(pair70):
    a, b = pair70.arms
    daily, cohorts = figures.frames(pair70)
    assert figures.frames(pair70)[0] is daily  # computed once per day for all five figures
    assert set(daily["group"]) == {a.name, b.name} and set(daily["job"]) == {"A", "B"}
    d = daily[daily["job"] == "B"]
    assert len(d) == 70 and d["day"].tolist() == list(range(70))
    assert {"aware", "familiar", "trust", "buy", "rebuy", "churned"} <= set(d.columns)
    assert np.array_equal(d["ltv_cac"].to_numpy(), np.array(b.ltv_cac), equal_nan=True)
    profit = plots.cumulative(daily, "profit")
    own = profit[profit["job"] == "A"]["cumulative_profit"].to_numpy()
    assert np.allclose(own, a.model.daily()["profit"].cumsum())
    share = plots.churned_share(daily)
    for arm in (a, b):  # to date, of every user who joined: the summary's (no imported users)
        last = share[share["job"] == arm.label]["churned_pct"].iloc[-1]
        assert last == pytest.approx(100 * arm.model.summary()["churn_rate"])
    assert ((share["churned_pct"] >= 0) & (share["churned_pct"] <= 100)).all()


def test_ltv_cac_is_the_core_metric_of_acquired_users(pair70):
    from sim.core.metrics import ltv_cac
    from sim.core.model import IMPORTED

    m = pair70.arms[0].model
    acquired = np.flatnonzero(m.population.channel != m.channel_names.index(IMPORTED))
    assert pair70.arms[0].ltv_cac[-1] == ltv_cac(m.population, acquired)


def test_cohorts_count_only_closed_windows(pair70):
    _, c = figures.frames(pair70)
    assert len(c[c["job"] == "B"]) > 0 and (c["first_day"] <= 70 - 1 - CONVERSION_WINDOW).all()
    assert ((c["conversion_30d"] >= 0) & (c["conversion_30d"] <= 1)).all()
    assert (c["pool_size"] > 0).all()
    assert len(figures.frames(pairs.build_pair())[1]) == 0  # day 0: nothing


def test_conversion_by_join_day_matches_a_direct_count(pair70):
    m = pair70.arms[1].model
    s = series.conversion_by_join_day(m, pairs.ROLLING_DAYS, pairs.MIN_POOLED)
    assert len(s) == 70 - 1 - CONVERSION_WINDOW + 1
    pop = m.population
    j = 20  # users who joined on days 0..20 (all acquired: no imported users by default)
    sel = pop.join_day <= j
    conv = (pop.first_buy_day[sel] >= 0) & (pop.first_buy_day[sel] - pop.join_day[sel] < 30)
    assert s.loc[j, "conversion_pct"] == pytest.approx(100 * conv.mean())


# --- what happened -------------------------------------------------------------------------------


def _series(values, start=0):
    return pd.DataFrame(
        {
            "join_day": np.arange(start, start + len(values)),
            "conversion_pct": np.array(values, dtype=float),
        }
    )


def test_fell_below_finds_the_current_run_below():
    x = _series([10, 10, 10, 5, 5, 5])
    y = _series([8, 8, 8, 8, 8, 8])
    c = story.fell_below(x, y)
    assert c.below_now and c.since_join_day == 3 and c.first_join_day == 3 and c.crossed
    always = story.fell_below(_series([5, 5, 5]), _series([8, 8, 8]))
    assert always.below_now and always.since_join_day == 0 and not always.crossed
    assert (c.x_pct, c.y_pct, c.last_join_day) == (5.0, 8.0, 5)
    dip = story.fell_below(_series([10, 5, 10, 10]), _series([8, 8, 8, 8]))
    assert not dip.below_now and dip.first_join_day == 1 and dip.since_join_day is None
    never = story.fell_below(_series([10, 10]), _series([8, 8]))
    assert not never.below_now and never.first_join_day is None
    assert story.fell_below(_series([math.nan, 10]), _series([8, math.nan])) is None


def test_what_happened_names_phases_and_the_crossing_from_the_data(pair70):
    text = story.what_happened(pair70)
    assert text[0] == "Day 70 of 365."
    a, b = pair70.arms
    phase_a, start_a = story.current_phase(a.model)
    assert f"A (staged) is in phase “{phase_a}” since day {start_a}" in text[1]
    assert "zero_to_one days 0–" in text[1]  # staged left its first phase by day 70
    assert "B (premature) is in phase “premature” since day 0." in text[2]
    profit = b.model.daily()["profit"].sum()  # the page's one money format, with its days
    assert f"cumulative profit {story.yuan(profit)} (days 0–69)" in text[2]
    c = story.fell_below(b.conversion(), a.conversion())
    assert c.below_now
    if c.crossed:
        assert (
            f"B (premature): 30-day conversion fell below A's for users who joined from day "
            f"{c.since_join_day} on"
        ) in text[4]
    else:
        assert "B (premature): 30-day conversion has been below A's for every joining" in text[4]
    j, (pa, pb) = story.conversion_now([a.conversion(), b.conversion()])
    assert f"now {pb:.1f} % vs {pa:.1f} % for users who joined days {j - 27}–{j}" in text[4]
    assert text[3].startswith("A (staged): 30-day conversion has not fallen below B's")


def test_what_happened_waits_for_closed_cohorts():
    p = pairs.advance(pairs.build_pair(), 10)
    assert "not comparable yet" in story.what_happened(p)[-1]


def test_figures_have_titles_labels_and_one_line_captions(pair70):
    assert set(figures.FIGURES) == set(figures.PLOTS)
    for key, draw in figures.FIGURES.items():
        title, caption = figures.PLOTS[key], figures.caption(key, pair70)
        assert caption and "\n" not in caption
        fig = draw(pair70)
        titles = [fig._suptitle.get_text()] if fig._suptitle else []
        titles += [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center")]
        assert title in titles, key
        for ax in fig.axes:
            assert ax.get_xlabel(), key
        ylabels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
        assert ylabels and all("(" in y for y in ylabels), (key, ylabels)  # units in brackets


# --- the slide figure ------------------------------------------------------------------------


def test_trainer_figure_runs_the_arms_through_the_batch_engine_and_resumes(tmp_path, capfd):
    from sim.cli import figure
    from sim.experiment.config import compose
    from sim.viz import slide

    assert slide.experiment_arms("premature_scaling") == ["staged", "premature"]
    with pytest.raises(SystemExit, match="does not compare strategies"):
        slide.experiment_arms("koc_leverage")
    # the arms' configs are what `privsim -m experiment=… strategy=a,b horizon_days=…` composes
    bases = slide.arm_configs("premature_scaling", days=75)
    assert list(bases) == ["staged", "premature"]
    assert bases["premature"] == compose(
        ["experiment=premature_scaling", "strategy=premature", "horizon_days=75"]
    )
    scen = ["strategy=staged,premature", "operators.count=3"]
    assert slide.arm_configs(None, scenario=scen)["staged"] == compose(
        ["operators.count=3", "strategy=staged"]
    )
    assert slide.scenario_arms(scen) == (["staged", "premature"], ["operators.count=3"])
    with pytest.raises(SystemExit, match="--seeds"):
        slide.scenario_arms(["seed=3"])

    args = ["premature_scaling", "--seeds", "2", "--days", "75", "--jobs", "2", "--out"]
    assert figure.main([*args, str(tmp_path)]) == 0
    assert "[privsim] 4/4 runs done" in capfd.readouterr().err
    table, daily, cohorts = slide.run_arms("premature_scaling", 2, tmp_path, days=75)
    assert table["group"].tolist() == ["staged", "staged", "premature", "premature"]
    assert table["seed"].tolist() == [0, 1, 0, 1] and table["job"].tolist() == list("0123")
    assert (daily.groupby("job")["day"].count() == 75).all() and len(cohorts) > 0
    staged = table["group"] == "staged"  # its phase change gets marked
    assert table.loc[staged, "phase_starts.one_to_ten"].notna().all()
    png, svg = tmp_path / "premature_scaling.png", tmp_path / "premature_scaling.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    text = svg.read_text()
    assert "<svg" in text and "Conversion decay" in text and "Cumulative profit" in text
    assert "middle 80 % of seeds" in text

    capfd.readouterr()
    assert figure.main([*args, str(tmp_path)]) == 0  # re-running resumes: nothing recomputed
    assert "4/4 runs done (4 cached)" in capfd.readouterr().err
    assert svg.read_text() == text


# --- the headline cards and the captions ------------------------------------------------------


def test_headline_numbers_are_the_runs_outputs(pair70):
    cards = {m.key: m for m in headline.headline(pair70)}
    a, b = pair70.arms
    assert list(cards) == ["profit", "ltv_cac_90d", "conversion_30d", "users_per_operator"]
    profit = cards["profit"]
    assert profit.values == (a.model.daily()["profit"].sum(), b.model.daily()["profit"].sum())
    h = min(a.model.params.economics.ltv_horizons_days)
    summaries = [arm.model.summary() for arm in (a, b)]
    assert h == metrics.horizons_in(summaries[0])[0]
    ltv = cards[f"ltv_cac_{h}d"].values
    assert np.array_equal(ltv, [s[f"ltv_cac_{h}d"] for s in summaries], equal_nan=True)
    # 70 days < 90: nobody is old enough; the card says so instead of a number
    assert all(math.isnan(v) for v in cards["ltv_cac_90d"].values)
    assert cards["ltv_cac_90d"].texts == ("not yet measurable",) * 2
    assert cards["ltv_cac_90d"].diff_text is None
    upo = cards["users_per_operator"].values
    assert upo == tuple(arm.model.daily()["users_per_operator"].iloc[-1] for arm in (a, b))
    # conversion: the users who joined in the latest 28 days whose 30 days are over, as in
    # "What happened" and the conversion chart
    conv = cards["conversion_30d"]
    assert "joined days 12–39" in conv.note  # a day-39 joiner had days 39–68; 69 is the last
    for arm, v in zip((a, b), conv.values, strict=True):
        pop, m = arm.model.population, arm.model
        sel = (pop.join_day >= 12) & (pop.join_day <= 39)
        sel &= pop.channel != m.channel_names.index(IMPORTED)
        assert v == pytest.approx(100 * converted_within(pop, sel).mean())
    # B − A coloured by what favours B: more profit is better, more users per operator worse
    d = profit.values[1] - profit.values[0]
    assert profit.b_better == (d > 0) and profit.diff_text.startswith("B − A")
    assert cards["users_per_operator"].b_better == (upo[1] < upo[0])


def test_ltv_cac_card_is_the_summary_value_once_measurable():
    p = pairs.advance(pairs.build_pair(), 100)
    card = next(m for m in headline.headline(p) if m.key == "ltv_cac_90d")
    for arm, v in zip(p.arms, card.values, strict=True):
        assert v == arm.model.summary()["ltv_cac_90d"] and np.isfinite(v)
    assert "users who joined by day 10" in card.note


def test_trend_words_follow_the_data():
    assert story.trend([1.0, 1.2, 1.5]) == "rising"
    assert story.trend([1.5, 1.2, 1.0]) == "falling"
    assert story.trend([1.0, 1.01, 1.02]) == "about flat"
    assert story.trend([math.nan, 1.0]) == "not yet shown"
    assert story.relation(np.arange(10.0), np.arange(10.0)[::-1]) == "falls"
    assert story.relation(np.arange(10.0), np.arange(10.0)) == "rises"
    assert story.relation(np.arange(3.0), np.arange(3.0)) == "shows no clear trend yet"


def _daily(job_values: dict, column: str) -> pd.DataFrame:
    rows = []
    for job, values in job_values.items():
        for day, v in enumerate(values):
            rows.append({"job": job, "group": job, "day": day, column: v})
    return pd.DataFrame(rows)


def test_ltv_cac_caption_says_what_the_lines_do():
    both_up = _daily({"A": np.linspace(0.5, 1.5, 40), "B": np.linspace(0.2, 0.4, 40)}, "ltv_cac")
    text = story.caption_ltv_cac(both_up)
    assert "A's is rising" in text and "B's is rising" in text and "falling" not in text
    mixed = _daily({"A": np.linspace(1.5, 0.5, 40), "B": np.full(40, 0.4)}, "ltv_cac")
    text = story.caption_ltv_cac(mixed)
    assert "A's is falling" in text and "B's is about flat" in text


def test_profit_caption_names_the_leader_and_the_crossing():
    d = _daily({"A": [0, -10, -10, 30, 30], "B": [0, 5, 5, 0, 0]}, "profit")
    # cumulative: A 0,-10,-20,10,40 ; B 0,5,10,10,10 -> A behind until day 3, ahead after
    text = story.caption_profit(d)
    assert "A is ahead by ¥30" in text and "last crossed on day 4" in text


def test_captions_on_a_real_pair_match_its_lines(pair70):
    daily, _ = figures.frames(pair70)
    for job in ("A", "B"):
        v = daily[daily["job"] == job].sort_values("day")
        recent = v[v["day"] > v["day"].max() - story.TREND_DAYS]["ltv_cac"]
        assert f"{job}'s is {story.trend(recent)}" in figures.caption("ltv_cac", pair70)


def test_marks_show_phase_starts_and_the_crossing(pair70):
    """Phase starts on every time plot; the conversion crossing (a joining day) only on the
    conversion chart, and only where one arm crossed below the other."""
    a, b = pair70.arms
    ms = figures.marks(pair70)
    starts = a.model.summary()["phase_starts"]
    assert [(m.day, m.text) for m in ms] == [(d, f"A: {n}") for n, d in starts.items() if d > 0]
    c = story.fell_below(b.conversion(), a.conversion())
    events = [(m.day, m.group) for m in figures.crossing_marks(pair70)]
    assert events == ([(c.since_join_day, b.name)] if c.crossed else [])
    assert "A: one_to_ten" in figures.marks_legend(pair70)
    assert "below" not in figures.marks_legend(pair70)


def test_pending_changes_until_reset(pair70):
    values = dict(pair70.requested)
    assert pairs.pending_changes(pair70, values) == []
    values["operators"] = 3
    assert pairs.pending_changes(pair70, values) == ["operators: 0 → 3"]
    fresh = pairs.LivePair(**values)  # Reset applies them
    assert pairs.pending_changes(fresh, values) == []


# --- the first screen: the question, the arms in words, where the run ends --------------------


def test_arm_words_read_the_strategies_phases():
    p = pairs.build_pair()
    words = [lesson.arm_words(arm) for arm in p.arms]
    for arm, text in zip(p.arms, words, strict=True):
        assert text.startswith(f"{arm.name}: ")
        for ph in arm.model.params.strategy.phases:
            assert f"“{ph.name}”: {ph.daily_users:,.0f} new users/day, team {ph.team_size}" in text
    assert words[0].count("→") == 2 and "→" not in words[1]
    assert "tests" not in words[0]  # one candidate on every dimension: nothing to test
    c = pairs.Controls(experiment="testing_value", fit_spread=1.0, operators=5)
    text = lesson.arm_words(pairs.build_pair(c).arms[0])
    assert "tests place, goods (1,000 users per candidate)" in text
    assert "fixes the team at 5" in text


def test_preview_is_the_run_the_page_plays():
    """Run ahead by the batch engine, the preview is day for day what the page then plays."""
    c = pairs.Controls(seed=3)
    b = lesson.preview(c, horizon_days=40)
    assert lesson.preview(c, horizon_days=40) is b  # kept per scenario
    p = pairs.advance(pairs.build_pair(c), 40)
    for arm in p.arms:
        ahead = b.daily[b.daily["group"] == arm.name]["profit"].to_numpy()
        assert np.array_equal(ahead, arm.model.daily()["profit"].to_numpy())
    pa, pb = (arm.model.daily()["profit"].sum() for arm in p.arms)
    line = lesson.preview_line(b)
    assert f"by day 39, cumulative profit A {story.yuan(pa)} vs B {story.yuan(pb)}" in line
    assert "NPV" not in line  # 40 days reach no NPV horizon: none is quoted


def test_profit_axis_before_the_first_day_and_with_the_preview():
    p = pairs.build_pair()
    ax = figures.figure_profit(p).axes[0]
    assert list(ax.get_yticks()) == [0]  # not the 0-1 fractions of an empty axis
    assert any("preview loading" in t.get_text() for t in ax.texts)
    p.preview = lesson.preview(p.controls, horizon_days=40)
    fig = figures.figure_profit(p)
    fig.canvas.draw()
    ax = fig.axes[0]
    faint = [ln for ln in ax.get_lines() if ln.get_alpha() == figures.PREVIEW_ALPHA]
    assert len(faint) == 2 and faint[0].get_xdata()[-1] == 39
    assert all(t.get_text().startswith(("¥", "−¥")) for t in ax.get_yticklabels())
    assert "preview: where the run ends (faint)" in [t.get_text() for t in ax.get_legend().texts]


def test_profit_chart_in_layers_is_the_chart_drawn_whole():
    """While playing, the profit chart is drawn in layers (axes and preview once, the live lines,
    marks and legend over a copy each redraw): the picture `figure_profit` draws whole, at day 0,
    with markers (under 30 days) and without, but for the few pixels where a live line passes
    under the axis' spine; built again for another preview."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    p = pairs.build_pair()
    p.preview = lesson.preview(p.controls, horizon_days=40)  # the live lines stay on it
    layers = figures.profit_layers(p, False)
    for day in (0, 12, 40):
        pairs.advance(p, day - p.day)
        layered = np.asarray(Image.open(io.BytesIO(figures.png(p, "profit"))), dtype=int)
        canvas = FigureCanvasAgg(figures.figure_profit(p))
        canvas.draw()
        whole = np.asarray(canvas.buffer_rgba(), dtype=int)
        assert layered.shape == whole.shape
        differ = np.abs(layered - whole).max(axis=2) > 16
        assert differ.mean() < 0.001, (day, differ.sum())  # a stale line: thousands
    assert figures.profit_layers(p, False) is layers  # kept while the preview stays
    p.preview = lesson.preview(p.controls, horizon_days=30)
    assert figures.profit_layers(p, False) is not layers


def test_a_slow_redraw_advances_more_days_and_the_lower_plots_take_turns():
    from sim.viz.pages.live_page import FRAME_S, LOWER, below_day, frame_days

    assert frame_days(7, 0.0) == 7 and frame_days(7, FRAME_S) == 7  # fast enough: as set
    assert frame_days(7, 1.5 * FRAME_S) == 11 and frame_days(7, 9 * FRAME_S) == 14  # capped
    # playing 7 days a redraw: each lower plot redraws every 28 days, one or two per redraw
    days = range(0, 366, 7)
    shown = {k: [below_day(d, k, True) for d in days] for k in range(len(LOWER))}
    changed = [sum(a != b for a, b in zip(v, v[1:], strict=False)) for v in shown.values()]
    assert all(12 <= n <= 13 for n in changed)
    per_redraw = [sum(v[i] != v[i - 1] for v in shown.values()) for i in range(1, len(days))]
    assert max(per_redraw) == 2 and all(v[-1] <= 364 for v in shown.values())
    assert all(below_day(d, k, False) == d for d in (0, 5, 365) for k in range(5))  # paused


def test_early_scaling_conditions_are_read_from_the_config():
    def held(**kw):
        return [ok for ok, _ in lesson.early_scaling_conditions(pairs.build_pair(**kw))]

    assert held() == [False, True, True]  # premature: 2 operators for 400 users/day
    assert held(strategy_b="ten_to_n") == [True, True, True]  # launches with A's 10-N team
    assert held(strategy_b="ten_to_n", experiment="testing_value", fit_spread=1.0) == [
        True,
        False,  # candidates on place and goods, spread 1: the test has something to find
        False,  # three years
    ]
    assert held(operators=5)[0]  # a fixed team is the same team for both arms


def test_the_page_says_why_only_when_scaling_early_wins():
    import dataclasses

    p = pairs.build_pair(strategy_b="ten_to_n")
    b = lesson.preview(p.controls, horizon_days=40)  # 40 days: the yardstick is profit
    runs = b.runs.copy()
    for lead, behind in (("B", "A"), ("A", "B")):
        top = runs.loc[runs["arm"] == behind, "profit"].iloc[0] + 1.0
        forced = runs.assign(profit=np.where(runs["arm"] == lead, top, runs["profit"]))
        why = lesson.why_early_wins(p, dataclasses.replace(b, runs=forced))
        if lead == "A":
            assert why is None
        else:
            assert why.startswith("Why scaling early wins here (B (ten_to_n) ahead of A (staged)")
            assert why.count(": holds") == 3 and "does not hold" not in why


# --- the pair as files to forward (issue #25: live_export) -------------------------------------


def test_the_pairs_report_and_workbook_hold_its_numbers_and_define_them(pair70):
    """The HTML report is self-contained (the six figures embedded), with the yardsticks and each
    arm's command; the workbook's summary is each arm's summary.json value and B − A, its daily
    sheet each arm's daily table day for day, and every column is defined."""
    import io

    import openpyxl
    from test_export import images, self_contained

    from sim.viz.export import prose
    from sim.viz.pages import live_export

    page = live_export.html(pair70)
    self_contained(page)
    assert images(page) == len(figures.FIGURES) == 6
    assert "day 70 of 365" in page and "Yardsticks to date" in page
    for arm in pair70.arms:
        assert str(prose(pairs.cli_command(arm.overrides))) in page
    wb = openpyxl.load_workbook(io.BytesIO(live_export.workbook(pair70)))
    assert wb.sheetnames == ["summary", "daily", "arms", "About"]
    book = {}
    for ws in wb:
        head, *rows = ws.iter_rows(values_only=True)
        book[ws.title] = pd.DataFrame(rows, columns=head)
    a, b = pair70.arms
    s = book["summary"].set_index("yardstick")
    for col in ("profit", "users_acquired", "acquisition_spend"):
        assert s.loc[col, a.name] == pytest.approx(a.summary()[col])
        assert s.loc[col, "B − A"] == pytest.approx(b.summary()[col] - a.summary()[col])
    daily = book["daily"]
    assert len(daily) == 2 * 70 and daily["arm"].unique().tolist() == [a.name, b.name]
    mine = daily[daily["arm"] == b.name]
    assert mine["profit"].tolist() == pytest.approx(b.daily()["profit"].tolist())
    assert mine["cumulative_profit"].iloc[-1] == pytest.approx(b.daily()["profit"].sum())
    about = dict(book["About"].itertuples(index=False))
    for sheet in ("summary", "daily", "arms"):
        for c in book[sheet].columns:
            assert len(about.get(f"{sheet}: {c}") or "") > 12, (sheet, c)
    assert about["yardstick profit"].endswith("Unit: yuan.")
