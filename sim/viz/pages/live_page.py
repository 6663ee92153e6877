"""The trainer's live page: two private-domain models side by side in the browser.

    privsim-app                                # serves http://127.0.0.1:8765 (sim.cli.app)
    solara run sim/viz/pages/live_page.py      # Solara's own command: without privsim-app's
                                               # offline, badge-free settings (serve.SERVER_ENV)

Built on Mesa's SolaraViz machinery: a controller after Mesa's `ModelController` (reset / play /
pause / step, play in a thread, redraws through Mesa's `update_counter`) drives
`pair.LivePair`, a Mesa model holding the two arms; it is the page's own so that Reset can be
marked while changes wait for it and the page knows when it is playing (the plots under the
first screen then redraw less often). The page lays out its own controls and plots instead of
calling `SolaraViz(...)` itself: SolaraViz puts components in a draggable grid whose script
Solara fetches from a CDN, and its parameter sliders do not show their values.

The controls are the table's (`controls.page("live")`): the widgets, their checks and the
overrides they make all come from there. At day 0 the first screen teaches: the question, the
arms in words and where the run ends (`lesson`: the pair run ahead in the background, drawn
faintly under the live lines); a prepared lesson chosen in the sidebar's Lesson select
(`lessons`, configs/lesson/) sets the controls and puts its question and conditions there, and
its title in the app bar (else the arms on screen). Once playing it tells the story: the run
bar, the headline cards (A and B, the difference coloured) and cumulative profit, full width.
Below: what happened, the other plots, the brand revealed, and the pair run across brands (seeds) in
the background (`panels`).

The model never imports this page. Every number shown comes from the arms' own outputs.
"""

from __future__ import annotations

import html
import logging
import math
import time

import solara
from mesa.visualization.utils import force_update, update_counter
from solara.alias import rw

from sim.viz import plots
from sim.viz.pages import controls, figures, lesson, lessons
from sim.viz.pages.controls import LIVE
from sim.viz.pages.headline import Metric, headline
from sim.viz.pages.pair import LivePair, cli_command, pending_changes
from sim.viz.pages.panels import AcrossBrands, RevealBrand
from sim.viz.pages.story import what_happened

logging.getLogger("MESA").setLevel(logging.WARNING)

TITLE = "privsim — live view"
PLAY_INTERVAL_MS = 1  # pause between frames while playing
RENDER_INTERVAL_DAYS = 7  # days simulated per redraw: a year is 52 redraws
FRAME_S = 0.5  # while playing, a redraw slower than this advances more days (`frame_days`)
CONTROLS = controls.page(LIVE)
PAGE_ONLY = {"strict": False}  # invalid controls become a message on the page

BELOW_FOLD_EVERY = 28  # while playing, the plots under the first screen redraw every 4 weeks,
BELOW_FOLD_STAGGER = 7  # each a week after the one before (`below_day`)
LOWER = ("funnel", "conversion", "operators", "ltv_cac", "churn")  # under the first screen
A_COLOUR, B_COLOUR = plots.PALETTE[:2]  # arm A, arm B, as in every figure
BETTER, WORSE = A_COLOUR, B_COLOUR  # the difference's colour: favours B / favours A

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
.pending-banner { background: #FFF3CD; border-left: 6px solid {HIGHLIGHT}; padding: 6px 10px;
  font-size: 1.0rem; font-weight: 600; }
