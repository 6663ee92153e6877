"""Serving a page: a Solara page module on `host:port`, offline, the process becoming the server.

The page's assets are local (the solara-assets package fills Solara's asset cache). Solara's
asset proxy stays on, since it is what serves that cache; what is turned off is its fallback to
the CDN: an asset missing from the cache is looked up at a local address that refuses at once,
so the server never reaches the internet. (SOLARA_ASSETS_PROXY=False would point the browser
itself at cdn.jsdelivr.net and break the page offline.) No telemetry either, and no "This
website runs on Solara" badge (Solara's theme setting `show_banner`, solara/server/settings.py),
which covered the bottom-right corner of every page.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from sim.cli import checks
from sim.cli.exits import REFUSED, refuse

NO_CDN = "http://127.0.0.1:9/"  # the discard port: nothing listens, the request fails at once
SERVER_ENV = {
    "SOLARA_ASSETS_CDN": NO_CDN,
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_THEME_SHOW_BANNER": "False",
}


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served (None: it can be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as e:
            return e.strerror or str(e)
    return None


def servable(prog: str, host: str, port: int) -> int | None:
    """None when `host:port` can be served; else `REFUSED` once said why (a busy port, suggesting
    `--port`); a port out of range and an unknown host exit 2 here. A command that writes before
    serving (privsim-game's workshop) asks first, so a refusal leaves the disk as it was."""
    checks.port(prog, port)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        refuse(prog, f"--host {host}: cannot be resolved ({e.strerror})")
    if busy := port_in_use(host, port):
        print(
            f"{prog}: port {port} on {host} is in use ({busy}); "
            f"choose another with --port, e.g. --port {port + 1}",
            file=sys.stderr,
        )
        return REFUSED
    return None


def serve(prog: str, module: str, host: str, port: int, open_tab: bool, env=None) -> int:
    """Serve the Solara page `module` on `host:port` (`SERVER_ENV`: offline); a busy port is
    refused first, suggesting `--port` (`REFUSED`, before anything is served), as are a port
    out of range and an unknown host (`servable`); a host beyond loopback is served with a
    warning (the pages have no authentication)."""
    if (refused := servable(prog, host, port)) is not None:
        return refused
    checks.warn_if_exposed(prog, host)
    env = {**os.environ, **SERVER_ENV, **(env or {})}
    cmd = [sys.executable, "-m", "solara", "run", module, "--host", host, "--port", str(port),
           "--production", "--no-check-version", "--open" if open_tab else "--no-open"]  # fmt: skip
    print(f"{prog}: serving on http://{host}:{port}", flush=True)
    if os.name == "posix":  # become the server: signals to this process reach it
        os.execve(sys.executable, cmd, env)
    return subprocess.call(cmd, env=env)
