"""The trainer's live view: two private-domain models side by side in the browser.

    privsim-app                       # (console script) serves http://127.0.0.1:8765
    python -m sim.viz.app --port 8765     # the same without the console script
    solara run sim/app.py             # the same, through Solara's own command

Built on Mesa's SolaraViz machinery: Mesa's `ModelController` (reset / play / pause / step, run
in a thread, redraws through Mesa's `update_counter`) drives `sim.viz.live.LivePair`, a Mesa model
holding the two arms. The page lays out its own controls and plots instead of calling
`SolaraViz(...)` itself: SolaraViz puts components in a draggable grid whose script Solara
fetches from a CDN, and its parameter sliders do not show their values.

The model never imports this page. Every number shown comes from `sim.viz.live`, which composes the
arms' configs with `sim.experiment.config.compose`, like the CLI.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import subprocess
import sys

import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from sim.viz import live

logging.getLogger("MESA").setLevel(logging.WARNING)

TITLE = "privsim — live view: how a private domain grows, staged vs premature scaling"
PLAY_INTERVAL_MS = 1  # pause between frames while playing
RENDER_INTERVAL_DAYS = 7  # days simulated per redraw: a year is 52 redraws

STRATEGIES = live.group_options("strategy")
# name -> (kind, label, options): the scenario controls, in the order shown; labels say what
# each control sets in the config (see sim.viz.live for the mapping).
CONTROLS = {
    "strategy_a": ("select", "Strategy A", STRATEGIES),
    "strategy_b": ("select", "Strategy B (side by side)", STRATEGIES),
    "side_by_side": ("check", "Side by side: run B next to A", None),
    "experiment": (
        "select",
        "Load an experiment's config",
        ["none", *live.group_options("experiment")],
    ),
    "pool": ("select", "Pool preset", live.group_options("pool")),
    "business": ("select", "Business quadrant", live.group_options("business")),
    "koc": ("select", "KOC programme", list(live.KOC_CHOICES)),
    "operators": ("int", "Operators: fixed team size (0 = as the strategy hires)", (0, 40, 1)),
    "ad_budget": (
        "float",
        "Ad budget: paid-ads volume × (channels.paid_ads.volume_scale)",
        (0.0, 3.0, 0.25),
    ),
    "fission_share": (
        "float",
        "Fission share of acquisition (in phases that use fission)",
        (0.0, 0.9, 0.05),
    ),
    "users_cap": ("int", "Users cap: market size, thousand users (0 = unlimited)", (0, 500, 10)),
    "seed": ("int", "Seed (the same for A and B)", (0, 99, 1)),
}
DEFAULTS = dict(live.Controls().__dict__)
PAGE_ONLY = {"strict": False}  # invalid controls become a message on the page

CAPTION_STYLE = {
    "font-size": "0.9rem",
    "color": "#444",
    "font-style": "italic",
    "margin": "0 8px 4px 8px",
}


@solara.component
def Plot(pair: live.LivePair, key: str):
    """One figure with its one-line caption."""
    update_counter.get()

    def draw():
        with pair.lock:  # not while the play thread is half-way through a day
            return live.FIGURES[key](pair)

    fig = solara.use_memo(draw, dependencies=[id(pair), pair.day, key])
    with solara.Card(margin=0, classes=[f"plot-{key}"]) as card:
        solara.FigureMatplotlib(fig, format="png", dependencies=[id(pair), pair.day, key])
        solara.Text(live.PLOTS[key][1], style=CAPTION_STYLE)
    return card


@solara.component
def DayCounter(pair: live.LivePair):
    update_counter.get()
    solara.Text(
        f"Day {pair.day} of {pair.horizon_days}",
        classes=["day-counter"],
        style={"font-size": "1.3rem", "font-weight": "bold"},
    )


@solara.component
def WhatHappened(pair: live.LivePair):
    update_counter.get()
    with pair.lock:
        lines = live.what_happened(pair)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    cli = "".join(
        f"<li>{arm.label}: <code>{html.escape(live.cli_command(arm.overrides))}</code></li>"
        for arm in pair.arms
    )
    with solara.Card("What happened", margin=0, classes=["what-happened"]) as card:
        solara.HTML(tag="ul", unsafe_innerHTML=items, style={"font-size": "0.95rem"})
        solara.Text("Reproduce these arms on the command line:", style={"font-size": "0.85rem"})
        solara.HTML(tag="ul", unsafe_innerHTML=cli, style={"font-size": "0.8rem"})
    return card


@solara.component
def ScenarioControls(parameters: solara.Reactive[dict]):
    """The scenario controls; the values go to `LivePair(**values)` on Reset."""
    values = parameters.value

    def setter(name):
        return lambda v: parameters.set({**parameters.value, name: v})

    for name, (kind, label, options) in CONTROLS.items():
        v = values.get(name, DEFAULTS[name])
        if kind == "select":
            solara.Select(label, value=v, values=options, on_value=setter(name))
        elif kind == "check":
            solara.Checkbox(label=label, value=v, on_value=setter(name))
        else:
            lo, hi, step = options
            shown = f"{v:g}" if kind == "float" else f"{v}"
            solara.Text(f"{label}: {shown}", style={"font-size": "0.85rem", "color": "#555"})
            slider = solara.SliderFloat if kind == "float" else solara.SliderInt
            slider("", value=v, min=lo, max=hi, step=step, on_value=setter(name))


def _initial_pair() -> live.LivePair:
    return live.LivePair(**PAGE_ONLY)


@solara.component
def Page():
    initial = solara.use_memo(_initial_pair, [])
    model = solara.use_reactive(initial)
    parameters = solara.use_reactive({**DEFAULTS, **PAGE_ONLY})
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(RENDER_INTERVAL_DAYS)
    use_threads = solara.use_reactive(False)
    pair = model.value

    solara.Title("privsim live view")
    with solara.AppBar():
        solara.AppBarTitle(TITLE)

    with solara.Sidebar(), solara.Column():
        with solara.Card("Run"):
            DayCounter(pair)
            ModelController(
                model,
                model_parameters=parameters,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            solara.Text(f"Days per redraw: {render_interval.value}", style={"font-size": "0.85rem"})
            solara.SliderInt("", value=render_interval, min=1, max=30)
            solara.Text(
                f"Pause between redraws: {play_interval.value} ms", style={"font-size": "0.85rem"}
            )
            solara.SliderInt("", value=play_interval, min=1, max=500)
        with solara.Card("Scenario", subtitle="Changes apply on Reset"):
            ScenarioControls(parameters)

    with solara.Column(style={"padding": "8px"}):
        WhatHappened(pair)
        if pair.error:
            return
        Plot(pair, "funnel")
        with solara.Columns([1, 1]):
            Plot(pair, "conversion")
            Plot(pair, "operators")
        with solara.Columns([1, 1]):
            Plot(pair, "profit")
            Plot(pair, "churn")


page = Page  # `solara run sim/app.py` looks for `Page` (or `page`)


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served (None: it can be bound)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as e:
            return e.strerror or str(e)
    return None


def main(argv: list[str] | None = None) -> int:
    """`privsim-app`: serve the page with Solara on localhost."""
    ap = argparse.ArgumentParser(prog="privsim-app", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    args = ap.parse_args(argv)
    if busy := port_in_use(args.host, args.port):
        print(
            f"privsim-app: port {args.port} on {args.host} is in use ({busy}); "
            f"choose another with --port, e.g. --port {args.port + 1}",
            file=sys.stderr,
        )
        return 2
    # Solara's CDN proxy stays on: it is also what serves the local solara-assets files
    # (SOLARA_ASSETS_PROXY=False points the page at cdn.jsdelivr.net and breaks it offline).
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.viz.app",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-check-version",
        "--open" if args.open else "--no-open",
    ]
    print(f"privsim-app: serving on http://{args.host}:{args.port}", flush=True)
    if os.name == "posix":  # become the server: signals to this process reach it
        os.execve(sys.executable, cmd, env)
    return subprocess.call(cmd, env=env)


if __name__ == "__main__" and "solara.server.app" not in sys.modules:
    # (`solara run sim/app.py` executes this file as __main__ too: then it is the page, not the CLI)
    sys.exit(main())
