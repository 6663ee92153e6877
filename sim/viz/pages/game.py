"""The workshop game's words and tables, read from the workshop (`sim.experiment.workshop`):
what a team sees of its brand so far, its decision controls in words with their ranges, the
facilitator's table of teams, and the reveal. Pure functions of the workshop's own outputs
(the columns and their definitions are the engine's: `MONTHLY_COLUMNS`, `REVEAL_COLUMNS`),
which the tests call; `game_page` lays them out.

The game is a management flight simulator (issue #26): each team runs the same hidden brand
(DOMAIN.md §3.1: what is unknown at day 0 and what testing reveals) month by month, and the
reveal compares every team's plan with staged scaling and the optimised policy on that brand
(§3, §4: NPV).
"""

from __future__ import annotations

import html
import numbers
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.experiment.workshop import LEADERBOARD, REVEAL, YARDSTICKS
from sim.experiment.workshop_tables import MONTHLY_COLUMNS, REVEAL_COLUMNS
from sim.viz.labels import daily_term
from sim.viz.pages.story import yuan

FOLDER_ENV = "PRIVSIM_GAME_FOLDER"  # the workshop's folder, set by privsim-game for the page

PROFIT, USERS, CONVERSION = "profit to date (yuan)", "users joined", "30-day conversion"
NPV, RANK, WHO = "NPV (yuan)", "rank", "who"
DAILY_PROFIT = daily_term("profit")[1]  # "margin − acquisition spend − team cost"


def number(v) -> str:
    """A count or a control's value: 1,234 / 0.25; "–" for a missing value."""
    if v is None or v != v:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def percent(share) -> str:
    return "–" if share is None or share != share else f"{100 * share:.1f} %"


def cell(column: str, v) -> str:
    """One value of an engine table as the page writes it: money in `story.yuan`, shares in %,
    a test month as "test"/"scale"."""
    if column == "test":
        return "test" if v else "scale"
    if column.endswith("(yuan)"):
        return "–" if v != v else yuan(v)
    if column == CONVERSION:
        return percent(v)
    if column == RANK:
        return "–" if v != v else f"{v:.0f}"
    return number(v) if isinstance(v, numbers.Number) else str(v)


HEADINGS = {NPV: "NPV at the horizon", WHO: "Plan", "test": "Test or scale"}


def heading(column: str) -> str:
    """A column's heading: its name without the unit the values already show (¥)."""
    text = HEADINGS.get(column, column.removesuffix(" (yuan)"))
    return text[0].upper() + text[1:]


def table_html(frame: pd.DataFrame, definitions: dict[str, str], classes: str,
               mine: str | None = None) -> str:  # fmt: skip
    """An engine table as HTML, every heading with its definition as a tooltip (hover) and
    values as `cell` writes them; the row naming `mine` (a team) highlighted."""
    head = "".join(
        f'<th title="{html.escape(definitions.get(c, ""))}">{html.escape(heading(c))}</th>'
        for c in frame
    )
    rows = []
    for values in frame.itertuples(index=False):
        mark = ' class="mine"' if mine is not None and mine in values else ""
        cells = "".join(
            f"<td>{html.escape(cell(c, v))}</td>" for c, v in zip(frame, values, strict=True)
        )
        rows.append(f"<tr{mark}>{cells}</tr>")
    return f'<table class="{classes}"><tr>{head}</tr>{"".join(rows)}</table>'


# ---------------------------------------------------------------------------- the decisions


def choices(control: dict) -> list[tuple[str, object]]:
    """The buttons of a yes/no or choice decision: (words, value); a yes/no decision's words
    from its unit ("test/scale", "on/off"), else yes and no."""
    if control["kind"] == "choice":
        return [(str(c), c) for c in control["choices"]]
    words = (control.get("unit") or "").split("/")
    yes, no = words if len(words) == 2 else ("yes", "no")
    return [(yes, True), (no, False)]


def value_text(control: dict, value) -> str:
    """A decision's value in words with its unit: "¥3,000/day", "4 people", "test"."""
    unit = control.get("unit") or ""
    if control["kind"] in ("bool", "choice"):
        return {v: words for words, v in choices(control)}.get(value, str(value))
    if unit.startswith("yuan"):
        return yuan(value) + unit.removeprefix("yuan")
    return f"{number(value)} {unit}".strip()


