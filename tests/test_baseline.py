"""Stored baseline: a small set of runs whose results must not change by accident.

Modelled on Starsim's `tests/test_baselines.py`. For each case (strategy x seed, 120 days of
the default scenario) `tests/baseline.json` stores every `summary()` value and a hash of the
exact bytes of the daily and cohort tables. Any change to a result fails this test. When a change
of results is intended, regenerate the file and say in the commit message which numbers moved
and why:

    .venv/bin/python tests/test_baseline.py --regenerate     (or: make baseline)
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent
BASELINE = ROOT / "baseline.json"
CASES = [(s, seed) for s in ("staged", "premature", "ten_to_n") for seed in (0, 1)]
HORIZON = 120


def frame_hash(df: pd.DataFrame) -> str:
    """sha256 of column names, dtypes and the raw bytes of every column: any bit changes it."""
    h = hashlib.sha256()
    for col in df.columns:
        values = df[col].to_numpy()
        h.update(f"{col}:{values.dtype}:".encode())
        h.update(values.tobytes() if values.dtype != object else repr(values.tolist()).encode())
    return h.hexdigest()


def _jsonable(v):
    """Summary values as stored: NaN as the string 'nan' (JSON has no NaN)."""
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return v


def result(strategy: str, seed: int) -> dict:
    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose, model_kwargs

    logging.getLogger("MESA").setLevel(logging.WARNING)
    cfg = compose([f"strategy={strategy}", f"seed={seed}", f"horizon_days={HORIZON}"])
    m = PrivateDomainModel(**model_kwargs(cfg)).run()
    return {
        "summary": _jsonable(m.summary()),
        "daily_sha256": frame_hash(m.daily()),
        "cohorts_sha256": frame_hash(m.cohorts()),
    }


def key(strategy: str, seed: int) -> str:
    return f"{strategy}/seed={seed}"


def regenerate() -> None:
    data = {key(s, k): result(s, k) for s, k in CASES}
    BASELINE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {BASELINE} ({len(data)} cases)")


@pytest.mark.parametrize("strategy, seed", CASES)
def test_results_match_the_stored_baseline(strategy, seed):
    stored = json.loads(BASELINE.read_text())[key(strategy, seed)]
    now = json.loads(json.dumps(result(strategy, seed)))  # the same JSON round trip as stored
    moved = {
        k: (stored["summary"].get(k), v)
        for k, v in now["summary"].items()
        if stored["summary"].get(k) != v
    }
    assert not moved, f"summary values moved (stored, now): {moved}"
    assert set(now["summary"]) == set(stored["summary"]), "summary keys changed"
    assert now["daily_sha256"] == stored["daily_sha256"], "daily table changed"
    assert now["cohorts_sha256"] == stored["cohorts_sha256"], "cohort table changed"


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python tests/test_baseline.py --regenerate")
    regenerate()
