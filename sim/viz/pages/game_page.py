"""The workshop game's page: teams play one hidden brand month by month; the facilitator sees
every team and reveals the brand (issue #26, a management flight simulator).

    privsim-game                                   # serves http://127.0.0.1:8767 (sim.cli.game)
    http://127.0.0.1:8767/                         # a team: join with a name, play month by month
    http://127.0.0.1:8767/facilitator              # the facilitator: every team, the reveal

One server process holds one workshop (`sim.experiment.workshop`, its folder from
`game.FOLDER_ENV`), and every browser session plays in it: the engine runs a team's month and
saves it (a lock per team: one month at a time, whichever tab presses Play), so a reloaded tab
rejoins its team where it was. The views poll the workshop every `POLL_S` seconds: the
facilitator sees teams move, a team sees the reveal when it comes. The reveal comes when the
facilitator presses Reveal or when every team has finished; it is computed once per state of
the teams, however many tabs show it. Words and tables are `game`'s, figures `game_figures`';
this module only lays them out, after the trainer's page (`live_page`: fonts for a projector
at 1280×720, no Solara badge).
"""

from __future__ import annotations

import functools
import html
import logging
import os
import threading

import solara

from sim.viz.pages import game, game_figures

logging.getLogger("MESA").setLevel(logging.WARNING)

TITLE = "privsim workshop"
POLL_S = 2.0  # how often a view looks for other teams' moves and the reveal

CSS = """
.v-application { font-size: 17px; }
.game-brief { font-size: 1.25rem; line-height: 1.45; }
.progress-line { font-size: 1.6rem; font-weight: 700; }
.numbers { display: flex; gap: 8px; margin: 0 0 6px 0; }
.number-card { flex: 1; border: 1px solid #ddd; border-radius: 6px; padding: 4px 10px; }
.number-card .t { font-size: 1.0rem; font-weight: 600; color: #333; }
.number-card .v { font-size: 1.9rem; font-weight: 700; line-height: 1.2; }
.number-card .n { font-size: 0.8rem; color: #555; line-height: 1.2; }
.control { margin-bottom: 6px; }
.control-label { font-size: 1.05rem; font-weight: 600; }
.control-value { font-size: 1.3rem; font-weight: 700; }
.control-note { font-size: 0.8rem; color: #555; line-height: 1.2; }
.game-table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
.game-table th, .game-table td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
.game-table th { background: #f3f3f3; cursor: help; }
.game-table td:first-child, .game-table th:first-child { text-align: left; }
.game-table tr.mine td { font-weight: 700; background: #FFF3CD; }
.teams-table, .leaderboard { font-size: 1.15rem; }
.leaderboard td:nth-child(2), .leaderboard th:nth-child(2) { text-align: left; }
.play-button { font-size: 1.2rem !important; height: 48px !important; }
.definition { font-size: 0.95rem; color: #333; }
.brand-words { font-size: 0.95rem; border-left: 6px solid #333; padding: 2px 8px 2px 24px;
  margin: 0; }
.commands { font-size: 0.85rem; }
.commands code { font-size: 0.75rem; word-break: break-all; }
.plot img { width: 100%; height: auto; display: block; }
"""


@functools.cache
def workshop():
    """The one workshop this server holds (its folder from `game.FOLDER_ENV`)."""
    from sim.experiment.workshop import Workshop

    return Workshop.open(os.environ[game.FOLDER_ENV])


_pressed = threading.Event()  # the facilitator pressed Reveal (this server's life)
_reveal_lock = threading.Lock()
_reveals: dict[tuple, game.Revealed] = {}


def is_revealed(ws) -> bool:
    """The facilitator pressed Reveal (now or before: the leaderboard is saved), or every team
    has finished (`game.all_finished`)."""
    return _pressed.is_set() or game.revealed_before(ws) or game.all_finished(ws)


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
def Figure(draw, key: str, dependencies: list):
    """The figure `draw()` returns, drawn and encoded again only when `dependencies` change (a
    view redraws whenever any team moves)."""
    fig = solara.use_memo(draw, dependencies)
    with solara.Card(margin=0, classes=["plot", f"plot-{key}"]):
        solara.FigureMatplotlib(fig, format="png", dependencies=dependencies)


