"""The what-if page's data logic: scenario controls → overrides (refusing values not offered),
titles, planned spend, spend by channel, glossary, shared scenarios (YAML, URL, `privsim`),
the goal-seek panel's question, batch results → comparison table (a known answer on synthetic
results)."""

from __future__ import annotations

import json
import logging
import math
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import scenario_file
from sim.core.model import PrivateDomainModel
from sim.experiment.batch import Evaluation, Result
from sim.experiment.config import CONFIG_DIR, compose, group_options, model_kwargs
from sim.experiment.goal_spec import load_spec
from sim.experiment.optimize_spec import load_spec as load_policy
from sim.viz import labels
from sim.viz.pages import controls, whatif_goal, whatif_share
from sim.viz.pages import whatif as w

ROOT = Path(__file__).resolve().parent.parent


def test_default_scenario_is_three_group_choices():
    assert w.Plan().overrides() == [
        "strategy=staged",
        "pool=nurturing",
        "business=high_freq_high_margin",
    ]


def test_controls_become_overrides_that_compose():
    s = w.Plan(strategy="premature", team=12, budget_paid_ads=2000, fission=0.5, fit="unsure",
               initial_users=5000, payback=1.25)  # fmt: skip
    ov = s.overrides()
    assert "operators.fixed=12" in ov  # any team size, not a fixed list
    assert "channels.paid_ads.budget_per_day=2000.0" in ov
    cfg = compose(w.run_overrides(s, 30))
    assert cfg["operators"]["fixed"] == 12
    assert cfg["channels"]["paid_ads"]["budget_per_day"] == 2000.0
    assert cfg["fit"]["spread"] == 0.5 and cfg["initial_users"] == 5000
    assert cfg["horizon_days"] == 30 and cfg["outputs"]["spend_by_channel"] is True
    assert cfg["strategy"]["phases"][0]["rules"]["spend"]["paid_ads"]["min_ltv_cac"] == 1.25
    mixes = [p["channel_mix"] for p in cfg["strategy"]["phases"] if "fission" in p["channel_mix"]]
    assert mixes, "premature uses fission in some phase"
    for mix in mixes:
        assert mix["fission"] == pytest.approx(0.5)
        assert sum(mix.values()) == pytest.approx(1.0)


def test_policy_rules_set_the_phases_that_have_them():
    cfg = compose(w.run_overrides(w.Plan(test_users=500, payback=0.8, scale_team=20)))
    zero, one, ten = cfg["strategy"]["phases"]
    assert zero["test"]["users_per_arm"] == 500
    assert ten["rules"]["spend"]["paid_ads"]["min_ltv_cac"] == 0.8 and ten["team_size"] == 20
    assert one["team_size"] == compose([])["strategy"]["phases"][1]["team_size"]  # untouched
    stop = compose(w.Plan(strategy="ten_to_n_stoploss", stop_loss=0.05).overrides())
    assert stop["strategy"]["phases"][0]["rules"]["stop_loss"]["below"] == 0.05


def test_a_rule_the_strategy_has_not_is_refused_naming_its_rules():
    with pytest.raises(ValueError, match="ten_to_n has no such rule.*Its rules: payback, "
                       "scale_team"):  # fmt: skip
        w.Plan(strategy="ten_to_n", test_users=500).overrides()


def test_rule_ranges_are_the_policy_searchs_and_fit_words_the_strategy_maps_spreads():
    spec = {p.key: p for p in load_policy(controls.POLICY_SEARCH).parameters}
    for name, key in [("test_users", "strategy.phases.0.test.users_per_arm"),
                      ("payback", "strategy.phases.2.rules.spend.paid_ads.min_ltv_cac"),
                      ("scale_team", "strategy.phases.2.team_size")]:  # fmt: skip
        assert controls.CONTROLS[name].span[:2] == (spec[key].low, spec[key].high)
    sweep = yaml.safe_load((Path(CONFIG_DIR) / "experiment" / "strategy_map.yaml").read_text())
    spreads = sweep["hydra"]["sweeper"]["params"]["fit.spread"]
    assert list(controls.FIT_WORDS.values()) == [float(x) for x in spreads.split(",")]
    assert controls.CONTROLS["fit"].default == "sure"  # the config's fit.spread 0, shown


