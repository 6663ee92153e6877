"""An output folder that holds finished work is not overwritten by another command, and one
sweep folder takes one command at a time.

- `guard_sweep`: a sweep folder holding finished runs of *another* command (its recorded plan,
  else its `multirun.yaml`, differs from this command's jobs) is refused, naming the folder, its
  command and how many finished runs it holds, unless the user passed `--replace`. The same
  command again (a resume) passes and skips the finished runs.
- `guard_run`: a single run's folder holding a finished run of another config is refused the
  same way (the same config again is a resume: the finished run is kept).
- `lock_sweep`: a non-blocking `flock` on `<sweep>/.lock`, held by the launching process for
  the whole multirun (released when it exits, however it exits); a second command into the
  same folder is refused instead of racing the first for its job folders.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from sim.experiment.config import config_hash
from sim.experiment.jobs import CONFIG, SUMMARY, job_dirs
from sim.experiment.sweep import quote, read_plan, sweep_command

LOCK = ".lock"
REPLACE = "--replace"  # the one way to say "run this command into a folder of another"
_held: list[int] = []  # lock descriptors of this process (kept open until it exits)


class FolderRefused(ValueError):
    """A folder that holds finished work or is in use: one line naming it."""


def finished_runs(sweep_dir: Path) -> int:
    """Job folders with a `summary.json` (finished, or damaged: either is work to keep)."""
    return sum((d / SUMMARY).exists() for d in job_dirs(sweep_dir))


def guard_sweep(
    sweep_dir: Path, command: list[str], jobs: list[list[str]] | None, replace: bool
) -> None:
    """Refuse a command whose jobs are not the ones the folder's finished sweep planned."""
    sweep_dir = Path(sweep_dir)
    if replace or not sweep_dir.is_dir():
        return
    plan = read_plan(sweep_dir)
    if plan is not None and jobs is not None:
        old, same = plan.get("command") or [], plan["jobs"] == jobs
    else:
        old = (plan or {}).get("command") or sweep_command(sweep_dir)
        same = old is None or old == command
    if same or not (n := finished_runs(sweep_dir)):
        return
    raise FolderRefused(
        f"{sweep_dir} holds a sweep of another command ({' '.join(map(quote, old)) or 'none'}) "
        f"with {n} finished run{'s' if n != 1 else ''}; run it into a new hydra.sweep.dir, or "
        f"add {REPLACE} to run this command there (its runs then replace that sweep's)"
    )


def guard_run(run_dir: Path, cfg: dict, replace: bool) -> None:
    """Refuse a single run into a folder that holds a finished run of another config."""
    run_dir = Path(run_dir)
    if replace or not (run_dir / SUMMARY).exists():
        return
    try:
        old = json.loads((run_dir / CONFIG).read_text())
        same = isinstance(old, dict) and config_hash(old) == config_hash(cfg)
    except (OSError, ValueError):
        same = False
    if not same:
        raise FolderRefused(
            f"{run_dir} holds a finished run of another config; run into a new hydra.run.dir, "
            f"or add {REPLACE} to overwrite it"
        )


def lock_sweep(sweep_dir: Path) -> None:
    """Create the sweep folder and hold its lock until this process exits; refuse if another
    process holds it."""
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(sweep_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FolderRefused(
            f"{sweep_dir} is in use by another privsim command (it holds {sweep_dir / LOCK}); "
            "wait for it to finish, or use another hydra.sweep.dir"
        ) from None
    _held.append(fd)


def release() -> None:
    """Release the locks this process holds (tests; a command releases them by exiting)."""
    while _held:
        os.close(_held.pop())
