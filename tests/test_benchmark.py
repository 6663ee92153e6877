"""The benchmark script runs and reports sane numbers (tiny sizes; the sweep is `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
KEYS = {"users", "days", "build_s", "run_s", "ns_per_user_day", "peak_rss_mb"}


@pytest.mark.parametrize("naive", [False, True])
def test_benchmark_prints_one_sane_json_line(naive):
    cmd = [sys.executable, str(RUN), "--users", "2000", "--days", "5"] + (
        ["--naive"] if naive else []
    )
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 1
    r = json.loads(lines[0])
    assert KEYS <= set(r)
    assert r["users"] == 2000 and r["days"] == 5 and r["naive"] is naive
    assert r["build_s"] >= 0 and r["run_s"] > 0
    assert r["ns_per_user_day"] == pytest.approx(r["run_s"] / (2000 * 5) * 1e9, rel=0.05)
    assert 10 < r["peak_rss_mb"] < 4000
    assert r["rows_days"] >= 2000 * 5


BATCH = RUN.parent / "batch.py"


def test_batch_runs_horizons_side_by_side_and_gives_their_ratios():
    """One batch line per horizon and round, then the pooled line whose ratios are the runs'
    own numbers paired by seed (one run, one round: the plain quotients, exactly)."""
    cmd = [sys.executable, str(BATCH), "--runs", "1", "--jobs", "1", "--rounds", "1",
           "--days", "4", "12"]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    *batches, last = (json.loads(line) for line in out.strip().splitlines())
    assert [b["days"] for b in batches] == [4, 12]
    short, long = (last["horizons"][str(d)] for d in (4, 12))
    assert [b["row_days_per_run"] for b in batches] == [
        short["row_days_per_run"],
        long["row_days_per_run"],
    ]
    assert long["row_days_per_run"] > 3 * short["row_days_per_run"] > 0  # rows only accrue
    ratio = last["ratios_to_4_days"]["12"]
    rows = long["row_days_per_run"] / short["row_days_per_run"]
    secs = long["s_per_run"][0] / short["s_per_run"][0]
    assert ratio["row_days"] == [pytest.approx(rows, abs=1e-3), None]
    assert ratio["s_per_run"][0] == pytest.approx(secs, rel=0.01)  # rounded: 0.1 ms, 0.001
    assert ratio["cost_per_row_day"][0] == pytest.approx(secs / rows, rel=0.01)


LIVE_BLOCK = RUN.parent / "live_block.py"


def test_live_block_prices_the_dense_pass_on_the_engines_own_day():
    """The dense-layout pass and the kept-columns pass that docs/performance.md prices give the
    engine's trust, stages and hazards bit for bit on the run's last day (else their timings
    price something else)."""
    cmd = [sys.executable, str(LIVE_BLOCK), "--days", "90", "--repeat", "2"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300).stdout
    r = json.loads(out.strip())
    assert r["bit_identical"] is True
    assert 0 < r["live"] <= r["rows"]
    assert r["pass_ms"] > 0 and r["dense_ms"] > 0 and r["gather_ms"] > 0
    assert r["kept_ms"] > 0 and r["spread_ms"] > 0
