"""The trainer's live view: two private-domain models side by side in the browser.

    privsim-app                       # (console script) serves http://127.0.0.1:8765
    python -m sim.viz.app --port 8765     # the same without the console script
    solara run sim/app.py             # the same, through Solara's own command

Built on Mesa's SolaraViz machinery: a controller after Mesa's `ModelController` (reset / play /
pause / step, play in a thread, redraws through Mesa's `update_counter`) drives
`sim.viz.live.LivePair`, a Mesa model holding the two arms; it is the page's own so that Reset can
be marked while changes wait for it and the page knows when it is playing (the plots under the
first screen then redraw less often). The page lays out its own controls and plots instead of
calling `SolaraViz(...)` itself: SolaraViz puts components in a draggable grid whose script
Solara fetches from a CDN, and its parameter sliders do not show their values.

The first screen tells the story: the run bar, the headline cards (A and B, the difference
coloured) and cumulative profit, full width. Below: what happened, the other plots, the brand
revealed, and the pair run across brands (seeds) in the background.

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
import time

import numpy as np
import solara
from mesa.visualization.utils import force_update, update_counter

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
        "Ad volume: paid-ads users per day × (volume_scale; spend rises faster: unit cost climbs)",
        (0.0, 3.0, 0.25),
    ),
    "fission_share": (
        "float",
        "Fission share of acquisition (in phases that use fission)",
        (0.0, 0.9, 0.05),
    ),
    "users_cap": ("int", "Users cap: market size, thousand users (0 = unlimited)", (0, 500, 10)),
    "seed": ("int", "Seed (the same for A and B)", (0, 99, 1)),
    "fit_spread": (
        "float",
        "Fit spread: how much is unknown about the brand's candidates (fit.spread)",
        (0.0, 2.0, 0.25),
    ),
}
DEFAULTS = dict(live.Controls().__dict__)
PAGE_ONLY = {"strict": False}  # invalid controls become a message on the page

BELOW_FOLD_EVERY = 28  # while playing, the plots under the first screen redraw every 4 weeks
A_COLOUR, B_COLOUR = "#0072B2", "#D55E00"  # sim.viz.plots.PALETTE: arm A, arm B
BETTER, WORSE = "#0072B2", "#D55E00"  # the difference's colour: favours B / favours A

CSS = """
.v-application { font-size: 16px; }
.headline { display: flex; gap: 8px; margin: 4px 0 6px 0; }
.headline-card { flex: 1; border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px;
  background: #fff; }
.headline-card .t { font-size: 1.0rem; font-weight: 600; color: #333; line-height: 1.3; }
.headline-card .v { font-size: 1.5rem; font-weight: 700; line-height: 1.2; white-space: nowrap; }
.headline-card .v.na { font-size: 1.0rem; font-weight: 600; }
.headline-card .d { font-size: 0.95rem; font-weight: 700; line-height: 1.3; }
.headline-card .n { font-size: 0.75rem; color: #555; line-height: 1.15; }
.presenting .headline-card .v { font-size: 2.1rem; }
.plot img { width: 100%; height: auto; display: block; }
.caption { font-size: 1.0rem; color: #333; margin: 0 8px 6px 8px; }
.pending-banner { background: #FFF3CD; border-left: 6px solid #E69F00; padding: 6px 10px;
  font-size: 1.0rem; font-weight: 600; }
.reset-pending { box-shadow: 0 0 0 3px #E69F00 !important; }
.run-bar { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
"""


@solara.component
def Plot(pair: live.LivePair, key: str, big: bool, day: int):
    """One figure with its caption; redrawn when `day` (the day it shows) changes."""
    update_counter.get()

    def draw():
        with pair.lock:  # not while the play thread is half-way through a day
            legend = live.marks_legend(pair) if key == "profit" else None
            return live.FIGURES[key](pair, big), live.caption(key, pair), legend

    fig, text, legend = solara.use_memo(draw, dependencies=[id(pair), day, key, big])
    with solara.Card(margin=0, classes=["plot", f"plot-{key}"]) as card:
        solara.FigureMatplotlib(
            fig,
            format="png",
            dependencies=[id(pair), day, key, big],
            pil_kwargs={"compress_level": 1},  # encoding is a third of a redraw's cost
        )
        solara.Text(text, classes=["caption", f"caption-{key}"])
        if legend:
            solara.Text(legend, classes=["caption", "marks", f"marks-{key}"])
    return card


def _card_html(m: live.Metric, names: list[str]) -> str:
    rows = []
    for name, text, v, colour in zip(names, m.texts, m.values, (A_COLOUR, B_COLOUR), strict=False):
        na = "" if v == v and abs(v) != float("inf") else " na"
        rows.append(
            f'<div class="v{na}" style="color:{colour}">'
            f'<span style="font-size:0.8rem">{html.escape(name)}</span> {html.escape(text)}</div>'
        )
    if m.diff_text:
        colour = {True: BETTER, False: WORSE, None: "#333"}[m.b_better]
        rows.append(f'<div class="d" style="color:{colour}">{html.escape(m.diff_text)}</div>')
    return (
        f'<div class="headline-card card-{html.escape(m.key)}"><div class="t">'
        f"{html.escape(m.title)}</div>{''.join(rows)}"
        f'<div class="n">{html.escape(m.note)}</div></div>'
    )


@solara.component
def Headline(pair: live.LivePair):
    """The four numbers that tell the story, A and B side by side, as it plays."""
    update_counter.get()
    with pair.lock:
        cards = live.headline(pair)
    names = [a.name for a in pair.arms]
    solara.HTML(
        tag="div",
        unsafe_innerHTML="".join(_card_html(m, names) for m in cards),
        classes=["headline"],
    )


@solara.component
def DayCounter(pair: live.LivePair):
    update_counter.get()
    solara.Text(
        f"Day {pair.day} of {pair.horizon_days}",
        classes=["day-counter"],
        style={"font-size": "1.4rem", "font-weight": "bold"},
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
        solara.HTML(tag="ul", unsafe_innerHTML=items, style={"font-size": "1.0rem"})
        solara.Text("Reproduce these arms on the command line:", style={"font-size": "0.9rem"})
        solara.HTML(tag="ul", unsafe_innerHTML=cli, style={"font-size": "0.85rem"})
        SlideExport(pair)
    return card


@solara.component
def SlideExport(pair: live.LivePair):
    """ "Make a slide of this": the privsim-figure slide of the scenario on screen."""
    written = solara.use_reactive(None)

    def make():
        from sim.viz import slide

        with pair.lock:
            paths = slide.write_live(pair)
        written.set([str(p) for p in paths])

    solara.Button("Make a slide of this", on_click=make, classes=["make-slide"], outlined=True)
    if written.value and pair.arms:
        solara.Text(
            "Written: " + ", ".join(written.value),
            classes=["slide-written"],
            style={"font-size": "0.9rem"},
        )
    if pair.arms:
        from sim.viz import slide

        solara.HTML(
            tag="div",
            unsafe_innerHTML="Across seeds (median and the middle 80 % of seeds): <code>"
            + html.escape(slide.scenario_command(pair))
            + "</code>",
            style={"font-size": "0.85rem"},
        )


@solara.component
def AcrossBrands(pair: live.LivePair, day: int = 0):
    """ "Reveal the brand": both arms face the same brand (seed and `fit`); at the end of the
    horizon, or when the room has guessed and presses "Reveal the brand", a table per dimension
    of 人货场 with candidates: each one's true (latent) fit, the guess, the truly best, each arm's
    test (users, measured metric) and what it runs (`live.reveal`, from the models' `brand`
    summary). Before that only the candidates and the guess are shown. `day`: the day drawn
    (a changed value redraws the panel, like the plots under the first screen)."""
    shown = solara.use_reactive(None)  # id of the pair revealed on demand
    with solara.Card("Reveal the brand", margin=0, classes=["across-brands"]):
        if pair.arms and pair.day == 0:  # the models summarise days simulated: none yet
            solara.Text(
                "The brand's candidates show here once the first day has run.",
                style={"font-size": "0.9rem", "color": "#666"},
            )
            return
        dims = live.reveal(pair) if pair.arms else []
        if not dims:
            solara.Text(
                "This brand has one candidate on every dimension: nothing to test or reveal. "
                "Load an experiment's config such as testing_value (candidate pools and "
                "products) and raise the fit spread (how much is unknown), then Reset.",
                style={"font-size": "0.9rem", "color": "#666"},
                classes=["reveal-none"],
            )
            return
        end = pair.day >= pair.horizon_days
        if not (end or shown.value == id(pair)):
            for r in dims:
                t = r.table
                guess = t.loc[t["guess"], "candidate"].iloc[0]
                solara.Text(
                    f"{r.title}: candidates {', '.join(t['candidate'])}; guess {guess}.",
                    style={"font-size": "0.9rem"},
                )
            solara.Button(
                "Reveal the brand",
                on_click=lambda: shown.set(id(pair)),
                classes=["reveal-button"],
                outlined=True,
            )
            return
        spread = pair.arms[0].summary()["brand"]["spread"]
        solara.Text(
            f"Day {pair.day}: the brand's true fits (fit.spread {spread:g}; fit 1 = as "
            "configured, best = highest fit).",
            style={"font-size": "0.9rem"},
        )
        for r in dims:
            solara.Markdown(f"**{r.title}**\n\n" + reveal_markdown(r.table))
            for line in r.lines:
                solara.Text(line, style={"font-size": "0.9rem"}, classes=["reveal-line"])


@solara.component
def AcrossSeeds(pair: live.LivePair, big: bool = False):
    """ "Across brands": the pair on screen (A and B with the scenario's controls) run over N
    brands, seeds 0 … N − 1, by the batch engine in the background (`live.BandRun` in a task
    thread, a few seeds at a time): progress while it runs, then cumulative profit of each arm
    as the median of the seeds and the middle 80 % of seeds, and the paired result in a line.
    A Reset to another scenario cancels a run, or marks finished bands as stale."""
    seeds = solara.use_reactive(live.BAND_SEEDS_DEFAULT)
    run = solara.use_reactive(None)  # the live.BandRun started last
    progress = solara.use_reactive((0, 0))  # runs done, runs in all
    finished = solara.use_reactive(0)  # bumped when a run ends (read below: redraws the card)
    latest = solara.use_ref(None)
    r = run.value
    latest.current = r

    def work():
        if r is None or r.finished:
            return
        r.run(on_progress=lambda done, total: progress.set((done, total)))
        finished.set(finished.value + 1)

    solara.lab.use_task(work, dependencies=[r], prefer_threaded=True)
    stale = live.band_changes(r.controls, pair.controls) if r is not None and pair.arms else []

    def cancel_if_stale():
        if r is not None and r.running and stale:
            r.cancel()

    solara.use_effect(cancel_if_stale, [id(pair)])
    solara.use_effect(lambda: lambda: latest.current and latest.current.cancel(), [])  # unmount

    def start():
        if r is not None:
            r.cancel()
        new = live.BandRun(pair.controls, int(seeds.value))
        progress.set((0, new.total))
        run.set(new)

    running = r is not None and r.running
    bands = r.bands if r is not None and r.finished else None
    fig = solara.use_memo(
        lambda: live.figure_bands(bands, big) if bands is not None else None,
        dependencies=[id(bands), big, finished.value],  # reading `finished` redraws the card
    )
    with solara.Card("Across brands", margin=0, classes=["across-seeds"]):
        solara.Text(
            "One seed is one brand and its luck. Run the scenario on screen (A and B with its "
            "controls; changes waiting for Reset are not in it) over many brands, seeds 0 to "
            "N − 1, in the background: the spread of outcomes a brand could see.",
            style={"font-size": "0.9rem"},
        )
        with solara.Row(style={"align-items": "center"}):
            solara.Select(
                "Brands (seeds)",
                value=seeds,
                values=list(live.BAND_SEEDS),
                classes=["bands-n"],
                style={"max-width": "10rem"},
            )
            solara.Button(
                f"Run over {seeds.value} brands",
                on_click=start,
                disabled=running or not pair.arms,
                color="primary",
                outlined=True,
                classes=["bands-button"],
            )
            if running:
                solara.Button(
                    "Cancel", on_click=r.cancel, disabled=r.cancelled, classes=["bands-cancel"]
                )
        if running:
            done, total = progress.value
            solara.ProgressLinear(100 * done / total if total else True)
            solara.Text(
                f"{done}/{total} runs done" + (" — cancelling" if r.cancelled else ""),
                classes=["bands-progress"],
                style={"font-size": "0.9rem"},
            )
        elif r is not None and r.error:
            solara.Text(f"The runs stopped: {r.error}", classes=["bands-error"])
        elif r is not None and bands is None:
            why = f" (the scenario changed on Reset: {'; '.join(stale)})" if stale else ""
            solara.Text(f"Cancelled{why}.", classes=["bands-cancelled"])
        if fig is not None:
            if stale:
                solara.Text(
                    "These bands are for an earlier scenario (" + "; ".join(stale) + "): "
                    "run again for the one on screen.",
                    classes=["pending-banner", "bands-stale"],
                )
            with solara.Column(classes=["plot", "plot-bands"]):
                solara.FigureMatplotlib(
                    fig,
                    format="png",
                    dependencies=[id(bands), big],
                    pil_kwargs={"compress_level": 1},
                )
            solara.Text(live.bands_sentence(bands), classes=["caption", "bands-result"])


def reveal_markdown(t) -> str:
    """A reveal table as Markdown: ✓ for true flags, blank for untested arms."""

    def cell(v):
        if isinstance(v, bool | np.bool_):
            return "✓" if v else ""
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)

    head = "| " + " | ".join(t.columns) + " |\n|" + "---|" * len(t.columns) + "\n"
    body = "".join("| " + " | ".join(cell(v) for v in row) + " |\n" for row in t.itertuples(False))
    return head + body


@solara.component
def RunControls(
    model: solara.Reactive,
    parameters: solara.Reactive,
    playing: solara.Reactive,
    play_interval: solara.Reactive,
    render_interval: solara.Reactive,
    pending: bool,
):
    """Reset / ▶ / ❚❚ / Step, after Mesa's `ModelController` (a threaded play loop that
    advances `render_interval` days per redraw); Reset is marked while changes wait for it."""

    def loop():
        while playing.value and model.value.running:
            time.sleep(play_interval.value / 1000)
            advance()
        playing.set(False)

    solara.lab.use_task(loop, dependencies=[playing.value], prefer_threaded=True)

    def advance():
        pair = model.value
        for _ in range(render_interval.value):
            pair.step()
            if not pair.running:
                break
        force_update()

    def reset():
        playing.set(False)
        model.set(live.LivePair(**parameters.value))
        force_update()

    def step():
        if not playing.value:
            advance()

    with solara.Row(classes=["run-bar"]):
        DayCounter(model.value)
        solara.Button(
            "Reset — apply changes" if pending else "Reset",
            on_click=reset,
            color="warning" if pending else "primary",
            classes=["reset-button"] + (["reset-pending"] if pending else []),
        )
        solara.Button(
            "❚❚" if playing.value else "▶",
            on_click=lambda: playing.set(not playing.value),
            color="primary",
            disabled=not model.value.running and not playing.value,
        )
        solara.Button("Step", on_click=step, color="primary", disabled=playing.value)


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
            solara.Text(f"{label}: {shown}", style={"font-size": "0.9rem", "color": "#444"})
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
    playing = solara.use_reactive(False)
    presenting = solara.use_reactive(False)
    update_counter.get()
    pair = model.value
    values = {k: v for k, v in parameters.value.items() if k in DEFAULTS}
    pending = live.pending_changes(pair, values)
    big = presenting.value

    solara.Title("privsim live view")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)

    if not big:
        with solara.Sidebar(), solara.Column():
            with solara.Card("Scenario", subtitle="Changes apply on Reset"):
                if pending:
                    solara.Text("Changes wait for Reset", classes=["pending-banner"])
                ScenarioControls(parameters)
            with solara.Card("Playback"):
                solara.Text(f"Days per redraw: {render_interval.value}")
                solara.SliderInt("", value=render_interval, min=1, max=30)
                solara.Text(f"Pause between redraws: {play_interval.value} ms")
                solara.SliderInt("", value=play_interval, min=1, max=500)

    # while playing, the plots under the first screen redraw every few weeks (a year in under a
    # minute); paused, stepped or at the end, every plot shows today
    day = pair.day
    below = day if not playing.value or not pair.running else day - day % BELOW_FOLD_EVERY

    with solara.Column(
        style={"padding": "0 8px", "margin-top": "-12px"}, classes=["presenting"] if big else []
    ).key("page-body"):
        with solara.Row(style={"align-items": "center", "justify-content": "space-between"}):
            RunControls(model, parameters, playing, play_interval, render_interval, bool(pending))
            solara.Switch(label="Presentation mode", value=presenting, classes=["present-switch"])
        if pending:
            solara.Text(
                "Changes apply on Reset — " + "; ".join(pending),
                classes=["pending-banner", "pending-changes"],
            )
        if pair.error:
            WhatHappened(pair)
            return
        Headline(pair)
        Plot(pair, "profit", big, day)
        WhatHappened(pair)
        lower = ("funnel", "conversion", "operators", "ltv_cac", "churn")
        if big:
            for key in lower:
                Plot(pair, key, big, below)
        else:
            with solara.Columns([1, 1]):
                Plot(pair, "funnel", big, below)
                Plot(pair, "conversion", big, below)
            with solara.Columns([1, 1]):
                Plot(pair, "operators", big, below)
                Plot(pair, "ltv_cac", big, below)
            with solara.Columns([1, 1]):
                Plot(pair, "churn", big, below)
                solara.Column()
        # keyed: a pending-changes banner above, or the sidebar gone in presentation mode,
        # shifts the positions; the keys keep these cards' state (a reveal, a run's bands)
        AcrossBrands(pair, below).key("reveal-the-brand")
        AcrossSeeds(pair, big).key("across-brands")


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


# The page's assets are local (the solara-assets package fills Solara's asset cache). Solara's
# asset proxy stays on, since it is what serves that cache; what is turned off is its fallback
# to the CDN: an asset missing from the cache is looked up at a local address that refuses at
# once, so the server never reaches the internet. (SOLARA_ASSETS_PROXY=False would point the
# browser itself at cdn.jsdelivr.net and break the page offline.) No telemetry either.
NO_CDN = "http://127.0.0.1:9/"  # the discard port: nothing listens, the request fails at once
SERVER_ENV = {"SOLARA_ASSETS_CDN": NO_CDN, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}


def serve(prog: str, module: str, host: str, port: int, open_tab: bool, env=None) -> int:
    """Serve a Solara page module on `host:port`, offline (`SERVER_ENV`), the process becoming
    the server; a busy port is refused first, suggesting `--port` (exit 2)."""
    if busy := port_in_use(host, port):
        print(
            f"{prog}: port {port} on {host} is in use ({busy}); "
            f"choose another with --port, e.g. --port {port + 1}",
            file=sys.stderr,
        )
        return 2
    env = {**os.environ, **SERVER_ENV, **(env or {})}
    cmd = [sys.executable, "-m", "solara", "run", module, "--host", host, "--port", str(port),
           "--production", "--no-check-version", "--open" if open_tab else "--no-open"]  # fmt: skip
    print(f"{prog}: serving on http://{host}:{port}", flush=True)
    if os.name == "posix":  # become the server: signals to this process reach it
        os.execve(sys.executable, cmd, env)
    return subprocess.call(cmd, env=env)


def main(argv: list[str] | None = None) -> int:
    """`privsim-app`: serve the page with Solara on localhost."""
    ap = argparse.ArgumentParser(prog="privsim-app", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    args = ap.parse_args(argv)
    return serve("privsim-app", "sim.viz.app", args.host, args.port, args.open)


if __name__ == "__main__" and "solara.server.app" not in sys.modules:
    # (`solara run sim/app.py` executes this file as __main__ too: then it is the page, not the CLI)
    sys.exit(main())
