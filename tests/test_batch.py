"""The batch engine (`sim.experiment.batch`): the same numbers as `privsim`, keys refused before
any run, one failure never fatal, a cache that resumes, local processes and (if installed) Ray."""

import math
import os

import pandas as pd
import pytest

from sim.core.params import ConfigError
from sim.experiment.batch import Evaluation, flatten, results_frame, run_batch
from sim.experiment.config import compose
from sim.experiment.reproduce import IGNORED_SUMMARY_KEYS
from sim.experiment.run import run

# Tiny runs: 30 days, 20 users a day in the first phase.
TINY = ["horizon_days=30", "strategy.phases.0.daily_users=20"]


@pytest.fixture(scope="module")
def base():
    return compose(TINY)


def same(a: dict, b: dict) -> bool:
    """Equal key by key, NaN equal to NaN (a summary holds NaN where no cohort is old enough)."""
    nan = lambda v: isinstance(v, float) and math.isnan(v)  # noqa: E731
    return a.keys() == b.keys() and all(a[k] == b[k] or (nan(a[k]) and nan(b[k])) for k in a)


def test_batch_summary_equals_privsim_run_exactly(base, tmp_path):
    ev = Evaluation({"operators.capacity": 250.0, "trust.learning_rate": 0.2}, seed=3)
    (r,) = run_batch(base, [ev], n_jobs=1, progress=False)
    assert r.ok, r.error
    cfg = {**base, "seed": 3}
    cfg["operators"] = {**cfg["operators"], "capacity": 250.0}
    cfg["trust"] = {**cfg["trust"], "learning_rate": 0.2}
    # the results: what privsim-reproduce compares (not the provenance of the run)
    written = run(cfg, tmp_path / "job")
    summary = flatten({k: v for k, v in written.items() if k not in IGNORED_SUMMARY_KEYS})
    assert same(r.summary, summary)
    assert not any(tmp_path.glob("*.json"))  # the batch wrote nothing of its own


def test_unknown_key_refused_before_any_run(base, tmp_path):
    evs = [Evaluation({"operators.capacity": 300.0}), Evaluation({"operators.capacty": 1.0})]
    with pytest.raises(ConfigError, match=r"operators\.capacty: unknown key"):
        run_batch(base, evs, n_jobs=1, cache_dir=tmp_path, progress=False)
    with pytest.raises(ConfigError, match=r"strategy\.phases\.7\.daily_users"):
        run_batch(base, [Evaluation({"strategy.phases.7.daily_users": 5})], progress=False)
    assert not list(tmp_path.glob("*.json"))  # nothing ran


def test_failing_evaluation_is_recorded_not_fatal(base):
    evs = [Evaluation({"trust.learning_rate": 0.2}), Evaluation({"trust.learning_rate": 7.0})]
    good, bad = run_batch(base, evs, n_jobs=1, progress=False)
    assert good.ok and good.summary["users_acquired"] > 0
    assert not bad.ok and "trust.learning_rate = 7.0 is out of range" in bad.error
    table = results_frame([good, bad])
    assert list(table["status"]) == ["finished", "failed"]


def test_cache_resumes_in_parallel_and_daily_series(base, tmp_path, capsys):
    evs = [Evaluation({"operators.capacity": c}, seed=s) for c in (200.0, 600.0) for s in (0, 1)]
    first = run_batch(base, evs, n_jobs=2, cache_dir=tmp_path, daily_columns=["live_users"])
    assert all(r.ok and not r.cached for r in first)
    assert "[privsim] 4/4 runs done" in capsys.readouterr().err
    assert len(first[0].daily["live_users"]) == 30
    # an interrupted study: one evaluation's file lost; only that one is simulated again
    os.remove(tmp_path / f"{first[2].config_hash}.json")
    again = run_batch(base, evs, n_jobs=2, cache_dir=tmp_path, daily_columns=["live_users"])
    assert [r.cached for r in again] == [True, True, False, True]
    for a, b in zip(first, again, strict=True):
        assert same(a.summary, b.summary) and a.daily == b.daily
    # seeds and values matter; the same config twice is simulated once
    assert first[0].summary["profit"] != first[1].summary["profit"]
    twice = run_batch(base, [evs[0], evs[0]], n_jobs=1, progress=False)
    assert same(twice[0].summary, twice[1].summary)


@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time under xdist
def test_ray_gives_the_same_numbers(base, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    evs = [Evaluation({"operators.capacity": 300.0}, seed=s) for s in (0, 1)]
    local = run_batch(base, evs, n_jobs=1, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir="/tmp/privsim-ray")
    try:
        remote = run_batch(base, evs, ray_address="auto", progress=False)
    finally:
        ray.shutdown()
    assert all(same(a.summary, b.summary) for a, b in zip(local, remote, strict=True))


def test_any_executor_and_chunk_size_give_the_same_results_in_order(base):
    """The engine only submits chunks and waits on futures: in this process, a thread pool, a
    process pool (spawned interpreters) and loky's, one run per task or several, the results
    come back in the order given with the same numbers."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
    from multiprocessing import get_context

    evs = [Evaluation({"operators.capacity": c}, seed=s) for c in (200.0, 600.0) for s in (0, 1)]
    evs.append(Evaluation({"trust.learning_rate": 7.0}))  # fails alone, in its place
    here = run_batch(base, evs, n_jobs=1, progress=False, daily_columns=["live_users"])
    assert [r.ok for r in here] == [True] * 4 + [False]
    runs = [
        run_batch(base, evs, n_jobs=2, chunk_size=3, progress=False, daily_columns=["live_users"])
    ]
    with ThreadPoolExecutor(2) as pool:
        runs.append(run_batch(base, evs, executor=pool, chunk_size=1, progress=False,
                              daily_columns=["live_users"]))  # fmt: skip
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        runs.append(run_batch(base, evs, executor=pool, chunk_size=2, progress=False,
                              daily_columns=["live_users"]))  # fmt: skip
    for other in runs:
        assert [r.evaluation for r in other] == evs
        assert [r.config_hash for r in other] == [r.config_hash for r in here]
        assert [r.error for r in other] == [r.error for r in here]
        for a, b in zip(here[:4], other[:4], strict=True):
            assert same(a.summary, b.summary) and a.daily == b.daily


def test_tables_come_back_whole_and_from_the_cache(base, tmp_path):
    ev = Evaluation({}, seed=2)
    (r,) = run_batch(base, [ev], n_jobs=1, frames=["daily", "cohorts"], cache_dir=tmp_path,
                     progress=False)  # fmt: skip
    (again,) = run_batch(base, [ev], n_jobs=1, frames=["daily", "cohorts"], cache_dir=tmp_path,
                         progress=False)  # fmt: skip
    assert again.cached and len(r.frames["daily"]) == 30
    for name in ("daily", "cohorts"):
        pd.testing.assert_frame_equal(r.frames[name], again.frames[name])
    with pytest.raises(ConfigError, match="frames rfm: unknown"):
        run_batch(base, [ev], frames=["rfm"], progress=False)
