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
