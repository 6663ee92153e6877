"""The workshop game's engine (issue #26; sim/experiment/workshop.py): a team's tables are a fresh
run of its saved plan, bit for bit; teams are independent; a workshop resumes from its folder;
bad decisions and settings are refused before any run; the reveal compares every team with
staged and the optimised policy on the same brand. Reduced: 3 months of 30 days at small
budgets, tests of 100 users per arm (the default workshop is 12 months at 1,000 per arm)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.core.model import PrivateDomainModel
from sim.core.params import ConfigError
from sim.experiment import workshop_spec as spec
from sim.experiment.config import compose, config_hash, model_kwargs
from sim.experiment.reproduce import frame_differences, reproduce
from sim.experiment.run import run
from sim.experiment.workshop import WORKSHOP_FILE, Decision, Workshop
from sim.experiment.workshop_tables import MONTHLY_COLUMNS, REVEAL_COLUMNS, npv

SMALL = ["months=3", "test.users_per_arm=100", "budget.default=200.0"]
PLAN = [Decision(2, 200.0, True), Decision(2, 300.0, True), Decision(3, 400.0, False, True)]


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """A workshop whose team "Team A" played PLAN (3 months) and "Team B" one month."""
    ws = Workshop.create(tmp_path_factory.mktemp("ws") / "w", overrides=SMALL)
    a = ws.join("Team A")
    for d in PLAN:
        a.play(d)
    ws.join("Team B").play(Decision(4, 600.0, False))
    return ws


def fresh_daily(cfg: dict, days: int) -> pd.DataFrame:
    return PrivateDomainModel(**model_kwargs(cfg)).run(days).daily()


def test_tables_are_a_fresh_run_of_the_saved_strategy(played):
    a = played.team("Team A")
    assert (a.month, a.months, a.done) == (3, 3, True)
    # the saved strategy YAML, found on Hydra's search path as `team.command()` runs it,
    # composes the very config of the saved run
    cfg = compose(a.overrides())
    saved = yaml.safe_load(a.strategy_file.read_text())
    assert cfg["strategy"] == saved and len(saved["phases"]) == 3
    assert config_hash(cfg) == a.summary()["config_hash"]
    assert frame_differences(a.daily(), fresh_daily(cfg, 90)) == []
    assert len(a.daily()) == 90
    assert reproduce(a.run_folder) == []
    assert "privsim-reproduce" in a.command() and "strategy=game_team_a" in a.command()


def test_run_config_is_the_composed_config_at_that_horizon(played):
    """`run_config` sets horizon_days in the composed base instead of composing again."""
    s = played.settings
    st = {"name": "x"}
    assert spec.run_config(played.base(), st, 60) == {**spec.base_config(s, 60), "strategy": st}


def test_a_month_played_leaves_the_months_before_unchanged(played):
    """Re-simulating from day 0 with one more phase rewrites no history: the first months of
    a 3-month run are the 2-month run's, day for day."""
    a = played.team("Team A")
    two = fresh_daily(a.config(a.decisions[:2]), 60)
    assert frame_differences(a.daily().iloc[:60].reset_index(drop=True), two) == []


def test_consecutive_test_months_are_one_test(played):
    """Months 1-2 test: one test from day 0 (`Test.continues`), committed when month 3 scales
    on its users matured by then (month 1's). Were month 2 a new test, it would have been
    committed on month 2's joiners, none of them 30 days old by day 59: nothing measured."""
    brand = played.team("Team A").summary()["brand"]
    users = {k: v for k, v in brand.items() if k.startswith("goods_arm_users_")}
    metric = {k: v for k, v in brand.items() if k.startswith("goods_arm_metric_")}
    assert len(users) == 3 and min(users.values()) > 0
    assert all(np.isfinite(v) for v in metric.values())
    best = max(metric, key=metric.get).removeprefix("goods_arm_metric_")
    assert brand["goods_committed"] == best == brand["goods_run"]
    tested = played.team("Team A").tested()
    goods = tested[tested["dimension"] == "goods"].set_index("candidate")
    assert goods["users measured"].sum() == sum(users.values())
    assert goods.loc[best, "runs now"] and goods["runs now"].sum() == 1
    assert not any("fit" in c for c in tested.columns)


def test_continuing_test_is_carried_across_phases():
    """The core rule: a phase whose test `continues` carries the test under way on (its start,
    arms and counts), where a plain test would commit it and start afresh. 1,000 users per arm:
    the arms fill all along, so every joiner is in one."""
    cfg = compose(["experiment=testing_value", "fit.spread=1.0", "fit.truth.replicates=0"])
    s = spec.load("default", ["months=2"])
    for carry, start in ((True, 0), (False, 30)):
        plan = [spec.phase(s, Decision(2, 300.0, True), m) for m in (1, 2)]
        for p in plan:
            p.test.continues = carry
        st = spec.strategy_dict(spec.Strategy("t", plan))
        m = PrivateDomainModel(**model_kwargs(spec.run_config(cfg, st, 40)))
        m.run()
        daily = m.daily()
        assert m.brand.test_start == start
        assert m.brand.counts["goods"].sum() == daily.loc[daily["day"] >= start, "new_users"].sum()


