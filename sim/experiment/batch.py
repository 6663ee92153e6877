"""The batch engine: many parameter sets × seeds, each run's summary back, no job directories.

Studies (sensitivity analysis, `sim.experiment.sensitivity`; calibration later) evaluate the
model hundreds of times and need each run's numbers, not its folder of outputs. `run_batch`
takes a base config (composed once from Hydra overrides with `sim.experiment.config.compose`)
and a list of `Evaluation`s, each a few dotted-key values (`operators.capacity`,
`strategy.phases.0.daily_users`) set on a copy of that dict, plus a seed. It returns one
`Result` per evaluation — the run's summary (nested keys dotted: `rfm.important_value`) and,
where asked, some daily columns or whole tables (`daily`, `cohorts`: the slide draws from
them) — in the order given.

- **Same numbers as `privsim`.** An evaluation builds `PrivateDomainModel` from the config
  exactly as `sim.experiment.run.run` does (the model validates the dicts itself) and adds the
  same summary fields; only the files are not written.
- **Checked before any run.** Every dotted key must name a key of the composed config
  (else `ConfigError` naming it); values are validated by the model's schema as usual, and an
  evaluation whose values are out of range fails alone (`Result.error`), never the batch.
- **Any executor.** The evaluations go out in chunks (several runs per task, which cuts the
  per-task overhead of a cluster) to any `concurrent.futures.Executor`: by default `n_jobs`
  local processes (loky's reusable workers: fresh interpreters, so nothing depends on fork);
  `ray_address` is Ray's (`sim.experiment.executors.RayExecutor`, `pip install -e '.[ray]'`);
  or pass your own (`executor=`: a process pool, Dask's `client.get_executor()`, mpi4py's
  `MPIPoolExecutor`). Results come back in the order given and are the same numbers whatever
  the executor and the chunk size.
- **Progress** on stderr: `[privsim] 130/520 runs done (12 cached), elapsed 0:01:10, ETA …`
  (`sim.experiment.progress`, as a sweep's).
- **Resumable.** With `cache_dir`, each finished evaluation is one small JSON file named by
  its config hash (`<cache_dir>/<hash>.json`, written atomically by `sim.experiment.jobs`;
  tables asked for beside it as `<hash>.<table>.parquet`); running the batch again reads
  those instead of simulating. Failed evaluations are not cached: a re-run tries them again.

Hydra multirun stays the tool for named sweeps with full outputs (docs/sweeps.md).
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from pathlib import Path

from sim import __version__
from sim.core.params import ConfigError
from sim.experiment.config import config_hash
from sim.experiment.executors import executor_for
from sim.experiment.jobs import atomic_write, write_json
from sim.experiment.keys import Variants, apply_values, check_keys, flatten, plain
from sim.experiment.progress import Progress

__all__ = [  # the keys' functions stay importable from here, where the studies look for them
    "Evaluation", "Result", "apply_values", "check_keys", "flatten", "results_frame",
    "run_batch", "simulate",
]  # fmt: skip
FRAMES = ("daily", "cohorts")  # whole tables a caller may ask back (`frames=`)


@dataclass(frozen=True)
class Evaluation:
    """One run to make: dotted-key values set on the base config, and its seed."""

    values: dict = field(default_factory=dict)
    seed: int = 0
    base: str = "base"  # which base config (a study's arm, e.g. `staged`)


@dataclass
class Result:
    """What one evaluation gave: its summary (flat, dotted keys) or the error that stopped it."""

    evaluation: Evaluation
    config_hash: str
    summary: dict | None = None
    daily: dict[str, list] | None = None  # requested daily columns, one value per day
    frames: dict | None = None  # requested tables (`FRAMES`) as DataFrames
    error: str | None = None
    cached: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


# ---------------------------------------------------------------------------- one run


def simulate(cfg: dict, daily_columns: Sequence[str] = ()) -> tuple[dict, dict | None]:
    """Run `cfg` as `sim.experiment.run.run` does, without writing: (summary, daily columns).

    The summary is the run's (nested, as `summary.json` holds it, less `version`)."""
    summary, series, _ = _simulate(cfg, daily_columns, ())
    return summary, series


def _simulate(cfg: dict, daily_columns: Sequence[str], frames: Sequence[str]):
    """`simulate`, and the tables named in `frames` as DataFrames (None if none asked)."""
    from sim.experiment.run import simulate as simulate_run

    logging.getLogger("MESA").setLevel(logging.WARNING)
    model, summary = simulate_run(cfg)
    daily = model.daily()
    series = None
    if daily_columns:
        missing = [c for c in daily_columns if c not in daily.columns]
        if missing:
            raise ConfigError(f"daily columns not in the daily table: {', '.join(missing)}")
        series = {c: [plain(x) for x in daily[c].to_numpy()] for c in daily_columns}
    tables = {n: (daily if n == "daily" else model.cohorts()) for n in frames} or None
    return summary, series, tables


