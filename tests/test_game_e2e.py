"""The workshop game end to end (issue #26, "Done when"), in a real headless browser (Debian's
chromium through Playwright) at 1280×720: `privsim-game` serves a reduced workshop (3 months,
tests of 100 users per arm) from a fresh folder; two teams join in their own browser sessions
and play three months each with different decisions (Team A tests for two months then scales at
the default budget; Team B scales from month 1 with a bigger team and budget); the
facilitator's view (/facilitator) shows both teams live, and the reveal comes by itself once
both have finished: the leaderboard holds both teams, staged and the optimised policy, NPV
defined, the brand in words, each team's reproduce command; a team's view shows it too, its own
row marked. A team that tested sees what its test measured (never the brand's true fits).

Screenshots in results/e2e/, as the other browser tests write theirs (copy them to docs/figures/
to refresh the documentation's figures, docs/pages.md; a test run leaves the committed ones
alone): game_team_month0.png (a team's view before its first month), game_team_month1.png (after
it), game_facilitator.png (both teams at month 2), game_reveal.png (the facilitator's reveal),
game_team_reveal.png (a team's view of it). Seconds per month (click to the view's update) go to
results/e2e/game_timing.json, not asserted. Skips like tests/test_app_e2e.py when chromium or
playwright is absent.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from browser import OUT, launched, missing, new_page, served

SMALL = ["months=3", "test.users_per_arm=100", "budget.default=200.0"]
MONTHS = 3

pytestmark = [
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
    pytest.mark.slow,  # a real browser and server, 6 months simulated, the reveal: ~1-2 min
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("game") / "workshop"
    with served(["sim.cli.game", "--folder", str(folder), *SMALL], "game_server.log") as url:
        yield url


def _shot(page, name: str) -> None:
    page.wait_for_function(  # every figure drawn
        "() => [...document.querySelectorAll('.plot img')]"
        ".every(i => i.complete && i.naturalWidth > 200)"
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / f"game_{name}.png"))


def _join(page, name: str) -> None:
    page.wait_for_selector(".join-button", timeout=120_000)
    page.locator(".team-name input").fill(name)
    page.locator(".join-button").click()
    page.wait_for_selector(".play-button")


def _slide(page, control: str, steps: int, shows: str) -> None:
    """Move a slider `steps` steps right with the keyboard, until its value reads `shows`."""
    page.locator(f".control-{control} [role=slider]").focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"() => document.querySelector('.control-{control} .control-value')?.innerText"
        f" === {json.dumps(shows)}"
    )


def _choose(page, control: str, words: str) -> None:
    page.locator(f".control-{control} .choice-{words}").click()
    page.wait_for_function(
        f"() => document.querySelector('.control-{control} .control-value')?.innerText"
        f" === {json.dumps(words)}"
    )


def _play(page, month: int) -> float:
    """Press "Play month N" and wait for the view to show it; the seconds it took."""
    start = time.monotonic()
    page.locator(".play-button").click()
    done = "All" if month == MONTHS else f"Month {month} of"
    page.wait_for_function(  # the progress, and the monthly table's new row (drawn last)
        f"() => document.querySelector('.progress-line')?.innerText.startsWith('{done}')"
        f" && document.querySelectorAll('.monthly-table tr').length === {month + 1}",
        timeout=180_000,
    )
    return time.monotonic() - start


def test_two_teams_play_three_months_and_reach_the_reveal(server):
    seconds = {"Team A": [], "Team B": []}
    with launched() as browser:
        a = new_page(browser, server)
        _join(a, "Team A")
        assert a.inner_text(".progress-line") == f"Month 0 of {MONTHS}: no month played yet"
        for label in ("Team size (hire up to)", "Ad budget", "Test people, goods, place",
                      "KOC programme"):  # fmt: skip
            assert label in a.inner_text(".decisions")
        assert "¥0/day to ¥20k/day, in steps of ¥100/day" in a.inner_text(".control-budget")
        assert a.locator(".plot-team img").count() == 1
        assert not a.locator('a[href="https://solara.dev"]').is_visible()  # no Solara badge
        _shot(a, "team_month0")

        b = new_page(browser, server)
        _join(b, "Team B")

        _choose(a, "test", "test")  # A: test people, goods and place first
        seconds["Team A"].append(_play(a, 1))
        assert "Profit to date" in a.inner_text(".numbers")
        assert re.search(r"−?¥[\d,.]+k?", a.inner_text(".number-profit .v"))
        assert a.locator(".monthly-table tr").count() == 2  # heading + month 1
        assert a.inner_text(".control-test .control-value") == "test"  # the plan carries over
        _shot(a, "team_month1")

        _slide(b, "team_size", 2, "4 people")  # B: scale at once, with more people and budget
        _slide(b, "budget", 8, "¥1,000/day")
        seconds["Team B"].append(_play(b, 1))
        assert b.inner_text(".control-budget .control-value") == "¥1,000/day"

        f = new_page(browser, server + "facilitator")
        f.wait_for_selector(".teams-table")
        seconds["Team A"].append(_play(a, 2))
        assert "Candidate" in a.inner_text(".tested-table")  # what A's test measured
        seconds["Team B"].append(_play(b, 2))
        assert b.locator(".tested-table").count() == 0  # B never tested
        f.wait_for_function(  # live: the facilitator's view follows without a reload
            "() => (document.querySelector('.teams-table')?.innerText.match(/2 of 3/g) || [])"
            ".length === 2",
            timeout=30_000,
        )
        table = f.inner_text(".teams-table")
        assert "Team A" in table and "Team B" in table and "¥" in table
        assert f.locator(".reveal-button").is_visible()
        _shot(f, "facilitator")

        _choose(a, "test", "scale")
        seconds["Team A"].append(_play(a, 3))
        assert "Waiting for Team B" in a.inner_text(".waiting")
        seconds["Team B"].append(_play(b, 3))

        f.wait_for_selector(".leaderboard", timeout=300_000)  # by itself: both have finished
        board = f.inner_text(".leaderboard")
        for plan in ("Team A", "Team B", "staged", "optimised policy"):
            assert plan in board, plan
        assert "NPV at the horizon" in board
        definition = f.inner_text(".npv-definition")
        assert "3 months of 30 days (days 0–89)" in definition and "% a year" in definition
        assert "The brand:" in f.inner_text(".brand-words")
        assert f.inner_text(".commands").count("privsim-reproduce") == 2
        _shot(f, "reveal")

        a.wait_for_selector(".leaderboard", timeout=120_000)
        assert "Team A" in a.inner_text(".leaderboard tr.mine")
        _shot(a, "team_reveal")

    per_month = [s for team in seconds.values() for s in team]
    (OUT / "game_timing.json").write_text(json.dumps({
        "seconds_per_month": seconds,
        "first_month_s": seconds["Team A"][0],
        "mean_later_months_s": sum(per_month[1:]) / (len(per_month) - 1),
    }, indent=1))  # fmt: skip
