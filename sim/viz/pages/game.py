"""The workshop game's words and tables, read from the workshop (`sim.experiment.workshop`):
what a team sees of its brand so far, its decision controls in words with their ranges, the
facilitator's table of teams, and the reveal's leaderboard. Pure functions of the workshop's
own outputs, which the tests call; `game_page` wires them into the page.

The game is a management flight simulator (issue #26): each team runs the same hidden brand
(DOMAIN.md §3.1: what is unknown at day 0 and what testing reveals) month by month, and the
reveal compares every team's plan with staged scaling and the optimised policy on that brand.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from sim.viz.pages.story import yuan

FOLDER_ENV = "PRIVSIM_GAME_FOLDER"  # the workshop's folder, set by privsim-game for the page

# The monthly table, as the page shows it: engine column -> (heading, format, definition).
MONEY, COUNT, PCT = "money", "count", "pct"
MONTHLY = {
    "month": ("Month", COUNT, "the month played (1 = the first 30 days)"),
    "users_joined": ("Users joined", COUNT, "users who joined the pool in the month"),
    "team": ("Team", COUNT, "operators on the team at the month's end"),
    "spend": ("Ad spend", MONEY, "paid acquisition spent in the month"),
    "buyers": ("Buyers", COUNT, "users who bought at least once in the month"),
    "conversion_30d": ("30-day conversion", PCT, "share of the month's joiners who bought "
                       "within 30 days of joining (still open for the latest joiners)"),
    "margin": ("Margin", MONEY, "gross margin earned in the month"),
    "profit_to_date": ("Profit to date", MONEY, "margin − acquisition − team, KOC and systems "
                       "cost, summed from day 0 to the month's end"),
}  # fmt: skip


def number(v: float) -> str:
    """A count or a control's value: 1,234 / 0.25 (no trailing zeros)."""
    if v != v:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def shown(value, fmt: str) -> str:
    if value is None or value != value:
        return "–"
    if fmt == MONEY:
        return yuan(value)
    if fmt == PCT:
        return f"{value:.1f} %"
    return number(value)


# ---------------------------------------------------------------------------- the decisions


def is_money(unit: str | None) -> bool:
    return bool(unit) and unit.split("/")[0].strip() == "yuan"


def value_text(control: dict, value) -> str:
    """A decision's value in words, with its unit: "¥3,000/day", "4 operators", "yes"."""
    kind, unit = control["kind"], control.get("unit") or ""
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "choice":
        return str(value)
    if is_money(unit):
        rest = unit.split("/", 1)[1] if "/" in unit else ""
        return yuan(value) + (f"/{rest}" if rest else "")
    return f"{number(value)} {unit}".strip()


def range_text(control: dict) -> str:
    """A decision's allowed values in words: "¥0/day to ¥20k/day, in steps of ¥500/day"."""
    kind = control["kind"]
    if kind == "bool":
        return "yes or no"
    if kind == "choice":
        return "one of: " + ", ".join(str(c) for c in control["choices"])
    text = f"{value_text(control, control['min'])} to {value_text(control, control['max'])}"
    if control.get("step"):
        text += f", in steps of {value_text(control, control['step'])}"
    return text


def as_dict(decision) -> dict:
    """A team's decision (a `Decision` or a dict; None: none yet) as a dict."""
    if decision is None:
        return {}
    return decision if isinstance(decision, dict) else dict(vars(decision))


def defaults(controls: list[dict], last: dict | None = None) -> dict:
    """The controls' starting values: the team's last decisions where it made them (a month's
    plan carries over unless changed), else each control's default."""
    last = last or {}
    return {c["name"]: last.get(c["name"], c["default"]) for c in controls}


# ---------------------------------------------------------------------------- a team's brand


def progress(team) -> str:
    """ "Month 3 of 12 played" (or "no month played yet", or "all 12 months played")."""
    if team.done:
        return f"All {team.months} months played"
    if team.month == 0:
        return f"Month 0 of {team.months}: no month played yet"
    return f"Month {team.month} of {team.months} played"


def monthly_table(monthly: pd.DataFrame) -> pd.DataFrame:
    """The team's months as shown: readable headings, one money format (`story.yuan`)."""
    cols = [c for c in MONTHLY if c in monthly]
    out = pd.DataFrame(
        {MONTHLY[c][0]: [shown(v, MONTHLY[c][1]) for v in monthly[c]] for c in cols}
    )
    return out


