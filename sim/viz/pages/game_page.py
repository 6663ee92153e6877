"""The workshop game's page: teams play one hidden brand month by month; the facilitator sees
every team and reveals the brand (issue #26, a management flight simulator).

    privsim-game                                   # serves http://127.0.0.1:8767 (sim.cli.game)
    http://127.0.0.1:8767/                         # a team: join with a name, play month by month
    http://127.0.0.1:8767/facilitator              # the facilitator: every team, the reveal

One server process holds one workshop (`sim.experiment.workshop`, its folder from
`game.FOLDER_ENV`); every browser session plays in it: a team's month is advanced by the engine,
which saves it, so a reloaded tab rejoins its team where it was. The views poll the workshop
every few seconds, so the facilitator sees teams move and a team sees the reveal when it comes.
The words and tables are `game`'s, the figures `game_figures`'; this module only lays them out.
"""

from __future__ import annotations

import functools
import html
import logging
import threading

import solara

from sim.viz.pages import game, game_figures, style

logging.getLogger("MESA").setLevel(logging.WARNING)

TITLE = "privsim workshop"
POLL_S = 2.0  # how often a view looks for other teams' moves and the reveal

CSS = """
.v-application { font-size: 17px; }
.game-brief { font-size: 1.25rem; line-height: 1.45; }
.progress-line { font-size: 1.6rem; font-weight: 700; }
.numbers { display: flex; gap: 8px; margin: 4px 0 6px 0; }
.number-card { flex: 1; border: 1px solid #ddd; border-radius: 6px; padding: 4px 10px; }
.number-card .t { font-size: 1.0rem; font-weight: 600; color: #333; }
.number-card .v { font-size: 1.9rem; font-weight: 700; line-height: 1.2; }
.number-card .n { font-size: 0.8rem; color: #555; line-height: 1.2; }
.control-label { font-size: 1.05rem; font-weight: 600; margin-top: 6px; }
.control-value { font-size: 1.3rem; font-weight: 700; }
.control-note { font-size: 0.8rem; color: #555; line-height: 1.2; }
.game-table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
.game-table th, .game-table td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
.game-table th { background: #f3f3f3; }
.game-table td:first-child, .game-table th:first-child { text-align: left; }
.play-button { font-size: 1.2rem !important; height: 48px !important; }
.definition { font-size: 0.95rem; color: #333; }
.brand-words { font-size: 1.2rem; border-left: 6px solid #333; padding: 4px 12px; }
.plot img { width: 100%; height: auto; display: block; }
""" + style.NO_BADGE


@functools.cache
def workshop():
    """The one workshop this server holds (its folder from `game.FOLDER_ENV`)."""
    import os

    from sim.experiment.workshop import Workshop

    return Workshop.open(os.environ[game.FOLDER_ENV])


_locks: dict[str, threading.Lock] = {}
_join_lock = threading.Lock()


def team_lock(name: str) -> threading.Lock:
    """One month at a time per team, whichever tab presses Play."""
    with _join_lock:
        return _locks.setdefault(name, threading.Lock())


_pressed = threading.Event()  # the facilitator pressed Reveal (this server's life)
_reveal_lock = threading.Lock()
_reveals: dict[tuple, game.Revealed] = {}


def is_revealed(ws) -> bool:
    """The facilitator pressed Reveal, or every team has finished (`game.all_finished`)."""
    return _pressed.is_set() or game.all_finished(ws)


def reveal_now() -> None:
    _pressed.set()


def revealed(ws) -> game.Revealed:
    """The reveal for the teams as they stand, computed once however many tabs ask."""
    with _reveal_lock:
        key = game.signature(ws)
        if key not in _reveals:
            _reveals[key] = game.revealed(ws)
        return _reveals[key]


def state(ws) -> tuple:
    return game.signature(ws), is_revealed(ws)


def use_poll(ws) -> tuple:
    """The workshop's `state`, re-read every `POLL_S` seconds: a view that calls this redraws
    when a team moves or the reveal comes."""
    seen = solara.use_reactive(state(ws))

    def poll(cancel: threading.Event):
        while not cancel.wait(POLL_S):
            if (now := state(ws)) != seen.value:
                seen.set(now)

    solara.use_thread(poll, dependencies=[id(ws)])
    return seen.value


