"""The job-directory contract: what a run's directory holds and what state it is in.

A *job directory* is one run's output folder (a single run's `hydra.run.dir`, or one job of a
sweep). Its data outputs are `OUTPUTS`, each written atomically (temp file, fsync, rename, fsync
of the folder) with the permissions the umask gives, and `summary.json` last. Its status:

- *finished*: every output is present and readable (with `outputs.transactions` in the
  config, `transactions.parquet` and `customers.parquet` are outputs too), `config.json`
  hashes to the summary's `config_hash`, and the summary's `version` is this package's release
  (`damage` checks it; development versions of one release count as the same:
  `sim.experiment.provenance`);
- *damaged*: `summary.json` is there but the rest does not hold (a truncated or overwritten
  file, another package version): treated as not finished, so a sweep re-runs it;
- *failed*: `error.txt` is there (the traceback, written by `sim.experiment.sweep.run_job`);
- *incomplete*: none of these (interrupted, or still running).

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
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim import __version__
from sim.core.results import not_finite
from sim.experiment.config import config_hash
from sim.experiment.provenance import same_release

CONFIG = "config.json"  # the resolved config, seed included: the source of truth of a run
DAILY = "daily.parquet"
COHORTS = "cohorts.parquet"
SUMMARY = "summary.json"  # written last: its presence means the run finished whole
OUTPUTS = (CONFIG, DAILY, COHORTS, SUMMARY)  # in the order they are written
TRANSACTIONS = "transactions.parquet"  # one row per order (outputs.transactions, opt-in)
CUSTOMERS = "customers.parquet"  # one row per user, true LTV (with TRANSACTIONS)
ERROR_FILE = "error.txt"
OVERRIDES = Path(".hydra") / "overrides.yaml"


# ---------------------------------------------------------------------------- writing


def umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _fsync(path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write) -> None:
    """Call `write(tmp_path)` then rename over `path`: readers never see a half file, and once
    this returns the file is on disk (the file is fsynced before the rename and its folder
    after). The file gets the mode an ordinary `open` would give (0666 less the umask), not
    mkstemp's 0600, so colleagues on a shared filesystem can read it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        _fsync(path.parent, directory=True)
    except OSError:  # some filesystems cannot fsync a folder; the file itself is synced
        pass


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


class OutputError(RuntimeError):
    """A run produced values its outputs may not hold (NaN or inf where none is allowed)."""


def check_daily(daily: pd.DataFrame, channels) -> None:
    """Refuse to write a daily table with NaN/inf outside the columns declared to allow NaN
    (`sim.core.results`): the run failed, whatever its exit path."""
    if bad := not_finite(daily, channels):
        raise OutputError(
            "the daily table holds values that are not finite numbers: "
            + "; ".join(bad)
            + ". The inputs are outside the range the model works in; nothing was written."
        )


def transactions_on(cfg: dict) -> bool:
    """Whether a run's config asks for the transaction log (`outputs.transactions`)."""
    outputs = cfg.get("outputs") if isinstance(cfg, dict) else None
    return bool(isinstance(outputs, dict) and outputs.get("transactions"))


def outputs_of(cfg: dict) -> tuple[str, ...]:
    """The files a run of `cfg` writes, in order: `OUTPUTS`, with the transaction log and the
    customers table before the summary when the config asks for them."""
    extra = (TRANSACTIONS, CUSTOMERS) if transactions_on(cfg) else ()
    return (*OUTPUTS[:-1], *extra, SUMMARY)


def write_parquet_frames(path: Path, frames) -> None:
    """Write frames of one schema (the first frame's) as row groups of one parquet file,
    atomically: only one frame is in memory at a time."""

    def w(tmp):
        writer = None
        try:
            for df in frames:
                table = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()

    atomic_write(path, w)


def write_outputs(
    out_dir,
    cfg: dict,
    daily: pd.DataFrame,
    cohorts: pd.DataFrame,
    summary: dict,
    transactions=None,
    customers: pd.DataFrame | None = None,
) -> None:
    """Write a run's outputs (`outputs_of`) in order, each atomically, `summary.json` (with
    the package version) last. `transactions` (frames, written in row groups) and `customers`
    are given when the config asks for them."""
    out = Path(out_dir)
    if transactions_on(cfg) != (transactions is not None and customers is not None):
        raise ValueError("outputs.transactions and the transaction tables given disagree")
    write_json(out / CONFIG, cfg)
    atomic_write(out / DAILY, lambda t: daily.to_parquet(t, index=False))
    atomic_write(out / COHORTS, lambda t: cohorts.to_parquet(t, index=False))
    if transactions is not None:
        write_parquet_frames(out / TRANSACTIONS, transactions)
        atomic_write(out / CUSTOMERS, lambda t: customers.to_parquet(t, index=False))
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


def read_summary(job) -> dict:
    """`summary.json` of a job, checked to be a JSON object (raises otherwise)."""
    summary = json.loads((Path(job) / SUMMARY).read_text())
    if not isinstance(summary, dict):
        raise ValueError("not a JSON object")
    return summary


def damage(job) -> str | None:
    """Why a job with a `summary.json` does not count as finished (None: it does). Every output
    must be there and readable, `config.json` must hash to the summary's `config_hash`, and
    the summary's `version` must be this package's."""
    job = Path(job)
    try:
        summary = read_summary(job)
    except (OSError, ValueError) as e:
        return f"{SUMMARY} unreadable ({type(e).__name__})"
    try:
        cfg = json.loads((job / CONFIG).read_text())
    except (OSError, ValueError) as e:
        return f"{CONFIG} unreadable ({type(e).__name__})"
    for name in outputs_of(cfg):
        if not name.endswith(".parquet"):
            continue
        try:
            pq.read_table(job / name) if name in (DAILY, COHORTS) else pq.read_metadata(job / name)
        except Exception as e:  # missing, truncated, not parquet
            return f"{name} unreadable ({type(e).__name__})"
    if not isinstance(cfg, dict) or summary.get("config_hash") != config_hash(cfg):
        return f"{CONFIG} does not match the summary's config_hash"
    if not same_release(summary.get("version"), __version__):  # the rule: sim.experiment.provenance
        return f"written by privsim {summary.get('version')}, this is {__version__}"
    return None


def status(job) -> str:
    """`finished`, `damaged`, `failed` or `incomplete` (see the module docstring)."""
    job = Path(job)
    if (job / SUMMARY).exists():
        return "finished" if damage(job) is None else "damaged"
    return "failed" if (job / ERROR_FILE).exists() else "incomplete"


def finished(job, cfg: dict) -> dict | None:
    """The summary of a finished (`damage`-free) run of exactly this config in `job`, else
    None."""
    job = Path(job)
    if not (job / SUMMARY).exists() or damage(job) is not None:
        return None
    summary = read_summary(job)
    return summary if summary.get("config_hash") == config_hash(cfg) else None


def invalidate(job) -> None:
    """Remove `summary.json`, so a run being redone is not taken as finished if it stops."""
    (Path(job) / SUMMARY).unlink(missing_ok=True)


def error_of(job) -> str:
    """Why a job did not finish: the last line of a failed job's traceback (the exception and
    its message), or what is wrong with a damaged one."""
    job = Path(job)
    if (job / SUMMARY).exists() and (why := damage(job)) is not None:
        return f"{why}; re-running the sweep redoes it"
    try:
        lines = [ln for ln in (job / ERROR_FILE).read_text().splitlines() if ln.strip()]
    except OSError:
        return "unknown error"
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