def table_html(table: pd.DataFrame, classes: str) -> str:
    """`table` as an HTML table (the page's font), every heading with its definition as a
    tooltip."""
    defs = {h: d for h, _, d in MONTHLY.values()}
    head = "".join(
        f'<th title="{html.escape(defs.get(c, ""))}">{html.escape(str(c))}</th>' for c in table
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f'<table class="{classes}"><tr>{head}</tr>{rows}</table>'


@dataclass(frozen=True)
class Number:
    """One of the team's headline numbers: title, value, and what it counts over when."""

    key: str
    title: str
    value: str
    note: str


def headline(team) -> list[Number]:
    """The brand so far in three numbers (the monthly table's latest row), each saying what it
    counts and over which months; at month 0, what each will show."""
    months = team.monthly()
    if team.month == 0 or months.empty:
        note = "shown after month 1 is played"
        return [
            Number("profit", "Profit to date", "–", note),
            Number("users", "Users joined to date", "–", note),
            Number("conversion", "30-day conversion", "–", note),
        ]
    last = months.iloc[-1]
    span = f"months 1–{team.month}" if team.month > 1 else "month 1"
    return [
        Number("profit", "Profit to date", yuan(last["profit_to_date"]),
               f"{MONTHLY['profit_to_date'][2]}, {span}"),
        Number("users", "Users joined to date", number(months["users_joined"].sum()),
               f"users who joined the pool, {span}"),
        Number("conversion", "30-day conversion", shown(last["conversion_30d"], PCT),
               f"month {team.month}'s joiners: {MONTHLY['conversion_30d'][2]}"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------- the facilitator


def teams_table(ws) -> pd.DataFrame:
    """Every team: its month, whether it has finished, and its profit and users to date."""
    rows = []
    for team in ws.teams():
        months = team.monthly()
        played = not months.empty
        rows.append({
            "Team": team.name,
            "Month": f"{team.month} of {team.months}",
            "Profit to date": yuan(months["profit_to_date"].iloc[-1]) if played else "–",
            "Users joined": number(months["users_joined"].sum()) if played else "–",
            "Finished": "yes" if team.done else "no",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["Team", "Month", "Profit to date", "Users joined", "Finished"])


def teams_curves(ws) -> pd.DataFrame:
    """Every team's profit to date by month: plan (the team's name), month, profit_to_date."""
    parts = [t.monthly()[["month", "profit_to_date"]].assign(plan=t.name) for t in ws.teams()]
    if not parts:
        return pd.DataFrame(columns=["plan", "month", "profit_to_date"])
    return pd.concat(parts, ignore_index=True)


def all_finished(ws) -> bool:
    """Every team (at least one) has played its last month: the reveal comes by itself."""
    teams = ws.teams()
    return bool(teams) and all(t.done for t in teams)


def signature(ws) -> tuple:
    """What a view redraws on: each team's name and month (cheap: polled every few seconds)."""
    return tuple((t.name, t.month) for t in ws.teams())


# ---------------------------------------------------------------------------- the reveal


@dataclass(frozen=True)
class Revealed:
    """What the reveal shows: the leaderboard, NPV's definition, the brand in words, each plan's
    profit to date by month (for the figure) and each team's reproduce command."""

    board: pd.DataFrame
    definition: str
    brand: str
    curves: pd.DataFrame  # plan, month, profit_to_date
    commands: dict[str, str]


def revealed(ws) -> Revealed:
    """The reveal, computed by the workshop (staged and the optimised policy play the brand)."""
    board = ws.reveal()
    curves = teams_curves(ws)
    commands = {t.name: t.command() for t in ws.teams()}
    return Revealed(board, "NPV at the horizon", ws.brand_words(), curves, commands)


def leaderboard_html(r: Revealed, highlight: str | None = None) -> str:
    rows = []
    for row in r.board.itertuples(index=False):
        mark = ' class="mine"' if row.plan == highlight else ""
        rows.append(f"<tr{mark}><td>{row.rank}</td><td>{html.escape(str(row.plan))}</td>"
                    f"<td>{yuan(row.npv)}</td></tr>")  # fmt: skip
    return ('<table class="game-table leaderboard"><tr><th>Rank</th><th>Plan</th>'
            f"<th>NPV at the horizon</th></tr>{''.join(rows)}</table>")  # fmt: skip


def commands_html(r: Revealed) -> str:
    items = "".join(
        f"<li>{html.escape(name)}: <code>{html.escape(cmd)}</code></li>"
        for name, cmd in r.commands.items()
    )
    return f"Reproduce each team's run on the command line:<ul>{items}</ul>"


def brief_html(ws) -> str:
    return (
        "<b>Your team runs a brand's private domain, month by month.</b> Each month you set the "
        "decisions, then press Play: the model runs the month and shows your brand so far. The "
        "brand is hidden; at the end it is revealed and every team is compared with staged "
        "scaling and the optimised policy on the same brand."
    )


def waiting(ws) -> str:
    left = [t.name for t in ws.teams() if not t.done]
    return "Your months are played. Waiting for " + (
        ", ".join(left) + " to finish, or the facilitator's reveal." if left else "the reveal."
    )


def facilitator_line(ws) -> str:
    teams = ws.teams()
    done = sum(t.done for t in teams)
    return f"{len(teams)} teams playing, {done} finished"


REFERENCES = ("staged", "optimised policy")  # the plans every team is compared with


def months(ws) -> int:
    return int(ws.settings["months"])
