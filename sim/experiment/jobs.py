"""The job-directory contract: what a run's directory holds and what state it is in.

A *job directory* is one run's output folder (a single run's `hydra.run.dir`, or one job of a
sweep). Its data outputs are `OUTPUTS`, each written atomically (temp file + rename) and
`summary.json` last, so the presence of `summary.json` means every output is whole. Its status:

- *finished*: `summary.json` is there;
- *failed*: `error.txt` is there (the traceback, written by `sim.experiment.sweep.run_job`);
- *incomplete*: neither (interrupted, or still running).

Figures (`funnel.png`, `conversion.png`) are views drawn from these files by `sim.viz`; they
are not part of the contract. Sweeps find their jobs by Hydra's `.hydra/overrides.yaml`.
Everything that reads or writes a job directory goes through here, so the sweep, the report and
`privsim-reproduce` agree on one definition.
"""

from __future__ import annotations

import json
import os
import tempfile
import traceback
from pathlib import Path

import pandas as pd
import yaml

from sim import __version__
from sim.experiment.config import config_hash

CONFIG = "config.json"  # the resolved config, seed included: the source of truth of a run
DAILY = "daily.parquet"
COHORTS = "cohorts.parquet"
SUMMARY = "summary.json"  # written last: its presence means the run finished whole
OUTPUTS = (CONFIG, DAILY, COHORTS, SUMMARY)  # in the order they are written
ERROR_FILE = "error.txt"
OVERRIDES = Path(".hydra") / "overrides.yaml"


# ---------------------------------------------------------------------------- writing


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


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda t: Path(t).write_text(text))


def _json_default(v):
    if hasattr(v, "item"):
        return v.item()
    raise TypeError(f"cannot serialise {type(v).__name__}")


def write_outputs(
    out_dir, cfg: dict, daily: pd.DataFrame, cohorts: pd.DataFrame, summary: dict
) -> None:
    """Write a run's `OUTPUTS` in order, each atomically, `summary.json` (with the package
    version) last."""
    out = Path(out_dir)
    write_json(out / CONFIG, cfg)
    atomic_write(out / DAILY, lambda t: daily.to_parquet(t, index=False))
    atomic_write(out / COHORTS, lambda t: cohorts.to_parquet(t, index=False))
    write_json(out / SUMMARY, {**summary, "version": __version__})


def record_failure(job) -> None:
    """Leave the exception being handled as `error.txt` (call inside an `except` block)."""
    write_text(Path(job) / ERROR_FILE, traceback.format_exc())


def clear_attempt(job) -> None:
    """Remove what an earlier, unfinished attempt left: its error and half-written temp files."""
    job = Path(job)
    (job / ERROR_FILE).unlink(missing_ok=True)
    for stale in job.glob(".*.partial"):
        stale.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- reading


def status(job) -> str:
    """`finished`, `failed` or `incomplete` (see the module docstring)."""
    job = Path(job)
    if (job / SUMMARY).exists():
        return "finished"
    return "failed" if (job / ERROR_FILE).exists() else "incomplete"


def finished(job, cfg: dict) -> dict | None:
    """The summary of a finished run of exactly this config in `job`, else None."""
    path = Path(job) / SUMMARY
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    return summary if summary.get("config_hash") == config_hash(cfg) else None


def error_of(job) -> str:
    """The last line of a failed job's traceback (the exception and its message)."""
    lines = [ln for ln in (Path(job) / ERROR_FILE).read_text().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _natural(p: Path):
    return (0, int(p.name), "") if p.name.isdigit() else (1, 0, str(p))


def job_dirs(sweep_dir) -> list[Path]:
    """Every job directory under `sweep_dir` (any `subdir` pattern), in job order."""
    found = {p.parent.parent for p in Path(sweep_dir).glob(f"**/{OVERRIDES.as_posix()}")}
    return sorted(found, key=_natural)


def parse_overrides(job) -> dict[str, str]:
    """`key=value` overrides of a job as strings (`+`/`++`/`~` prefixes dropped)."""
    items = yaml.safe_load((Path(job) / OVERRIDES).read_text()) or []
    out = {}
    for item in items:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = value
    return out
