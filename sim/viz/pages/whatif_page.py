"""The strategist's what-if page: a few plans, many seeds each, compared in one table.

    privsim-whatif                                # serves http://127.0.0.1:8766 (sim.cli.whatif)
    privsim-whatif --horizon 90 --seeds 5         # shorter defaults for a quick look

Each plan's card shows the what-if controls of the one table (`controls.page("whatif")`: a
select, or a number whose empty field keeps the config's value; a policy rule only where the
plan's strategy has it), each channel's planned spend beside its budget; the run settings are
the table's too (`controls.page("whatif run")`), and so are the goal-seek panel's numbers
(`controls.page("whatif goal")`, `whatif_goal`). The scenarios travel as a YAML file (download,
upload) and in the page's URL (`whatif_share`). The data logic is `sim.viz.pages.whatif`, which
the tests call; this module only wires it into a Solara page.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import tempfile
from dataclasses import replace

import solara

from sim.experiment.batch import run_batch
from sim.experiment.config import compose
from sim.viz import export, labels
from sim.viz.pages import controls, whatif_export, whatif_goal, whatif_share
from sim.viz.pages.controls import GOAL, RUN, WHATIF
from sim.viz.pages.whatif import (
    HORIZON_ENV,
    MAX_SCENARIOS,
    N_JOBS,
    NOTE,
    SEEDS_ENV,
    Plan,
    budget_note,
    command,
    comparison,
    decided,
    evaluations,
    figure,
    fit_note,
    glossary,
    glossary_html,
    runs_table,
    table_html,
    titles,
    volume_note,
)

logging.getLogger("MESA").setLevel(logging.WARNING)

CONTROLS = controls.page(WHATIF)
RUN_CONTROLS = controls.page(RUN)
GOAL_CONTROLS = controls.page(GOAL)
DEFINED = ("strategy", "pool", "business")  # selects whose option is defined under them
GOAL_DIR = os.path.join(tempfile.gettempdir(), "privsim-whatif-goal")  # the panel's run cache

CSS = """
.v-application { font-size: 15px; }
.whatif-table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.whatif-table th, .whatif-table td { border: 1px solid #ddd; padding: 4px 6px; text-align: left;
  vertical-align: top; }
