"""What the end-to-end page tests share: a real headless browser (Debian's chromium through
Playwright) at a projector's 1280×720, and a page server started in its own process group.

`missing()` says which of chromium, playwright and the page's extra is absent (the tests skip,
saying so); `served(args, log)` starts `python -m <args>` on a free port and yields its URL once
it answers; `opened(url)` yields a browser page on it; `launched()` a browser for several sessions
(`new_page`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
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


def missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return "chromium is not installed (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    for mod in ("solara", "altair"):
        if importlib.util.find_spec(mod) is None:
            return f"mesa[viz] is not installed ({mod} missing; pip install -e '.[viz]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


@contextlib.contextmanager
def served(args: list[str], log_name: str, timeout_s: float = 180):
    """`python -m <args> --port <free port>` from the repo root, its output in results/e2e/
    `log_name`; yields the URL once it answers 200, and stops it and anything it started."""
    port = _free_port()
    log = OUT / log_name
    OUT.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args, "--port", str(port)],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"{args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                    )
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{args[0]} did not answer on {url}:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield url
        finally:  # stop the server and anything it started (its own process group)
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)


def download(page, label: str, path: Path) -> Path:
    """Click the download button labelled `label` and save the file to `path`."""
    with page.expect_download() as dl:
        page.get_by_text(label).first.click()
    dl.value.save_as(path)
    return path


@contextlib.contextmanager
def launched():
    """A fresh headless chromium, closed on leaving the block; `new_page(browser, url)` gives
    each user a page of their own session (cookies: their own Solara session)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, url: str):
    """A page at 1280×720 in a new browser context on `url` (60 s per action by default)."""
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(60_000)
    page.goto(url, timeout=120_000)
    return page


@contextlib.contextmanager
def opened(url: str):
    """A page of a fresh headless chromium at 1280×720 on `url` (60 s per action by default)."""
    with launched() as browser:
        yield new_page(browser, url)
