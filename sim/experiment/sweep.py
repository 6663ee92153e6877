"""Multirun plumbing, data only: one job that never takes the sweep down, progress as jobs
finish, and collecting a sweep's job directories into one table.

Hydra runs `on_multirun_end` only if no job raised (a raising job makes the command exit 1 and
skips the callbacks), so in a sweep a failing job is recorded instead of raised: its traceback
goes to `<job>/error.txt`, the other jobs run on, the callbacks run, and only then does the
command exit non-zero, naming the failed jobs (`SweepProgress.on_multirun_end`). Callback state
does not survive the joblib, Ray or submitit workers, so progress lives in files under
`<sweep>/.progress/`, counted into the same line a study prints (`sim.experiment.progress`).
The plan of a sweep (`planned_jobs`) is expanded with Hydra's public override parser.

Views (per-run figures, the sweep report) are other callbacks (`sim.viz.report.Figures`),
registered beside `SweepProgress` in configs/config.yaml; this floor never imports them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.experiment.hydra_records import unsaved
from sim.experiment.jobs import (
    ERROR_FILE,
    OVERRIDES,
    SUMMARY,
    clear_attempt,
    damage,
    error_of,
    finished,
    invalidate,
    job_dirs,
    parse_overrides,
    read_summary,
    record_failure,
    status,
    write_json,
    write_text,
)
from sim.experiment.keys import flatten
from sim.experiment.progress import Progress

PROGRESS_DIR = ".progress"
NOT_A_GROUP_KEY = {"seed"}  # replicates, not conditions


# ---------------------------------------------------------------------------- one job


def run_job(cfg: dict, out_dir, run_afresh: Callable[[dict, Path], str]) -> str:
    """One sweep job: run (or skip, if finished) and return "done", "skipped" or "failed".

    `run_afresh(cfg, out_dir)` simulates and writes the outputs and returns the line to print
    (`sim.experiment.run` passes it in: it imports this module for `main`, so importing it back
    would make a cycle). Never raises an `Exception`: a failure leaves its traceback in
    `<out_dir>/error.txt`.
    """
    out = Path(out_dir)
    try:
        if (why := unsaved(out)) is not None:  # Hydra's records of it: a full disk, say
            raise OSError(why)
        if finished(out, cfg):
            clear_attempt(out)  # an error or temp files of an earlier attempt of this job
            print(f"skipped (finished earlier): {out}", flush=True)
            return "skipped"
        if (out / SUMMARY).exists() and (why := damage(out)) is not None:
            print(f"privsim: redoing {out}: {why}", file=sys.stderr, flush=True)
        invalidate(out)  # damaged, another config, or half-written: not finished until redone
        clear_attempt(out)
        print(run_afresh(cfg, out), flush=True)
        return "done"
    except Exception as e:
        try:
            record_failure(out)
        except Exception as write_error:  # the job's folder itself is unusable: still its failure
            print(
                f"privsim: could not record the failure in {out / ERROR_FILE}: "
                f"{type(write_error).__name__}: {write_error}",
                file=sys.stderr,
                flush=True,
            )
        print(f"privsim: job {out} failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return "failed"


# ---------------------------------------------------------------------------- progress


PLAN = "plan.json"  # the sweep's command and planned jobs, written as the multirun starts


def planned_jobs(config: DictConfig) -> list[list[str]] | None:
    """The overrides of every job the basic sweeper will launch, in job order (None if
    unknown: another sweeper): what Hydra writes to each job's `.hydra/overrides.yaml`.

    Expanded as Hydra's `BasicSweeper` does, through its public override parser: the
    sweeper's `params` first, then the command line (a key given twice keeps its place and
    takes the later value), each sweep (`a,b`, `range(0,4)`, `glob(*)`) enumerated, and the
    jobs are the product in that order."""
    values = sweep_values(config)
    if values is None:
        return None
    keys = list(values)
    return [
        [f"{k}={v}" for k, v in zip(keys, job, strict=True)]
        for job in product(*(v for _, v in values.values()))
    ]


def sweep_values(config: DictConfig) -> dict[str, tuple[str, list[str]]] | None:
    """Per key of the sweep (`planned_jobs`), the override that sets it (as typed) and the
    values it takes, in order; None for another sweeper or an interval sweep. A key with no
    values (`seed=range(0,0)`, a glob matching nothing) makes an empty sweep."""
    if not str(config.hydra.sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    params = config.hydra.sweeper.get("params") or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    values: dict[str, tuple[str, list[str]]] = {}
    for override in OverridesParser.create().parse_overrides(args):
        key = override.get_key_element()
        if not override.is_sweep_override():
            found = [override.get_value_element_as_str()]
        elif isinstance(glob := override.value(), Glob):
            found = glob.filter(_options(override.key_or_group))
        elif override.is_discrete_sweep():
            found = list(override.sweep_string_iterator())
        else:
            return None  # an interval: the basic sweeper refuses it
        values[key] = (override.input_line, found)
    return values


def _options(group: str) -> list[str]:
    """The configs directly in a config group, sorted (what `glob(*)` chooses among)."""
    from sim.experiment.config import CONFIG_DIR

    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def varying(job: list[str], plan_jobs: list[list[str]] | None) -> list[str]:
    """The overrides of `job` (`key=value`) whose key takes more than one value across the
    plan's jobs, seed and `hydra.*` excluded: what tells this run apart in a progress line.
    Without a plan, every override of the job but those."""

    def split(jobs):
        return [dict(o.split("=", 1) for o in j if "=" in o) for j in jobs]

    mine = split([job])[0]
    keys = [k for k in mine if k.lstrip("+~") not in NOT_A_GROUP_KEY and not k.startswith("hydra.")]
    if plan_jobs:
        each = split(plan_jobs)
        keys = [k for k in keys if len({j.get(k) for j in each}) > 1]
    return [f"{k}={mine[k]}" for k in keys]


def read_plan(sweep_dir) -> dict | None:
    """The sweep's recorded plan (`command`, `jobs`, `total`, `version`), None if none or
    unreadable (a sweep run before plans were recorded, or by another sweeper)."""
    try:
        plan = json.loads((Path(sweep_dir) / PLAN).read_text())
    except (OSError, ValueError):
        return None
    return plan if isinstance(plan, dict) and isinstance(plan.get("jobs"), list) else None


def record_plan(config: DictConfig) -> None:
    """Write `plan.json` for this multirun; say so when the folder held another command's."""
    sweep_dir = Path(config.hydra.sweep.dir)
    command = list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    old = read_plan(sweep_dir)
    old_cmd = old["command"] if old else sweep_command(sweep_dir)
    if old_cmd is not None and old_cmd != command and job_dirs(sweep_dir):
        print(
            f"privsim: {sweep_dir} holds runs of another command "
            f"({' '.join(map(quote, old_cmd))}); runs outside this command's plan are left "
            "there and reported as stale, not aggregated. Use one folder per command.",
            file=sys.stderr,
            flush=True,
        )
    try:
        jobs = planned_jobs(config)
    except Exception:  # the plan is a record; never stop a sweep over it
        jobs = None
    from sim import __version__

    if jobs is None:
        (sweep_dir / PLAN).unlink(missing_ok=True)
        return
    write_json(
        sweep_dir / PLAN,
        {"command": command, "jobs": jobs, "total": len(jobs), "version": __version__},
    )


