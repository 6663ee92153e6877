"""The trainer's page run over many brands (seeds) in the background (issue #15, "across
brands"): the batch behind it is the page's own pair (same configs, same numbers), the bands and
the one-line result (NPV at the longest horizon reached and the day one arm overtakes the other
for good, issue #23) are read from the runs, and a run can be followed and cancelled. No browser:
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
from sim.viz.pages.story import yuan

DAYS = 40  # short runs: the tests check bookkeeping, not the year's outcome
NPV_DAYS = [20, DAYS, 2 * DAYS]  # NPV horizons within, at and beyond the short runs


@pytest.fixture(scope="module")
def bands():
    """The default pair over brands 0-2, 40 days, in this process, with NPV horizons that fit
    such short runs."""

    def short_npv(c, strategy):
        cfg, ov = pairs.arm_config(c, strategy)
        cfg["economics"]["npv_horizons_days"] = NPV_DAYS
        return cfg, ov

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(across, "arm_config", short_npv)
        return across.across_brands(pairs.Controls(), 3, jobs=1, horizon_days=DAYS)


def _overtake(a, b) -> float:
    """The day from which `a` stays strictly above `b` to the end, walked back from the end
    (NaN: not above on the last day): the definition, apart from `comparison.overtake_day`."""
    day = float("nan")
    for t in range(len(a) - 1, -1, -1):
        if not a[t] > b[t]:
            break
        day = float(t)
    return day


def _median_day(days) -> float:
    """Median with "never" counted as later than any day (NaN if the median is "never")."""
    m = float(np.median([np.inf if np.isnan(d) else d for d in days]))
    return m if np.isfinite(m) else float("nan")


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


def test_npv_line_of_real_runs_equals_an_independent_computation(bands):
    """The line's NPV is the runs' own `npv_40d` (the longest horizon within 40 days), which is
    each day's profit discounted at the config's rate; its overtake day is the runs' own."""
    rate = pairs.arm_config(pairs.Controls(), "staged")[0]["economics"]["discount_rate_annual"]
    names = list(bands.names.values())
    npv, cum = {}, {}
    for (g, seed), f in bands.daily.groupby(["group", "seed"]):
        profit = f.sort_values("day")["profit"].to_numpy()
        assert len(profit) == DAYS
        npv[g, seed] = sum(p / (1 + rate) ** (t / 365) for t, p in enumerate(profit))
        cum[g, seed] = np.cumsum(profit)
    diff = [npv[names[0], s] - npv[names[1], s] for s in range(3)]
    days = {
        (x, y): [_overtake(cum[x, s], cum[y, s]) for s in range(3)]
        for x, y in (names, names[::-1])
    }
    (first, other), when = next(
        ((k, _median_day(v)) for k, v in days.items() if np.isfinite(_median_day(v))),
        (tuple(names), float("nan")),
    )
    text = across.bands_sentence(bands)
    assert text.startswith(
        f"A (staged) beat B (premature) on NPV at {DAYS} days (daily profit discounted to day 0 "
        f"at {100 * rate:g} %/year) in {sum(d > 0 for d in diff)} of 3 brands (seeds 0–2); "
        "median paired difference (A − B, same brand) "
        f"{yuan(float(np.median(diff)), sign=True)}. "
        f"{first} overtook {other} on cumulative profit for good (ahead on every day from then "
        f"to day {DAYS}) in {int(np.isfinite(days[first, other]).sum())} of 3 brands; "
        f"median day across brands: {'never' if np.isnan(when) else f'{when:,.0f}'}"
    ), text
    got = across.per_brand(bands, f"npv_{DAYS}d")
    want = [[npv[g, s] for g in names] for s in range(3)]
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-9)


def _result(base: str, seed: int, profit, npv: dict | None = None, error=None) -> Result:
    ev = Evaluation({}, seed=seed, base=base)
    if error:
        return Result(ev, "h", error=error)
    summary = {"profit": float(sum(profit)), **(npv or {})}
    return Result(ev, "h", summary=summary, daily={"profit": list(profit)})


NAMES = {"A": "A (staged)", "B": "B (premature)"}
NAN = float("nan")
# 4 days; cumulative profit — seed 0: A −10 −10 20 20 · B 0 0 0 10 (A ahead from day 2);
# seed 1: A 0 0 0 5 · B 1 0 0 0 (A from day 3); seed 2: A 5 5 5 −5 · B 0 0 0 0 (B from day 3).
# NPV: the 4-day horizon is the longest the runs reach (8 days: NaN, never extrapolated); A − B
# there: +20, −20, +200; at 2 days A would lose in every brand.
PAIRED = [
    _result("A", 0, [-10, 0, 30, 0], {"npv_2d": 0, "npv_4d": 100, "npv_8d": NAN}),
    _result("B", 0, [0, 0, 0, 10], {"npv_2d": 1, "npv_4d": 80, "npv_8d": NAN}),
    _result("A", 1, [0, 0, 0, 5], {"npv_2d": 0, "npv_4d": 50, "npv_8d": NAN}),
    _result("B", 1, [1, -1, 0, 0], {"npv_2d": 1, "npv_4d": 70, "npv_8d": NAN}),
    _result("A", 2, [5, 0, 0, -10], {"npv_2d": 0, "npv_4d": 300, "npv_8d": NAN}),
    _result("B", 2, [0, 0, 0, 0], {"npv_2d": 1, "npv_4d": 100, "npv_8d": NAN}),
    _result("A", 3, [0, 0, 0, 0], {"npv_2d": 0, "npv_4d": 0, "npv_8d": NAN}),
    _result("B", 3, (), error="ValueError: boom"),
]
NPV_WORDS = "NPV at 4 days (daily profit discounted to day 0 at 8 %/year)"
OVERTOOK = "on cumulative profit for good (ahead on every day from then to day 4)"


