"""The trainer's live page end to end, in a real headless browser (Debian's chromium through
Playwright) at 1280×720, a projector's size: load; the first screen at day 0 (the question, the
arms in words, "preview loading" then the preview of where the run ends, drawn faintly on the
profit chart; no Solara badge); play a year (its wall time recorded in
results/e2e/timing.json, not asserted), the story on the first screen without scrolling (headline
cards, the profit chart with a phase mark), the workbook and the HTML report of the pair
downloaded (app.xlsx, app.html), presentation mode, a changed control shown as
pending until Reset, screenshots; the "Across brands" card run over 5 brands (seeds) in the
background, its band figure and result line, marked stale after a Reset to another scenario;
a prepared lesson chosen in the Lesson select, applied on Reset and played to its end.

Needs `apt-get install chromium` and `pip install playwright` plus the page's extra
(`.[viz]`); skips, saying which is missing, when one of them is absent. The screenshots go to
results/e2e/ (app_start.png: day 0 with the preview; app.png: the first screen after a year;
app_full.png: the whole page; app_presentation.png; app_pending.png; app_after_reset.png;
app_bands.png; lesson_start.png, lesson_end.png, lesson_reveal.png: a prepared lesson
played to its end).
"""

from __future__ import annotations

import json
import os
import re
import time

import openpyxl
import pytest
from browser import OUT, VIEWPORT, download, missing, opened, served

PLOTS = ("profit", "funnel", "conversion", "operators", "ltv_cac", "churn")

pytestmark = [
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
    pytest.mark.slow,  # a real browser and server, a year played: ~1-2 min
]


@pytest.fixture(scope="module")
def server():
    with served(["sim.cli.app"], "server.log") as url:
        yield url


def _day(page) -> int:
    return int(re.search(r"Day (\d+)", page.inner_text(".day-counter")).group(1))


def _wait_day(page, at_least: int, timeout_s: float = 300) -> int:
    """Wait for the day counter (generous: the suite shares 2 busy cores; not a timing test)."""
    deadline = time.monotonic() + timeout_s
    while (d := _day(page)) < at_least:
        assert time.monotonic() < deadline, f"day counter stuck at {d} (wanted >= {at_least})"
        page.wait_for_timeout(250)
    return d


def _assert_plots_rendered(page) -> None:
    for key in PLOTS:
        img = page.locator(f".plot-{key} img").first
        img.wait_for(state="attached", timeout=60_000)
        page.wait_for_function(
            "(k) => { const i = document.querySelector(`.plot-${k} img`);"
            " return i && i.complete && i.naturalWidth > 200; }",
            arg=key,
            timeout=60_000,
        )
        h = img.evaluate("e => e.naturalHeight")
        assert h > 100, f"plot {key} not rendered ({h} px high)"


def _choose(page, select: str, option: str) -> None:
    """Pick `option` in the sidebar's select whose label holds `select`."""
    page.locator(".v-select", has_text=select).first.click()
    page.locator(
        ".v-menu__content .v-list-item", has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")
    ).first.click()


def _reset_until(page, condition: str, timeout_s: float = 60) -> None:
    """Press Reset and wait until the JavaScript `condition` holds."""
    page.locator(".reset-button").first.click()
    page.wait_for_function(condition, timeout=timeout_s * 1000)


def _in_first_screen(page, selector: str) -> None:
    """The element is on screen at 1280×720 without scrolling: its box lies in the viewport."""
    assert page.evaluate("() => window.scrollY") == 0
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"] + 1, (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"] + 1, (selector, box)