def test_defaults_are_the_configs():
    base = compose([])
    assert controls.CONTROLS["horizon_days"].default == base["horizon_days"]
    assert controls.CONTROLS["initial_users"].default == base["initial_users"]
    budgets = {k for k in controls.page("whatif") if k.startswith("budget_")}
    assert budgets == {f"budget_{c}" for c in base["channels"]}


def test_command_reproduces_the_seeds():
    s = w.Plan(team=5)
    cmd = w.command(s, 7, 60)
    assert cmd.startswith("privsim -m strategy=staged ")
    assert "operators.fixed=5" in cmd and "horizon_days=60" in cmd
    assert cmd.endswith("'seed=range(0,7)'")
    assert "horizon_days" not in w.command(s, 7)  # the config's horizon sets nothing


@pytest.mark.parametrize(
    "change, says",
    [
        ({"strategy": "../../etc/x"}, "allowed"),
        ({"pool": "nope"}, "allowed"),
        ({"team": 0}, r"whole number in \[1, 200\]"),
        ({"team": True}, "allowed"),
        ({"team": 2.5}, "allowed"),
        ({"budget_paid_ads": -1.0}, "allowed: a number in"),
        ({"budget_paid_ads": "lots"}, "allowed"),
        ({"fission": 0.55}, "allowed"),
        ({"fit": "unsur"}, r"did you mean unsure\?.*allowed: sure, fairly sure"),
        ({"test_users": 100}, r"\[300, 2000\]"),
    ],
)
def test_values_not_offered_are_refused(change, says):
    (name,) = change
    with pytest.raises(ValueError, match=f"{name} = .*{says}"):
        w.Plan(**change)


def test_every_strategy_offered_is_a_plan_its_config_defines_in_words():
    """The strategy select offers the configs' plans, each defined in words under it (its YAML's
    opening sentence); the studies' probes (`steady`, `channel/*`, whose headers say so) are
    not offered, and a file or link naming one is refused."""
    offered = controls.page(controls.WHATIF)["strategy"].options()
    every = group_options("strategy")
    assert "staged" in offered and set(offered) < set(every)
    for name in every:
        words = labels.config_definition("strategy", name)
        assert len(words) > 40 and words.endswith("."), name  # a sentence, not a name
        assert ("probe" in words.lower()) == (name not in offered), (name, words)
    with pytest.raises(ValueError, match=r"strategy = 'steady' \(did you mean staged\?\)"):
        w.Plan(strategy="steady")


def test_an_unknown_control_suggests_the_nearest():
    with pytest.raises(ValueError, match=r"teem: not a control .*did you mean team\?"):
        w.Plan.parse(teem=3)


@pytest.mark.parametrize("seeds, horizon", [(1, None), (51, None), (2, 0), (2, 1096), (2.5, 30)])
def test_run_settings_out_of_range_are_refused(seeds, horizon):
    with pytest.raises(ValueError, match="allowed"):
        w.evaluations([w.Plan()], seeds, horizon)


def test_three_years_is_allowed():
    bases, _ = w.evaluations([w.Plan()], 2, 1095)
    assert next(iter(bases.values()))["horizon_days"] == 1095


def test_more_than_four_scenarios_refused():
    with pytest.raises(ValueError, match="scenarios"):
        w.evaluations([w.Plan()] * 5, 2)


def test_titles_say_what_differs_from_the_first():
    a, b = w.Plan(), w.Plan(team=3, budget_paid_ads=2000)
    want = ["S1 · staged", "S2 · staged · 3 operators · paid ads 2,000 yuan/day"]
    assert w.titles([a, b]) == want
    c = w.Plan(team=3, budget_paid_ads=1000)
    assert w.titles([c, b])[1] == "S2 · staged · paid ads 2,000 yuan/day"  # team is shared
    assert "unsure of fit (spread 0.5)" in w.titles([w.Plan(fit="unsure")])[0]


def test_evaluations_pair_the_seeds():
    bases, evs = w.evaluations([w.Plan(), w.Plan(strategy="premature")], 3, 30)
    assert list(bases) == ["S1 · staged", "S2 · premature"]
    assert [(e.base, e.seed) for e in evs] == [(b, s) for b in bases for s in range(3)]


