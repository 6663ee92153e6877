"""Sweeps end to end, as a user runs them: `privsim -m`, the report, reproduce, resume, and the
joblib (and, when installed, Ray) launchers giving the same runs as the basic one."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from sim.experiment.reproduce import reproduce
from sim.viz.report import report

BIN = Path(sys.executable).parent
# Tiny runs: 40 days, 20 users a day in the first phase.
TINY = ["horizon_days=40", "strategy.phases.0.daily_users=20"]
SWEEP = ["strategy=staged,premature", "seed=0,1", *TINY]  # jobs 0..3: staged 0, 1; premature 0, 1


def script(name: str) -> list[str]:
    """The console script from this venv, else its module."""
    exe = BIN / name
    module = {
        "privsim": "sim",
        "privsim-report": "sim.cli.report",
        "privsim-reproduce": "sim.cli.reproduce",
    }[name]
    return [str(exe)] if exe.exists() else [sys.executable, "-m", module]


def privsim_m(args, sweep_dir, env=None, timeout=120):
    return subprocess.run(
        [*script("privsim"), "-m", *args, f"hydra.sweep.dir={sweep_dir}"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    r = privsim_m(SWEEP, d)
    assert r.returncode == 0, r.stderr
    return d, r


def test_sweep_writes_summary_report_and_figures(sweep):
    d, r = sweep
    table = pd.read_parquet(d / "summary.parquet")
    assert len(table) == 4 and (table["status"] == "finished").all()
    assert {
        "strategy",
        "seed",
        "horizon_days",
        "strategy.phases.0.daily_users",
        "ltv_cac_90d",
        "conversion_30d",
        "rfm.important_value",
        "phase_starts.zero_to_one",
        "gates.zero_to_one.outcome",
        "gates.zero_to_one.day",
        "gates.premature.action",
        "config_hash",
        "group",
    } <= set(table.columns)
    assert sorted(table["seed"]) == [0, 0, 1, 1]
    assert table["group"].tolist() == ["staged", "staged", "premature", "premature"]
    # 40 days: staged's 0-1 gate (min_days 60) is still pending; premature has none
    assert table["gates.zero_to_one.outcome"].tolist()[:2] == ["pending", "pending"]
    assert table["gates.premature.outcome"].tolist()[2:] == ["no_gate", "no_gate"]
    text = (d / "report.md").read_text()
    for fig in ("conversion_decay.png", "ltv_cac.png", "funnel.png", "cumulative_profit.png"):
        assert (d / fig).stat().st_size > 10_000, fig
        assert f"]({fig})" in text
    assert "| staged | 2 |" in text and "| premature | 2 |" in text
    assert "4/4 runs done" in r.stdout and "ETA" in r.stdout
    assert "staged / nurturing / seed 1 [strategy=staged]: " in r.stdout
    assert "## Ranking on profit (yuan)" in text and "## Key assumptions by group" in text
    assert "## What the strategies' gates and rules did" in text
    assert "- **staged** (2 runs): 0-1 gate (30-day conversion ≥ 0.08): undecided in 2 of 2" in text
    assert {"revenue", "margin", "acquisition_spend", "team_cost", "payback_day"} <= set(table)
    assert not list(d.rglob("*.partial"))


def test_reproduce_is_bit_identical_and_catches_tampering(sweep, tmp_path):
    d, _ = sweep
    r = subprocess.run(
        [*script("privsim-reproduce"), str(d / "2")], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert "identical" in r.stdout

    run_dir = tmp_path / "tampered"
    shutil.copytree(d / "2", run_dir)
    daily = pd.read_parquet(run_dir / "daily.parquet")
    daily.loc[10, "revenue"] += 0.01
    daily.to_parquet(run_dir / "daily.parquet", index=False)
    diffs = reproduce(run_dir)
    assert diffs == [diffs[0]] and "daily.parquet" in diffs[0] and "'revenue'" in diffs[0]

    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "customers": -1}))
    shutil.copy(d / "2" / "daily.parquet", run_dir / "daily.parquet")
    assert reproduce(run_dir) == [f"summary.json: customers: -1 vs {summary['customers']}"]


def test_failed_run_is_reported_and_the_rest_aggregated_under_joblib(sweep, tmp_path):
    """One job fails as it runs (an invalid value is refused before any job: job 1 cannot write
    its daily table, a folder stands in its place): the others finish and are aggregated, and
    the command exits non-zero naming the failure; the joblib launcher's runs equal the basic
    launcher's."""
    d, _ = sweep
    out = tmp_path / "sweep"
    (out / "1" / "daily.parquet").mkdir(parents=True)
    r = privsim_m(
        [
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            "strategy=staged",
            "seed=0",
            "operators.capacity=400.0,300.0",
            *TINY,
        ],
        out,
    )
    assert r.returncode != 0
    assert "job 1 (failed: IsADirectoryError" in r.stderr
    assert "IsADirectoryError" in (out / "1" / "error.txt").read_text()
    table = pd.read_parquet(out / "summary.parquet")
    assert table["status"].tolist() == ["finished", "failed"]
    assert "| 1 | failed |" in (out / "report.md").read_text()
    # Same config and seed as job 0 of the basic sweep: same hash, bit-identical outputs.
    assert (
        json.loads((out / "0" / "summary.json").read_text())["config_hash"]
        == json.loads((d / "0" / "summary.json").read_text())["config_hash"]
    )
    for f in ("daily.parquet", "cohorts.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / "0" / f), pd.read_parquet(d / "0" / f), check_exact=True
        )