@solara.component
def Figure(fig, key: str):
    with solara.Card(margin=0, classes=["plot", f"plot-{key}"]):
        solara.FigureMatplotlib(fig, format="png")


@solara.component
def Numbers(numbers: list[game.Number]):
    cards = "".join(
        f'<div class="number-card number-{n.key}"><div class="t">{html.escape(n.title)}</div>'
        f'<div class="v">{html.escape(n.value)}</div><div class="n">{html.escape(n.note)}</div></div>'
        for n in numbers
    )
    solara.HTML(tag="div", unsafe_innerHTML=cards, classes=["numbers"])


@solara.component
def Control(c: dict, values: solara.Reactive[dict], disabled: bool):
    """One decision's widget, from `ws.decision_controls()`: its label, its value in words with
    its unit, the widget, the allowed range and what it does."""
    name, v = c["name"], values.value[c["name"]]

    def set_value(new):
        values.set({**values.value, name: new})

    with solara.Column(gap="0px", classes=["control", f"control-{name}"]):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f'{html.escape(c["label"])}: <span class="control-value">'
            f"{html.escape(game.value_text(c, v))}</span>",
            classes=["control-label"],
        )
        if c["kind"] == "bool":
            solara.Switch(value=bool(v), on_value=set_value, disabled=disabled)
        elif c["kind"] == "choice":
            with solara.ToggleButtonsSingle(value=v, on_value=set_value):
                for choice in c["choices"]:
                    solara.Button(str(choice), value=choice, disabled=disabled,
                                  classes=[f"choice-{choice}"])  # fmt: skip
        else:
            slider = solara.SliderInt if c["kind"] == "int" else solara.SliderFloat
            slider("", value=v, min=c["min"], max=c["max"], step=c["step"] or 1,
                   on_value=set_value, disabled=disabled)  # fmt: skip
        note = f"Allowed: {game.range_text(c)}." + (f" {c['doc']}" if c.get("doc") else "")
        solara.Text(note, classes=["control-note"])


@solara.component
def Decisions(ws, team, on_played):
    """The month's decisions and "Play month N": the engine advances one month (a refused value
    is shown, not raised)."""
    from sim.experiment.workshop import Decision

    controls = ws.decision_controls()
    last = team.decisions[-1] if team.decisions else None
    values = solara.use_reactive(game.defaults(controls, game.as_dict(last)))
    error = solara.use_reactive(None)

    def play():
        with team_lock(team.name):
            if team.done:
                return
            try:
                team.play(Decision(**values.value))
                error.set(None)
            except ValueError as e:  # ConfigError: a value the engine refuses
                error.set(str(e))
        on_played()

    task = solara.lab.use_task(play, dependencies=None, raise_error=False)
    busy = task.pending
    month = team.month + 1
    with solara.Card(f"Decisions for month {month}", margin=0, classes=["decisions"]):
        for c in controls:
            Control(c, values, busy)
        solara.Button(
            f"Simulating month {month}…" if busy else f"Play month {month}",
            on_click=task,
            color="primary",
            disabled=busy,
            classes=["play-button"],
            block=True,
        )
        if busy:
            solara.ProgressLinear(True)
        if error.value:
            solara.Error(error.value, classes=["play-error"])
        if task.error:
            solara.Error(f"{type(task.exception).__name__}: {task.exception}")


@solara.component
def TeamBrand(ws, team, month: int):
    """The team's brand so far (at `month`, which redraws it): its numbers, the figure, the
    monthly table."""
    Numbers(game.headline(team))
    months = team.monthly()
    Figure(game_figures.team_figure(months, team.months), "team")
    if months.empty:
        solara.Text("No month played yet: set the decisions and press Play month 1.",
                    classes=["definition", "no-months"])  # fmt: skip
    else:
        solara.HTML(tag="div", unsafe_innerHTML=game.table_html(
            game.monthly_table(months), "game-table monthly-table"))  # fmt: skip


