"""Play the trainer's page (`privsim-app`) for a year in a real headless browser and print one
JSON line: wall time from ▶ to "Day 365 of 365", CPU seconds of the page's server and of the
browser over that play, the load average, and when the story first moved.

    python benchmarks/live_page_browser.py                     # this checkout's page
    python benchmarks/live_page_browser.py --root /tmp/base    # another checkout's page
    python benchmarks/live_page_browser.py --repeat 3          # three plays, one line each

Side by side with another commit in the same conditions: check it out elsewhere (`git worktree
add /tmp/base <commit>`) and alternate `--root /tmp/base` with the plain command. The server
runs `python -m sim.cli.app` from `--root` with that checkout on PYTHONPATH; Chromium (Debian's,
through Playwright, offline) opens it at 1280×720 as the browser test does (tests/browser.py).

Keys: `play_s` wall seconds from the ▶ click to the day counter at the horizon; `server_cpu_s` and
`browser_cpu_s` CPU seconds (user + system, from /proc through psutil) of the server process and of
Chromium with Playwright's driver over that play; `first_move_s` seconds from ▶ to the first day
counter past 0 with the headline cards on screen; `days_at_10s` the day shown 10 s after ▶;
`redraws` the days the day counter showed (a redraw each); `load_before` / `load_after` the 1-minute
load average; `cpus`. On a shared machine wall time depends on the other work; CPU seconds depend on
it much less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 720}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def _start(root: Path, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli.app", "--port", str(port)],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not answer")


# the days the day counter showed (one per redraw that reached the browser)
COUNT_REDRAWS = """() => {
  const el = document.querySelector('.day-counter');
  window.__redraws = new Set();
  new MutationObserver(() => window.__redraws.add(el.innerText))
    .observe(el, {subtree: true, childList: true, characterData: true});
}"""


def _day(page) -> int:
    m = re.search(r"Day (\d+) of (\d+)", page.inner_text(".day-counter"))
    return int(m.group(1))


def play(root: Path) -> dict:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with open(f"/tmp/live_page_browser_{port}.log", "w") as log:
        server = _start(root, port, log)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(120_000)
                page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
                page.wait_for_selector(".day-counter", timeout=120_000)
                page.wait_for_function(  # the preview is drawn: the first screen is complete
                    "() => /Preview — /.test(document.querySelector('.lesson')?.innerText)",
                    timeout=120_000,
                )
                page.wait_for_timeout(2000)  # let the first screen settle
                srv = psutil.Process(server.pid)
                others = [c for c in psutil.Process().children(recursive=True)
                          if c.pid != server.pid]  # fmt: skip
                load_before = os.getloadavg()[0]
                cpu0, bcpu0 = _cpu([srv]), _cpu(others)
                page.evaluate(COUNT_REDRAWS)
                t0 = time.monotonic()
                page.get_by_role("button", name="▶").click()
                first_move = days_at_10 = None
                while (d := _day(page)) < 365:
                    now = time.monotonic() - t0
                    if first_move is None and d > 0 and page.locator(".headline").count():
                        first_move = now
                    if days_at_10 is None and now >= 10:
                        days_at_10 = d
                    page.wait_for_timeout(100)
                play_s = time.monotonic() - t0
                out = {
                    "root": str(root),
                    "play_s": round(play_s, 1),
                    "server_cpu_s": round(_cpu([srv]) - cpu0, 1),
                    "browser_cpu_s": round(_cpu(others) - bcpu0, 1),
                    "first_move_s": None if first_move is None else round(first_move, 1),
                    "days_at_10s": days_at_10,
                    "redraws": page.evaluate("() => window.__redraws.size"),
                    "load_before": round(load_before, 2),
                    "load_after": round(os.getloadavg()[0], 2),
                    "cpus": os.cpu_count(),
                }
                browser.close()
                return out
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose page is served")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    for _ in range(args.repeat):
        print(json.dumps(play(args.root.resolve())), flush=True)


if __name__ == "__main__":
    main()
