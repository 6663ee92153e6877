"""The strategist's knobs mean what they say: a fixed team, a daily budget in yuan."""

import numpy as np
import pytest

from conftest import build, one_phase

STRATEGIES = ["zero_to_one", "one_to_ten", "ten_to_n", "staged", "premature", "steady"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_fixed_team_of_3_has_3_operators_every_day(strategy):
    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose, model_kwargs

    cfg = compose([f"strategy={strategy}", "operators.fixed=3", "seed=1", "horizon_days=240"])
    daily = PrivateDomainModel(**model_kwargs(cfg)).run().daily()
    assert (daily["operators"] == 3).all(), daily["operators"].value_counts().to_dict()
    assert (daily["operators_hired"] == 3).all(), daily["operators_hired"].value_counts()


def test_without_fixed_the_cap_alone_does_not_make_the_team():
    """The README's old example: max_count is only a cap (premature keeps its 0-1 team of 2)."""
    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose, model_kwargs

    cfg = compose(["strategy=premature", "operators.max_count=3", "horizon_days=60"])
    daily = PrivateDomainModel(**model_kwargs(cfg)).run().daily()
    assert daily["operators"].max() < 3


@pytest.mark.parametrize("budget", [500.0, 3000.0])
def test_a_daily_budget_spends_that_budget_on_average(budget):
    """Users = budget / unit cost, Poisson: the day's channel spend N x c has mean = budget and
    variance budget x c, so the mean over T days has SE sqrt(sum_d budget c_d) / T."""
    changes = {
        "strategy": one_phase(0.0, {"paid_ads": 1.0}),  # the strategy buys nothing itself
        "channels.paid_ads.budget_per_day": budget,
        "referral.reward": 0.0,
    }
    m = build(changes, seed=4, horizon_days=200).run()
    pop = m.population
    paid = pop.channel[: pop.n] == m._code["paid_ads"]
    days = m.horizon_days
    spend = np.bincount(pop.join_day[: pop.n][paid], pop.cac[: pop.n][paid], minlength=days)
    per_user = np.bincount(pop.join_day[: pop.n][paid], minlength=days)
    assert (per_user > 0).all(), "a budget above the unit cost buys someone every day"
    cost = spend / per_user
    se = np.sqrt((budget * cost).sum()) / days
    assert abs(spend.mean() - budget) < 4 * se, (spend.mean(), budget, se)
    # and it is money, not volume: the unit cost rose, so later days bought fewer users
    assert cost[-20:].mean() > cost[:20].mean()
    assert per_user[-20:].mean() < per_user[:20].mean()
    daily = m.daily()
    assert daily["acquisition_spend"].sum() == pytest.approx(spend.sum())


def test_a_budget_is_refused_out_of_range():
    from sim.core.params import ConfigError

    with pytest.raises(ConfigError, match=r"channels.paid_ads.budget_per_day = -1"):
        build({"channels.paid_ads.budget_per_day": -1.0})


def test_the_summary_totals_add_up_to_profit(small):
    s = small.run().summary()
    assert s["margin"] - s["acquisition_spend"] - s["team_cost"] == pytest.approx(s["profit"])
    assert s["revenue"] >= s["margin"] > 0


def test_the_daily_table_names_each_phase(small):
    daily = small.run().daily()
    names = [p.name for p in small.params.strategy.phases]
    assert daily["phase_name"].tolist() == [names[i] for i in daily["phase"]]


def test_ranking_and_probability_best_on_a_known_table():
    import pandas as pd

    from sim.experiment.comparison import ranking

    # seeds 0-3: A best in seeds 0, 1; B best in seed 2; seed 3 a tie of A and C (half each);
    # seed 4 lacks C, so it is left out of P(best) (4 brands)
    rows = [
        ("A", 0, 10), ("B", 0, 5), ("C", 0, 1),
        ("A", 1, 10), ("B", 1, 5), ("C", 1, 1),
        ("A", 2, 1), ("B", 2, 9), ("C", 2, 2),
        ("A", 3, 7), ("B", 3, 3), ("C", 3, 7),
        ("A", 4, 0), ("B", 4, 100),
    ]  # fmt: skip
    done = pd.DataFrame(rows, columns=["group", "seed", "profit"])
    r = ranking(done, "profit").set_index("group")
    assert r.loc["A", "p_best"] == pytest.approx(2.5 / 4)
    assert r.loc["B", "p_best"] == pytest.approx(1 / 4)
    assert r.loc["C", "p_best"] == pytest.approx(0.5 / 4)
    assert (r["brands"] == 4).all() and r["p_best"].sum() == pytest.approx(1)
    assert r["rank"].to_dict() == {"B": 1, "A": 2, "C": 3}  # by mean: B 24.4, A 5.6, C 2.75
    assert r.loc["A", "p50"] == 7 and r.loc["C", "runs"] == 4
    # lower is better for payback: the smallest value wins
    pay = ranking(done.rename(columns={"profit": "payback_day"}), "payback_day")
    assert pay.set_index("group").loc["C", "p_best"] == pytest.approx(2 / 4)


def test_groups_are_named_in_words():
    import pandas as pd

    from sim.viz.labels import group_labels

    done = pd.DataFrame(
        {
            "group": ["g1", "g2"],
            "strategy": ["staged", "staged"],
            "channels.paid_ads.volume_scale": ["1", "2"],
        }
    )
    labels = group_labels(done, ["strategy", "channels.paid_ads.volume_scale"])
    assert labels == {"g1": "staged · paid ads ×1", "g2": "staged · paid ads ×2"}


def test_progress_lines_name_the_overrides_that_vary():
    from sim.experiment.sweep import varying

    plan = [
        ["strategy=staged", "channels.paid_ads.volume_scale=1", "seed=0", "horizon_days=40"],
        ["strategy=staged", "channels.paid_ads.volume_scale=2", "seed=0", "horizon_days=40"],
    ]
    assert varying(plan[1], plan) == ["channels.paid_ads.volume_scale=2"]
    assert varying(plan[1], None) == [
        "strategy=staged",
        "channels.paid_ads.volume_scale=2",
        "horizon_days=40",
    ]