def test_monthly_table(played):
    a = played.team("Team A")
    m = a.monthly()
    assert list(m.columns) == list(MONTHLY_COLUMNS)
    assert list(m["month"]) == [1, 2, 3]
    daily = a.daily()
    assert m["users joined"].sum() == daily["new_users"].sum()
    spend = daily[[c for c in daily if c.startswith("spend_")]].to_numpy().sum()
    assert m["ad spend (yuan)"].sum() == pytest.approx(spend)
    assert m["profit to date (yuan)"].iloc[-1] == pytest.approx(daily["profit"].sum())
    # conversion: months whose last joiner is 30 days old (month 1: day 29 + 29 <= 89)
    assert m["30-day conversion"].notna().tolist() == [True, True, False]
    assert list(m["team hired"]) == [2, 2, 3]


def test_two_teams_are_independent(played, tmp_path):
    a, b = played.team("Team A"), played.team("Team B")
    before = a.daily()
    b2 = played.join("Team B")
    assert b2 is b and played.teams() == ["Team A", "Team B"]
    assert b.month == 1 and frame_differences(a.daily(), before) == []
    # the same plan is the same run whichever team plays it; another plan another run
    assert frame_differences(b.daily(), fresh_daily(b.config(), 30)) == []
    other = Workshop.create(tmp_path / "w2", overrides=SMALL).join("X")
    other.play(PLAN[0])
    assert frame_differences(other.daily(), a.daily().iloc[:30]) == []
    assert frame_differences(b.daily(), a.daily().iloc[:30]) != []


