"""The strategist's what-if page end to end, in a real headless browser (Debian's chromium
through Playwright) at 1280×720: add a second scenario, change its strategy, Run (2 seeds of 60
days each, the server started with `--horizon 60 --seeds 2`), wait for the comparison table:
two rows, each with its `privsim -m …` command, and the figure. Screenshot:
results/e2e/whatif.png. Skips like tests/test_app_e2e.py when chromium or playwright is absent.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "e2e"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 720}  # a projector


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return "chromium is not installed (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    for mod in ("solara", "altair"):
        if importlib.util.find_spec(mod) is None:
            return f"mesa[viz] is not installed ({mod} missing; pip install -e '.[viz]')"
    return None


pytestmark = [
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
    pytest.mark.slow,  # a real browser and server, 4 short runs: under a minute
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    log = OUT / "whatif_server.log"
    OUT.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sim.viz.whatif",
                "--port",
                str(port),
                "--horizon",
                "60",
                "--seeds",
                "2",
            ],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 180
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"privsim-whatif exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                    )
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"privsim-whatif did not answer on {url}:\n{log.read_text()[-3000:]}"
                    )
                time.sleep(0.3)
            yield url
        finally:  # stop the server and anything it started (its own process group)
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def test_two_scenarios_run_and_compare(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            page.goto(server, timeout=120_000)
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
        finally:
            browser.close()
