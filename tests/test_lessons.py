"""The live page's prepared lessons (configs/lesson/, sim/viz/pages/lessons.py): each composes,
its controls are the page's and take the values given, the arms' configs compose as on the CLI,
a bad key is refused, and choosing one in the select sets the controls."""

from __future__ import annotations

import pytest

from sim.core.params import ConfigError
from sim.experiment.config import compose
from sim.viz.pages import controls, lessons
from sim.viz.pages.controls import LIVE, NO_LESSON
from sim.viz.pages.pair import Controls, LivePair, arm_config, pending_changes

NAMES = lessons.names()


def test_the_four_lessons_are_offered_in_the_select():
    assert set(NAMES) >= {
        "understaffed_scaling", "untested_launch", "untested_launch_3y", "optimized_policy"
    }  # fmt: skip
    assert controls.CONTROLS["lesson"].options() == [NO_LESSON, *NAMES]
    assert list(controls.page(LIVE))[0] == "lesson"  # the top of the sidebar
    # the select shows each lesson's title; its value stays the name
    items = lessons.select_items()
    assert [i["value"] for i in items] == controls.CONTROLS["lesson"].options()
    assert items[2] == {"text": lessons.load(NAMES[1]).title, "value": NAMES[1]}
    assert all(i["text"] != i["value"] for i in items)


@pytest.mark.parametrize("name", NAMES)
def test_each_lesson_composes_and_validates(name):
    lesson = lessons.load(name)
    assert lesson.title and lesson.conditions and lesson.controls
    assert lesson.point.count(". ") == 0 and lesson.point.endswith("?")  # one sentence, a question
    c = Controls.parse(**lesson.values())
    assert c.lesson == name and lessons.active(c.__dict__) == lesson
    for strategy in (c.strategy_a, c.strategy_b):
        cfg, ov = arm_config(c, strategy)
        assert cfg == compose(ov)  # the CLI's config for the same overrides
        assert cfg["strategy"]["name"] == strategy
    if "horizon" in lesson.controls:
        assert cfg["horizon_days"] == lesson.controls["horizon"]


def test_lesson_specs_refuse_bad_keys_and_values():
    good = {"title": "t", "point": "Does x?", "conditions": ["a"], "controls": {"seed": 3}}
    assert lessons.from_dict("x", good).controls == {"seed": 3}
    with pytest.raises(ConfigError, match="unknown field 'pointt'"):
        lessons.from_dict("x", {**good, "pointt": "y"})
    with pytest.raises(ConfigError, match="point is required"):
        lessons.from_dict("x", {k: v for k, v in good.items() if k != "point"})
    with pytest.raises(ConfigError, match=r"strategy_c: not a control .*did you mean strategy_b"):
        lessons.from_dict("x", {**good, "controls": {"strategy_c": "staged"}})
    with pytest.raises(ConfigError, match="strategy_b = 'stagd' .*did you mean staged"):
        lessons.from_dict("x", {**good, "controls": {"strategy_b": "stagd"}})
    with pytest.raises(ConfigError, match="horizon = 400; allowed: as planned, 365, 730, 1095"):
        lessons.from_dict("x", {**good, "controls": {"horizon": 400}})
    with pytest.raises(ConfigError, match="brands = 0"):
        lessons.from_dict("x", {**good, "brands": 0})
    with pytest.raises(ConfigError, match="unknown lesson; did you mean untested_launch"):
        lessons.load("untested_lunch")


def test_choosing_a_lesson_sets_the_controls_and_reset_applies_them():
    page = {**controls.defaults(LIVE), "operators": 7, "seed": 42}
    pair = LivePair(**page)
    chosen = lessons.choose(page, "untested_launch")
    lesson = lessons.load("untested_launch")
    assert chosen["lesson"] == "untested_launch"
    assert {k: chosen[k] for k in lesson.controls} == lesson.controls
    assert chosen["operators"] == 0  # a control the lesson does not name: back to its default
    # the change waits for Reset, as any other
    assert "lesson: none → untested_launch" in pending_changes(pair, chosen)
    assert "seed: 42 → 9" in pending_changes(pair, chosen)
    # changing one of the lesson's controls drops the lesson; another control keeps it
    assert lessons.change(chosen, "strategy_b", "premature")["lesson"] == NO_LESSON
    assert lessons.change(chosen, "ad_volume", 2.0)["lesson"] == "untested_launch"
    assert lessons.choose(chosen, NO_LESSON) == {**chosen, "lesson": NO_LESSON}


def test_the_title_is_the_lesson_or_the_arms_on_screen():
    from sim.viz.pages.live_page import title

    pair = LivePair(strategy_a="one_to_ten", strategy_b="ten_to_n")
    assert title(pair).endswith(": A (one_to_ten) vs B (ten_to_n)")
    assert "premature" not in title(pair)
    lesson = lessons.load("understaffed_scaling")
    assert title(LivePair(**lesson.values())).endswith(": " + lesson.title)
    assert title(LivePair(lesson="no_such_lesson", strict=False)) == "privsim — live view"


def test_guess_line_names_this_brand_and_those_where_the_guess_was_best():
    record = {0: ["place"], 1: [], 2: ["place", "goods"], 3: []}
    line = lessons.guess_line(record, 2)
    assert line.startswith("On this brand (seed 2) the guess was not the best fit on place, goods")
    assert "seeds 0–3" in line and "every dimension for seeds 1, 3" in line
    assert "for every one of them" in lessons.guess_line({0: ["goods"]}, 0)


def test_guess_record_reads_the_brands_latent_fits():
    c = Controls.parse(**lessons.load("untested_launch").values())
    record = lessons.guess_record(c, 2)
    assert set(record) == {0, 1}
    for seed, missed in record.items():
        pair = LivePair(**{**c.__dict__, "seed": seed})
        pair.step()
        b = pair.arms[1].summary()["brand"]
        # B (ten_to_n) runs its guess untested: missed where what it runs is not the best fit
        assert missed == [d for d in ("place", "goods") if not b[f"{d}_run_is_best_fit"]]
