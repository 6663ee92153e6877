"""Bad input stops before any simulation, with a message naming the key and the allowed range."""

import re

import pytest

from sim.core.model import PrivateDomainModel
from sim.core.params import ConfigError
from sim.experiment.config import compose, model_kwargs

from conftest import base_config, build, set_path


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("operators.capacity", -1.0, r"operators\.capacity = -1\.0 .*>= 0"),
        ("operators.count", -2, r"operators\.count = -2 .*integer in \[0, 10,000\]"),
        ("touchpoints.group_chat.reach", 1.5, r"touchpoints\.group_chat\.reach = 1\.5 .*\[0, 1\]"),
        ("churn.base_rate", -0.1, r"churn\.base_rate .*\[0, 1\]"),
        ("pool.promo_share", 2.0, r"pool\.promo_share = 2\.0 .*\[0, 1\]"),
        ("horizon_days", 0, r"horizon_days = 0 .*integer in \[1, 3,650\]"),
        ("channels.fission.arrival_stage", "bored", r"channels\.fission\.arrival_stage .*one of"),
        ("strategy.phases.0.systems", 3.0, r"strategy\.phases\.0\.systems = 3\.0"),
        ("business.lead.margin", 1.2, r"business\.lead\.margin = 1\.2"),
        (
            "strategy.phases.1.on_gate_fail",
            "retry",
            r"strategy\.phases\.1\.on_gate_fail = 'retry' .*\['advance', 'hold', 'stop'\]",
        ),
        ("strategy.phases.2.on_gate_fail", "hold", r"strategy\.phases\.2\.on_gate_fail = 'hold' "),
    ],
)
def test_out_of_range_values_are_named(path, value, message):
    with pytest.raises(ConfigError, match=message):
        build({path: value})


def test_unknown_keys_are_named_with_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"operators\.capcity: unknown key; allowed: .*capacity"):
        build({"operators.capcity": 3})
    with pytest.raises(ConfigError, match=r"strategy\.phases\.1\.teamsize: unknown key"):
        build({"strategy.phases.1.teamsize": 3})
    with pytest.raises(ConfigError, match=r"operators\.capacity: .*'abc'.*Float"):
        build({"operators.capacity": "abc"})
    cfg = base_config()
    cfg["horizon"] = 10
    with pytest.raises(ConfigError, match=r"horizon: unknown key; allowed: .*horizon_days"):
        model_kwargs(cfg)


def test_shares_must_sum_to_one():
    with pytest.raises(ConfigError, match=r"strategy\.phases\.0\.channel_mix .*summing to 1"):
        build({"strategy.phases.0.channel_mix": {"paid_ads": 0.5, "fission": 0.2}})
    with pytest.raises(ConfigError, match=r"channel_mix\.tv: unknown key"):
        build({"strategy.phases.0.channel_mix": {"tv": 1.0}})


def test_unknown_or_missing_pool_and_touchpoint():
    with pytest.raises(ConfigError, match=r"unknown touchpoint 'tiktok'; allowed: \[.*wecom"):
        build({"pool.touchpoints": ["personal_account", "tiktok"]})
    with pytest.raises(ConfigError, match=r"pool\.touchpoints is empty"):
        build({"pool.touchpoints": []})
    cfg = base_config()
    del cfg["pool"]
    with pytest.raises(ConfigError, match=r"pool: missing"):
        model_kwargs(cfg)
    cfg = base_config()
    del cfg["pool"]["promo_share"]
    with pytest.raises(ConfigError, match=r"pool\.promo_share: missing"):
        PrivateDomainModel(**model_kwargs(cfg))


def test_validation_happens_before_any_work():
    cfg = base_config()
    set_path(cfg, "strategy.phases.2.team_size", -1)
    with pytest.raises(ConfigError, match=r"strategy\.phases\.2\.team_size = -1"):
        PrivateDomainModel(**model_kwargs(cfg))


@pytest.mark.parametrize(
    "override, cause",
    [
        ("operators.capcity=3", r"Key 'capcity' not in 'Staffing'\s+full_key: operators\.capcity"),
        ("operators.capacity=abc", r"'abc' .* Float\s+full_key: operators\.capacity"),
        ("horizon=10", r"Key 'horizon' not in 'Scenario'"),
    ],
)
def test_the_schema_makes_hydra_reject_unknown_keys_and_wrong_types(override, cause):
    """`Scenario` is the schema of configs/config.yaml: composition itself fails."""
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException) as e:
        compose([override])
    assert re.search(cause, str(e.value.__cause__))


def test_records_built_from_plain_data_are_the_same_and_private():
    """The one build (`scenario`) structures plain data directly: the records equal those built
    from records, each build gets its own copy, and a wrong type at the top level is still
    named."""
    import copy

    from sim.core import params

    cfg = {k: v for k, v in base_config().items() if k != "hydra"}
    fresh = params.scenario(copy.deepcopy(cfg))
    again = params.scenario(copy.deepcopy(cfg))
    records = dict(vars(fresh))  # records as given: taken field by field, checked the same way
    assert params.scenario(records) == fresh == again
    again.operators.capacity = -5.0  # a copy: the next build does not see it
    assert params.scenario(copy.deepcopy(cfg)).operators.capacity == fresh.operators.capacity
    assert params.scenario(records).operators is not fresh.operators
    cfg["horizon_days"] = "long"
    with pytest.raises(ConfigError, match=r"horizon_days: .*'long'.*Integer"):
        params.scenario(cfg)
