"""The strategist's what-if page end to end, in a real headless browser (Debian's chromium
through Playwright) at 1280×720: add a second scenario, change its strategy, Run (2 seeds of 60
days each, the server started with `--horizon 60 --seeds 2`), wait for the comparison table:
two rows, each with its `privsim -m …` command, and the figure. Screenshot:
results/e2e/whatif.png. Skips like tests/test_app_e2e.py when chromium or playwright is absent.
"""

from __future__ import annotations

import re

import pytest
from browser import OUT, missing, opened, served

pytestmark = [
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
    pytest.mark.slow,  # a real browser and server, 4 short runs: under a minute
]


@pytest.fixture(scope="module")
def server():
    with served(["sim.cli.whatif", "--horizon", "60", "--seeds", "2"], "whatif_server.log") as url:
        yield url


def test_two_scenarios_run_and_compare(server):
    with opened(server) as page:
        page.wait_for_selector(".add-scenario", timeout=120_000)
        assert page.locator(".scenario").count() == 1
        page.locator(".add-scenario").first.click()
        page.wait_for_selector(".scenario-2")
        page.locator(".scenario-2 .v-select", has_text="Strategy").first.click()
        page.locator(
            ".v-menu__content .v-list-item", has_text=re.compile(r"^\s*premature\s*$")
        ).first.click()
        page.wait_for_function(
            "() => document.querySelector('.scenario-2')?.innerText.includes('S2 · premature')"
        )
        page.locator(".run-button").first.click()
        page.wait_for_selector(".whatif-table", timeout=300_000)
        rows = page.locator(".whatif-table .scenario-row")
        assert rows.count() == 2
        text = page.inner_text(".whatif-table")
        assert "S1 · staged" in text and "S2 · premature" in text
        commands = page.locator(".whatif-table code.command").all_inner_texts()
        assert len(commands) == 2
        for c in commands:
            assert c.startswith("privsim -m strategy=")
            assert c.endswith("horizon_days=60 'seed=range(0,2)'")
        assert "strategy=premature" in commands[1]
        assert "4/4 runs done" in page.inner_text(".progress")
        page.wait_for_function(
            "() => { const i = document.querySelector('.whatif-figure img');"
            " return i && i.complete && i.naturalWidth > 200; }"
        )
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "whatif.png"), full_page=True)