def test_first_screen_tells_the_story_and_reset_applies_changes(server):
    with opened(server) as page:
        try:
            page.wait_for_selector(".day-counter", timeout=120_000)
        except Exception:  # noqa: BLE001 - say why, then fail
            pytest.fail(
                "page did not render: Solara loads its JavaScript through its CDN "
                "proxy; offline, install solara-assets and ipyvuetify<3 (see docs/pages.md)"
            )
        assert _day(page) == 0
        _assert_plots_rendered(page)
        # the first screen at day 0 teaches: the question, the two arms in words, and where
        # the run ends (computed in the background: "preview loading" until it is ready)
        first = page.inner_text(".lesson")
        assert "Does scaling before the team and the fit are ready destroy value?" in first
        assert "A (staged): “zero_to_one”" in first and "B (premature): “premature”" in first
        assert "Preview loading" in first or "Preview — this is where this run ends" in first
        page.wait_for_function(
            "() => /Preview — this is where this run ends/"
            ".test(document.querySelector('.lesson')?.innerText)",
            timeout=120_000,
        )
        assert re.search(
            r"by day 364, cumulative profit A −?¥[\d.,]+[kM]? vs B −?¥[\d.,]+[kM]?",
            page.inner_text(".lesson"),
        )
        assert page.locator(".headline").count() == 0  # no card of "not yet measurable"
        for sel in (".day-counter", ".lesson", ".plot-profit img"):
            _in_first_screen(page, sel)
        assert page.get_by_text("runs on Solara").count() == 0  # the badge: off (serve.SERVER_ENV)
        page.screenshot(path=str(OUT / "app_start.png"))

        # play the whole year; its wall time goes to timing.json (recorded, not asserted)
        t0 = time.monotonic()
        page.get_by_role("button", name="▶").click()
        _wait_day(page, 365, timeout_s=600)
        play_s = time.monotonic() - t0
        (OUT / "timing.json").write_text(
            json.dumps({"full_year_play_s": round(play_s, 1), "cpus": os.cpu_count()}, indent=1)
        )
        page.wait_for_function(  # the last redraw landed: a phase mark is listed
            "() => /one_to_ten/.test(document.querySelector('.marks-profit')?.innerText)"
            " && /Day 365 of 365/.test(document.querySelector('.what-happened')?.innerText)",
            timeout=60_000,
        )
        _assert_plots_rendered(page)

        # the first screen: run bar, the four cards and the profit chart, no scrolling
        for sel in (".day-counter", ".headline", ".plot-profit img"):
            _in_first_screen(page, sel)
        cards = page.inner_text(".headline")
        for title in ("Cumulative profit", "LTV/CAC at 90 days", "30-day conversion"):
            assert title in cards
        assert "Users per operator" in cards and "B − A" in cards
        assert "A: one_to_ten" in page.inner_text(".marks-profit")  # A changed phase
        text = page.inner_text(".what-happened")
        assert "Day 365 of 365" in text
        assert re.search(r"30-day conversion (fell below|has not fallen|dipped)", text), text
        # the reveal panel lives below the plots: the default brand has nothing to reveal
        assert "nothing to test or reveal" in page.inner_text(".reveal-brand")
        page.screenshot(path=str(OUT / "app.png"))
        page.screenshot(path=str(OUT / "app_full.png"), full_page=True)
        # the pair as files to forward (live_export): the workbook and the report download
        book = openpyxl.load_workbook(download(page, "Download workbook (.xlsx)", OUT / "app.xlsx"))
        assert book.sheetnames == ["summary", "daily", "arms", "About"]
        assert book["daily"].max_row == 1 + 2 * 365  # both arms' daily tables, a header row
        report = download(page, "Download report (HTML)", OUT / "app.html").read_text()
        assert "day 365 of 365" in report and report.count("data:image/png") == 6

        # presentation mode: no sidebar, the story still on the first screen
        page.locator(".present-switch input").first.check(force=True)
        page.wait_for_function(
            "() => !document.querySelector('.v-navigation-drawer--open .v-select')",
            timeout=60_000,
        )
        page.wait_for_timeout(1500)
        _in_first_screen(page, ".headline")
        page.screenshot(path=str(OUT / "app_presentation.png"))
        page.locator(".present-switch input").first.uncheck(force=True)
        page.wait_for_selector(".v-select", timeout=60_000)

        # change strategy A: the change is shown as pending, Reset marked, until Reset
        assert page.locator(".pending-changes").count() == 0
        _choose(page, "Strategy A", "one_to_ten")
        page.wait_for_selector(".pending-changes", timeout=60_000)
        assert "staged → one_to_ten" in page.inner_text(".pending-changes")
        assert page.locator(".reset-pending").count() == 1
        _in_first_screen(page, ".pending-changes")
        page.screenshot(path=str(OUT / "app_pending.png"))
        _reset_until(
            page,
            "() => document.querySelector('.what-happened')"
            "?.innerText.includes('A (one_to_ten)')"
            " && /Day 0 of/.test(document.querySelector('.day-counter')?.innerText)",
        )
        assert page.locator(".pending-changes").count() == 0
        assert page.locator(".reset-pending").count() == 0
        page.get_by_role("button", name="Step", exact=True).click()  # one redraw of days
        _wait_day(page, 1, timeout_s=120)
        _assert_plots_rendered(page)
        page.screenshot(path=str(OUT / "app_after_reset.png"))


