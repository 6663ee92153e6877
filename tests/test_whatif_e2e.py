"""The strategist's what-if page end to end, in a real headless browser (Debian's chromium
through Playwright) at 1280×720, walking one question: "double the ad budget but keep 3
operators?". Scenario 1: a fixed team of 3, paid ads as planned (the card shows the plan's
yuan/day: the baseline); scenario 2: the same with paid ads at twice the 0-1 phase's planned
spend. Run (2 seeds of 60 days each, the server started with `--horizon 60 --seeds 2`), then
read the answer in the table: two rows titled by what differs, each with its `privsim -m …`
command, money written as the other pages write it (¥), the glossary below it, the figure,
no Solara badge; the sidebar's commands each on one line, copied whole; the workbook and the
HTML report download and open (openpyxl; the report holds the table), the workbook's paid-ads
spend in yuan/day (scenario 2 within its budget and above scenario 1); the share link reopens
the same two scenarios.
Screenshot, files: results/e2e/whatif.png, whatif.xlsx, whatif.html. Skips like
tests/test_app_e2e.py when chromium or playwright is absent.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import openpyxl
import pytest
from browser import OUT, download, missing, opened, served

from sim.viz.pages import whatif_goal, whatif_share
from sim.viz.pages.controls import GOAL, defaults

pytestmark = [
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
    pytest.mark.slow,  # a real browser and server, 4 short runs: under a minute
]


@pytest.fixture(scope="module")
def server():
    with served(["sim.cli.whatif", "--horizon", "60", "--seeds", "2"], "whatif_server.log") as url:
        yield url


def _type(page, selector: str, value: str) -> None:
    field = page.locator(f"{selector} input").first
    field.fill(value)
    field.press("Enter")


def _copied(page, selector: str, count: int) -> list[str]:
    """What a reader copies from each element: its text selected whole (the clipboard's), after
    checking it sits on one line (a wrapped inline element has one box per line). Read once the
    sidebar shows `count` of them laid out: it re-renders after the table (a slow machine can
    still hold the old elements, detached and without boxes)."""
    page.wait_for_function(
        """([sel, n]) => { const codes = [...document.querySelectorAll(sel + ' code')];
            return codes.length === n && codes.every(c => c.getClientRects().length > 0); }""",
        arg=[selector, count],
    )
    return page.eval_on_selector_all(selector, """els => els.map(e => {
        const code = e.querySelector('code');
        if (code.getClientRects().length !== 1) return 'wrapped: ' + e.innerText;
        const s = window.getSelection(); s.selectAllChildren(e);
        const t = s.toString(); s.removeAllRanges(); return t; })""")


def test_double_the_ad_budget_keeping_three_operators(server):
    from sim.viz.pages.whatif_page import GOAL_DIR  # solara: present where this runs

    with opened(server) as page:
        page.wait_for_selector(".add-scenario", timeout=120_000)
        assert page.locator(".scenario").count() == 1
        assert page.get_by_text("runs on Solara").count() == 0  # the badge: off (serve.SERVER_ENV)
        _type(page, ".scenario-1 .control-team", "3")
        page.wait_for_function(
            "() => document.querySelector('.scenario-1')?.innerText.includes('3 operators')"
        )
        note = page.inner_text(".scenario-1 .note-budget_paid_ads")
        planned = re.search(r"planned: ([\d,]+) yuan/day \(zero_to_one\)", note)
        assert planned, note  # the baseline, in yuan/day
        double = 2 * int(planned.group(1).replace(",", ""))
        page.locator(".add-scenario").first.click()
        page.wait_for_selector(".scenario-2")
        _type(page, ".scenario-2 .control-budget_paid_ads", str(double))
        title = f"S2 · staged · paid ads {double:,} yuan/day"
        page.wait_for_function(
            f"() => document.querySelector('.scenario-2')?.innerText.includes('{title}')"
        )
        page.locator(".run-button").first.click()
        page.wait_for_selector(".whatif-table", timeout=300_000)
        rows = page.locator(".whatif-table .scenario-row")
        assert rows.count() == 2
        text = page.inner_text(".whatif-table")
        assert "S1 · staged · 3 operators" in text and title in text
        assert "Profit over the 60-day horizon" in text
        commands = page.locator(".whatif-table code.command").all_inner_texts()
        assert len(commands) == 2
        for c in commands:
            assert "operators.fixed=3" in c
            assert c.endswith("horizon_days=60 'seed=range(0,2)'")
        assert f"channels.paid_ads.budget_per_day={double}.0" in commands[1]
        for i in (0, 1):  # money as the other pages write it (story.yuan): ¥
            assert re.search(r"paid ads: ¥[\d,.]+[kM]?\s", rows.nth(i).inner_text())
            profit = rows.nth(i).locator("td").nth(1).inner_text()
            assert re.search(r"^−?¥[\d,.]+[kM]? \(", profit), profit
        assert "4/4 runs done" in page.inner_text(".progress")
        # the commands to copy (sidebar): each one line, copied whole, hyphens and all
        assert _copied(page, ".share-command", 2) == whatif_share.commands(2)
        assert _copied(page, ".goal-command", 1) == [
            whatif_goal.command(whatif_goal.TEAM, defaults(GOAL), GOAL_DIR)
        ]
        glossary = page.inner_text(".glossary")
        for term in ("P(best)", "LTV/CAC at 90 days", "Payback day", "staged", "launch"):
            assert term in glossary
        page.wait_for_function(
            "() => { const i = document.querySelector('.whatif-figure img');"
            " return i && i.complete && i.naturalWidth > 200; }"
        )
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "whatif.png"), full_page=True)
        link = page.locator("a.share-link").get_attribute("href")
        book = download(page, "Download workbook (.xlsx)", OUT / "whatif.xlsx")
        report = download(page, "Download report (HTML)", OUT / "whatif.html")
    sheets = openpyxl.load_workbook(book)
    assert sheets.sheetnames == ["comparison", "runs", "scenarios", "About"]
    head, *table = sheets["comparison"].iter_rows(values_only=True)
    assert [r[0] for r in table] == ["S1 · staged · 3 operators", title]
    one, two = (r[head.index("spend_paid_ads_per_day_p50")] for r in table)  # yuan/day, whole
    # the answer, in yuan/day: scenario 2 spends its budget (users are Poisson draws of
    # budget ÷ unit cost: ~30 a day, ~1,800 per seed, so the mean of 2 seeds is within
    # 1.7 % sd of it; 10 % is 5 sd) and more than scenario 1's plan
    assert abs(two / double - 1) < 0.10 and one < two
    page_text = report.read_text()
    assert "<table" in page_text and title in page_text and "paid ads: " in page_text
    assert f"budget_paid_ads:{double}.0" in link
    with opened(urljoin(server, link)) as page:
        page.wait_for_selector(".scenario-2", timeout=120_000)
        assert title in page.inner_text(".scenario-2")