def test_sentence_leads_with_npv_and_the_median_overtake_day():
    b = across.seed_bands(pairs.Controls(), 4, NAMES, PAIRED, 0.08)
    npv = across.per_brand(b, "npv_4d")
    assert list(npv.index) == [0, 1, 2]  # seed 3 has no pair
    assert list(npv["A (staged)"]) == [100, 50, 300] and list(npv["B (premature)"]) == [80, 70, 100]
    text = across.bands_sentence(b)
    # A overtook B from day 2, 3, never → median 3 (never counts as later than any day)
    assert text == (
        f"A (staged) beat B (premature) on {NPV_WORDS} in 2 of 3 brands (seeds 0–3); median "
        f"paired difference (A − B, same brand) +¥20. A (staged) overtook B (premature) "
        f"{OVERTOOK} in 2 of 3 brands; median day across brands: 3 (1 runs failed and are left "
        "out: B, seed 3: ValueError: boom)."
    ), text


@pytest.mark.parametrize(
    "seeds, tail",
    [  # A from day 2, never → median never; B alone from day 3 in seed 2
        ({0, 2}, "A (staged) overtook B (premature) {o} in 1 of 2 brands; median day across "
         "brands: never (not in more than half of them)."),
        ({2}, "B (premature) overtook A (staged) {o} in 1 of 1 brands; median day across "
         "brands: 3."),
    ],
)  # fmt: skip
def test_overtake_day_says_never_and_names_the_arm_that_overtook(seeds, tail):
    results = [r for r in PAIRED if r.evaluation.seed in seeds]
    text = across.bands_sentence(across.seed_bands(pairs.Controls(), 3, NAMES, results, 0.08))
    assert text.endswith(tail.format(o=OVERTOOK)), text


def test_runs_shorter_than_every_npv_horizon_compare_cumulative_profit():
    results = [
        _result(r.evaluation.base, r.evaluation.seed, r.daily["profit"], {"npv_365d": NAN})
        for r in PAIRED[:6]
    ]
    text = across.bands_sentence(across.seed_bands(pairs.Controls(), 3, NAMES, results, 0.08))
    # cumulative profit at day 4 — A: 20, 5, −5 · B: 10, 0, 0 → A − B +10, +5, −5
    assert text.startswith(
        "A (staged) beat B (premature) on cumulative profit at day 4 (no NPV: the runs are "
        "shorter than its shortest horizon, 365 days) in 2 of 3 brands (seeds 0–2); median "
        "paired difference (A − B, same brand) +¥5. "
    ), text


def test_sentence_with_one_arm():
    results = [_result("A", s, [s * 100.0, 0.0], {"npv_2d": s * 90.0}) for s in range(3)]
    b = across.seed_bands(pairs.Controls(side_by_side=False), 3, {"A": "A (staged)"}, results, 0.1)
    assert across.bands_sentence(b) == (
        "Side by side is off: A (staged) alone; median NPV at 2 days (daily profit discounted "
        "to day 0 at 10 %/year) ¥90 over 3 brands."
    )


def test_figure_shows_median_and_band_of_each_arm(bands):
    fig = across.figure_bands(bands)
    (ax,) = fig.axes
    assert ax.get_title(loc="left").startswith("Across brands: cumulative profit of A and B")
    assert ax.get_ylabel() == "cumulative profit (¥)"
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
    final = across.per_brand(bands, "profit")["A (staged)"]
    assert len(final) == 3 and line.get_ydata()[-1] == pytest.approx(final.median())
    # a dotted line at the median day A overtook B for good, if it is a day
    wide = cum.pivot_table(index="day", columns=["group", "seed"], values="cumulative_profit")
    a, b = wide["A (staged)"], wide["B (premature)"]
    day = _median_day([_overtake(a[s], b[s]) for s in range(3)])
    dotted = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    if np.isnan(day):
        assert dotted == [] and ax.get_xlabel() == "day"
    else:
        assert dotted == [day]
        assert ax.get_xlabel().startswith(f"day · dotted line: day {day:,.0f}, ")


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
    # the lesson that sets these same controls is the same scenario
    assert across.band_changes(c, pairs.Controls(lesson="understaffed_scaling")) == []
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
    assert line.startswith(
        "A (staged) beat B (premature) on cumulative profit at day 5 (no NPV: the runs are "
        "shorter than its shortest horizon, 365 days) in "
    )
    assert text("bands-progress") == []
    rc.close()