def range_text(control: dict) -> str:
    """A decision's allowed values in words: "¥0/day to ¥20k/day, in steps of ¥100/day"."""
    if control["kind"] in ("bool", "choice"):
        return " or ".join(words for words, _ in choices(control))
    text = f"{value_text(control, control['min'])} to {value_text(control, control['max'])}"
    if control.get("step"):
        text += f", in steps of {value_text(control, control['step'])}"
    return text


def defaults(controls: list[dict], last=None) -> dict:
    """The controls' starting values: the team's last decision where it made one (a plan carries
    over unless changed), else each control's default."""
    last = vars(last) if last is not None else {}
    return {c["name"]: last.get(c["name"], c["default"]) for c in controls}


# ---------------------------------------------------------------------------- a team's brand


def progress(team) -> str:
    """ "Month 3 of 12 played" (or "no month played yet", or "all 12 months played")."""
    if team.done:
        return f"All {team.months} months played"
    if team.month == 0:
        return f"Month 0 of {team.months}: no month played yet"
    return f"Month {team.month} of {team.months} played"


@dataclass(frozen=True)
class Number:
    """One of the team's headline numbers: title, value, and what it counts over when."""

    key: str
    title: str
    value: str
    note: str


def _span(month: int) -> str:
    return f"months 1–{month}" if month > 1 else "month 1"


def headline(team) -> list[Number]:
    """The brand so far in three numbers, each saying what it counts and over which months: at
    month 0, when each will show."""
    months = team.monthly()
    if months.empty:
        return [
            Number("profit", "Profit to date", "–", "shown once month 1 is played"),
            Number("users", "Users joined to date", "–", "shown once month 1 is played"),
            Number("conversion", "30-day conversion", "–", "shown once a month's joiners are "
                   "30 days old"),
        ]  # fmt: skip
    span = _span(team.month)
    matured = months.dropna(subset=[CONVERSION])
    if matured.empty:
        conv, when = "–", "not yet: a month's joiners are measured once 30 days old"
    else:
        last = matured.iloc[-1]
        conv, when = percent(last[CONVERSION]), f"of month {int(last['month'])}'s joiners: who " \
            "bought within 30 days of joining"  # fmt: skip
    return [
        Number("profit", "Profit to date", yuan(months[PROFIT].iloc[-1]),
               f"{DAILY_PROFIT}, {span}, not discounted"),
        Number("users", "Users joined to date", number(months[USERS].sum()),
               f"joined, bought and referred, {span}"),
        Number("conversion", "30-day conversion", conv, when),
    ]  # fmt: skip


def monthly_html(team) -> str:
    """The team's months (`Team.monthly()`), headings defined on hover."""
    return table_html(team.monthly(), MONTHLY_COLUMNS, "game-table monthly-table")


def tested_html(team) -> str:
    """What the team's tests measured so far (`Team.tested()`: users measured and the metric
    per candidate, and which it runs now; never the brand's true fits), headings defined on
    hover; empty before a test has measured anyone."""
    t = team.tested()
    if t.empty:
        return ""
    if team.settings.test.metric == "conversion_30d":  # a share: written in % as elsewhere
        t["measured"] = [percent(v) for v in t["measured"]]
    t["runs now"] = ["yes" if v else "no" for v in t["runs now"]]
    return table_html(t, t.attrs["definitions"], "game-table tested-table")


# ---------------------------------------------------------------------------- the facilitator


def teams(ws) -> list:
    return [ws.team(name) for name in ws.teams()]


TEAMS_COLUMNS = {
    "team": "the team's name",
    "month": "months played of the game's",
    PROFIT: MONTHLY_COLUMNS[PROFIT],
    USERS: "users who joined, bought and referred from day 0 to the last month's end",
    "finished": "whether every month is played",
}