.whatif-table th { background: #f3f3f3; }
.whatif-table code { font-size: 0.8rem; white-space: normal; word-break: normal;
  overflow-wrap: normal; }
.whatif-table .command-row td { border-top: none; color: #444; font-size: 0.8rem; }
.whatif-table .decisions-row td { border-top: none; color: #444; font-size: 0.8rem; }
.whatif-table .nb { white-space: nowrap; }
.results { overflow-x: auto; }
.glossary { font-size: 0.8rem; max-height: 32rem; overflow-y: auto; }
.glossary dt { font-weight: bold; margin-top: 4px; }
.glossary dd { margin-left: 8px; }
.note { font-size: 0.85rem; color: #444; }
pre.command-line { white-space: pre; overflow-x: auto; font-size: 0.8rem; margin: 2px 0 6px;
  padding: 4px 6px; background: #f5f5f5; border-radius: 3px; }
pre.command-line code { white-space: pre; background: none; padding: 0; }
"""


def _default_horizon() -> int:
    v = os.environ.get(HORIZON_ENV)
    return int(v) if v else RUN_CONTROLS["horizon_days"].default


def _default_seeds() -> int:
    return int(os.environ.get(SEEDS_ENV) or RUN_CONTROLS["seeds"].default)


@functools.cache
def _rules_of(strategy: str) -> frozenset[str]:
    """The policy-rule controls a strategy has (`controls.rule_phases`)."""
    cfg = compose([f"strategy={strategy}"])
    return frozenset(k for k, c in CONTROLS.items() if c.phase_key and controls.rule_phases(c, cfg))


def _said(note):
    """A card's note, cached per plan; a plan the config build refuses (e.g. a pool chosen that
    is also one of the alternatives) says why instead of breaking the card."""

    @functools.cache
    def f(*args) -> str:
        try:
            return note(*args)
        except ValueError as e:
            return f"This plan is refused: {e}"

    return f


_budget_note, _fit_note, _volume_note = map(_said, (budget_note, fit_note, volume_note))


def CommandLine(text: str, name: str):
    """A command to copy into a terminal: one line that never wraps (a browser breaks lines
    after a hyphen, `whatif-scenarios.yaml`), scrolled sideways when longer than its box, so a
    copy of it is the command, character for character."""
    solara.HTML(tag="pre", unsafe_innerHTML=f"<code>{html.escape(text)}</code>",
                classes=["command-line", name])  # fmt: skip


class _Stream:
    """Progress lines onto the page's state (run_batch's and the goal seek's)."""

    def __init__(self, state: solara.Reactive):
        self.state = state

    def write(self, text):
        if text.strip():
            self.state.set({**self.state.value, "progress": text.strip().splitlines()[-1]})

    def flush(self):
        pass


def Field(c, value, on_value, disabled, note: str = ""):
    """One control as its widget: a select, or a number (empty = the config's value)."""
    if c.widget == "select":
        solara.Select(c.label, value=value, values=c.options(), on_value=on_value,
                      disabled=disabled, classes=[f"control-{c.name}"])  # fmt: skip
    else:
        lo, hi, _ = c.span
        widget = solara.InputInt if c.kind is int else solara.InputFloat
        widget(c.label, value=value, on_value=on_value, optional=c.keep is None,
               disabled=disabled, classes=[f"control-{c.name}"],
               placeholder="as planned" if c.keep is None else "",
               suffix=f"{lo:g}–{hi:g}")  # fmt: skip
    if note:
        solara.Text(note, classes=["note", f"note-{c.name}"])


@solara.component
def ScenarioCard(i: int, scenarios: solara.Reactive, disabled: bool):
    s = scenarios.value[i]
    error = solara.use_reactive("")

    def set_(name):
        def f(v):
            new = list(scenarios.value)
            change = {name: CONTROLS[name].parse(v)}
            if name == "strategy":  # rules the new strategy has not go back to "as planned"
                have = _rules_of(change[name])
                change |= {k: c.keep for k, c in CONTROLS.items() if c.phase_key and k not in have}
            try:
                new[i] = replace(new[i], **change)
            except ValueError as e:
                error.set(str(e))
                return
            error.set("")
            scenarios.set(new)

        return f

    def remove():
        scenarios.set([x for j, x in enumerate(scenarios.value) if j != i])

    rules = _rules_of(s.strategy)
    title = titles(scenarios.value)[i]
    with solara.Card(title, margin=0, classes=["scenario", f"scenario-{i + 1}"]):
        for name, c in CONTROLS.items():
            if c.phase_key and name not in rules:
                continue
            note = ""
            if name.startswith("budget_"):
                note = _budget_note(s, name[len("budget_") :])
            elif name == "fit":
                note = _fit_note(s)
            elif name == "ad_volume":
                note = _volume_note(s)
            elif c.choices in DEFINED:  # what the chosen strategy / pool / business is
                note = labels.config_definition(c.choices, getattr(s, name))
            Field(c, getattr(s, name), set_(name), disabled, note)
        if error.value:
            solara.Error(error.value, classes=["card-error"])
        solara.Button("Remove", on_click=remove, text=True, disabled=disabled)


@solara.component
def GoalPanel():
    """`privsim-goal`'s two questions, answered in the background (`whatif_goal`)."""
    question = solara.use_reactive(whatif_goal.TEAM)
    values = solara.use_reactive(controls.defaults(GOAL))
    state = solara.use_reactive({"running": False, "progress": "", "answer": "", "error": ""})
    request = solara.use_reactive(None)

    def work():
        if request.value is None:
            return
        name, vals = request.value
        try:
            answer = whatif_goal.ask(name, vals, GOAL_DIR, progress=_Stream(state), n_jobs=N_JOBS)
            state.set({"running": False, "progress": "", "answer": answer, "error": ""})
        except Exception as e:  # noqa: BLE001 - shown on the page
            state.set({**state.value, "running": False, "error": str(e)})
        request.set(None)

    solara.lab.use_task(work, dependencies=[request.value], prefer_threaded=True)

    def ask():
        try:
            controls.check(GOAL, values.value)
        except ValueError as e:
            state.set({**state.value, "error": str(e)})
            return
        state.set({"running": True, "progress": "starting …", "answer": "", "error": ""})
        request.set((question.value, dict(values.value)))

    running = state.value["running"]
    with solara.Card("Goal seek", margin=0, classes=["goal-panel"]):
        solara.Select("Question", value=question, disabled=running, values=[
            {"text": whatif_goal.TITLES[k], "value": k}
            for k in whatif_goal.QUESTIONS])  # fmt: skip
        solara.Text(whatif_goal.QUESTIONS[question.value], classes=["note"])
        used = ("goal_conversion", "goal_users") if question.value == whatif_goal.TEAM else (
            "goal_loss", "goal_refine")  # fmt: skip
        for name in (*used, "goal_brands"):
            Field(GOAL_CONTROLS[name], values.value[name],
                  lambda v, n=name: values.set({**values.value, n: v}), running)  # fmt: skip
        solara.Button("Ask", on_click=ask, disabled=running, classes=["goal-ask"])
        solara.Text(state.value["progress"], classes=["note", "goal-progress"])
        if state.value["error"]:
            solara.Error(state.value["error"])
        if state.value["answer"]:
            solara.Markdown(state.value["answer"])
        CommandLine(whatif_goal.command(question.value, values.value, GOAL_DIR), "goal-command")


@solara.component
def SharePanel(scenarios: solara.Reactive, seeds: solara.Reactive, horizon: solara.Reactive,
               disabled: bool):  # fmt: skip
    """The scenarios as a YAML file (download / upload) and as a link (`whatif_share`)."""
    error = solara.use_reactive("")
    router = solara.use_router()

    def upload(info):
        try:
            scs, n, h = whatif_share.from_yaml(info["data"].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            error.set(f"{info['name']}: {e}")
            return
        error.set("")
        scenarios.set(scs)
        seeds.set(n)
        horizon.set(h)

    query = whatif_share.to_query(scenarios.value, seeds.value, horizon.value)
    with solara.Card("Share these scenarios", margin=0):
        solara.FileDownload(
            lambda: whatif_share.to_yaml(scenarios.value, seeds.value, horizon.value),
            filename=whatif_share.FILE_NAME, label="Download scenarios (.yaml)",
            mime_type="text/yaml",
        )  # fmt: skip
        if not disabled:
            solara.FileDrop("Upload a scenarios .yaml here", on_file=upload, lazy=False)
        if error.value:
            solara.Error(error.value, classes=["upload-error"])
        link = f"{router.root_path}{router.path}?{query}"
        solara.HTML(tag="div", unsafe_innerHTML=f"<a class='share-link' href='{html.escape(link)}'"
                    ">Link to this comparison</a> (copy it to a colleague)",
                    classes=["note"])  # fmt: skip
        k = len(scenarios.value)
        which = "a scenario of the downloaded file, one line each" if k > 1 else (
            "the downloaded file's scenario")  # fmt: skip
        solara.Text(f"Run {which} (overrides added after it replace the file's):",
                    classes=["note"])  # fmt: skip
        for line in whatif_share.commands(k):
            CommandLine(line, "share-command")


def _initial(search: str | None):
    """(scenarios, seeds, horizon, error) from the page's URL, or the defaults."""
    default = [Plan()], _default_seeds(), _default_horizon(), ""
    if not search:
        return default
    try:
        shared = whatif_share.from_query(search)
    except ValueError as e:
        return (*default[:3], f"the link's scenarios were refused: {e}")
    return default if shared is None else (*shared, "")


@solara.component
def Page():
    router = solara.use_router()
    first = solara.use_memo(lambda: _initial(router.search), [])
    scenarios = solara.use_reactive(first[0])
    seeds = solara.use_reactive(first[1])
    horizon = solara.use_reactive(first[2])
    state = solara.use_reactive({"running": False, "progress": "", "error": first[3]})
    done = solara.use_reactive(None)  # (results, commands, scenarios, seeds, horizon) of a run
    request = solara.use_reactive(None)  # (bases, evaluations, commands, ...) to run now

    def start():
        scs, n, h = list(scenarios.value), int(seeds.value), horizon.value
        try:
            bases, evs = evaluations(scs, n, h)
        except Exception as e:  # noqa: BLE001 - shown on the page
            state.set({"running": False, "progress": "", "error": str(e)})
            return
        commands = {t: command(s, n, h) for t, s in zip(titles(scs), scs, strict=True)}
        state.set({"running": True, "progress": f"0/{len(evs)} runs done", "error": ""})
        request.set((bases, evs, commands, scs, n, h))

    def work():
        if request.value is None:
            return
        bases, evs, commands, scs, n, h = request.value
        try:
            results = run_batch(bases, evs, n_jobs=N_JOBS, progress=_Stream(state))
            done.set((results, commands, scs, n, h))
            state.set({"running": False, "progress": state.value["progress"], "error": ""})
        except Exception as e:  # noqa: BLE001 - shown on the page
            state.set({"running": False, "progress": "", "error": str(e)})
        request.set(None)

    solara.lab.use_task(work, dependencies=[request.value], prefer_threaded=True)
    fig = solara.use_memo(
        lambda: figure(done.value[0]) if done.value and len(runs_table(done.value[0])) else None,
        [id(done.value)],
    )
    decisions = solara.use_memo(
        lambda: decided(done.value[2], done.value[0], done.value[4]) if done.value else None,
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
            Field(RUN_CONTROLS["horizon_days"], horizon.value,
                  lambda v: horizon.set(RUN_CONTROLS["horizon_days"].default if v is None else v),
                  running)  # fmt: skip
        SharePanel(scenarios, seeds, horizon, running)
        GoalPanel()
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
            results, commands, scs, n, h = done.value
            table = comparison(results, h)
            # the table takes the pane's width (beside it, at 1280 px, its last column, P(best),
            # fell out of view); the glossary follows it
            solara.HTML(tag="div", unsafe_innerHTML=table_html(table, commands, h, decisions),
                        classes=["results"])  # fmt: skip
            solara.Text(NOTE, classes=["note"])
            with solara.Details("Glossary: every term on this page", expand=True):
                solara.HTML(tag="div", unsafe_innerHTML=glossary_html(glossary(scs, h)),
                            classes=["glossary-box"])  # fmt: skip
            with solara.Row():
                solara.FileDownload(lambda: whatif_export.workbook(results, scs, n, h),
                                    filename="whatif.xlsx", label="Download workbook (.xlsx)",
                                    mime_type=export.XLSX)  # fmt: skip
                solara.FileDownload(lambda: whatif_export.html(results, scs, n, h),
                                    filename="whatif.html", label="Download report (HTML)",
                                    mime_type="text/html")  # fmt: skip
            if fig is not None:
                with solara.Column(classes=["whatif-figure"]):
                    solara.FigureMatplotlib(fig, format="png", dependencies=[id(fig)])
        with solara.Columns([1] * max(1, len(scenarios.value))):
            for i in range(len(scenarios.value)):
                ScenarioCard(i, scenarios, running)
        for s in scenarios.value:
            try:
                text = command(s, seeds.value, horizon.value)
            except ValueError as e:  # e.g. a horizon typed out of range
                text = str(e)
            solara.HTML(tag="div", unsafe_innerHTML=f"<code>{html.escape(text)}</code>",
                        classes=["note", "pending-command"])  # fmt: skip


page = Page  # `solara run sim/viz/pages/whatif_page.py` looks for `Page` (or `page`)