def _evaluate(cfg: dict, daily_columns: Sequence[str], frames: Sequence[str]):
    """One evaluation in a worker: (summary, daily, tables, error); never raises an
    `Exception`."""
    try:
        summary, series, tables = _simulate(cfg, daily_columns, frames)
        return flatten(summary), series, tables, ""
    except Exception as e:  # recorded, never fatal to the batch
        last = traceback.format_exception_only(type(e), e)[-1].strip()
        return None, None, None, last or type(e).__name__


def evaluate_chunk(chunk: list[tuple[int, dict]], daily_columns: Sequence[str] = (),
                   frames: Sequence[str] = ()) -> list[tuple]:  # fmt: skip
    """One task: several evaluations `(index, config)` in a row, each
    `(index, summary, daily, tables, error, seconds)`."""
    out = []
    for i, cfg in chunk:
        t = time.perf_counter()
        summary, series, tables, error = _evaluate(cfg, daily_columns, frames)
        out.append((i, summary, series, tables, error, time.perf_counter() - t))
    return out


# ---------------------------------------------------------------------------- cache


def _cache_path(cache_dir: Path, h: str, frame: str | None = None) -> Path:
    return cache_dir / (f"{h}.json" if frame is None else f"{h}.{frame}.parquet")


def _read_cache(cache_dir: Path | None, h: str, daily_columns: Sequence[str], frames=()):
    if cache_dir is None:
        return None
    p = _cache_path(cache_dir, h)
    try:
        data = json.loads(p.read_text())
        if frames:
            import pandas as pd

            data["frames"] = {n: pd.read_parquet(_cache_path(cache_dir, h, n)) for n in frames}
    except (OSError, ValueError):
        return None
    if data.get("version") != __version__ or data.get("config_hash") != h:
        return None
    if any(c not in (data.get("daily") or {}) for c in daily_columns):
        return None
    return data


def _write_cache(cache_dir: Path, r: Result) -> None:
    for name, frame in (r.frames or {}).items():  # first: the JSON says the entry is whole
        atomic_write(
            _cache_path(cache_dir, r.config_hash, name),
            lambda t, f=frame: f.to_parquet(t, index=False),
        )
    write_json(
        _cache_path(cache_dir, r.config_hash),
        {
            "config_hash": r.config_hash,
            "version": __version__,
            "values": r.evaluation.values,
            "seed": r.evaluation.seed,
            "base": r.evaluation.base,
            "summary": r.summary,
            "daily": r.daily,
            "seconds": r.seconds,
        },
    )


# ---------------------------------------------------------------------------- the batch


def chunks(items: list, size: int) -> list[list]:
    """`items` in consecutive runs of `size` (the last one shorter)."""
    return [items[k : k + size] for k in range(0, len(items), size)]


MAX_CHUNK = 8  # runs per task at most: a year-long run takes seconds, so a task of 8 dwarfs any
# executor's per-task cost, while progress still moves and no worker idles long at the end


