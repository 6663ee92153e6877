"""The trainer's page run over many brands (seeds) in the background (issue #15, "across
brands"): the batch behind it is the page's own pair (same configs, same numbers), the bands and
the one-line result are read from the runs, and a run can be followed and cancelled. No browser:
`sim.viz.pages.bands` only (the page's card is `sim.viz.pages.panels.AcrossBrands`, its click
in tests/test_app_e2e.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sim.experiment.batch import Evaluation, Result
from sim.viz import plots
from sim.viz.pages import bands as across
from sim.viz.pages import pair as pairs

DAYS = 40  # short runs: the tests check bookkeeping, not the year's outcome


@pytest.fixture(scope="module")
def bands():
    """The default pair over brands 0-2, 40 days, in this process."""
    return across.across_brands(pairs.Controls(), 3, jobs=1, horizon_days=DAYS)


def test_plan_is_the_pages_pair_over_seeds():
    c = pairs.Controls(strategy_b="one_to_ten", operators=3, fission_share=0.5, seed=7)
    bases, evals, names = across.band_plan(c, 3)
    assert bases == {
        "A": pairs.arm_config(c, "staged")[0],
        "B": pairs.arm_config(c, "one_to_ten")[0],
    }
    assert names == {"A": "A (staged)", "B": "B (one_to_ten)"}
    assert [(e.base, e.seed) for e in evals] == [(b, s) for s in range(3) for b in "AB"]
    assert all(e.values == {} for e in evals)  # nothing but the seed changes
    _, evals, names = across.band_plan(pairs.Controls(side_by_side=False), 2)
    assert list(names) == ["A"] and [e.base for e in evals] == ["A", "A"]
    with pytest.raises(ValueError, match="seeds"):
        across.band_plan(c, 0)


@pytest.mark.parametrize("seed", [2])
def test_batch_numbers_equal_the_pages_pair_on_that_seed(bands, seed):
    """Brand (seed) s of the bands is what the page shows with seed s, day by day."""
    pair = pairs.advance(pairs.build_pair(seed=seed), DAYS)
    for arm in pair.arms:
        got = bands.daily[(bands.daily["group"] == arm.name) & (bands.daily["seed"] == seed)]
        want = arm.daily()["profit"].to_numpy()
        assert len(got) == DAYS == len(want)
        np.testing.assert_allclose(got.sort_values("day")["profit"], want, rtol=1e-12, atol=1e-9)


def _result(base: str, seed: int, profit, error: str | None = None) -> Result:
    ev = Evaluation({}, seed=seed, base=base)
    daily = None if error else {"profit": list(profit)}
    return Result(ev, "h", summary=None if error else {}, daily=daily, error=error)


def test_sentence_counts_paired_wins_and_the_median_difference():
    # cumulative profit at day 3 — A: 30, 10, 50, 0 · B: 20, 40, 20, x (B failed on seed 3)
    names = {"A": "A (staged)", "B": "B (premature)"}
    results = [
        _result("A", 0, [10, 10, 10]),
        _result("B", 0, [20, 0, 0]),
        _result("A", 1, [0, 0, 10]),
        _result("B", 1, [40, 0, 0]),
        _result("A", 2, [50, 0, 0]),
        _result("B", 2, [0, 0, 20]),
        _result("A", 3, [0, 0, 0]),
        _result("B", 3, (), error="ValueError: boom"),
    ]
    b = across.seed_bands(pairs.Controls(), 4, names, results)
    fp = across.final_profits(b)
    assert list(fp.index) == [0, 1, 2]  # seed 3 has no pair
    assert list(fp["A (staged)"]) == [30, 10, 50] and list(fp["B (premature)"]) == [20, 40, 20]
    text = across.bands_sentence(b)
    # differences A − B: +10, −30, +30 → A ahead in 2 of 3, median +10
    assert text.startswith(
        "A (staged) beat B (premature) on cumulative profit at day 3 in 2 of 3 brands "
        "(seeds 0–3); median paired difference (A − B, same brand) +¥10"
    ), text
    assert "1 runs failed" in text and "B, seed 3: ValueError: boom" in text


def test_sentence_with_one_arm():
    results = [_result("A", s, [s * 100.0, 0.0]) for s in range(3)]
    b = across.seed_bands(pairs.Controls(side_by_side=False), 3, {"A": "A (staged)"}, results)
    assert across.bands_sentence(b) == (
        "Side by side is off: A (staged) alone; median cumulative profit at day 2 ¥100 "
        "over 3 brands."
    )


def test_figure_shows_median_and_band_of_each_arm(bands):
    fig = across.figure_bands(bands)
    (ax,) = fig.axes
    assert ax.get_title(loc="left").startswith("Across brands: cumulative profit of A and B")
    assert ax.get_xlabel() == "day" and ax.get_ylabel() == "cumulative profit (¥)"
    leg = ax.get_legend()
    assert [t.get_text() for t in leg.get_texts()] == ["A (staged)", "B (premature)"]
    assert plots.BAND_NOTE in leg.get_title().get_text() and "3 seeds" in leg.get_title().get_text()
    assert len(ax.collections) == 2  # one band per arm
    # the line is the median across seeds of each day's cumulative profit
    cum = plots.cumulative(bands.daily, "profit")
    a = cum[cum["group"] == "A (staged)"]
    median = a.groupby("day")["cumulative_profit"].median().to_numpy()
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "A (staged)")
    np.testing.assert_allclose(line.get_ydata(), median)
    # each run summed on its own: the last point is the median of the seeds' final profits
    final = across.final_profits(bands)["A (staged)"]
    assert len(final) == 3 and line.get_ydata()[-1] == pytest.approx(final.median())


def test_progress_and_cancel():
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        cancel.set()  # stop after the first seed

    out = across.across_brands(
        pairs.Controls(), 3, jobs=1, horizon_days=5, on_progress=progress, cancel=cancel
    )
    assert out is None and seen == [(2, 6)]


def test_band_run_in_a_thread_and_its_errors():
    run = across.BandRun(pairs.Controls(), 2, jobs=1, horizon_days=5)
    t = threading.Thread(target=run.run)
    t.start()
    t.join(60)
    assert run.finished and run.error is None and (run.done, run.total) == (4, 4)
    assert run.bands is not None and run.bands.daily["seed"].nunique() == 2
    bad = across.BandRun(pairs.Controls(), 0, jobs=1)
    bad.run()
    assert bad.finished and bad.bands is None and bad.error.startswith("ValueError: seeds = 0")


def test_changed_scenario_marks_the_bands_stale_but_not_the_seed():
    c = pairs.Controls()
    assert across.band_changes(c, pairs.Controls(seed=5)) == []
    assert across.band_changes(c, pairs.Controls(strategy_a="one_to_ten", seed=5)) == [
        "strategy a: staged → one_to_ten"
    ]


def test_page_card_runs_in_the_background_and_redraws_at_the_end(monkeypatch):
    """The card (no browser): Run starts a background run, progress shows, and when the thread
    ends the card redraws by itself with the result line (no other event needed)."""
    pytest.importorskip("solara")
    import time

    import ipyvuetify as v
    import solara

    from sim.viz.pages import panels

    made = []

    class Short(across.BandRun):  # 5 days in this process: the card's wiring, not the model
        def __init__(self, controls, seeds, jobs=None, horizon_days=None):
            super().__init__(controls, seeds, jobs=1, horizon_days=5)
            made.append(self)

    monkeypatch.setattr(across, "BandRun", Short)
    pair = pairs.build_pair(strict=False)
    _, rc = solara.render(panels.AcrossBrands(pair), handle_error=False)

    def text(cls):
        return [w.children[0] for w in rc.find(v.Html).widgets if cls in (w.class_ or "")]

    assert text("bands-result") == []
    rc.find(v.Btn, children=["Run over 10 brands"]).widget.click()
    deadline = time.monotonic() + 60
    while not text("bands-result"):
        assert time.monotonic() < deadline, "the card did not redraw when the run ended"
        time.sleep(0.1)
    assert made and made[0].finished and made[0].bands.seeds == 10
    (line,) = text("bands-result")
    assert line.startswith("A (staged) beat B (premature) on cumulative profit at day 5 in ")
    assert text("bands-progress") == []
    rc.close()
