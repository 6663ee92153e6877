"""Reliability (issue "damaged outputs, silent typos, unvalidated seeds and values that pass
checks but crash"): what counts as finished, stale reports and runs, I/O failures of one job,
permissions and durability of outputs."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_sweep import SWEEP, TINY, privsim_m

from sim.experiment import jobs
from sim.experiment.sweep import run_job
from sim.viz.report import report


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("rsweep")
    r = privsim_m(SWEEP, d)
    assert r.returncode == 0, r.stderr
    return d


def copy(sweep, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(sweep, out)
    return out


# ---------------------------------------------------------------- 1: damaged finished jobs


def test_damaged_finished_jobs_are_reported_and_redone(sweep, tmp_path):
    out = copy(sweep, tmp_path)
    summary = out / "1" / "summary.json"
    summary.write_bytes(summary.read_bytes()[:100])  # truncated
    (out / "2" / "daily.parquet").write_text("garbage")
    s3 = json.loads((out / "3" / "summary.json").read_text())
    (out / "3" / "summary.json").write_text(json.dumps({**s3, "version": "0.0.0-old"}))
    failed = report(out)  # no traceback
    assert [f.split(" (")[0] for f in failed] == ["job 1", "job 2", "job 3"]
    assert "summary.json unreadable" in failed[0] and "daily.parquet unreadable" in failed[1]
    assert "0.0.0-old" in failed[2]
    table = pd.read_parquet(out / "summary.parquet")
    assert table["status"].tolist() == ["finished", "damaged", "damaged", "damaged"]
    assert "| 2 | damaged |" in (out / "report.md").read_text()

    r = privsim_m(SWEEP, out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("skipped (finished earlier)") == 1
    for job in ("1", "2", "3"):
        assert jobs.status(out / job) == "finished"
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / job / "daily.parquet"),
            pd.read_parquet(sweep / job / "daily.parquet"),
            check_exact=True,
        )
    assert (pd.read_parquet(out / "summary.parquet")["status"] == "finished").all()


# ---------------------------------------------------------------- 2: a report that fails


def test_a_report_that_cannot_be_written_is_marked_and_keeps_the_previous(
    sweep, tmp_path, monkeypatch
):
    """Issue #21: a failed report no longer deletes the previous one (data loss); the failure is
    said in `report.failed.md` beside it instead, so the old report is not taken as current."""
    out = copy(sweep, tmp_path)
    assert "4 finished" in (out / "report.md").read_text()
    old = {f: (out / f).read_bytes() for f in ("report.md", "summary.parquet", "summary.csv")}
    import sim.viz.report as rep

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rep, "write_report", boom)
    with pytest.raises(RuntimeError):
        report(out)
    assert {f: (out / f).read_bytes() for f in old} == old
    text = (out / "report.failed.md").read_text()
    assert "FAILED" in text and "disk on fire" in text and "previous report" in text


def test_a_report_without_figures_says_what_it_lacks(sweep, tmp_path, monkeypatch):
    out = copy(sweep, tmp_path)
    import sim.viz.report as rep

    def boom(*a, **k):
        raise ValueError("no fonts")

    monkeypatch.setattr(rep, "sweep_figures", boom)
    report(out)
    text = (out / "report.md").read_text()
    assert "partial" in text and "the figures" in text and "no fonts" in text
    assert not (out / "funnel.png").exists() and (out / "summary.parquet").exists()


# ---------------------------------------------------------------- 3, 4: plan, stale runs


def test_interrupted_sweep_reports_the_planned_total(sweep, tmp_path):
    out = copy(sweep, tmp_path)
    shutil.rmtree(out / "3")  # never started
    failed = report(out)
    assert failed == ["job 3 (not started)"]
    text = (out / "report.md").read_text()
    assert "Runs: 4 planned — 3 finished" in text and "| 3 | not started |" in text


def test_another_command_into_a_finished_sweep_is_refused_unless_replace(sweep, tmp_path):
    from test_preflight import snapshot

    out = copy(sweep, tmp_path)
    before = snapshot(out)
    r = privsim_m(["strategy=staged", "seed=5", *TINY], out)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.strip().splitlines() == [
        f"privsim: {out} holds a sweep of another command "
        f"({' '.join(SWEEP)}) with 4 finished runs; run it into a new hydra.sweep.dir, or add "
        "--replace to run this command there (its runs then replace that sweep's)"
    ]
    assert snapshot(out) == before

    r = privsim_m(["strategy=staged", "seed=5", *TINY, "--replace"], out)
    assert r.returncode == 0, r.stderr
    assert "holds runs of another command" in r.stderr
    table = pd.read_parquet(out / "summary.parquet")
    assert table["status"].tolist() == ["finished", "stale", "stale", "stale"]
    done = table[table["status"] == "finished"]
    assert done["seed"].tolist() == [5]
    text = (out / "report.md").read_text()
    assert "Runs: 1 planned — 1 finished" in text and "## Stale runs" in text


def test_a_refused_command_into_a_finished_sweep_leaves_it_untouched(sweep, tmp_path):
    """Issue #21, data loss 1: a typo in one job's group option used to rewrite plan.json and
    multirun.yaml and delete the progress markers before Hydra refused it."""
    from test_preflight import snapshot

    out = copy(sweep, tmp_path)
    before = snapshot(out)
    r = privsim_m(["strategy=staged,premture", "seed=0"], out)
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "strategy=premture: unknown strategy; did you mean premature?" in r.stderr
    assert snapshot(out) == before
    assert report(out) == []  # still a finished sweep


def test_a_sweep_with_one_bad_job_runs_none_and_writes_nothing(tmp_path):
    out = tmp_path / "s"
    r = privsim_m(["seed=0,-1", *TINY], out)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.strip() == (
        "privsim: invalid configuration: seed = -1 is out of range; allowed: an integer >= 0 "
        "(job 1: seed=-1 horizon_days=40 strategy.phases.0.daily_users=20)"
    )
    assert not out.exists() and r.stdout == ""


def test_a_run_of_another_package_version_is_not_finished(sweep, tmp_path):
    out = copy(sweep, tmp_path)
    cfg = json.loads((out / "0" / "config.json").read_text())
    assert jobs.finished(out / "0", cfg)
    s = json.loads((out / "0" / "summary.json").read_text())
    (out / "0" / "summary.json").write_text(json.dumps({**s, "version": "0.0.1"}))
    assert jobs.finished(out / "0", cfg) is None


# ---------------------------------------------------------------- 5: one job's I/O failure


def test_a_job_whose_folder_cannot_be_written_fails_alone(tmp_path, monkeypatch, capsys):
    def crash(cfg, out):
        raise OSError("read-only file system")

    def cannot_write(*a, **k):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(jobs, "write_text", cannot_write)
    monkeypatch.setattr("sim.experiment.sweep.record_failure", lambda job: cannot_write())
    assert run_job({"seed": 0}, tmp_path / "job", crash) == "failed"
    err = capsys.readouterr().err
    assert "could not record the failure" in err and "read-only file system" in err


# ---------------------------------------------------------------- 13, 14: mode and durability


def test_outputs_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        jobs.write_json(tmp_path / "a.json", {"x": 1})
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
        os.umask(0o077)
        jobs.write_text(tmp_path / "b.txt", "x")
        assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_atomic_writes_are_synced_before_and_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
        real_fsync(fd)

    def replace(a, b):
        events.append(("replace", None))
        real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    jobs.write_text(tmp_path / "c.txt", "hello")
    assert events == [("fsync", False), ("replace", None), ("fsync", True)]
    assert (tmp_path / "c.txt").read_text() == "hello"


# ---------------------------------------------------------------- 6, 7, 8, 9, 10: the CLI


def privsim(*args, tmp_path, env=None):
    import subprocess

    from test_sweep import script

    return subprocess.run(
        [*script("privsim"), *args, f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        # 6: a misspelled experiment (an optional group) is refused, naming the known ones
        (["experiment=premature_scalin"], r"unknown experiment; known: .*premature_scaling"),
        (["-m", "experiment=comparison,premature_scalin"], r"experiment=premature_scalin"),
        # 7: seeds are non-negative integers
        (["seed=-1"], r"seed = -1 .*integer >= 0"),
        (["seed=abc"], r"seed=abc.*Integer"),
        (["seed=1.5"], r"seed=1\.5"),
        (["seed=nan"], r"seed=nan"),
        # 8: values inside the old ranges that crashed or wrote NaN/inf
        (["referral.intent_mean=1.0"], r"referral\.intent_mean = 1\.0 .*\(0, 1\)"),
        (["referral.intent_mean=0"], r"referral\.intent_mean = 0"),
        (["referral.rate_per_day=1e20"], r"referral\.rate_per_day"),
        (["koc.referral_multiplier=1e300"], r"koc\.referral_multiplier"),
        (["channels.paid_ads.volume_scale=1e300"], r"volume_scale"),
        (["strategy.phases.0.daily_users=1e12"], r"daily_users"),
        (["trust.learning_rate=1e308"], r"trust\.learning_rate"),
        (["channels.paid_ads.base_cost=1e308"], r"base_cost"),
        # 9: sizes
        (["horizon_days=100000000"], r"horizon_days = 100000000 .*\[1, 3,650\]"),
        (["operators.count=100000000"], r"operators\.count"),
        (["initial_users=10000000000"], r"initial_users"),
        # 10: Hydra-level config errors: one line naming the key (and the close one), exit 2
        (
            ["operators.capcity=3"],
            r"operators\.capcity: unknown key; did you mean operators\.capacity\?",
        ),
        (["operators.capacity=abc"], r"'abc' .*Float"),
        (["pool=nurturin"], r"pool=nurturin: unknown pool; did you mean nurturing\?; known: b2b"),
        (["seed=("], r"cannot parse the override 'seed=\(': "),
        # a key under a node this config leaves null (OmegaConf only asserts): named, with the
        # group option that defines it
        (
            ["pool.layers.camps.enabled=true"],
            r"pool\.layers\.camps\.enabled: `pool\.layers` is null .*choose pool=pyramid first",
        ),
    ],
)
def test_bad_input_is_refused_with_exit_2_and_one_clear_line(args, message, tmp_path):
    """In this process (`cli_harness.invoke`, what a real `privsim` prints and exits with:
    tests/test_bad_input.py's test_matches_a_real_process checks the two agree)."""
    from cli_harness import invoke

    r = invoke("privsim", [*args, f"hydra.run.dir={tmp_path / 'run'}"], tmp_path)
    assert r.code == 2, (r.code, r.err[-2000:])
    assert re.search(message, r.err), r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()  # nothing written: no folder, no .hydra/, no run.log


def test_a_key_under_a_null_node_in_one_job_of_a_sweep_is_named(tmp_path):
    """The sweep's second job (pool=nurturing) has no `pool.layers`: exit 2, one line naming
    the key and that job's group choice, before any job runs."""
    r = privsim("-m", "pool=pyramid,nurturing", "pool.layers.camps.enabled=true", tmp_path=tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "pool.layers.camps.enabled: `pool.layers` is null in this config (pool=nurturing)" in (
        r.stderr
    )
    assert "Traceback" not in r.stderr


def test_compose_names_a_key_under_a_null_node():
    from sim.core.params import ConfigError
    from sim.experiment.config import compose

    with pytest.raises(ConfigError, match=r"pool\.layers\.washes\.reach: `pool\.layers` is null"):
        compose(["pool=b2b", "pool.layers.washes.reach=0.5"])


def test_a_yaml_syntax_error_in_a_user_strategy_is_one_line(tmp_path):
    (tmp_path / "mine" / "strategy").mkdir(parents=True)
    (tmp_path / "mine" / "strategy" / "bad.yaml").write_text("name: bad\nphases: [\n  - x\n")
    r = privsim(f"hydra.searchpath=[file://{tmp_path / 'mine'}]", "strategy=bad", tmp_path=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "YAML syntax error in" in r.stderr and "bad.yaml, line" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_initial_users_beyond_memory_are_refused_with_the_estimate(monkeypatch):
    from sim.core import population
    from sim.core.params import ConfigError

    from conftest import build

    monkeypatch.setattr(population, "available_memory", lambda: 2**30)
    with pytest.raises(
        ConfigError,
        match=r"initial_users = 100,000,000 cannot fit: .* GiB .*"
        r"bytes per user.*1\.0 GiB available",
    ):
        build({"initial_users": 100_000_000})
    with pytest.raises(MemoryError, match=r"growing to .* 1\.0 GiB available"):
        population.Population(1024).add(20_000_000)


def test_seed_null_is_drawn_recorded_and_reproducible(tmp_path):
    import subprocess

    from test_sweep import script

    r = privsim("seed=null", "horizon_days=20", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert isinstance(cfg["seed"], int) and cfg["seed"] >= 0 and summary["seed"] == cfg["seed"]
    rep = subprocess.run(
        [*script("privsim-reproduce"), str(tmp_path / "run")], capture_output=True, text=True
    )
    assert rep.returncode == 0, rep.stdout + rep.stderr


def test_non_finite_daily_values_fail_the_run_before_writing(tmp_path, monkeypatch):
    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose
    from sim.experiment.jobs import OutputError, check_daily
    from sim.experiment.run import run

    cfg = compose(["horizon_days=5"])
    daily = PrivateDomainModel.from_config(cfg).run().daily()
    channels = [c for c in cfg["channels"]]
    check_daily(daily.assign(users_per_operator=float("nan")), channels)  # declared: allowed
    with pytest.raises(OutputError, match=r"users_per_operator"):
        check_daily(daily.assign(users_per_operator=float("inf")), channels)
    with pytest.raises(OutputError, match=r"profit \(first on day 0: nan\)"):
        check_daily(daily.assign(profit=float("nan")), channels)

    real = PrivateDomainModel.daily
    monkeypatch.setattr(
        PrivateDomainModel, "daily", lambda self: real(self).assign(revenue=float("inf"))
    )
    with pytest.raises(OutputError, match="revenue"):
        run(cfg, tmp_path / "nan")
    assert not (tmp_path / "nan" / "daily.parquet").exists()


# ---------------------------------------------------------------- 11: the run line


def test_run_line_says_no_cohort_matured_instead_of_nan():
    from sim.experiment.run import result_line

    s = dict(
        strategy="staged",
        pool="nurturing",
        seed=0,
        users_acquired=10,
        churn_rate=0.0,
        conversion_30d=float("nan"),
        ltv_90d=float("nan"),
        ltv_cac_90d=float("nan"),
    )
    line = result_line(s, "out")
    assert "nan" not in line and "no cohort 30 days old yet" in line


# ---------------------------------------------------------------- 12: the live page's inputs


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"pool": "../../../../etc/any"}, r"pool = '\.\./"),
        ({"strategy_b": "../strategy/staged"}, r"strategy_b"),
        ({"experiment": "../pool/b2b"}, r"experiment"),
        ({"business": "high_freq_high_margin hydra.run.dir=/"}, r"business"),
        ({"operators": "abc"}, r"operators = 'abc'.*a number"),
        ({"operators": -3}, r"operators = -3"),
        ({"seed": -1}, r"seed = -1"),
        ({"ad_volume": float("nan")}, r"ad_volume"),
        ({"fission_share": "1e9"}, r"fission_share"),
    ],
)
def test_the_live_page_accepts_only_its_options_and_sane_numbers(changes, message):
    from sim.viz.pages import pair as pairs

    with pytest.raises(ValueError, match=message):
        pairs.build_pair(**changes)
    pair = pairs.LivePair(**{**pairs.Controls().__dict__, **changes}, strict=False)
    assert pair.error and not pair.arms and re.search(message, pair.error)


def test_privsim_app_on_a_busy_port_says_so_before_serving(capsys):
    import socket

    from sim.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert app.main(["--port", str(port)]) == 2
    out = capsys.readouterr()
    assert "--port" in out.err and "serving" not in out.out


def test_the_page_server_serves_local_assets_and_never_falls_back_to_a_cdn():
    """Item 12: Solara's asset proxy serves the local solara-assets cache; its CDN fallback is
    pointed at a loopback address that refuses, so the server never fetches from the internet.
    Its "This website runs on Solara" badge is off on every page served (issue #26)."""
    pytest.importorskip("solara")
    from urllib.parse import urlparse

    from sim.cli.serve import NO_CDN, SERVER_ENV

    assert urlparse(NO_CDN).hostname == "127.0.0.1"
    code = (
        "import solara.settings as s, solara.server.settings as ss; "
        "print(s.assets.cdn, s.assets.proxy, ss.assets.proxy_cache_dir, ss.theme.show_banner)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **SERVER_ENV},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == NO_CDN and out[1] == "True" and out[3] == "False"
    cache = Path(out[2])
    assert any(cache.rglob("*.js")), f"no local assets in {cache}: install solara-assets"
