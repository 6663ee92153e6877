"""The `privsim` command end to end, as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

PRIVSIM = [sys.executable, "-m", "sim"]
SUMMARY_KEYS = {
    "users_acquired",
    "customers",
    "conversion_30d",
    "ltv_per_user_to_date",
    "ltv_90d",
    "ltv_cac_90d",
    "payback_day",
    "cac_per_user",
    "ltv_cac_to_date",
    "gmv",
    "revenue",
    "margin",
    "acquisition_spend",
    "team_cost",
    "churn_rate",
    "peak_users_per_operator",
    "seed",
    "version",
}


def test_run_writes_every_output(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run(
        [
            *PRIVSIM,
            "pool=conversion",
            "operators.count=5",
            "seed=7",
            "horizon_days=60",
            f"hydra.run.dir={out}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    for f in (
        "daily.parquet",
        "cohorts.parquet",
        "summary.json",
        "funnel.png",
        "conversion.png",
        "config.json",
        ".hydra/overrides.yaml",
    ):
        assert (out / f).stat().st_size > 0, f
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["seed"] == 7 and summary["pool"] == "conversion"
    daily = pd.read_parquet(out / "daily.parquet")
    assert len(daily) == 60 and daily["operators"].iloc[0] == 5
    assert not list(Path(out).glob("*.partial"))


def test_bad_input_stops_with_a_named_key(tmp_path):
    r = subprocess.run(
        [*PRIVSIM, "churn.base_rate=1.5", f"hydra.run.dir={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "churn.base_rate = 1.5" in r.stderr and "[0, 1]" in r.stderr
    assert not (tmp_path / "daily.parquet").exists()