.reset-pending { box-shadow: 0 0 0 3px {HIGHLIGHT} !important; }
.lesson { border-left: 6px solid #333; background: #fafafa; padding: 6px 12px; margin: 4px 0; }
.lesson .lesson-title { font-size: 1.0rem; font-weight: 600; color: #555; }
.lesson .q { font-size: 1.55rem; font-weight: 700; line-height: 1.25; color: #222; }
.lesson .arm { font-size: 1.0rem; line-height: 1.3; margin-top: 3px; }
.lesson .preview { font-size: 1.05rem; font-weight: 600; line-height: 1.3; margin-top: 5px; }
.lesson .preview.loading { color: #8a6d00; }
.presenting .lesson .q { font-size: 2.1rem; }
.presenting .lesson .arm { font-size: 1.25rem; }
.presenting .lesson .preview { font-size: 1.3rem; }
.run-bar { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
""".replace("{HIGHLIGHT}", plots.HIGHLIGHT)


@solara.component
def Plot(pair: LivePair, key: str, big: bool, day: int, ready: bool = False):
    """One figure with its caption; redrawn when `day` (the day it shows) changes, or when the
    preview (`ready`) arrives (not on every redraw of the page: a plot under the first screen
    keeps its image while its `day` stays)."""

    def draw():
        with pair.lock:  # not while the play thread is half-way through a day
            legend = figures.marks_legend(pair) if key == "profit" else None
            return figures.png(pair, key, big), figures.caption(key, pair), legend

    image, text, legend = solara.use_memo(draw, dependencies=[id(pair), day, key, big, ready])
    with solara.Card(margin=0, classes=["plot", f"plot-{key}"]) as card:
        rw.Image(value=image, format="png")
        solara.Text(text, classes=["caption", f"caption-{key}"])
        if legend:
            solara.Text(legend, classes=["caption", "marks", f"marks-{key}"])
    return card


def _card_html(m: Metric, names: list[str]) -> str:
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
def Headline(pair: LivePair):
    """The four numbers that tell the story, A and B side by side, as it plays."""
    update_counter.get()
    with pair.lock:
        cards = headline(pair)
    names = [a.name for a in pair.arms]
    solara.HTML(
        tag="div",
        unsafe_innerHTML="".join(_card_html(m, names) for m in cards),
        classes=["headline"],
    )


def title(pair: LivePair) -> str:
    """The app bar's title: the lesson on screen (`lessons.active`), else the arms on screen."""
    if (chosen := lessons.active(pair.controls.__dict__)) is not None:
        return f"{TITLE}: {chosen.title}"
    return f"{TITLE}: " + " vs ".join(arm.name for arm in pair.arms) if pair.arms else TITLE


@solara.component
def Lesson(pair: LivePair, preview, error: str | None):
    """The first screen before the first day: the question (a chosen lesson's, with its
    conditions in words and whether the conditions for scaling early hold here,
    `lesson.held`), each arm in words, and where the run ends (`lesson.preview_line` of
    `preview`, the pair's), or "preview loading" while it is computed."""
    chosen = lessons.active(pair.controls.__dict__)
    question = html.escape(chosen.point if chosen else lesson.QUESTION)
    head = f'<div class="q">{question}</div>'
    if chosen is not None:
        head = (
            f'<div class="lesson-title">Lesson: {html.escape(chosen.title)}</div>{head}'
            f'<div class="arm conditions">Conditions: {html.escape(" · ".join(chosen.conditions))}'
        )
        if len(pair.arms) == 2:
            head += f" (here: {html.escape(lesson.held(pair))})"
        head += "</div>"
    arms = "".join(
        f'<div class="arm" style="color:{colour}">{html.escape(lesson.arm_words(arm))}</div>'
        for arm, colour in zip(pair.arms, (A_COLOUR, B_COLOUR), strict=False)
    )
    if preview is not None:
        end = f'<div class="preview">{html.escape(lesson.preview_line(preview))}</div>'
        if why := lesson.why_early_wins(pair, preview):
            end += f'<div class="arm why-early">{html.escape(why)}</div>'
    elif error:
        end = f'<div class="preview">Preview: not available ({html.escape(error)}).</div>'
    else:
        end = (
            '<div class="preview loading">Preview loading: this run is being computed ahead '
            "in the background (a few seconds); press ▶ any time.</div>"
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"{head}{arms}{end}",
        classes=["lesson"],
    )


@solara.component
def DayCounter(pair: LivePair):
    update_counter.get()
    solara.Text(
        f"Day {pair.day} of {pair.horizon_days}",
        classes=["day-counter"],
        style={"font-size": "1.4rem", "font-weight": "bold"},
    )


@solara.component
def WhatHappened(pair: LivePair, ready: bool = False):
    """The sentences of `story.what_happened`, and, once the preview is `ready`, why scaling
    early wins where it does (`lesson.why_early_wins`)."""
    update_counter.get()
    with pair.lock:
        lines = what_happened(pair)
    if ready and (why := lesson.why_early_wins(pair, pair.preview)):
        lines.append(why)
    if ready and pair.guesses:
        lines.append(pair.guesses)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    cli = "".join(
        f"<li>{arm.label}: <code>{html.escape(cli_command(arm.overrides))}</code></li>"
        for arm in pair.arms
    )
    with solara.Card("What happened", margin=0, classes=["what-happened"]) as card:
        solara.HTML(tag="ul", unsafe_innerHTML=items, style={"font-size": "1.0rem"})
        solara.Text("Reproduce these arms on the command line:", style={"font-size": "0.9rem"})
        solara.HTML(tag="ul", unsafe_innerHTML=cli, style={"font-size": "0.85rem"})
        SlideExport(pair)
        PairDownloads(pair, pair.day)
    return card


@solara.component
def PairDownloads(pair: LivePair, day: int):
    """The pair as it stands, as files to forward: the HTML report and the workbook
    (`live_export`, built when clicked); none before the first day (`day`: redrawn with it)."""
    if not pair.arms or not day:
        return
    from sim.viz import export
    from sim.viz.pages import live_export

    name = f"privsim-pair-seed{pair.controls.seed}-day{day}"
    with solara.Row(classes=["pair-downloads"]):
        solara.FileDownload(lambda: live_export.html(pair), filename=f"{name}.html",
                            label="Download report (HTML)", mime_type="text/html")  # fmt: skip
        solara.FileDownload(lambda: live_export.workbook(pair), filename=f"{name}.xlsx",
                            label="Download workbook (.xlsx)", mime_type=export.XLSX)  # fmt: skip


@solara.component
def SlideExport(pair: LivePair):
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


def frame_days(days: int, took_s: float) -> int:
    """Days the next redraw advances while playing: `days` (the Playback card's), or as many
    more, up to twice as many, as keep a redraw every `FRAME_S` seconds when the last one took
    `took_s` (a busy machine: fewer, larger steps; the same days simulated, the same final
    state). Capped: more days per redraw would redraw more plots under the first screen each
    time (`below_day`), and slow the redraws further."""
    return max(days, min(2 * days, math.ceil(days * took_s / FRAME_S)))


def below_day(day: int, k: int, playing: bool) -> int:
    """The day the `k`-th plot under the first screen shows: today when paused, stepped or at
    the end; while playing, the day of its latest redraw, every `BELOW_FOLD_EVERY` days, each
    plot `BELOW_FOLD_STAGGER` days after the one before (a redraw draws one or two of them,
    not all five: the first screen keeps moving evenly)."""
    if not playing:
        return day
    return max(0, day - (day + BELOW_FOLD_STAGGER * k) % BELOW_FOLD_EVERY)


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
    advances `render_interval` days per redraw, more while redraws are slow: `frame_days`);
    Reset is marked while changes wait for it."""
    took = solara.use_ref(0.0)  # seconds the last redraw took (its days and its drawing)

    def loop():
        took.current = 0.0
        while playing.value and model.value.running:
            time.sleep(play_interval.value / 1000)
            advance(frame_days(render_interval.value, took.current))
        playing.set(False)

    solara.lab.use_task(loop, dependencies=[playing.value], prefer_threaded=True)

    def advance(days: int):
        start = time.monotonic()
        pair = model.value
        for _ in range(days):
            pair.step()
            if not pair.running:
                break
        force_update()  # redraws the page in this thread
        took.current = time.monotonic() - start

    def reset():
        playing.set(False)
        model.set(LivePair(**parameters.value))
        force_update()

    def step():
        if not playing.value:
            advance(render_interval.value)

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
    """The scenario controls, built from the table (`controls.page("live")`); the values go to
    `LivePair(**values)` on Reset."""
    values = parameters.value

    def setter(name):
        if name == "lesson":
            return lambda v: parameters.set(lessons.choose(parameters.value, v))
        return lambda v: parameters.set(lessons.change(parameters.value, name, v))

    for name, c in CONTROLS.items():
        v = values.get(name, c.default)
        if c.widget == "select":
            items = lessons.select_items() if name == "lesson" else c.options()  # titles shown
            solara.Select(c.label, value=v, values=items, on_value=setter(name))
        elif c.widget == "check":
            solara.Checkbox(label=c.label, value=v, on_value=setter(name))
        else:
            lo, hi, step = c.span
            solara.Text(f"{c.label}: {c.shown(v)}", style={"font-size": "0.9rem", "color": "#444"})
            slider = solara.SliderFloat if c.kind is float else solara.SliderInt
            slider("", value=v, min=lo, max=hi, step=step, on_value=setter(name))


def _initial_pair() -> LivePair:
    return LivePair(**PAGE_ONLY)


@solara.component
def Page():
    initial = solara.use_memo(_initial_pair, [])
    model = solara.use_reactive(initial)
    parameters = solara.use_reactive({**controls.defaults(LIVE), **PAGE_ONLY})
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(RENDER_INTERVAL_DAYS)
    playing = solara.use_reactive(False)
    presenting = solara.use_reactive(False)
    update_counter.get()
    pair = model.value
    values = {k: v for k, v in parameters.value.items() if k in CONTROLS}
    pending = pending_changes(pair, values)
    big = presenting.value

    arrived = solara.use_reactive(0)  # bumped when a preview arrives (read: redraws the page)

    def run_ahead():  # the preview (the pair run to its horizon), then the lesson's brands
        if pair.arms and pair.preview is None:
            pair.preview = lesson.preview(pair.controls)
            arrived.set(arrived.value + 1)
        chosen = lessons.active(pair.controls.__dict__)
        if pair.arms and chosen is not None and chosen.brands and pair.guesses is None:
            record = lessons.guess_record(pair.controls, chosen.brands)
            pair.guesses = lessons.guess_line(record, pair.controls.seed)
            arrived.set(arrived.value + 1)

    ahead = solara.lab.use_task(
        run_ahead, dependencies=[id(pair)], prefer_threaded=True, raise_error=False
    )
    arrived.value  # noqa: B018 - read on every render, so the page redraws when one arrives
    ready = pair.preview is not None
    failed = ahead.exception if ahead.error else None
    preview_error = f"{type(failed).__name__}: {failed}" if failed else None

    solara.Title("privsim live view")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(title(pair))

    if not big:
        with solara.Sidebar(), solara.Column():
            with solara.Card("Scenario", subtitle="Changes apply on Reset"):
                if pending:
                    solara.Text("Changes wait for Reset", classes=["pending-banner"])
                ScenarioControls(parameters)
            with solara.Card("Playback"):
                solara.Text(
                    f"Days per redraw: {render_interval.value} (more while a redraw takes "
                    f"over {FRAME_S:g} s)"
                )
                solara.SliderInt("", value=render_interval, min=1, max=30)
                solara.Text(f"Pause between redraws: {play_interval.value} ms")
                solara.SliderInt("", value=play_interval, min=1, max=500)

    day = pair.day
    below = {key: below_day(day, k, playing.value and pair.running) for k, key in enumerate(LOWER)}

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
        if day == 0:  # before the first day: the question, the arms, where the run ends
            Lesson(pair, pair.preview, preview_error)
        else:
            Headline(pair)
        Plot(pair, "profit", big, day, ready)
        WhatHappened(pair, ready)
        if big:
            for key in LOWER:
                Plot(pair, key, big, below[key])
        else:
            with solara.Columns([1, 1]):
                Plot(pair, "funnel", big, below["funnel"])
                Plot(pair, "conversion", big, below["conversion"])
            with solara.Columns([1, 1]):
                Plot(pair, "operators", big, below["operators"])
                Plot(pair, "ltv_cac", big, below["ltv_cac"])
            with solara.Columns([1, 1]):
                Plot(pair, "churn", big, below["churn"])
                solara.Column()
        # keyed: a pending-changes banner above, or the sidebar gone in presentation mode,
        # shifts the positions; the keys keep these cards' state (a reveal, a run's bands)
        RevealBrand(pair, below[LOWER[0]]).key("reveal-brand")
        AcrossBrands(pair, big).key("across-brands")


page = Page  # `solara run sim/app.py` looks for `Page` (or `page`)


page = Page  # `solara run sim/viz/pages/live_page.py` looks for `Page` (or `page`)
