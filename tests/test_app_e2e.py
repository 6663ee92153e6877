"""The trainer's live page end to end, in a real headless browser (Debian's chromium through
Playwright): load, play, plots rendered, change a control, reset, screenshot.

Needs `apt-get install chromium` and `pip install playwright` plus the page's extra
(`.[viz]`); skips, saying which is missing, when one of them is absent. The screenshots go to
results/e2e/ (app.png: the default comparison after a few weeks; app_after_reset.png).
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
PLOTS = ("funnel", "conversion", "operators", "profit", "churn")


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
    pytest.mark.slow,  # a real browser and server: ~15-20 s
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    log = OUT / "server.log"
    OUT.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.viz.app", "--port", str(port)],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"privsim-app exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                    )
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"privsim-app did not answer on {url}:\n{log.read_text()[-3000:]}")
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


def _day(page) -> int:
    return int(re.search(r"Day (\d+)", page.inner_text(".day-counter")).group(1))


def _wait_day(page, at_least: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while (d := _day(page)) < at_least:
        assert time.monotonic() < deadline, f"day counter stuck at {d} (wanted >= {at_least})"
        page.wait_for_timeout(200)
    return d


def _assert_plots_rendered(page) -> None:
    for key in PLOTS:
        img = page.locator(f".plot-{key} img").first
        img.wait_for(state="visible", timeout=20_000)
        w = img.evaluate("e => e.complete ? e.naturalWidth : 0")
        h = img.evaluate("e => e.naturalHeight")
        assert w > 200 and h > 100, f"plot {key} not rendered ({w}x{h})"


def test_play_plots_change_strategy_reset(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1650})
            page.goto(server)
            try:
                page.wait_for_selector(".day-counter", timeout=60_000)
            except Exception:  # noqa: BLE001 - say why, then fail
                pytest.fail(
                    "page did not render: Solara loads its JavaScript through its CDN "
                    "proxy; offline, install solara-assets and ipyvuetify<3 (see README)"
                )
            assert _day(page) == 0
            _assert_plots_rendered(page)
            assert "A (staged)" in page.inner_text(".what-happened")
            assert "B (premature)" in page.inner_text(".what-happened")

            # play until the first cohorts are measured, then pause
            page.get_by_role("button", name="▶").click()
            _wait_day(page, 63)
            # (force: while playing, the page redraws continuously and the button never looks
            # "stable" to Playwright on a busy 2-core machine)
            page.get_by_role("button", name="❚❚").click(force=True, timeout=10_000)
            page.get_by_role("button", name="▶").wait_for(timeout=10_000)
            page.wait_for_timeout(1500)  # let the last redraw land
            day = _day(page)
            assert day >= 63
            _assert_plots_rendered(page)
            text = page.inner_text(".what-happened")
            assert f"Day {day} of 365" in text
            assert re.search(r"30-day conversion (fell below|has not fallen|dipped)", text), text
            page.screenshot(path=str(OUT / "app.png"), full_page=True)

            # change strategy A, reset: a fresh pair with the new strategy, back at day 0
            page.locator(".v-select", has_text="Strategy A").first.click()
            page.locator(
                ".v-menu__content .v-list-item", has_text=re.compile(r"^\s*one_to_ten\s*$")
            ).first.click()
            page.get_by_role("button", name="Reset", exact=True).click()
            page.wait_for_function(
                "() => document.querySelector('.what-happened')"
                "?.innerText.includes('A (one_to_ten)')"
                " && /Day 0 of/.test(document.querySelector('.day-counter')?.innerText)",
                timeout=30_000,
            )
            page.get_by_role(
                "button", name="Step", exact=True
            ).click()  # one redraw's worth of days
            _wait_day(page, 1, timeout_s=30)
            _assert_plots_rendered(page)
            page.screenshot(path=str(OUT / "app_after_reset.png"), full_page=True)
        finally:
            browser.close()
