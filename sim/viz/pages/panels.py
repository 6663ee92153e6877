"""The two panels under the live page's plots: the brand revealed (`RevealBrand`) and the pair
run across brands, i.e. seeds, in the background (`AcrossBrands`). Each component is named
after the card it renders; the numbers come from `reveal` and `bands`."""

from __future__ import annotations

import numpy as np
import solara

from sim.viz.pages import bands
from sim.viz.pages.pair import LivePair
from sim.viz.pages.reveal import reveal


@solara.component
def RevealBrand(pair: LivePair, day: int = 0):
    """ "Reveal the brand": both arms face the same brand (seed and `fit`); at the end of the
    horizon, or when the room has guessed and presses "Reveal the brand", a table per dimension
    of 人货场 with candidates: each one's true (latent) fit, the guess, the truly best, each arm's
    test (users, measured metric) and what it runs (`reveal.reveal`, from the models' `brand`
    summary). Before that only the candidates and the guess are shown. `day`: the day drawn
    (a changed value redraws the panel, like the plots under the first screen)."""
    shown = solara.use_reactive(None)  # id of the pair revealed on demand
    with solara.Card("Reveal the brand", margin=0, classes=["reveal-brand"]):
        if pair.arms and pair.day == 0:  # the models summarise days simulated: none yet
            solara.Text(
                "The brand's candidates show here once the first day has run.",
                style={"font-size": "0.9rem", "color": "#666"},
            )
            return
        dims = reveal(pair) if pair.arms else []
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
def AcrossBrands(pair: LivePair, big: bool = False):
    """ "Across brands": the pair on screen (A and B with the scenario's controls) run over N
    brands, seeds 0 … N − 1, by the batch engine in the background (`bands.BandRun` in a task
    thread, a few seeds at a time): progress while it runs, then cumulative profit of each arm
    as the median of the seeds and the middle 80 % of seeds, and the paired result in a line.
    A Reset to another scenario cancels a run, or marks finished bands as stale."""
    seeds = solara.use_reactive(bands.BAND_SEEDS_DEFAULT)
    run = solara.use_reactive(None)  # the bands.BandRun started last
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
    stale = bands.band_changes(r.controls, pair.controls) if r is not None and pair.arms else []

    def cancel_if_stale():
        if r is not None and r.running and stale:
            r.cancel()

    solara.use_effect(cancel_if_stale, [id(pair)])
    solara.use_effect(lambda: lambda: latest.current and latest.current.cancel(), [])  # unmount

    def start():
        if r is not None:
            r.cancel()
        new = bands.BandRun(pair.controls, int(seeds.value))
        progress.set((0, new.total))
        run.set(new)

    running = r is not None and r.running
    shown = r.bands if r is not None and r.finished else None
    fig = solara.use_memo(
        lambda: bands.figure_bands(shown, big) if shown is not None else None,
        dependencies=[id(shown), big, finished.value],  # reading `finished` redraws the card
    )
    with solara.Card("Across brands", margin=0, classes=["across-brands"]):
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
                values=list(bands.BAND_SEEDS),
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
        elif r is not None and shown is None:
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
                    dependencies=[id(shown), big],
                    pil_kwargs={"compress_level": 1},
                )
            solara.Text(bands.bands_sentence(shown), classes=["caption", "bands-result"])


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
