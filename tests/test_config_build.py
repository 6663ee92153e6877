"""The config is built once, by one function, and checked in one place (`sim.core.params.scenario`,
`sim.experiment.config.build`): it equals what OmegaConf builds against the schema, costs little
enough to run for every evaluation of a study, and refuses every bad value before a model exists.
"""

from __future__ import annotations

import ast
import copy
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim.core import params
from sim.core.params import ConfigError, Pool, Scenario, scenario
from sim.experiment.config import build, compose, group_options

from conftest import base_config

CORE = Path(__file__).resolve().parent.parent / "sim" / "core"
PARAMS_SIDE = {"params", "ranges", "pool_params", "strategy_params", "scenario_params"}
PARAMS_SIDE |= {"mechanism_params"}  # issue #22: reputation, market, capability records
PARAMS_SIDE |= {"structure", "checks"}


def _variants() -> list[list[str]]:
    """Every option of the groups that hold records, and every named experiment."""
    out = [[]]
    for group in ("pool", "business", "strategy", "experiment"):
        out += [[f"{group}={o}"] for o in group_options(group)]
    return out


@pytest.mark.parametrize("overrides", _variants(), ids=lambda o: " ".join(o) or "default")
def test_the_build_equals_omegaconfs(overrides):
    """Types converted as OmegaConf converts them (ints in float fields become floats, …): a
    config built here is the one the schema gives, field for field."""
    cfg = {k: v for k, v in compose(overrides).items() if k != "hydra"}
    ours = scenario(copy.deepcopy(cfg))
    theirs = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Scenario), cfg))
    assert ours == theirs
    assert _types(ours) == _types(theirs)


def _types(v):
    if hasattr(v, "__dataclass_fields__"):
        return {k: _types(getattr(v, k)) for k in v.__dataclass_fields__}
    if isinstance(v, dict):
        return {k: _types(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_types(x) for x in v]
    return type(v).__name__


def test_one_build_is_cheap_without_a_memo():
    """A study builds a scenario per evaluation: the build must stay far below a run's cost
    (OmegaConf's structured merge took ~0.1-0.2 s a config)."""
    cfg = {k: v for k, v in base_config().items() if k != "hydra"}
    scenario(cfg)
    t0 = time.perf_counter()
    for _ in range(20):
        scenario(cfg)
    assert (time.perf_counter() - t0) / 20 < 0.02
    assert not hasattr(params, "_BUILT")


def test_build_drops_what_is_not_the_model():
    cfg = compose([])
    cfg["hydra"] = {"anything": 1}
    assert build(cfg) == scenario({k: v for k, v in cfg.items() if k != "hydra"})


def test_records_inside_plain_data_are_checked_too():
    cfg = {k: v for k, v in base_config().items() if k != "hydra"}
    pool = Pool(**{**cfg["pool"], "promo_share": "abc"})
    with pytest.raises(ConfigError, match=r"^pool\.promo_share: Value 'abc' .*Float"):
        scenario({**cfg, "pool": pool})
    with pytest.raises(ConfigError, match=r"^pool = None: expected a mapping of Pool fields"):
        scenario({**cfg, "pool": None})


@pytest.mark.parametrize(
    "overrides, change, message",
    [
        ([], ("pool", "touchpoints", ["wecom", "tiktok"]), r"^pool\.touchpoints: unknown"),
        ([], ("pool", "touchpoints", ["wecom", "wecom"]), r"^pool\.touchpoints = .*listed twice"),
        (
            ["pool=pyramid"],
            ("pool", "layers", "core", "touchpoints", ["wecom", "wecom"]),
            r"^pool\.layers\.core\.touchpoints = .*listed twice",
        ),
        (
            ["experiment=testing_value"],
            ("fit", "place", "pools", "b2b", "touchpoints", ["wecom"] * 2),
            r"^fit\.place\.pools\.b2b\.touchpoints = .*listed twice",
        ),
    ],
)
def test_every_touchpoint_mix_is_checked_by_the_build(overrides, change, message):
    """The rules PoolMix applied when the model was built are the build's: no model needed."""
    cfg = {k: v for k, v in compose(overrides).items() if k != "hydra"}
    *path, last, value = change
    node = cfg
    for p in path:
        node = node[p]
    node[last] = value
    with pytest.raises(ConfigError, match=message):
        scenario(cfg)


def test_a_pool_of_more_touchpoints_than_a_byte_holds_is_refused():
    cfg = {k: v for k, v in base_config().items() if k != "hydra"}
    names = [f"t{i}" for i in range(params.MAX_TOUCHPOINTS + 1)]
    cfg["touchpoints"] = {n: cfg["touchpoints"]["wecom"] for n in names} | cfg["touchpoints"]
    cfg["pool"]["touchpoints"] = names
    with pytest.raises(ConfigError, match=r"pool\.touchpoints has 9 entries; allowed: at most 8"):
        scenario(cfg)


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):  # lazy imports included
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return {m.removeprefix("sim.core.") for m in out if m.startswith("sim.")}


def test_the_params_side_imports_no_mechanism():
    """Records, ranges, the build and the rules stand on their own (no circle through `fit` or
    `pyramid`): they import each other and only the population's memory rule and the stages."""
    allowed = PARAMS_SIDE | {"population", "stage"}
    for name in sorted(PARAMS_SIDE):
        assert _imports(CORE / f"{name}.py") <= allowed, name


def test_composing_from_several_threads_at_once():
    """The pages compose while they render and in background threads at once (a lesson's title
    in the Lesson select while the preview composes the pair); Hydra's GlobalHydra is one per
    process, so composing is serialised (`config.hydra_config_dir`): none fails."""
    from concurrent.futures import ThreadPoolExecutor

    from sim.experiment.study_spec import compose_spec

    jobs = [lambda: compose([])["horizon_days"],
            lambda: compose_spec("lesson", "untested_launch", None,
                                 "lesson")["title"]] * 8  # fmt: skip
    with ThreadPoolExecutor(8) as pool:
        got = [f.result() for f in [pool.submit(j) for j in jobs]]
    assert got == [compose([])["horizon_days"], got[1]] * 8 and got[1]