def in_plan(sweep_dir) -> tuple[dict[Path, bool], list[int]]:
    """Which job directories belong to the recorded plan (all, if there is none), and the
    plan's job numbers that have no directory. A directory belongs if its overrides are a
    planned job's: `<N>/` those of job N, another name those of any planned job."""
    dirs = job_dirs(sweep_dir)
    plan = read_plan(sweep_dir)
    if plan is None:
        return dict.fromkeys(dirs, True), []
    planned = [sorted(j) for j in plan["jobs"]]
    claimed, belongs = set(), {}
    for d in dirs:
        try:
            mine = sorted(f"{k}={v}" for k, v in parse_overrides(d).items())
            mine_raw = sorted(yaml.safe_load((d / OVERRIDES).read_text()) or [])
        except (OSError, ValueError, yaml.YAMLError):
            belongs[d] = False
            continue
        if d.name.isdigit():
            i = int(d.name)
            ok = i < len(planned) and planned[i] in (mine, mine_raw)
        else:
            free = [i for i, j in enumerate(planned) if j in (mine, mine_raw) and i not in claimed]
            ok, i = bool(free), (free[0] if free else -1)
        belongs[d] = ok
        if ok:
            claimed.add(i)
    return belongs, [i for i in range(len(planned)) if i not in claimed]