@solara.component
def Numbers(numbers: list[game.Number]):
    cards = "".join(
        f'<div class="number-card number-{n.key}"><div class="t">{html.escape(n.title)}</div>'
        f'<div class="v">{html.escape(n.value)}</div><div class="n">{html.escape(n.note)}</div>'
        "</div>"
        for n in numbers
    )
    solara.HTML(tag="div", unsafe_innerHTML=cards, classes=["numbers"])


@solara.component
def Control(c: dict, values: solara.Reactive[dict], disabled: bool):
    """One decision's widget, from `ws.decision_controls()`: its label, its value in words with
    its unit, the widget (a slider, or a button per choice), the allowed range and what it
    does."""
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
        if c["kind"] in ("bool", "choice"):
            with solara.ToggleButtonsSingle(value=v, on_value=set_value):
                for words, value in game.choices(c):
                    solara.Button(words, value=value, disabled=disabled,
                                  classes=[f"choice-{words}"])  # fmt: skip
        else:
            slider = solara.SliderInt if c["kind"] == "int" else solara.SliderFloat
            slider("", value=v, min=c["min"], max=c["max"], step=c["step"] or 1,
                   on_value=set_value, disabled=disabled)  # fmt: skip
        solara.Text(f"{game.range_text(c)}: {c['doc']}", classes=["control-note"])


@solara.component
def Decisions(ws, team, on_played):
    """The month's decisions and "Play month N": the engine advances one month (a value it
    refuses is shown, not raised)."""
    from sim.core.params import ConfigError
    from sim.experiment.workshop import Decision

    controls = ws.decision_controls()
    last = team.decisions[-1] if team.decisions else None
    values = solara.use_reactive(game.defaults(controls, last))
    error = solara.use_reactive(None)

    def play():
        try:
            team.play(Decision(**values.value))  # the engine's lock: one month at a time
        except ConfigError as e:
            error.set(str(e))
            return
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
def TeamBrand(team, month: int):
    """The team's brand so far (at `month`, which redraws it): its numbers, the figure, the
    monthly table."""
    Numbers(game.headline(team))
    Figure(lambda: game_figures.team_figure(team.monthly(), team.months), "team",
           [team.name, month])  # fmt: skip
    if month == 0:
        solara.Text("No month played yet: set the decisions and press Play month 1.",
                    classes=["definition", "no-months"])  # fmt: skip
    else:
        solara.HTML(tag="div", unsafe_innerHTML=game.monthly_html(team))
        if tested := game.tested_html(team):
            solara.Text("What your test measured so far", classes=["control-label"])
            solara.HTML(tag="div", unsafe_innerHTML=tested)
        solara.Text("Hover over a heading for its definition.", classes=["definition"])


@solara.component
def Reveal(ws, mine: str | None = None):
    """The reveal: the leaderboard (every team, staged and the optimised policy on the same
    brand, NPV at the horizon and its definition), the brand in words, the figure, each
    team's reproduce command."""

    def compute():
        return revealed(ws)

    result = solara.lab.use_task(compute, dependencies=[game.signature(ws)], raise_error=False)
    with solara.Card("The reveal: every plan on the same brand", margin=0, classes=["reveal"]):
        if result.error:
            solara.Error(f"{type(result.exception).__name__}: {result.exception}")
            return
        if not result.finished or result.value is None:
            solara.Text("Computing the leaderboard: staged and the optimised policy play the "
                        "same brand (seconds)…", classes=["definition"])  # fmt: skip
            solara.ProgressLinear(True)
            return
        r = result.value
        solara.HTML(tag="div", unsafe_innerHTML=game.leaderboard_html(r, mine))
        with solara.Columns([3, 2]):
            Figure(lambda: game_figures.profit_figure(
                r.curves, r.months, game.REFERENCES, game_figures.REVEAL_SIZE), "reveal", [id(r)])
            with solara.Column(gap="4px"):
                solara.Text(r.definition, classes=["definition", "npv-definition"])
                solara.HTML(tag="ul", unsafe_innerHTML=game.brand_html(r),
                            classes=["brand-words"])  # fmt: skip
        solara.HTML(tag="div", unsafe_innerHTML=game.commands_html(r), classes=["commands"])


