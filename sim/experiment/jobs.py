"""Writing a run's results: every file lands atomically (temp file + rename), and
`summary.json` is written last, so its presence means the run finished whole."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.viz import plots


def atomic_write(path: Path, write) -> None:
    """Call `write(tmp_path)` then rename over `path`: readers never see a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data) -> None:
    def w(tmp):
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True, default=_json_default)
            f.write("\n")

    atomic_write(path, w)


def _json_default(v):
    if hasattr(v, "item"):
        return v.item()
    raise TypeError(f"cannot serialise {type(v).__name__}")


def write_run(out_dir, daily: pd.DataFrame, cohorts: pd.DataFrame, summary: dict, title="") -> None:
    out = Path(out_dir)
    atomic_write(out / "daily.parquet", lambda t: daily.to_parquet(t, index=False))
    atomic_write(out / "cohorts.parquet", lambda t: cohorts.to_parquet(t, index=False))
    atomic_write(out / "funnel.png", lambda t: plots.funnel(daily, t, title))
    atomic_write(out / "conversion.png", lambda t: plots.conversion(cohorts, t, title))
    write_json(out / "summary.json", {**summary, "version": __version__})