def progress_line(progress_dir: Path) -> str:
    """ "runs done / total, ETA" from the marker files the jobs of this multirun left."""
    meta = json.loads((progress_dir / "start.json").read_text())
    kinds = ("skipped", "failed")  # neither computed anything the ETA could go by
    prog = Progress(meta.get("total"), kinds=kinds, free=kinds, start=meta["start"])
    for p in progress_dir.glob("*.status"):
        prog.count(*[s for s in [p.read_text().strip()] if s in kinds])
    return prog.line()


def unfinished(sweep_dir) -> list[str]:
    """One line per job of the sweep's plan that did not finish: `job 3 (failed: ValueError:
    …)`, `job 7 (damaged: …)`, `job 11 (not started)`. Stale directories (outside the plan)
    are not counted."""
    sweep_dir = Path(sweep_dir)
    out = []
    belongs, missing = in_plan(sweep_dir)
    for job, ok in belongs.items():
        if ok and (s := status(job)) != "finished":
            why = f": {error_of(job)}" if s in ("failed", "damaged") else ""
            out.append(f"job {job.relative_to(sweep_dir)} ({s}{why})")
    return out + [f"job {i} (not started)" for i in missing]


def planned_total(sweep_dir) -> int:
    """The number of runs the sweep planned (recorded), else the job directories in it."""
    plan = read_plan(sweep_dir)
    return plan["total"] if plan else len(job_dirs(sweep_dir))


def name_unfinished(sweep_dir, failed: list[str], total: int) -> None:
    """Print the jobs that did not finish and the command that retries them (to stderr)."""
    print(f"privsim: {len(failed)} of {total} runs did not finish:", file=sys.stderr)
    for f in failed:
        print(f"  {f}", file=sys.stderr)
    if (cmd := resume_command(Path(sweep_dir))) is not None:
        print(f"retry them (finished runs are skipped): {cmd}", file=sys.stderr)