def test_across_brands_runs_in_the_background_and_shows_bands(server):
    """Pick 5 brands, run: progress, then the band figure and the paired result line, while the
    page still steps; a Reset to another strategy marks the bands stale."""
    with opened(server) as page:
        page.wait_for_selector(".across-brands", timeout=120_000)
        page.locator(".across-brands .v-select").first.click()
        page.locator(
            ".v-menu__content .v-list-item", has_text=re.compile(r"^\s*5\s*$")
        ).first.click()
        page.get_by_role("button", name="Run over 5 brands").click()
        t0 = time.monotonic()
        page.wait_for_selector(".bands-progress", timeout=60_000)
        page.get_by_role("button", name="Step", exact=True).click()  # the page still answers
        _wait_day(page, 1, timeout_s=120)
        page.wait_for_selector(".bands-result", timeout=300_000)
        bands_s = time.monotonic() - t0
        timing = OUT / "timing.json"
        old = json.loads(timing.read_text()) if timing.exists() else {}
        timing.write_text(json.dumps({**old, "bands_5_seeds_s": round(bands_s, 1)}, indent=1))
        page.wait_for_function(
            "() => { const i = document.querySelector('.plot-bands img');"
            " return i && i.complete && i.naturalWidth > 200; }",
            timeout=60_000,
        )
        text = page.inner_text(".bands-result")
        assert re.search(
            r"A \(staged\) beat B \(premature\) on NPV at 365 days \(daily profit discounted to "
            r"day 0 at 10 %/year\) in \d of 5 brands \(seeds 0–4\); median paired difference .*"
            r"\. [AB] \((staged|premature)\) overtook [AB] \((staged|premature)\) on cumulative "
            r"profit for good \(ahead on every day from then to day 365\) in \d of 5 brands; "
            r"median day across brands: (never|[\d,]+)",
            text,
        ), text
        page.locator(".across-brands").first.scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "app_bands.png"))

        # a Reset to another scenario: the bands stay, marked as an earlier scenario's
        assert page.locator(".bands-stale").count() == 0
        _choose(page, "Strategy A", "one_to_ten")
        page.locator(".reset-button").first.click()
        page.wait_for_selector(".bands-stale", timeout=60_000)
        assert "strategy a: staged → one_to_ten" in page.inner_text(".bands-stale")


def test_a_lesson_sets_the_controls_and_plays_to_the_end(server):
    """Choose the prepared lesson "an untested launch" in the sidebar's Lesson select: its
    controls wait for Reset; after Reset the app bar and the first screen name the lesson, its
    question and conditions, and the preview; played to its end (one year), "What happened"
    says how the guess fared on this brand and on the experiment's other brands, and the brand
    is revealed. Screenshots: lesson_start.png (day 0), lesson_end.png, lesson_reveal.png."""
    with opened(server) as page:
        page.wait_for_selector(".day-counter", timeout=120_000)
        _choose(page, "Lesson", "An untested launch on an uncertain brand: staged vs ten_to_n")
        pending = page.locator(".pending-changes")  # the lesson's controls wait for Reset
        for change in ("lesson: none → untested_launch", "strategy b: premature → ten_to_n"):
            assert change in pending.inner_text(timeout=60_000)
        _reset_until(
            page,
            "() => /Preview — this is where this run ends/"
            ".test(document.querySelector('.lesson')?.innerText)"
            " && /Lesson: An untested launch/.test(document.querySelector('.lesson')?.innerText)",
            timeout_s=180,
        )
        first = page.inner_text(".lesson")
        assert "a bad 1 get amplified into a bad 10?" in first
        assert "Conditions: fit unknown · guess untested · full team · one year" in first
        assert "A (staged): “zero_to_one”" in first and "B (ten_to_n):" in first
        assert re.search(r"by day 364, cumulative profit A −?¥[\d.,]+[kM]? vs B −?¥", first)
        assert "An untested launch on an uncertain brand" in page.inner_text(".v-toolbar")
        assert _day(page) == 0
        for sel in (".day-counter", ".lesson"):
            _in_first_screen(page, sel)
        page.screenshot(path=str(OUT / "lesson_start.png"))

        page.get_by_role("button", name="▶").click()
        _wait_day(page, 365, timeout_s=600)
        page.wait_for_function(
            "() => /Day 365 of 365/.test(document.querySelector('.what-happened')?.innerText)"
            " && /Of this experiment's brands/"
            ".test(document.querySelector('.what-happened')?.innerText)",
            timeout=120_000,
        )
        _assert_plots_rendered(page)
        text = page.inner_text(".what-happened")
        assert re.search(r"On this brand \(seed 9\) the guess was (not )?the best fit", text), text
        _in_first_screen(page, ".headline")
        page.screenshot(path=str(OUT / "lesson_end.png"))
        reveal = page.locator(".reveal-brand").first
        assert "true fits" in reveal.inner_text()  # revealed at the end of the horizon
        reveal.scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "lesson_reveal.png"))