def teams_table(ws) -> pd.DataFrame:
    """Every team: its month, its profit and users to date, whether it has finished."""
    rows = []
    for t in teams(ws):
        m = t.monthly()
        rows.append({
            "team": t.name,
            "month": f"{t.month} of {t.months}",
            PROFIT: m[PROFIT].iloc[-1] if len(m) else float("nan"),
            USERS: int(m[USERS].sum()) if len(m) else float("nan"),
            "finished": "yes" if t.done else "no",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(TEAMS_COLUMNS))


def teams_html(ws) -> str:
    return table_html(teams_table(ws), TEAMS_COLUMNS, "game-table teams-table")


def facilitator_line(ws) -> str:
    ts = teams(ws)
    if not ts:
        return "No team has joined yet: teams open this server's address and type a name"
    done = sum(t.done for t in ts)
    return f"{len(ts)} team{'s' * (len(ts) != 1)} playing, {done} finished"


def all_finished(ws) -> bool:
    """Every team (at least one) has played its last month: the reveal comes by itself."""
    ts = teams(ws)
    return bool(ts) and all(t.done for t in ts)


def revealed_before(ws) -> bool:
    """The workshop's leaderboard is saved: it was revealed (before this server, perhaps)."""
    return (Path(ws.folder) / REVEAL / LEADERBOARD).exists()


def signature(ws) -> tuple:
    """What a view redraws on: each team's name and month (cheap: polled every few seconds)."""
    return tuple((t.name, t.month) for t in teams(ws))


def waiting(ws) -> str:
    left = [t.name for t in teams(ws) if not t.done]
    who = ", ".join(left) + " to finish, or for" if left else ""
    return f"Your months are played. Waiting for {who} the facilitator's reveal."


# ---------------------------------------------------------------------------- the reveal

BOARD = [RANK, WHO, "months played", NPV, PROFIT, USERS, CONVERSION, "place run", "goods run"]


@dataclass(frozen=True)
class Revealed:
    """What the reveal shows: the leaderboard, NPV's definition in words, the brand in words,
    each plan's profit to date by month (for the figure), each team's reproduce command."""

    board: pd.DataFrame
    definition: str
    brand: list[str]
    curves: pd.DataFrame  # plan, month, profit to date (yuan)
    commands: dict[str, str]
    months: int


def npv_definition(ws) -> str:
    """NPV at the horizon in words, with the workshop's numbers (`REVEAL_COLUMNS`)."""
    s = ws.settings
    rate = ws.base()["economics"]["discount_rate_annual"]
    return (
        f"NPV at the horizon: each plan's daily profit ({DAILY_PROFIT}) over the "
        f"game's {s.months} months of {s.month_days} days (days 0–{s.horizon_days - 1}), "
        f"discounted to day 0 at {100 * rate:g} % a year; ranked highest first. A team that has "
        "not played every month has no NPV and no rank. Staged and the optimised policy play "
        "the same brand, seed and horizon."
    )


def team_curves(ws) -> pd.DataFrame:
    """Every team's profit to date at each month's end: plan (the team's name), month, profit."""
    parts = [t.monthly()[["month", PROFIT]].assign(plan=t.name) for t in teams(ws) if t.month]
    if not parts:
        return pd.DataFrame(columns=["plan", "month", PROFIT])
    return pd.concat(parts, ignore_index=True)[["plan", "month", PROFIT]]


REFERENCES = tuple(YARDSTICKS.values())  # staged, the optimised policy: what teams face


def curves(ws) -> pd.DataFrame:
    """`team_curves` and the yardsticks' (staged, the optimised policy) from their runs on the
    brand (`Workshop.yardstick`: run by the reveal, then read from its folder)."""
    md = ws.settings.month_days
    parts = [team_curves(ws)]
    for strategy, label in YARDSTICKS.items():
        _, daily = ws.yardstick(strategy)
        profit = daily["profit"].cumsum().to_numpy()[md - 1 :: md]
        parts.append(pd.DataFrame({"plan": label, "month": range(1, len(profit) + 1),
                                   PROFIT: profit}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def revealed(ws) -> Revealed:
    """The reveal, computed by the workshop (staged and the optimised policy play the brand
    once: their runs are kept in its folder)."""
    board = ws.reveal()
    commands = {t.name: t.command() for t in teams(ws)}
    return Revealed(board, npv_definition(ws), ws.brand_words(), curves(ws), commands,
                    ws.settings.months)  # fmt: skip


def leaderboard_html(r: Revealed, mine: str | None = None) -> str:
    return table_html(r.board[BOARD], REVEAL_COLUMNS, "game-table leaderboard", mine)


def brand_html(r: Revealed) -> str:
    return "".join(f"<li>{html.escape(line)}</li>" for line in r.brand)


def commands_html(r: Revealed) -> str:
    items = "".join(
        f"<li>{html.escape(name)}: <code>{html.escape(cmd).replace(chr(10), '<br>')}</code></li>"
        for name, cmd in r.commands.items()
    )
    return f"Reproduce each team's run on the command line:<ul>{items}</ul>"


def brief_html(ws) -> str:
    s = ws.settings
    return (
        f"<b>Your team runs a brand's private domain for {s.months} months.</b> Each month you "
        "set the team, the ad budget, and whether to test people, goods and place or to scale; "
        "press Play and the model runs the month. The brand is hidden: at the end it is "
        "revealed, and every team is compared with staged scaling and the optimised policy on "
        "the same brand."
    )