def default_chunk_size(tasks: int, workers: int) -> int:
    """Several runs per task, yet about four tasks per worker (so no worker idles long at the
    end while another finishes a long chunk), and at most `MAX_CHUNK`."""
    return max(1, min(MAX_CHUNK, tasks // (4 * max(1, workers))))


def run_batch(
    bases: dict[str, dict] | dict,
    evaluations: Sequence[Evaluation],
    *,
    n_jobs: int = 2,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    cache_dir=None,
    daily_columns: Sequence[str] = (),
    frames: Sequence[str] = (),
    ray_address: str | None = None,
    progress=True,
    backfill=None,
) -> list[Result]:
    """Evaluate every `Evaluation` and return its `Result`, in the order given.

    `bases` maps a base name to a composed config (`compose([...])`); a single composed config
    is taken as `{"base": cfg}`. Keys are checked against the base first (`ConfigError`
    naming the key, nothing run). Where the runs go: `executor` (any
    `concurrent.futures.Executor`, left running for the caller), else `ray_address`
    (`"auto"`, `"ray://host:10001"`, or `"local"` for a Ray on this machine), else `n_jobs`
    local processes (1 = in this process). `chunk_size` runs per task (default: about four
    tasks per worker). `frames` names whole tables to return (`FRAMES`). `progress`: True
    prints to stderr, a stream prints there, False is quiet, a `Progress` counts there (a study
    of many batches with one line and one total). `backfill` (`sim.experiment.backfill`, local
    processes with `cache_dir` only): runs to hand to the workers this batch leaves idle.
    """
    if "horizon_days" in bases:  # one composed config
        bases = {"base": bases}
    for ev in evaluations:
        if ev.base not in bases:
            raise ConfigError(f"base {ev.base!r}: unknown; known: {', '.join(bases)}")
    unknown = [f for f in frames if f not in FRAMES]
    if unknown:
        raise ConfigError(f"frames {', '.join(unknown)}: unknown; known: {', '.join(FRAMES)}")
    variants = {}
    for name in dict.fromkeys(ev.base for ev in evaluations):
        check_keys(bases[name], {k for ev in evaluations if ev.base == name for k in ev.values})
        variants[name] = Variants(bases[name])
    cache = Path(cache_dir) if cache_dir is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    daily_columns, frames = tuple(daily_columns), tuple(frames)

    configs = [{**variants[ev.base].of(ev.values), "seed": int(ev.seed)} for ev in evaluations]
    hashes = [config_hash(c) for c in configs]
    if backfill is not None:
        backfill.settle(hashes)
    results: list[Result | None] = [None] * len(evaluations)
    if isinstance(progress, Progress):
        prog = progress
    else:
        stream = None if progress is False else (sys.stderr if progress is True else progress)
        prog = Progress(len(evaluations), stream)

    def count(r: Result) -> None:
        if backfill is not None and r.cached and r.config_hash in backfill.done:
            return  # counted when it came back
        prog.count(*(["cached"] if r.cached else []), *([] if r.ok else ["failed"]))

    todo: dict[str, list[int]] = {}  # config hash → evaluations with that config (run once)
    for i, (ev, h) in enumerate(zip(evaluations, hashes, strict=True)):
        if (data := _read_cache(cache, h, daily_columns, frames)) is not None:
            results[i] = Result(
                ev, h, data["summary"], data.get("daily"), data.get("frames"), cached=True
            )
            count(results[i])
        else:
            todo.setdefault(h, []).append(i)

    def finish(i, summary, series, tables, error, seconds):
        for j in todo[hashes[i]]:
            r = Result(evaluations[j], hashes[j], summary, series, tables, error or None,
                       seconds=seconds)  # fmt: skip
            if j == i and r.ok and cache is not None:
                _write_cache(cache, r)
            results[j] = r
            count(r)

    tasks = [(idx[0], configs[idx[0]]) for idx in todo.values()]
    if not tasks:
        return results  # type: ignore[return-value]
    alone = n_jobs == 1 or (len(tasks) == 1 and backfill is None)
    if executor is None and ray_address is None and alone:
        for out in evaluate_chunk(tasks, daily_columns, frames):  # in this process
            finish(*out)
        return results  # type: ignore[return-value]
    with executor_for(executor, n_jobs, ray_address) as (pool, workers):
        size = chunk_size or default_chunk_size(len(tasks), workers)
        pending = {
            pool.submit(evaluate_chunk, part, daily_columns, frames) for part in chunks(tasks, size)
        }
        while pending:
            if backfill is not None:
                backfill.top_up(pool, workers - len(pending) - len(backfill.running))
            done, _ = wait(pending | set(backfill.running if backfill else ()),
                           return_when=FIRST_COMPLETED)  # fmt: skip
            for future in done:
                if future not in pending:
                    backfill.collect(future)
                    continue
                pending.remove(future)
                for out in future.result():
                    finish(*out)
    return results  # type: ignore[return-value]


# ---------------------------------------------------------------------------- tables


def results_frame(results: Sequence[Result]):
    """One row per evaluation: `base`, `seed`, each value (`param.<key>`), `status`, `error`,
    `cached`, `seconds`, and every summary scalar (nested keys dotted)."""
    import pandas as pd

    rows = []
    for r in results:
        row = {
            "base": r.evaluation.base,
            "seed": r.evaluation.seed,
            **{f"param.{k}": plain(v) for k, v in r.evaluation.values.items()},
            "config_hash": r.config_hash,
            "status": "finished" if r.ok else "failed",
            "error": r.error or "",
            "cached": r.cached,
            "seconds": r.seconds,
        }
        for k, v in (r.summary or {}).items():
            if k in ("seed", "config_hash"):
                continue
            row[k] = math.nan if v is None else v
        rows.append(row)
    return pd.DataFrame(rows)