def test_rerunning_an_interrupted_sweep_skips_finished_runs(sweep, tmp_path):
    d, _ = sweep
    out = tmp_path / "sweep"
    shutil.copytree(d, out)
    # Interrupted: job 3 killed mid-write (a temp file, no summary.json, no daily.parquet).
    (out / "3" / "summary.json").unlink()
    (out / "3" / "daily.parquet").unlink()
    (out / "3" / ".summary.json.x1y2.partial").write_text("{")
    failed = report(out)
    assert failed == ["job 3 (incomplete)"]
    assert pd.read_parquet(out / "summary.parquet")["status"].tolist()[-1] == "incomplete"

    before = {j: (out / j / "daily.parquet").stat().st_mtime_ns for j in ("0", "1", "2")}
    r = privsim_m(SWEEP, out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("skipped (finished earlier)") == 3
    assert {j: (out / j / "daily.parquet").stat().st_mtime_ns for j in before} == before
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "3" / "daily.parquet"),
        pd.read_parquet(d / "3" / "daily.parquet"),
        check_exact=True,
    )
    assert not list((out / "3").glob("*.partial"))
    assert (pd.read_parquet(out / "summary.parquet")["status"] == "finished").all()


def test_report_command_exits_non_zero_naming_failures(tmp_path):
    r = subprocess.run(
        [*script("privsim-report"), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode != 0 and "no job directories" in r.stderr


@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time under xdist
def test_ray_launcher_gives_the_same_runs(sweep, tmp_path):
    """Ray in local mode (skipped unless the `ray` extra is installed)."""
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    d, _ = sweep
    out = tmp_path / "sweep"
    # Ray's session dir holds Unix sockets (paths <= 107 bytes): pytest's tmp_path is too long.
    ray_tmp = tempfile.mkdtemp(prefix="privsim-ray-", dir="/tmp")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    try:
        r = privsim_m(
            [
                "hydra/launcher=ray_local",
                f"hydra.launcher.ray.init._temp_dir={ray_tmp}",
                "hydra.launcher.ray.init.num_cpus=2",
                "strategy=staged,premature",
                "seed=0",
                *TINY,
            ],
            out,
            env=env,
            timeout=300,
        )
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    assert "2/2 runs done" in r.stdout + r.stderr
    for job, basic in (("0", "0"), ("1", "2")):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / job / "daily.parquet"),
            pd.read_parquet(d / basic / "daily.parquet"),
            check_exact=True,
        )
    assert (out / "report.md").exists()


def test_summary_csv_holds_the_summary_table(sweep):
    """summary.csv (for R and spreadsheets) is summary.parquet, value for value."""
    d, _ = sweep
    parquet = pd.read_parquet(d / "summary.parquet")
    csv = pd.read_csv(d / "summary.csv", keep_default_na=True)
    assert list(csv.columns) == list(parquet.columns) and len(csv) == len(parquet)
    for col in parquet.columns:
        a, b = parquet[col], csv[col]
        if a.dtype.kind in "biuf":
            assert b.to_numpy(dtype=float) == pytest.approx(
                a.to_numpy(dtype=float), rel=1e-12, nan_ok=True
            ), col
        else:
            text = [[("" if pd.isna(v) else str(v)) for v in x] for x in (a, b)]
            assert text[0] == text[1], col


def test_plan_expands_like_the_basic_sweeper():
    """The plan (`planned_jobs`, public Hydra API only): the sweeper's params first, then the
    command line, a key given twice keeping its place with the later value, `glob(*)` over the
    group's own configs, the product in that order."""
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    from sim.experiment.config import CONFIG_DIR, group_options
    from sim.experiment.sweep import planned_jobs

    task = ["experiment=premature_scaling", "seed=range(0,2)", "horizon_days=40"]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=task[:1], return_hydra_config=True)
        with open_dict(cfg):
            cfg.hydra.overrides.task = task
        jobs = planned_jobs(cfg)
        assert jobs == [
            [f"strategy={s}", f"seed={n}", "experiment=premature_scaling", "horizon_days=40"]
            for s in ("staged", "premature")
            for n in (0, 1)
        ]
        with open_dict(cfg):
            cfg.hydra.sweeper.params = None
            cfg.hydra.overrides.task = ["strategy=glob(*)", "seed=0,1", "strategy=glob(st*)"]
        top = [g for g in group_options("strategy") if "/" not in g and g.startswith("st")]
        assert planned_jobs(cfg) == [[f"strategy={s}", f"seed={n}"] for s in top for n in (0, 1)]