@solara.component
def Join(ws, on_join):
    name = solara.use_reactive("")
    error = solara.use_reactive(None)

    def join():
        from sim.core.params import ConfigError

        try:
            on_join(ws.join(name.value.strip()).name)  # an existing team: continue its game
        except ConfigError as e:
            error.set(str(e))

    solara.HTML(tag="div", unsafe_innerHTML=game.brief_html(ws), classes=["game-brief"])
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("Your team's name", value=name, continuous_update=True,
                         classes=["team-name"])  # fmt: skip
        solara.Button("Join", on_click=join, color="primary", classes=["join-button"])
    if error.value:
        solara.Error(error.value)
    if names := ws.teams():
        solara.Text(f"Teams playing: {', '.join(names)}. Type your team's name to continue "
                    "its game.", classes=["definition"])  # fmt: skip


@solara.component
def TeamPage():
    ws = workshop()
    joined = solara.use_reactive(None)
    played = solara.use_reactive(0)  # bumped after each month: redraws the view
    use_poll(ws)
    played.value  # noqa: B018 - read: the view redraws after a month
    solara.Title(TITLE)
    solara.Style(CSS)
    team = ws.team(joined.value) if joined.value else None
    with solara.AppBar():
        solara.AppBarTitle(f"{TITLE}: {team.name}" if team else TITLE)
    if team is None:
        with solara.Column(style={"max-width": "900px"}):
            Join(ws, joined.set)
        return
    solara.Text(game.progress(team), classes=["progress-line"])
    solara.ProgressLinear(value=100 * team.month / team.months)
    if is_revealed(ws):  # the game is over for every team, finished or not
        Reveal(ws, team.name)
        TeamBrand(team, team.month)
        return
    with solara.Columns([1, 2]):
        with solara.Column():
            if team.done:
                solara.Text(game.waiting(ws), classes=["game-brief", "waiting"])
            else:
                Decisions(ws, team, lambda: played.set(played.value + 1)).key(
                    f"decisions-{team.month}"
                )
        with solara.Column():
            TeamBrand(team, team.month)


@solara.component
def FacilitatorPage():
    ws = workshop()
    use_poll(ws)
    solara.Title(f"{TITLE}: facilitator")
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(f"{TITLE}: facilitator")
    solara.Text(game.facilitator_line(ws), classes=["progress-line"])
    if is_revealed(ws):  # the leaderboard holds every team
        Reveal(ws)
        return
    solara.HTML(tag="div", unsafe_innerHTML=game.teams_html(ws))
    solara.Button("Reveal the brand and the leaderboard", color="primary", on_click=reveal_now,
                  classes=["reveal-button"])  # fmt: skip
    solara.Text("The reveal also comes by itself once every team has finished.",
                classes=["definition"])  # fmt: skip
    Figure(lambda: game_figures.profit_figure(game.team_curves(ws), ws.settings.months),
           "teams", [game.signature(ws)])  # fmt: skip


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's signature
    """Solara's app layout without navigation tabs: a team's address and the facilitator's are
    given out separately."""
    return solara.AppLayout(children=children, navigation=False)


routes = [
    solara.Route(path="/", component=TeamPage, label="Team", layout=Layout),  # every route's
    solara.Route(path="facilitator", component=FacilitatorPage, label="Facilitator"),
]