def test_planned_spend_is_the_plans_volume_at_day_0_cost():
    cfg = compose([])
    paid = cfg["channels"]["paid_ads"]
    want = [
        (p["name"], p["daily_users"] * p["channel_mix"]["paid_ads"] * paid["base_cost"])
        for p in cfg["strategy"]["phases"]
        if p["channel_mix"].get("paid_ads")
    ]
    got = w.planned_spend(w.Plan())["paid_ads"]
    assert [n for n, _ in got] == [n for n, _ in want]
    assert [v for _, v in got] == pytest.approx([v for _, v in want])
    assert want[0][1] == pytest.approx(30 * 0.5 * 30.0)  # 0-1: 30 users/day, half paid, 30 yuan
    stated = w.planned_spend(w.Plan(budget_paid_ads=2000))["paid_ads"]
    assert [v for _, v in stated] == [2000.0] * len(cfg["strategy"]["phases"])


def test_the_fit_note_says_which_case_applies():
    """The configs' brand has no alternatives to test: the note says the test only gates and
    names the control that gives it some; with them, it names each dimension's candidates."""
    note = w.fit_note(w.Plan())
    assert "has no alternative pool, product or channel to test" in note
    assert controls.ALTERNATIVES_QUESTION in note
    note = w.fit_note(w.Plan(alternatives=YES, fit="unsure"))
    assert "has no alternative" not in note
    assert ("alternatives to test (place: nurturing, b2b, conversion (guess: nurturing); goods: "
            "high_freq_high_margin, variant_b, variant_c (guess: high_freq_high_margin)") in note


YES = next(k for k, v in controls.ALTERNATIVES.items() if v)  # the brand with alternatives
WITH = w.Plan(strategy="ten_to_n", alternatives=YES, fit="unsure")


def test_alternatives_are_the_experiments_candidates_and_nothing_else():
    """"yes" loads testing_value's candidate pools and lead products; the rest of the plan (its
    horizon, its fit spread, its strategy) is the page's, not the experiment's."""
    ov = w.run_overrides(WITH, 60)
    assert "experiment=testing_value" in ov and "horizon_days=60" in ov
    got, plain = compose(ov), compose(w.run_overrides(replace(WITH, alternatives="no"), 60))
    experiment = yaml.safe_load(
        (Path(CONFIG_DIR) / "experiment" / "testing_value.yaml").read_text()
    )
    assert got["fit"]["goods"]["variants"] == experiment["fit"]["goods"]["variants"]
    assert sorted(got["fit"]["place"]["pools"]) == ["b2b", "conversion"]
    assert got["fit"]["truth"]["replicates"] == experiment["fit"]["truth"]["replicates"]
    for cfg in (got, plain):
        cfg["fit"] = {k: v for k, v in cfg["fit"].items() if k not in ("place", "goods", "truth")}
    assert got == plain  # horizon 60 (not the experiment's 1,095), fit.spread 0.5, ten_to_n
    assert "fit.spread=0.0" in w.Plan(alternatives=YES).overrides()  # "sure": pinned, not swept


def test_a_plan_the_build_refuses_says_why_in_its_notes():
    """The chosen pool is also one of the alternatives: refused, and the card's notes say so."""
    from sim.viz.pages import whatif_page

    bad = replace(WITH, pool="conversion")
    with pytest.raises(ValueError, match="listed twice"):
        w.evaluations([bad], 2, 30)
    assert whatif_page._fit_note(bad).startswith("This plan is refused: fit.place: candidate")
    assert whatif_page._volume_note(bad) == whatif_page._fit_note(bad)