class SweepProgress(Callback):
    """`[privsim] 7/20 runs done …` as jobs end; at the end, exit 1 naming unfinished jobs.

    Registered first under `hydra.callbacks` (configs/config.yaml): Hydra calls `on_job_end` and
    `on_multirun_end` in reverse registration order, so the views registered after it (the sweep
    report) are written before this exits. Acts in multirun only.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        progress = Path(config.hydra.sweep.dir) / PROGRESS_DIR
        progress.mkdir(parents=True, exist_ok=True)
        for old in progress.glob("*.status"):  # from an earlier (interrupted) attempt
            old.unlink()
        record_plan(config)
        plan = read_plan(config.hydra.sweep.dir)
        total = plan["total"] if plan else None
        write_json(progress / "start.json", {"start": time.time(), "total": total})

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        status = job_return.return_value if job_return.status.name == "COMPLETED" else "failed"
        progress = Path(config.hydra.sweep.dir) / PROGRESS_DIR
        write_text(progress / f"{config.hydra.job.num}.status", f"{status}\n")
        if (progress / "start.json").exists():
            print(progress_line(progress), flush=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if failed := unfinished(sweep_dir):
            name_unfinished(sweep_dir, failed, planned_total(sweep_dir))
            sys.exit(1)  # SystemExit is not an Exception: Hydra lets it through


# ---------------------------------------------------------------------------- collecting


def _typed(col: pd.Series) -> pd.Series:
    """Override strings as numbers where every value is one."""
    try:
        return pd.to_numeric(col)
    except (ValueError, TypeError):
        return col.astype("string")


def collect(sweep_dir) -> pd.DataFrame:
    """One row per job: `job`, `status`, `error`, every override, every scalar summary key.

    A summary key that is also an override (`seed`, `strategy`, `pool`) keeps the value the
    run reports, falling back to the override's for runs without a summary.
    """
    sweep_dir = Path(sweep_dir)
    rows, override_keys = [], []
    belongs, missing = in_plan(sweep_dir)
    plan = read_plan(sweep_dir)
    for job, ok in belongs.items():
        try:
            overrides = parse_overrides(job)
        except (OSError, ValueError, yaml.YAMLError):
            overrides = {}
        override_keys += [k for k in overrides if k not in override_keys]
        row = {
            "job": str(job.relative_to(sweep_dir)),
            "status": status(job) if ok else "stale",
            "error": None,
            "overrides": " ".join(f"{k}={v}" for k, v in overrides.items()),
        }
        summary = {}
        if row["status"] == "finished":
            summary = flatten(read_summary(job))
        elif row["status"] in ("failed", "damaged"):
            row["error"] = error_of(job)
        elif row["status"] == "stale":
            row["error"] = "not part of this sweep's command (an earlier command's run)"
        for key in set(overrides) & set(summary):  # the reported value, as an override
            v = summary.pop(key)
            overrides[key] = v if isinstance(v, str) else json.dumps(v)
        rows.append((row, overrides, summary))
    for i in missing:
        overrides = dict(str(o).partition("=")[::2] for o in plan["jobs"][i])
        overrides = {k.lstrip("+~"): v for k, v in overrides.items()}
        override_keys += [k for k in overrides if k not in override_keys]
        row = {
            "job": str(i),
            "status": "not started",
            "error": None,
            "overrides": " ".join(f"{k}={v}" for k, v in overrides.items()),
        }
        rows.append((row, overrides, {}))
    table = pd.DataFrame([r for r, _, _ in rows], columns=["job", "status", "error", "overrides"])
    table["error"] = table["error"].astype("string")
    table["overrides"] = table["overrides"].astype("string")
    if not rows:
        return table
    over = pd.DataFrame([o for _, o, _ in rows], columns=override_keys)
    over = over.apply(_typed) if override_keys else over
    summ = pd.DataFrame([s for _, _, s in rows], index=over.index)
    table = pd.concat([table, over, summ], axis=1)
    table.attrs["override_keys"] = override_keys
    return table


def group_keys(table: pd.DataFrame) -> list[str]:
    """Overrides that vary across finished runs, seed excluded; `strategy`, `pool` first."""
    done = table[table["status"] == "finished"]
    keys = [
        k
        for k in table.attrs.get("override_keys", [])
        if k not in NOT_A_GROUP_KEY
        and not k.startswith("hydra.")
        and done[k].astype("string").nunique(dropna=False) > 1
    ]
    first = [k for k in ("strategy", "pool") if k in keys]
    return first + [k for k in keys if k not in first]


def add_groups(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A `group` column naming each run's condition (`staged`, or `strategy=…, pool=…`)."""
    table = table.copy()
    if not keys:
        table["group"] = "all runs"
    elif len(keys) == 1:
        table["group"] = table[keys[0]].astype("string")
    else:
        table["group"] = (
            table[keys]
            .astype("string")
            .apply(lambda r: ", ".join(f"{k}={v}" for k, v in r.items()), axis=1)
        )
    table["group"] = table["group"].astype("string")
    return table


def load_series(table: pd.DataFrame, sweep_dir, name: str) -> pd.DataFrame:
    """`daily` or `cohorts` of every finished run, tagged with its `job` and `group`."""
    frames = []
    for _, r in table[table["status"] == "finished"].iterrows():
        f = pd.read_parquet(Path(sweep_dir) / r["job"] / f"{name}.parquet")
        frames.append(f.assign(job=r["job"], group=r["group"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ---------------------------------------------------------------------------- the command


def sweep_command(sweep_dir: Path) -> list[str] | None:
    """The task overrides the sweep was launched with (from Hydra's `multirun.yaml`)."""
    path = Path(sweep_dir) / "multirun.yaml"
    if not path.exists():
        return None
    cfg = yaml.safe_load(path.read_text())
    return list(cfg.get("hydra", {}).get("overrides", {}).get("task") or [])


def quote(arg: str) -> str:
    """Quote a command-line argument for the shell where it needs it."""
    return f"'{arg}'" if any(ch in arg for ch in " ()[]*{}'\"$") else arg


def resume_command(sweep_dir: Path) -> str | None:
    """The `privsim -m …` line that re-runs this sweep in place (finished runs are skipped)."""
    task = sweep_command(sweep_dir)
    if task is None:
        return None
    return " ".join(["privsim", "-m", *map(quote, task), f"hydra.sweep.dir={sweep_dir}"])