def test_concurrent_plays_match_sequential(tmp_path):
    """Two teams playing at once from two threads (two page sessions) get the runs they get
    alone."""
    ws = Workshop.create(tmp_path / "w", overrides=SMALL)
    teams = [ws.join("P"), ws.join("Q")]
    plans = [PLAN[:2], [Decision(3, 500.0, False), Decision(3, 100.0, True)]]
    errors = []

    def play(team, plan):
        try:
            for d in plan:
                team.play(d)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=play, args=tp) for tp in zip(teams, plans, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for team in teams:
        assert frame_differences(team.daily(), fresh_daily(team.config(), 60)) == []


def test_resume_continues_where_it_was(played, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(played.folder, folder)
    again = Workshop.open(folder)
    assert again.teams() == played.teams() and again.settings == played.settings
    for name in played.teams():
        r, t = again.team(name), played.team(name)
        assert r.month == t.month and r.decisions == t.decisions
        assert frame_differences(r.daily(), t.daily()) == []
        pd.testing.assert_frame_equal(r.monthly(), t.monthly())
    b = again.team("Team B")
    b.play(PLAN[1])  # goes on: its run is the fresh run of its two months
    assert b.month == 2 and frame_differences(b.daily(), fresh_daily(b.config(), 60)) == []
    assert frame_differences(b.daily().iloc[:30], played.team("Team B").daily()) == []


def test_bad_decisions_are_refused_before_any_run(tmp_path):
    ws = Workshop.create(tmp_path / "w", overrides=SMALL)
    t = ws.join("T")
    bad = [
        (Decision(-1, 200.0), r"decision\.team_size = -1 .*\[1, 30\]"),
        ({"team_size": 2, "budget": 5e4}, r"decision\.budget = 50000\.0 .*\[0\.0, 20,000\.0\]"),
        ({"team_size": 2, "hires": 3}, r"decision\.hires: unknown field; allowed: team_size"),
        ({"team_size": 2.5}, r"decision\.team_size = 2\.5 .*an integer"),
        ({"test": "yes"}, r"decision\.test = 'yes' .*true or false"),
    ]
    for d, message in bad:
        with pytest.raises(ConfigError, match=message):
            t.play(d)
    assert t.month == 0 and not t.run_folder.exists()


@pytest.mark.parametrize(
    "override, message",
    [
        ("+bogus=1", r"workshop\.bogus: unknown key; allowed: brand, months"),
        ("bogus=1", r"bogus: the workshop has no such entry"),
        ("months=0", r"workshop\.months = 0 .*\[1, 120\]"),
        ("budget.max=-5.0", r"workshop\.budget\.max = -5\.0 .*\[0, 1e\+07\]"),
        ("team_size.default=40", r"workshop\.team_size\.default = 40 .*\[1, 30\]"),
        ("brand.fit_spread=-1", r"workshop\.brand\.fit_spread = -1 .*>= 0"),
        ("+test.size=3", r"workshop\.test\.size: unknown key"),
        ("+channel_mix.tv=0.5", r"workshop\.channel_mix\.tv: unknown key"),
        ("brand.experiment=comparisn", r"workshop\.brand\.experiment = 'comparisn' .*pool_mix"),
        ("brand.scenario=['strategy=staged']", r"workshop\.brand\.scenario\.0 = 'strategy=sta"),
        ("brand.scenario=['operators.fixd=3']", r"workshop\.brand: .*operators\.fixd"),
        ("brand.scenario=[", r"workshop: override 'brand\.scenario=\[': .*"),
    ],
)
def test_bad_workshop_settings_are_refused(tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        Workshop.create(tmp_path / "w", overrides=[override])
    assert not (tmp_path / "w" / WORKSHOP_FILE).exists()


def test_team_names(played):
    for name in ["", "../x", "a/b", ".hidden", "x" * 33, "名字"]:
        with pytest.raises(ConfigError, match="team name"):
            played.join(name)
    with pytest.raises(ConfigError, match="taken"):
        played.join("team a")
    for name in ["Staged", "optimised policy", "optimized_staged_policy"]:
        with pytest.raises(ConfigError, match="yardstick"):
            played.join(name)
    with pytest.raises(ConfigError, match="all 3 months are played"):
        played.team("Team A").play(PLAN[0])


def test_reveal(played, tmp_path):
    board = played.reveal()
    assert list(board.columns) == list(REVEAL_COLUMNS)
    assert set(board["who"]) == {"Team A", "Team B", "staged", "optimised policy"}
    by = board.set_index("who")
    assert np.isnan(by.loc["Team B", "NPV (yuan)"]) and np.isnan(by.loc["Team B", "rank"])
    done = by.drop("Team B")
    assert done["NPV (yuan)"].notna().all()
    assert sorted(done["rank"]) == [1, 2, 3]
    # staged's row is a separate run of staged on the brand, seed and horizon
    s = played.settings
    cfg = compose([*spec.brand_overrides(s), "strategy=staged"])
    run(cfg, tmp_path / "staged", resume=False)
    daily = pd.read_parquet(tmp_path / "staged" / "daily.parquet")
    assert len(daily) == s.horizon_days
    assert by.loc["staged", "NPV (yuan)"] == npv(daily, cfg, s.horizon_days)
    assert by.loc["Team A", "NPV (yuan)"] == npv(played.team("Team A").daily(), cfg, 90)
    saved = pd.read_csv(played.folder / "reveal" / "leaderboard.csv")
    assert list(saved["who"]) == list(board["who"])
    words = played.brand_words()
    assert any(w.startswith("place") for w in words) and any(w.startswith("goods") for w in words)


def test_replay_command(played, tmp_path, capsys):
    """`privsim-workshop replay` re-runs every team from its decisions: 0 when each matches
    its saved run; 1, naming the team, when a team's decisions no longer give its run."""
    import shutil

    from sim.cli.workshop import main

    with pytest.raises(SystemExit) as e:
        main(["replay", str(played.folder)])
    assert e.value.code == 0 and "Team A: month 3 reproduced bit for bit" in capsys.readouterr().out
    folder = tmp_path / "copy"
    shutil.copytree(played.folder, folder)
    path = folder / "teams" / "team_b" / "decisions.yaml"
    path.write_text(path.read_text().replace("600.0", "700.0"))
    with pytest.raises(SystemExit) as e:
        main(["replay", str(folder)])
    assert e.value.code == 1 and "Team B: NOT reproduced" in capsys.readouterr().err


def test_interrupted_play_is_resimulated_on_open(played, tmp_path):
    """A play that wrote its run but not its decisions (a crash between): the reopened
    workshop's team is at the month its decisions say, with the run of those decisions."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(played.folder, folder)
    path = folder / "teams" / "team_a" / "decisions.yaml"
    saved = yaml.safe_load(path.read_text())
    saved["decisions"] = saved["decisions"][:2]
    path.write_text(yaml.safe_dump(saved))
    a = Workshop.open(folder).team("Team A")
    assert a.month == 2 and len(a.daily()) == 60 and len(a.monthly()) == 2
    assert frame_differences(a.daily(), played.team("Team A").daily().iloc[:60]) == []


@pytest.mark.parametrize("text", ["just text", "- a\n- list", "name: x", "a: [unclosed"])
def test_a_damaged_workshop_file_is_refused_by_name(tmp_path, text):
    (tmp_path / "workshop.yaml").write_text(text)
    with pytest.raises(ConfigError, match="workshop.yaml: not a workshop file"):
        Workshop.open(tmp_path)
