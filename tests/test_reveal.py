"""The brand revealed on the trainer's page (sim.viz.brand.reveal) and the testing_value
study's figure (sim.viz.testing_value): their content is the models' `brand` summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.viz import testing_value
from sim.viz.pages import pair as pairs
from sim.viz.pages import reveal as brand

DAYS = 200  # staged's 0-1 test (3 arms x 1,000 users at 30 a day, + 30 days) has committed


@pytest.fixture(scope="module")
def pair():
    p = pairs.build_pair(experiment="testing_value", fit_spread=0.5, seed=1, strategy_b="ten_to_n")
    return pairs.advance(p, DAYS)


def test_fit_spread_control_reaches_both_arms(pair):
    assert [a.model.brand.spread for a in pair.arms] == [0.5, 0.5]
    assert all("fit.spread=0.5" in a.overrides for a in pair.arms)
    with pytest.raises(ValueError, match="fit_spread"):
        pairs.Controls(fit_spread=-1.0)


def test_reveal_table_is_the_brand_summary(pair):
    dims = brand.reveal(pair)
    assert [r.dimension for r in dims] == ["place", "goods"]  # people lists no channels
    for r in dims:
        d, t = r.dimension, r.table
        for arm in pair.arms:
            b = arm.model.summary()["brand"]
            names = [k.removeprefix(f"{d}_fit_") for k in b if k.startswith(f"{d}_fit_")]
            assert t["candidate"].tolist() == names
            assert t["true fit"].tolist() == [b[f"{d}_fit_{n}"] for n in names]
            assert t.loc[t["guess"], "candidate"].tolist() == [b[f"{d}_guess"]]
            assert t.loc[t[f"{arm.label}: runs"], "candidate"].tolist() == [b[f"{d}_run"]]
            best = t.loc[t["best"], "candidate"].tolist()
            assert b[f"{d}_best_fit"] in best
            assert (b[f"{d}_run"] in best) == b[f"{d}_run_is_best_fit"]
            users = [b.get(f"{d}_arm_users_{n}") for n in names]
            assert t[f"{arm.label}: test users"].tolist() == users
        # staged (A) tested every candidate, ten_to_n (B) none; B runs the guess
        assert t["A: test users"].notna().all() and t["B: test users"].isna().all()
        assert t.loc[t["B: runs"], "candidate"].tolist() == t.loc[t["guess"], "candidate"].tolist()
        assert len(r.lines) == 2 and "untested" in r.lines[1]
        committed = pair.arms[0].model.summary()["brand"][f"{d}_committed"]
        assert t.loc[t["A: runs"], "candidate"].tolist() == [committed]
        assert "committed" in r.lines[0]
    assert len(set(dims[0].table["true fit"])) == 3  # spread 0.5: the fits differ


def test_reveal_is_empty_without_candidates():
    assert brand.reveal(pairs.advance(pairs.build_pair(), 2)) == []


def test_reveal_markdown_marks_flags():
    pytest.importorskip("solara")
    from sim.viz.pages import panels

    t = pd.DataFrame({"candidate": ["a", "b"], "x": [1.0, None], "ok": [True, False]})
    md = panels.reveal_markdown(t)
    assert md.splitlines()[2] == "| a | 1.000 | ✓ |"
    assert md.splitlines()[3] == "| b |  |  |"


def _table(rows):
    return pd.DataFrame(rows, columns=["status", "strategy", "fit.spread", "seed", "profit"])


def test_advantage_is_paired_by_brand_and_spread():
    t = _table(
        [
            ("finished", "staged", 0.0, 0, 10.0),
            ("finished", "staged", 0.0, 1, 20.0),
            ("finished", "staged", 0.5, 0, 30.0),
            ("finished", "ten_to_n", 0.0, 0, 4.0),
            ("finished", "ten_to_n", 0.0, 1, 25.0),
            ("finished", "ten_to_n", 0.5, 0, 1.0),
            ("failed", "ten_to_n", 0.5, 1, np.nan),
        ]
    )
    a = testing_value.advantage(t, "profit")
    assert a.sort_values(["spread", "seed"])["diff"].tolist() == [6.0, -5.0, 29.0]
    s = testing_value.summarise(a).set_index("spread")
    assert s.loc[0.0, "brands"] == 2 and s.loc[0.0, "wins"] == 1
    assert s.loc[0.0, "median"] == 0.5


def test_slide_says_what_each_arm_ran(pair, tmp_path):
    from sim.viz import slide

    lines = slide.live_brand_lines(pair)
    b = [a.model.summary()["brand"] for a in pair.arms]
    assert lines[0].startswith("A (staged) runs — place ")
    assert f"goods {b[0]['goods_run']} (tested;" in lines[0]
    assert f"goods {b[1]['goods_run']} (guess, untested;" in lines[1]
    assert slide.live_brand_lines(pairs.advance(pairs.build_pair(), 1)) == []
    t = pd.DataFrame(
        {
            "group": ["staged", "staged", "ten_to_n", "ten_to_n"],
            "brand.place_fit_a": [1.2, 0.8, 1.2, 0.8],
            "brand.place_fit_b": [0.9, 1.1, 0.9, 1.1],
            "brand.place_run_is_best_fit": [True, True, True, False],
            "brand.place_committed": ["a", "b", None, None],
        }
    )
    assert slide.brand_lines(t) == [
        "staged ran — place: best fit in 2/2 brands (its test's pick)",
        "ten_to_n ran — place: best fit in 1/2 brands (the guess, untested)",
    ]
    with pytest.raises(SystemExit, match="also sweeps fit.spread"):
        slide.experiment_arms("testing_value")
    assert all(p.exists() for p in slide.write_live(pair, tmp_path))


def test_page_panel_hides_the_fits_until_revealed():
    solara = pytest.importorskip("solara")
    import ipyvuetify as v

    from sim.viz.pages import panels

    p = pairs.build_pair(experiment="testing_value", fit_spread=0.5, seed=1)
    _, rc = solara.render(panels.RevealBrand(p), handle_error=False)  # day 0 renders too
    rc.close()
    p = pairs.advance(p, 3)
    _, rc = solara.render(panels.RevealBrand(p), handle_error=False)

    def lines():
        return [w.children[0] for w in rc.find(v.Html).widgets if w.class_ == "reveal-line"]

    assert lines() == []  # before the end: candidates and the guess only
    rc.find(v.Btn, children=["Reveal the brand"]).widget.click()
    expected = [line for r in brand.reveal(p) for line in r.lines]
    assert lines() == expected and len(expected) == 4


def test_page_renders_on_day_zero():
    """The whole page at Reset (no day simulated yet: the models cannot summarise)."""
    solara = pytest.importorskip("solara")
    from sim.viz.pages import live_page

    _, rc = solara.render(live_page.Page(), handle_error=False)
    rc.close()
