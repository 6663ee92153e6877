"""The workshop game's page without a browser (issue #26; sim/viz/pages/game.py, game_figures.py):
what a team sees at month 0 and after a month, its decision controls in words, the
facilitator's table, and the reveal (every team, staged and the optimised policy; NPV defined
with the workshop's horizon and discount rate). Reduced: 2 months of 30 days, small budgets,
tests of 100 users per arm."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from sim.experiment.workshop import Decision, Workshop
from sim.experiment.workshop_tables import MONTHLY_COLUMNS
from sim.viz.pages import game, game_figures
from sim.viz.pages.story import yuan

SMALL = ["months=2", "test.users_per_arm=100", "budget.default=200.0"]
A_PLAN = {"budget": 400.0, "test": True}  # Team A's first month, over the controls' defaults
B_PLAN = Decision(team_size=4, budget=600.0, test=False, koc=False)  # Team B's first month


@pytest.fixture
def ws(tmp_path):
    """A fresh workshop for each test: each plays the story up to its own point
    (`_played`), so no test depends on another having run first, or on the same worker."""
    return Workshop.create(tmp_path / "w", overrides=SMALL)


@pytest.fixture
def controls(ws):
    return {c["name"]: c for c in ws.decision_controls()}


def _played(ws, teams: int = 1):
    """The story so far: Team A joined and played its first month (A_PLAN); with `teams=2`,
    Team B then joined and played its first month (B_PLAN)."""
    a = ws.join("Team A")
    a.play(Decision(**{**game.defaults(ws.decision_controls()), **A_PLAN}))
    if teams == 2:
        ws.join("Team B").play(B_PLAN)
    return a


def test_a_team_at_month_zero_sees_what_each_number_will_show(ws):
    team = ws.join("Team A")
    assert game.progress(team) == "Month 0 of 2: no month played yet"
    cards = game.headline(team)
    assert [c.title for c in cards] == ["Profit to date", "Users joined to date",
                                        "30-day conversion"]  # fmt: skip
    assert all(c.value == "–" and c.note.startswith("shown once") for c in cards)
    fig = game_figures.team_figure(team.monthly(), team.months)
    assert [ax.get_title(loc="left") for ax in fig.axes] == [c.title for c in cards]
    for ax in fig.axes:  # empty, labelled, the whole game on the axis, the note instead of 0-1
        assert not ax.lines and ax.get_ylabel() and ax.get_xlim() == (0, 2)
        assert [t.get_text() for t in ax.texts] == ["after month 1"]
    table = game.teams_table(ws)
    assert table.loc[0, "team"] == "Team A" and table.loc[0, "month"] == "0 of 2"
    assert "<td>–</td>" in game.teams_html(ws)


def test_controls_in_words_with_units_and_ranges(controls):
    budget, team_size, test = controls["budget"], controls["team_size"], controls["test"]
    assert game.value_text(budget, 200.0) == "¥200/day"
    assert game.range_text(budget) == "¥0/day to ¥20k/day, in steps of ¥100/day"
    assert game.value_text(team_size, 4) == "4 people"
    assert game.range_text(team_size) == "1 people to 30 people, in steps of 1 people"
    assert game.choices(test) == [("test", True), ("scale", False)]
    assert game.value_text(test, True) == "test" and game.range_text(test) == "test or scale"
    assert game.choices(controls["koc"]) == [("on", True), ("off", False)]


def test_after_a_month_the_team_sees_its_brand_and_keeps_its_plan(ws, controls):
    first = game.defaults(list(controls.values()))
    assert first == {n: c["default"] for n, c in controls.items()}
    plan = {**first, **A_PLAN}
    team = _played(ws)
    assert game.progress(team) == "Month 1 of 2 played"
    assert game.defaults(list(controls.values()), team.decisions[-1]) == plan  # carried over
    month = team.monthly().iloc[0]
    profit, users, conversion = game.headline(team)
    assert profit.value == yuan(month[game.PROFIT]) and "month 1" in profit.note
    assert users.value == f"{month[game.USERS]:,}"
    # month 1's joiners are not 30 days old at day 29: no conversion yet, and it says why
    assert np.isnan(month[game.CONVERSION]) and conversion.value == "–"
    assert "30 days old" in conversion.note
    text = game.monthly_html(team)
    assert "¥" in text and "(yuan)" not in text and "<td>test</td>" in text
    for column, definition in MONTHLY_COLUMNS.items():  # every heading defined on hover
        assert f'title="{html.escape(definition)}"' in text, column
    tested = game.tested_html(team)  # the test's arms, nothing measured yet, no true fits
    assert "Candidate" in tested and "<td>–</td>" in tested and "true fit" not in tested
    fig = game_figures.team_figure(team.monthly(), team.months)
    assert [len(ax.lines) for ax in fig.axes] == [1, 1, 0]  # conversion: once 30 days old
    assert fig.axes[0].yaxis.get_major_formatter()(-30_000, 0) == "−¥30k"  # one money format


def test_the_facilitator_sees_every_team_live(ws):
    _played(ws)
    before = game.signature(ws)
    b = ws.join("Team B")
    b.play(B_PLAN)
    assert game.signature(ws) != before
    table = game.teams_table(ws).set_index("team")
    assert list(table.index) == ["Team A", "Team B"]
    assert list(table["month"]) == ["1 of 2", "1 of 2"] and list(table["finished"]) == ["no"] * 2
    assert table.loc["Team B", game.PROFIT] == b.monthly()[game.PROFIT].iloc[-1]
    assert game.facilitator_line(ws) == "2 teams playing, 0 finished"
    assert game.tested_html(b) == ""  # B scaled: no test
    assert not game.all_finished(ws) and not game.revealed_before(ws)
    curves = game.team_curves(ws)
    fig = game_figures.profit_figure(curves, ws.settings.months)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["Team A", "Team B"]


def test_the_reveal_compares_every_team_with_staged_and_the_optimised_policy(ws):
    _played(ws, teams=2)
    for name in ws.teams():
        ws.team(name).play(Decision(team_size=3, budget=300.0, test=False, koc=True))
    assert game.all_finished(ws) and "all 2" in game.progress(ws.team("Team A")).lower()
    r = game.revealed(ws)
    assert game.revealed_before(ws)  # saved: a restarted server shows it again
    plans = list(r.board[game.WHO])
    assert sorted(plans) == sorted(["Team A", "Team B", "staged", "optimised policy"])
    assert list(r.board[game.RANK]) == [1, 2, 3, 4]
    board_html = game.leaderboard_html(r, "Team B")
    assert board_html.count('class="mine"') == 1 and "NPV at the horizon" in board_html
    row = re.search(r'<tr class="mine">(.*?)</tr>', board_html).group(1)
    assert "Team B" in row
    # the definition states this workshop's horizon and discount rate
    assert "2 months of 30 days (days 0–59)" in r.definition
    assert f"{100 * ws.base()['economics']['discount_rate_annual']:g} % a year" in r.definition
    assert r.brand == ws.brand_words() and r.brand[0].startswith("The brand:")
    # the figure's curves end where the leaderboard's profit to date does, for every plan
    ends = r.curves.sort_values("month").groupby("plan")[game.PROFIT].last()
    board = r.board.set_index(game.WHO)[game.PROFIT]
    assert np.allclose(ends[board.index], board, rtol=1e-9)
    assert set(r.curves.groupby("plan")["month"].max()) == {2}
    fig = game_figures.profit_figure(r.curves, r.months, game.REFERENCES)
    lines = [line for line in fig.axes[0].lines if not line.get_label().startswith("_")]
    styles = {line.get_label(): line.get_linestyle() for line in lines}
    assert styles == {"Team A": "-", "Team B": "-", "staged": "--", "optimised policy": "--"}
    assert set(r.commands) == {"Team A", "Team B"}
    assert all("privsim-reproduce" in c for c in r.commands.values())