@solara.component
def Reveal(ws, highlight: str | None = None):
    """The reveal: the leaderboard (every team, staged and the optimised policy on the same
    brand, NPV at the horizon, its definition), the brand in words, the figure, the commands."""
    def compute():
        return revealed(ws)

    result = solara.lab.use_task(compute, dependencies=[game.signature(ws)], raise_error=False)
    with solara.Card("The reveal", margin=0, classes=["reveal"]):
        if result.pending or result.value is None and not result.error:
            solara.Text("Computing the leaderboard: staged and the optimised policy play the "
                        "same brand…", classes=["definition"])  # fmt: skip
            solara.ProgressLinear(True)
            return
        if result.error:
            solara.Error(f"{type(result.exception).__name__}: {result.exception}")
            return
        r = result.value
        solara.HTML(tag="div", unsafe_innerHTML=game.leaderboard_html(r, highlight))
        solara.Text(r.definition, classes=["definition", "npv-definition"])
        solara.HTML(tag="div", unsafe_innerHTML="The brand: " + html.escape(r.brand),
                    classes=["brand-words"])  # fmt: skip
        Figure(game_figures.profit_figure(r.curves, game.months(ws), game.REFERENCES), "reveal")
        solara.HTML(tag="div", unsafe_innerHTML=game.commands_html(r), classes=["commands"])


@solara.component
def Join(ws, on_join):
    name = solara.use_reactive("")
    error = solara.use_reactive(None)

    def join():
        text = name.value.strip()
        if not text:
            error.set("Type your team's name first.")
            return
        try:
            with _join_lock:
                if text not in {t.name for t in ws.teams()}:
                    ws.join(text)
        except ValueError as e:
            error.set(str(e))
            return
        on_join(text)

    solara.HTML(tag="div", unsafe_innerHTML=game.brief_html(ws), classes=["game-brief"])
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("Your team's name", value=name, continuous_update=True,
                         classes=["team-name"])  # fmt: skip
        solara.Button("Join", on_click=join, color="primary", classes=["join-button"])
    if error.value:
        solara.Error(error.value)
    if names := [t.name for t in ws.teams()]:
        solara.Text("Teams playing: " + ", ".join(names) + " (type a team's name to continue its "
                    "game)", classes=["definition"])  # fmt: skip


@solara.component
def TeamPage():
    ws = workshop()
    joined = solara.use_reactive(None)
    played = solara.use_reactive(0)  # bumped after each month: redraws the view
    use_poll(ws)
    solara.Title(TITLE)
    solara.Style(CSS)
    team = ws.team(joined.value) if joined.value else None
    with solara.AppBar():
        solara.AppBarTitle(f"{TITLE}: {team.name}" if team else TITLE)
    if team is None:
        with solara.Column(style={"max-width": "900px", "padding": "12px"}):
            Join(ws, joined.set)
        return
    played.value  # noqa: B018 - read: the view redraws after a month
    with solara.Column(style={"padding": "0 8px"}):
        solara.Text(game.progress(team), classes=["progress-line"])
        solara.ProgressLinear(value=100 * team.month / team.months)
        if is_revealed(ws):  # the game is over for every team, finished or not
            Reveal(ws, team.name)
            TeamBrand(ws, team, team.month)
            return
        with solara.Columns([1, 2]):
            with solara.Column():
                if team.done:
                    solara.Text(game.waiting(ws), classes=["game-brief", "waiting"])
                else:
                    Decisions(ws, team, lambda: played.set(played.value + 1)).key(
                        f"decisions-{team.month}")
            with solara.Column():
                TeamBrand(ws, team, team.month)


@solara.component
def FacilitatorPage():
    ws = workshop()
    use_poll(ws)
    revealed = is_revealed(ws)
    solara.Title(f"{TITLE}: facilitator")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(f"{TITLE}: facilitator")
    with solara.Column(style={"padding": "0 8px"}):
        solara.Text(game.facilitator_line(ws), classes=["progress-line"])
        solara.HTML(tag="div", unsafe_innerHTML=game.table_html(
            game.teams_table(ws), "game-table teams-table"))  # fmt: skip
        if not revealed:
            solara.Button("Reveal the brand and the leaderboard", color="primary",
                          on_click=reveal_now, classes=["reveal-button"])  # fmt: skip
            Figure(game_figures.profit_figure(game.teams_curves(ws), game.months(ws)), "teams")
        else:
            Reveal(ws)


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's signature
    """Solara's app layout without navigation tabs: a team's address and the facilitator's are
    given out separately."""
    return solara.AppLayout(children=children, navigation=False)


routes = [
    solara.Route(path="/", component=TeamPage, label="Team", layout=Layout),  # every route's
    solara.Route(path="facilitator", component=FacilitatorPage, label="Facilitator"),
]
