"""Multirun plumbing: one job that never takes the sweep down, progress as jobs finish, and the
sweep report when the last one is done.

Hydra runs `on_multirun_end` only if no job raised (a raising job makes the command exit 1 and
skips the callback), so in a sweep a failing job is recorded instead of raised: its traceback
goes to `<job>/error.txt`, the other jobs run on, the report is written, and only then does the
command exit non-zero, naming the failed jobs. Callback state does not survive the joblib, Ray
or submitit workers, so progress lives in files under `<sweep>/.progress/`.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.experiment.jobs import atomic_write, write_json
from sim.experiment.run import finished, run

ERROR_FILE = "error.txt"
PROGRESS_DIR = ".progress"


def result_line(s: dict, out_dir) -> str:
    return (
        f"{s['strategy']} / {s['pool']} / seed {s['seed']}: acquired {s['users_acquired']:,}, "
        f"30-day conversion {s['conversion_30d']:.1%}, LTV/CAC {s['ltv_cac']:.2f}, "
        f"churn {s['churn_rate']:.1%} -> {out_dir}"
    )


def run_job(cfg: dict, out_dir) -> str:
    """One sweep job: run (or skip, if finished) and return "done", "skipped" or "failed".

    Never raises an `Exception`: a failure leaves its traceback in `<out_dir>/error.txt`.
    """
    out = Path(out_dir)
    (out / ERROR_FILE).unlink(missing_ok=True)  # from an earlier attempt of this job
    for stale in out.glob(".*.partial"):  # temp files of a job killed mid-write
        stale.unlink(missing_ok=True)
    try:
        if finished(out, cfg):
            print(f"skipped (finished earlier): {out}", flush=True)
            return "skipped"
        print(result_line(run(cfg, out, resume=False), out), flush=True)
        return "done"
    except Exception as e:
        atomic_write(out / ERROR_FILE, lambda t: Path(t).write_text(traceback.format_exc()))
        print(f"privsim: job {out} failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return "failed"


def count_jobs(config: DictConfig) -> int | None:
    """How many jobs the basic sweeper will launch for this multirun config (None if unknown)."""
    if not str(config.hydra.sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra._internal.utils import create_config_search_path
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sim.experiment.config import CONFIG_DIR

    params = config.hydra.sweeper.get("params") or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    loader = ConfigLoaderImpl(config_search_path=create_config_search_path(CONFIG_DIR))
    overrides = OverridesParser.create(config_loader=loader).parse_overrides(args)
    return sum(len(batch) for batch in BasicSweeper.split_arguments(overrides, None))


def _fmt(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def progress_line(progress_dir: Path) -> str:
    """ "runs done / total, ETA" from the marker files the jobs of this multirun left."""
    meta = json.loads((progress_dir / "start.json").read_text())
    statuses = [p.read_text().strip() for p in progress_dir.glob("*.status")]
    done, total = len(statuses), meta.get("total")
    computed = sum(s == "done" for s in statuses)
    elapsed = time.time() - meta["start"]
    line = f"[privsim] {done}/{total or '?'} runs done"
    extra = [f"{n} {s}" for s in ("skipped", "failed") if (n := statuses.count(s))]
    if extra:
        line += f" ({', '.join(extra)})"
    line += f", elapsed {_fmt(elapsed)}"
    if total and done < total and computed:
        line += f", ETA {_fmt(elapsed / computed * (total - done))}"
    return line


class SweepCallback(Callback):
    """Registered in configs/config.yaml (`hydra.callbacks.sweep`); acts in multirun only."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        progress = Path(config.hydra.sweep.dir) / PROGRESS_DIR
        progress.mkdir(parents=True, exist_ok=True)
        for old in progress.glob("*.status"):  # from an earlier (interrupted) attempt
            old.unlink()
        try:
            total = count_jobs(config)
        except Exception:  # progress is a nicety; never stop a sweep over it
            total = None
        write_json(progress / "start.json", {"start": time.time(), "total": total})

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        status = job_return.return_value if job_return.status.name == "COMPLETED" else "failed"
        progress = Path(config.hydra.sweep.dir) / PROGRESS_DIR
        marker = progress / f"{config.hydra.job.num}.status"
        atomic_write(marker, lambda t: Path(t).write_text(f"{status}\n"))
        if (progress / "start.json").exists():
            print(progress_line(progress), flush=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from sim.experiment.report import report

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            failed = report(sweep_dir)
        except Exception as e:  # Hydra would turn a callback's exception into a mere warning
            traceback.print_exc()
            sys.exit(f"privsim: the sweep report for {sweep_dir} failed: {type(e).__name__}: {e}")
        if failed:
            sys.exit(1)  # `report` has named the failed jobs
