"""The strategist's what-if page: a few plans, many seeds each, compared in one table.

    privsim-whatif                                # serves http://127.0.0.1:8766 (sim.cli.whatif)
    privsim-whatif --horizon 90 --seeds 5         # shorter defaults for a quick look

Each plan's card shows the what-if controls of the one table (`controls.page("whatif")`), the
run settings are the table's too (`controls.page("whatif run")`); the data logic is
`sim.viz.pages.whatif`, which the tests call; this module only wires it into a Solara page.
"""

from __future__ import annotations

import html
import logging
import os
from dataclasses import replace

import solara

from sim.experiment.batch import run_batch
from sim.viz.pages import controls
from sim.viz.pages.controls import RUN, WHATIF
from sim.viz.pages.whatif import (
    HORIZON_ENV,
    MAX_SCENARIOS,
    N_JOBS,
    NOTE,
    SEEDS_ENV,
    Plan,
    command,
    comparison,
    evaluations,
    figure,
    label,
    runs_table,
    table_html,
)

logging.getLogger("MESA").setLevel(logging.WARNING)

CONTROLS = controls.page(WHATIF)
RUN_CONTROLS = controls.page(RUN)

CSS = """
.v-application { font-size: 15px; }
.whatif-table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.whatif-table th, .whatif-table td { border: 1px solid #ddd; padding: 4px 6px; text-align: left;
  vertical-align: top; }
.whatif-table th { background: #f3f3f3; }
.whatif-table code { font-size: 0.75rem; word-break: break-all; }
.note { font-size: 0.85rem; color: #444; }
"""


def _default_horizon() -> int | None:
    v = os.environ.get(HORIZON_ENV)
    return int(v) if v else None


def _default_seeds() -> int:
    return int(os.environ.get(SEEDS_ENV) or RUN_CONTROLS["seeds"].default)


@solara.component
def ScenarioCard(i: int, scenarios: solara.Reactive, disabled: bool):
    s = scenarios.value[i]

    def set_(name):
        def f(v):
            new = list(scenarios.value)
            new[i] = replace(new[i], **{name: v})
            scenarios.set(new)

        return f

    def remove():
        scenarios.set([x for j, x in enumerate(scenarios.value) if j != i])

    with solara.Card(label(i, s), margin=0, classes=["scenario", f"scenario-{i + 1}"]):
        for name, c in CONTROLS.items():
            solara.Select(c.label, value=getattr(s, name), values=c.options(),
                          on_value=set_(name), disabled=disabled)  # fmt: skip
        solara.Button("Remove", on_click=remove, text=True, disabled=disabled)


@solara.component
def Page():
    scenarios = solara.use_reactive([Plan()])
    seeds = solara.use_reactive(_default_seeds())
    horizon = solara.use_reactive(_default_horizon())
    state = solara.use_reactive({"running": False, "progress": "", "error": ""})
    done = solara.use_reactive(None)  # (results, commands) of the last run
    request = solara.use_reactive(None)  # (bases, evaluations, commands) to run now

    def start():
        scs, n, h = list(scenarios.value), int(seeds.value), horizon.value
        try:
            bases, evs = evaluations(scs, n, h)
        except Exception as e:  # noqa: BLE001 - shown on the page
            state.set({"running": False, "progress": "", "error": str(e)})
            return
        commands = {label(i, s): command(s, n, h) for i, s in enumerate(scs)}
        state.set({"running": True, "progress": f"0/{len(evs)} runs done", "error": ""})
        request.set((bases, evs, commands))

    def work():
        if request.value is None:
            return
        bases, evs, commands = request.value

        class Stream:  # run_batch's progress lines, onto the page
            def write(self, text):
                if text.strip():
                    state.set({**state.value, "progress": text.strip()})

            def flush(self):
                pass

        try:
            results = run_batch(bases, evs, n_jobs=N_JOBS, progress=Stream())
            done.set((results, commands))
            state.set({"running": False, "progress": state.value["progress"], "error": ""})
        except Exception as e:  # noqa: BLE001 - shown on the page
            state.set({"running": False, "progress": "", "error": str(e)})
        request.set(None)

    solara.lab.use_task(work, dependencies=[request.value], prefer_threaded=True)
    fig = solara.use_memo(
        lambda: figure(done.value[0]) if done.value and len(runs_table(done.value[0])) else None,
        [id(done.value)],
    )

    running = state.value["running"]
    solara.Title("privsim what-if")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle("privsim — what if: compare up to 4 plans across many brands")
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run", margin=0):
            solara.Text(f"{RUN_CONTROLS['seeds'].label}: {seeds.value}")
            lo, hi, _ = RUN_CONTROLS["seeds"].span
            solara.SliderInt("", value=seeds, min=lo, max=hi, disabled=running)
            with solara.Details("Advanced"):
                h = horizon.value
                solara.InputInt(
                    RUN_CONTROLS["horizon_days"].label,
                    value=h if h is not None else 0,
                    on_value=lambda v: horizon.set(int(v) if v else None),
                    classes=["horizon-input"],
                    disabled=running,
                )
    with solara.Column(style={"padding": "0 8px"}):
        with solara.Row(style={"align-items": "center"}):
            solara.Button(
                "Add scenario",
                on_click=lambda: scenarios.set(
                    [*scenarios.value, (scenarios.value or [Plan()])[-1]]
                ),
                disabled=running or len(scenarios.value) >= MAX_SCENARIOS,
                classes=["add-scenario"],
                color="primary",
                outlined=True,
            )
            solara.Button(
                "Run",
                on_click=start,
                disabled=running or not scenarios.value,
                classes=["run-button"],
                color="primary",
            )
            solara.Text(state.value["progress"], classes=["progress"])
        if state.value["error"]:
            solara.Error(state.value["error"], classes=["run-error"])
        if done.value is not None:
            results, commands = done.value
            table = comparison(results)
            solara.HTML(tag="div", unsafe_innerHTML=table_html(table, commands),
                        classes=["results"])  # fmt: skip
            solara.Text(NOTE, classes=["note"])
            if fig is not None:
                with solara.Column(classes=["whatif-figure"]):
                    solara.FigureMatplotlib(fig, format="png", dependencies=[id(fig)])
        with solara.Columns([1] * max(1, len(scenarios.value))):
            for i in range(len(scenarios.value)):
                ScenarioCard(i, scenarios, running)
        for s in scenarios.value:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"<code>{html.escape(command(s, seeds.value, horizon.value))}"
                "</code>",
                classes=["note", "pending-command"],
            )


page = Page  # `solara run sim/viz/pages/whatif_page.py` looks for `Page` (or `page`)