def test_a_plan_with_alternatives_runs_one_scenario_not_the_experiments_sweep():
    """The experiment also sweeps strategy, fit.spread and seed (hydra.sweeper.params): the
    plan's `privsim -m` overrides set each but the seed, so the multirun is the page's seeds,
    each job composing to the page's run (`sweep.planned_jobs`: Hydra's expansion)."""
    from omegaconf import OmegaConf

    from sim.experiment.sweep import planned_jobs

    params = OmegaConf.load(Path(CONFIG_DIR) / "experiment" / "testing_value.yaml").hydra.sweeper
    sweeper = {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper", **params}
    for plan in (WITH, w.Plan(alternatives=YES)):
        ov = w.run_overrides(plan, 60)
        sweep = OmegaConf.create(
            {"hydra": {"sweeper": sweeper, "overrides": {"task": [*ov, "seed=range(0,3)"]}}}
        )  # fmt: skip
        jobs = planned_jobs(sweep)
        assert len(jobs) == 3
        for k, job in enumerate(jobs):
            assert compose(job) == compose([*ov, f"seed={k}"])
    assert w.command(WITH, 3, 60).endswith(" ".join([*w.run_overrides(WITH, 60),
                                                     "'seed=range(0,3)'"]))  # fmt: skip


def test_paid_ads_volume_scales_the_plan_in_every_phase_and_says_the_spend():
    """Issue #25's "double the ad budget": ×2 the plan's paid-ads users in every phase
    (`channels.paid_ads.volume_scale`), its spend per phase stated in yuan/day beside it."""
    two = w.Plan(ad_volume=2.0)
    assert "++channels.paid_ads.volume_scale=2.0" in two.overrides()
    assert compose(two.overrides())["channels"]["paid_ads"]["volume_scale"] == 2.0
    plan = w.planned_spend(w.Plan())["paid_ads"]
    doubled = w.planned_spend(two)["paid_ads"]
    assert [p for p, _ in doubled] == [p for p, _ in plan]
    assert [v for _, v in doubled] == pytest.approx([2 * v for _, v in plan])
    note = w.volume_note(two)
    assert note.startswith("paid ads spend at ×2: " + ", ".join(
        f"{v:,.0f} ({p})" for p, v in doubled) + " yuan/day; the plan's (×1): ")  # fmt: skip
    assert "changes nothing" in w.volume_note(replace(two, budget_paid_ads=900.0))
    assert "Paid-ads volume" in w.budget_note(w.Plan(budget_paid_ads=900.0), "paid_ads")
    assert w.titles([w.Plan(), two])[1] == "S2 · staged · paid ads volume ×2"
    assert w.titles([WITH])[0].endswith("alternatives to test (testing_value) · unsure of fit "
                                        "(spread 0.5)")  # fmt: skip


def test_new_controls_round_trip_through_yaml_and_url():
    scs = [w.Plan(ad_volume=2.0), WITH]
    text = whatif_share.to_yaml(scs, 2, 60)
    assert yaml.safe_load(text)["scenarios"][1]["overrides"] == w.run_overrides(WITH, 60)
    assert whatif_share.from_yaml(text) == (scs, 2, 60)
    assert whatif_share.from_query(whatif_share.to_query(scs, 2, 60)) == (scs, 2, 60)


def test_a_typed_budget_is_shown_against_the_plan_in_every_phase():
    """Issue #25: twice the 0-1 phase's plan is a cut in the later phases; the note says so."""
    plan = w.planned_spend(w.Plan())["paid_ads"]
    assert w.budget_note(w.Plan(), "paid_ads") == "planned: " + ", ".join(
        f"{v:,.0f} yuan/day ({ph})" for ph, v in plan)  # fmt: skip
    double = 2 * plan[0][1]
    note = w.budget_note(w.Plan(budget_paid_ads=double), "paid_ads")
    assert note.startswith(w.budget_note(w.Plan(), "paid_ads"))  # the plan, not the budget
    assert f"{double:,.0f} yuan/day replaces the plan in every phase: ×2.00 in {plan[0][0]}" in note
    later = plan[-1]
    assert f"×{double / later[1]:.2f} in {later[0]}" in note and double / later[1] < 1


def _model(*extra):
    logging.getLogger("MESA").setLevel(logging.WARNING)
    cfg = compose(["strategy=premature", "horizon_days=40", *extra])
    return cfg, PrivateDomainModel(**model_kwargs(cfg)).run()


def test_spend_by_channel_adds_up_to_acquisition_spend_and_changes_nothing_else():
    cfg, on = _model()
    _, off = _model("outputs.spend_by_channel=false")
    d, s = on.daily(), on.summary()
    cols = [f"spend_{c}" for c in on.channels]
    referral = d["new_referral"] * cfg["referral"]["reward"]
    np.testing.assert_allclose(d[cols].sum(axis=1) + referral, d["acquisition_spend"], rtol=1e-12)
    assert d["spend_paid_ads"].sum() > 0
    assert all(s[c] == pytest.approx(d[c].sum()) for c in cols)
    base = off.daily()
    assert not any(c in base for c in cols)  # off: the narrower table
    assert d[list(base.columns)].equals(base)  # and every number the same
    assert {k: v for k, v in s.items() if k not in cols}.keys() == off.summary().keys()


def _result(base, seed, profit=None, payback=math.nan, error=None):
    summary = None
    if error is None:
        summary = dict(profit=profit, ltv_cac_90d=profit / 10, conversion_30d=0.2,
                       payback_day=payback, spend_paid_ads=3650.0 * seed)  # fmt: skip
    return Result(Evaluation({}, seed, base=base), f"{base}{seed}", summary, error=error)


def test_comparison_known_answer():
    a, b = "S1 · staged", "S2 · premature"
    results = [
        _result(a, 0, 10, 50),
        _result(a, 1, 20),
        _result(a, 2, 30, 70),
        _result(a, 3, 100, 60),
        _result(b, 0, 15),
        _result(b, 1, 5),
        _result(b, 2, 40),
        _result(b, 3, error="ValueError: boom"),
    ]
    t = w.comparison(results, 365).set_index("scenario")
    assert list(t.index) == [a, b]
    assert t.loc[a, "runs"] == 4 and t.loc[b, "runs"] == 3 and t.loc[b, "failed"] == 1
    # numpy's linear percentiles of A's profits 10, 20, 30, 100
    assert t.loc[a, ["profit_p10", "profit_p50", "profit_p90"]].tolist() == pytest.approx(
        [13.0, 25.0, 79.0]
    )
    assert t.loc[b, "profit_p50"] == pytest.approx(15.0)
    assert t.loc[a, "ltv_cac_90d_p50"] == pytest.approx(2.5)
    # spend: A's totals 0, 3650, 7300, 10950 over 365 days -> median 5475 / 365 = 15 yuan/day
    assert t.loc[a, "spend_paid_ads_per_day_p50"] == pytest.approx(15.0)
    assert t.loc[b, "spend_paid_ads_per_day_p50"] == pytest.approx(10.0)
    # payback: over the 3 seeds that paid back (50, 70, 60); B never did
    assert t.loc[a, "payback_day_n"] == 3 and t.loc[a, "payback_day_p50"] == pytest.approx(60)
    assert t.loc[b, "payback_day_n"] == 0
    # P(best) paired by seed over seeds 0-2 (B has no seed 3): B wins 0 and 2, A wins 1
    assert t.loc[a, "p_best"] == pytest.approx(1 / 3)
    assert t.loc[b, "p_best"] == pytest.approx(2 / 3)
    html = w.table_html(t.reset_index(), {a: "privsim -m x", b: "privsim -m y"}, 365)
    assert html.count("scenario-row") == 2 and "privsim -m y" in html
    # each command in a row of its own across all 7 columns: it wraps at spaces, not mid-word
    assert html.count("<td colspan='7'>Reproduce: <code class='command'>") == 2
    assert w.cell(t.loc[a], "profit") == "¥25 (¥13 – ¥79)" and "2.50 (1.30 – 7.90)" in html
    assert "not within the horizon" in html
    assert "[3 of 4 seeds]" in html and "1 failed" in html
    assert "Profit over the 365-day horizon (yuan)" in html
    assert "paid ads: <span class='nb'>¥15</span>" in html


def test_money_cells_read_as_the_other_pages_write_money():
    """Profit and spend in the pages' one money format (`story.yuan`: the trainer's and the
    game's), the unit and horizon in the heading."""
    row = {"scenario": "S1 · staged", "runs": 10, "failed": 0, "p_best": 0.5,
           "profit_p10": -120_400.0, "profit_p50": -87_109.0, "profit_p90": 15_000.0,
           "profit_n": 10, "spend_paid_ads_per_day_p50": 12_345.0}  # fmt: skip
    assert w.cell(row, "profit") == "−¥87k (−¥120k – ¥15k)"
    assert w.spend_cell(row) == "paid ads: ¥12k"
    for col in ("ltv_cac_90d", "conversion_30d", "payback_day"):
        row |= {f"{col}_p{q}": 1.0 for q in (10, 50, 90)} | {f"{col}_n": 10}
    page = w.table_html(pd.DataFrame([row]), {}, 90)
    assert "<th>Profit over the 90-day horizon (yuan)</th>" in page
    nb = "<span class='nb'>{}</span>".format
    money = f"{nb('−¥87k')} ({nb('−¥120k')} – {nb('¥15k')})"
    assert f"<td>{money}</td>" in page and "-87" not in page  # no line break inside a value
    assert f"paid ads: {nb('¥12k')}" in page


def test_spend_lists_only_the_channels_that_spend():
    row = {"spend_paid_ads_per_day_p50": 1500.0, "spend_kol_per_day_p50": 0.0,
           "spend_fission_per_day_p50": 0.2,
           "spend_public_store_per_day_p50": math.nan}  # fmt: skip
    assert w.spend_cell(row) == "paid ads: ¥1,500\nfission: < ¥1"
    assert w.spend_cell({"spend_kol_per_day_p50": 0.0, "profit_p50": 1.0}) == "none"
    assert w.spend_cell({"spend_kol_per_day_p50": math.nan}) == "–"  # no seed has a value
    done = pd.DataFrame({"spend_paid_ads": [0.0, 10.0], "spend_kol": [0.0, 0.0]})
    assert w.spend_channels(done) == ["kol", "paid_ads"]
    assert w.spend_channels(done, spent=True) == ["paid_ads"]


def test_glossary_defines_every_term_on_the_page_from_its_source():
    scs = [w.Plan(), w.Plan(strategy="premature", pool="conversion")]
    terms = dict(w.glossary(scs, 90))
    heads = [*(label for label, _, _ in w.YARDSTICKS.values()), "Acquisition spend by channel",
             "P(best)", "planned spend", "staged", "premature", "ten_to_n", "ten_to_n_stoploss",
             "optimized_staged_policy", "optimized_tested_policy", "launch", "stop-loss",
             "nurturing", "conversion", "high_freq_high_margin", "fit spread", "seed"]  # fmt: skip
    assert [h for h in heads if not terms.get(h)] == []
    assert terms["Payback day"].startswith(labels.summary_term("payback_day")[2])
    assert terms["premature"].startswith("Premature scaling (DOMAIN §3)")  # the YAML's words
    assert "here over 90 days" in terms["Profit over the horizon (yuan)"]


# --- shared scenarios ----------------------------------------------------------------------------

SCENARIOS = [w.Plan(team=3), w.Plan(team=3, budget_paid_ads=2000.0, fission=0.5, fit="unsure")]


def test_yaml_and_url_round_trip():
    text = whatif_share.to_yaml(SCENARIOS, 2, 60)
    doc = yaml.safe_load(text)
    assert doc["scenarios"][1]["controls"] == {"team": 3, "budget_paid_ads": 2000.0,
                                               "fission": 0.5, "fit": "unsure"}  # fmt: skip
    assert doc["scenarios"][1]["overrides"] == w.run_overrides(SCENARIOS[1], 60)
    assert whatif_share.from_yaml(text) == (SCENARIOS, 2, 60)
    query = whatif_share.to_query(SCENARIOS, 2, 60)
    assert "s2=team:3,budget_paid_ads:2000.0,fission:0.5,fit:unsure" in query
    assert whatif_share.from_query(query) == (SCENARIOS, 2, 60)
    assert whatif_share.from_query("") is None


@pytest.mark.parametrize(
    "text, says",
    [
        ("seeds: 2\nscenarios:\n- controls: {teem: 3}\n", r"scenario 1: teem.*did you mean team"),
        ("seeds: 2\nscenarios:\n- controls: {fit: unsur}\n", "allowed: sure, fairly sure"),
        ("sedes: 2\nscenarios: []\n", "did you mean seeds"),
        ("seeds: 2\nhorizon_days: 5000\nscenarios:\n- {}\n", "horizon_days = 5000"),
        ("- just a list\n", "what-if scenario file"),
    ],
)
def test_a_bad_scenario_file_is_refused_saying_what_to_fix(text, says):
    with pytest.raises(ValueError, match=says):
        whatif_share.from_yaml(text)


def test_a_scenario_is_chosen_by_number_or_tag_listing_the_choices():
    text = whatif_share.to_yaml(SCENARIOS, 2, 60)
    two = [*w.run_overrides(SCENARIOS[1], 60), "seed=range(0,2)"]
    assert whatif_share.overrides(text, 2) == whatif_share.overrides(text, "S2") == two
    choices = r"choices: 1 \(S1 · staged · 3 operators\); 2 \(S2 · staged · paid ads"
    with pytest.raises(ValueError, match=r"--scenario 3: no such scenario; " + choices):
        whatif_share.overrides(text, 3)
    with pytest.raises(ValueError, match="holds 2 scenarios: choose one with --scenario"):
        whatif_share.overrides(text, None)
    one = whatif_share.to_yaml(SCENARIOS[:1], 2, 60)
    assert whatif_share.overrides(one, None) == whatif_share.overrides(one, 1)


def test_the_commands_shown_to_copy_run_the_downloaded_file(tmp_path, monkeypatch):
    """Each line the page shows beside the download is a whole command: in the folder of the
    downloaded file, `privsim` reads it as scenario K's runs (`sim.cli.scenario_file`)."""
    monkeypatch.chdir(tmp_path)
    for scs in (SCENARIOS, SCENARIOS[:1]):
        text = whatif_share.to_yaml(scs, 2, 60)
        (tmp_path / whatif_share.FILE_NAME).write_text(text)
        lines = whatif_share.commands(len(scs))
        assert len(lines) == len(scs)
        for k, line in enumerate(lines, 1):
            program, *argv = shlex.split(line)
            assert program == "privsim" and " ".join(argv) == line.removeprefix("privsim ")
            assert scenario_file.expand(argv) == ["-m", *whatif_share.overrides(text, k)]


def test_privsim_scenario_file_expands_to_the_files_overrides_the_command_line_winning(tmp_path):
    """`privsim --scenario-file F --scenario K [overrides]`: K's overrides first, as a multirun,
    then the command line's; an override of the same key replaces the file's."""
    from sim.cli.scenario_file import Refused, expand

    f = tmp_path / "s.yaml"
    f.write_text(whatif_share.to_yaml(SCENARIOS, 2, 60))
    saved = whatif_share.overrides(f.read_text(), 2)
    assert expand(["--scenario-file", str(f), "--scenario", "2"]) == ["-m", *saved]
    assert expand([f"--scenario-file={f}", "--scenario=S2", "-m", "x=1"]) == [*saved, "-m", "x=1"]
    mine = expand(["--scenario-file", str(f), "--scenario", "2", "operators.fixed=4", "seed=1"])
    assert mine == ["-m", *(o for o in saved if o.split("=")[0] not in ("operators.fixed",
                    "seed")), "operators.fixed=4", "seed=1"]  # fmt: skip
    assert expand(["seed=1"]) == ["seed=1"]  # no scenario file: untouched
    for argv, says in [
        (["--scenario-file", str(tmp_path / "no.yaml")], "no.yaml: No such file"),
        (["--scenario", "2"], "needs --scenario-file"),
        (["--scenario-file"], "--scenario-file needs a value"),
    ]:
        with pytest.raises(Refused, match=says):
            expand(argv)


@pytest.mark.slow  # three Hydra processes: ~25 s (with alternatives ~40 s)
@pytest.mark.parametrize("extra", [{}, {"alternatives": YES, "ad_volume": 2.0}])
def test_privsim_runs_the_saved_file(tmp_path, extra):
    """`privsim -m $(privsim-whatif --overrides FILE --scenario 2)` and `privsim --scenario-file
    FILE --scenario 2`: scenario 2's seeds, the same numbers by either route; with alternatives
    (an experiment that sweeps strategies and spreads itself) still the plan's seeds only, each
    the page's config."""
    f = tmp_path / "s.yaml"
    two = w.Plan(team=3, **extra)
    f.write_text(whatif_share.to_yaml([w.Plan(), two], 2, 10))
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    ov = subprocess.run([sys.executable, "-m", "sim.cli.whatif", "--overrides", str(f),
                         "--scenario", "2"], capture_output=True, text=True, env=env, check=True,
                        cwd=ROOT).stdout.split()  # fmt: skip
    assert "operators.fixed=3" in ov and ov[-1] == "seed=range(0,2)"
    out, direct = tmp_path / "sweep", tmp_path / "direct"
    for argv in (["-m", *ov, f"hydra.sweep.dir={out}"],
                 ["--scenario-file", str(f), "--scenario", "2", f"hydra.sweep.dir={direct}"]):
        subprocess.run([sys.executable, "-m", "sim", *argv], capture_output=True, env=env,
                       check=True, cwd=tmp_path, timeout=300)  # fmt: skip
    assert sorted(p.name for p in out.iterdir() if p.name.isdigit()) == ["0", "1"]
    for k in (0, 1):
        summary = yaml.safe_load((out / str(k) / "summary.json").read_text())
        assert summary["seed"] == k and "spend_paid_ads" in summary
        cfg = yaml.safe_load((out / str(k) / "config.json").read_text())
        assert cfg["operators"]["fixed"] == 3 and cfg["horizon_days"] == 10
        page = compose([*w.run_overrides(two, 10), f"seed={k}"])
        ran = json.loads((out / str(k) / "config.json").read_text())
        assert {c: ran[c] for c in page} == page  # the page's run, key for key
        assert (direct / str(k) / "config.json").read_text() == (out / str(k) / "config.json"
                                                                ).read_text()  # fmt: skip
        pd.testing.assert_frame_equal(pd.read_parquet(direct / str(k) / "daily.parquet"),
                                      pd.read_parquet(out / str(k) / "daily.parquet"))  # fmt: skip
        assert yaml.safe_load((direct / str(k) / "summary.json").read_text()) == summary


# --- goal seek -----------------------------------------------------------------------------------


def test_goal_questions_are_the_presets_with_the_panels_numbers():
    assert list(whatif_goal.TITLES) == list(whatif_goal.QUESTIONS)  # the select's words
    v = {**controls.defaults(controls.GOAL), "goal_conversion": 0.2, "goal_users": 20000}
    spec = load_spec(whatif_goal.TEAM, whatif_goal.overrides(whatif_goal.TEAM, v))
    assert spec.keep.threshold == 0.2 and spec.scenario["initial_users"] == 20000
    assert spec.brands == v["goal_brands"] < load_spec(whatif_goal.TEAM).brands  # reduced
    spec = load_spec(whatif_goal.BUDGET, whatif_goal.overrides(whatif_goal.BUDGET, v))
    assert spec.loss_cap == v["goal_loss"] == load_spec(whatif_goal.BUDGET).loss_cap
    cmd = whatif_goal.command(whatif_goal.TEAM, v, "/tmp/g")
    assert cmd == ("privsim-goal team_for_conversion \"keep='conversion_30d>=0.2'\" "
                   "scenario.initial_users=20000 brands.count=3 --out /tmp/g")  # fmt: skip
    with pytest.raises(ValueError, match="goal_loss"):
        whatif_goal.overrides(whatif_goal.BUDGET, {**v, "goal_loss": 2.0})


def test_runs_through_the_batch_engine():
    """Two tiny scenarios end to end through run_batch (in process), spend by channel on."""
    scs = [w.Plan(), w.Plan(strategy="premature", budget_paid_ads=500.0)]
    results = w.run(scs, 2, 20, n_jobs=1)
    assert all(r.ok for r in results) and len(results) == 4
    t = w.comparison(results, 20)
    assert t["runs"].tolist() == [2, 2]
    assert t["p_best"].sum() == pytest.approx(1.0)
    # the stated budget is spent: users are Poisson draws of budget ÷ unit cost (~17 a day,
    # ~330 per seed: 5.5 % sd, 3.9 % for the mean of 2 seeds); 20 % is 5 sd
    assert t.loc[1, "spend_paid_ads_per_day_p50"] == pytest.approx(500, rel=0.2)
    fig = w.figure(results)
    assert len(fig.axes) == 2
    # what the plans' gates and rules did, in a row of its own under each plan
    said = w.decided(scs, results, 20)
    page = w.table_html(t, {}, 20, said)
    assert page.count("<tr class='decisions-row'><td colspan='7'>What its gates and rules") == 2
    assert "undecided in 2 of 2" in said[t.loc[0, "scenario"]]
    assert said[t.loc[1, "scenario"]] == "paid ads spend rule in premature: never cut in 2 of 2"


@pytest.mark.slow  # ~18 runs of 90 days: ~30 s on one core
def test_the_goal_panels_answer_is_what_its_command_prints(tmp_path, capsys):
    """The panel's search (tiny: 1,000 customers, 2 brands) and its `privsim-goal …` command
    give the same answer; the command reads the panel's runs from the same folder."""
    import shlex

    from sim.cli import goal

    v = {**controls.defaults(controls.GOAL), "goal_users": 1000, "goal_brands": 2}
    answer = whatif_goal.ask(whatif_goal.TEAM, v, tmp_path, n_jobs=1)
    assert answer.startswith("Smallest operators.fixed") and "over 2 brands" in answer
    argv = shlex.split(whatif_goal.command(whatif_goal.TEAM, v, tmp_path))
    assert argv[0] == "privsim-goal"
    goal.main(argv[1:])
    printed = capsys.readouterr().out.strip()
    lead = answer.split(" (mean ± standard error")[0]
    assert printed.startswith(lead) and "(0 simulated" in printed
