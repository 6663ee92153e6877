"""The batch engine: many parameter sets × seeds, each run's summary back, no job directories.

Studies (sensitivity analysis, `sim.experiment.sensitivity`; calibration later) evaluate the
model hundreds of times and need each run's numbers, not its folder of outputs. `run_batch`
takes a base config (composed once from Hydra overrides with `sim.experiment.config.compose`)
and a list of `Evaluation`s, each a few dotted-key values (`operators.capacity`,
`strategy.phases.0.daily_users`) set on a copy of that dict, plus a seed. It returns one
`Result` per evaluation — the run's summary (nested keys dotted: `rfm.important_value`) and,
where asked, some daily columns — in the order given.

- **Same numbers as `privsim`.** An evaluation builds `PrivateDomainModel` from the config
  exactly as `sim.experiment.run.run` does (the model validates the dicts itself) and adds the
  same summary fields; only the files are not written.
- **Checked before any run.** Every dotted key must name a key of the composed config
  (else `ConfigError` naming it); values are validated by the model's schema as usual, and an
  evaluation whose values are out of range fails alone (`Result.error`), never the batch.
- **Parallel.** `n_jobs` local processes (joblib's loky workers: fresh interpreters, so
  nothing depends on fork); `ray_address` sends the evaluations to a Ray cluster instead
  (`pip install -e '.[ray]'`; imported only then).
- **Progress** on stderr: `[privsim] 130/520 runs done (12 cached), elapsed 0:01:10, ETA …`.
- **Resumable.** With `cache_dir`, each finished evaluation is one small JSON file named by
  its config hash (`<cache_dir>/<hash>.json`, written atomically by `sim.experiment.jobs`);
  running the batch again reads those instead of simulating. Failed evaluations are not
  cached: a re-run tries them again.

Hydra multirun stays the tool for named sweeps with full outputs (README, "Sweeps").
"""

from __future__ import annotations

import copy
import json
import logging
import math
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim import __version__
from sim.core.params import ConfigError
from sim.experiment.config import NON_MODEL_KEYS, config_hash
from sim.experiment.jobs import write_json


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
    error: str | None = None
    cached: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


# ---------------------------------------------------------------------------- configs


def _walk(cfg, dotted: str):
    """The container holding the last part of `dotted`, and that part (list index as int);
    `ConfigError` naming the key if any part is not in the config."""
    parts = dotted.split(".")
    node = cfg
    for i, part in enumerate(parts):
        here = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"{dotted}: unknown key ({here}: no such list item)")
            part = int(part)
        elif isinstance(node, dict):
            if part not in node:
                known = ", ".join(sorted(map(str, node))) or "none"
                raise ConfigError(f"{dotted}: unknown key ({here}); allowed there: {known}")
        else:
            raise ConfigError(f"{dotted}: unknown key ({here} is inside a value, not a mapping)")
        if i == len(parts) - 1:
            return node, part
        node = node[part]
    raise ConfigError(f"{dotted}: empty key")


def check_keys(cfg: dict, keys: Iterable[str]) -> None:
    """Refuse any dotted key that does not name a key of `cfg` (raises `ConfigError`)."""
    for key in keys:
        if key in NON_MODEL_KEYS or key.split(".")[0] in NON_MODEL_KEYS:
            raise ConfigError(f"{key}: not a model key")
        _walk(cfg, key)


def apply_values(cfg: dict, values: dict) -> dict:
    """A copy of `cfg` with each dotted key set to its value (keys checked, values not)."""
    out = copy.deepcopy(cfg)
    for key, value in values.items():
        node, last = _walk(out, key)
        node[last] = _plain(value)
    return out


def _plain(v):
    """numpy scalars → Python numbers (configs, hashes and JSON hold plain values)."""
    return v.item() if hasattr(v, "item") else v


def evaluation_config(bases: dict[str, dict], ev: Evaluation) -> dict:
    cfg = apply_values(bases[ev.base], ev.values)
    cfg["seed"] = int(ev.seed)
    return cfg


# ---------------------------------------------------------------------------- one run


def flatten(d: dict, prefix: str = "") -> dict:
    """Nested summary keys dotted (`rfm.important_value`, `gates.zero_to_one.day`)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = _plain(v)
    return out


def simulate(cfg: dict, daily_columns: Sequence[str] = ()) -> tuple[dict, dict | None]:
    """Run `cfg` as `sim.experiment.run.run` does, without writing: (summary, daily columns).

    The summary is the run's (nested, as `summary.json` holds it, less `version`)."""
    from sim.experiment.run import simulate as simulate_run

    logging.getLogger("MESA").setLevel(logging.WARNING)
    model, summary = simulate_run(cfg)
    daily = model.daily()
    series = None
    if daily_columns:
        missing = [c for c in daily_columns if c not in daily.columns]
        if missing:
            raise ConfigError(f"daily columns not in the daily table: {', '.join(missing)}")
        series = {c: [_plain(x) for x in daily[c].to_numpy()] for c in daily_columns}
    return summary, series


def _evaluate(cfg: dict, daily_columns: Sequence[str]) -> tuple[dict | None, dict | None, str]:
    """One evaluation in a worker: (summary, daily, error); never raises an `Exception`."""
    try:
        summary, series = simulate(cfg, daily_columns)
        return flatten(summary), series, ""
    except Exception as e:  # recorded, never fatal to the batch
        last = traceback.format_exception_only(type(e), e)[-1].strip()
        return None, None, last or type(e).__name__


def _evaluate_timed(i: int, cfg: dict, daily_columns: Sequence[str]):
    t = time.perf_counter()
    summary, series, error = _evaluate(cfg, daily_columns)
    return i, summary, series, error, time.perf_counter() - t


# ---------------------------------------------------------------------------- cache


def _cache_path(cache_dir: Path, h: str) -> Path:
    return cache_dir / f"{h}.json"


def _read_cache(cache_dir: Path | None, h: str, daily_columns: Sequence[str]):
    if cache_dir is None:
        return None
    p = _cache_path(cache_dir, h)
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    if data.get("version") != __version__ or data.get("config_hash") != h:
        return None
    if any(c not in (data.get("daily") or {}) for c in daily_columns):
        return None
    return data


def _write_cache(cache_dir: Path, r: Result) -> None:
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


# ---------------------------------------------------------------------------- progress


def _fmt(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """`[privsim] done/total runs done (cached, failed), elapsed, ETA` on a stream, at most
    every `every` seconds (and at the end); `stream=None` keeps count silently."""

    def __init__(self, total: int, stream=None, every: float = 2.0):
        self.total, self.stream, self.every = total, stream, every
        self.done = self.cached = self.failed = 0
        self.start = time.time()
        self._last = 0.0

    def line(self) -> str:
        elapsed = time.time() - self.start
        line = f"[privsim] {self.done}/{self.total} runs done"
        extra = [f"{n} {w}" for w, n in (("cached", self.cached), ("failed", self.failed)) if n]
        if extra:
            line += f" ({', '.join(extra)})"
        line += f", elapsed {_fmt(elapsed)}"
        computed = self.done - self.cached
        if computed and self.done < self.total:
            line += f", ETA {_fmt(elapsed / computed * (self.total - self.done))}"
        return line

    def update(self, r: Result) -> None:
        self.done += 1
        self.cached += r.cached
        self.failed += not r.ok
        now = time.time()
        if self.stream is not None and (now - self._last >= self.every or self.done == self.total):
            print(self.line(), file=self.stream, flush=True)
            self._last = now


# ---------------------------------------------------------------------------- the batch


def run_batch(
    bases: dict[str, dict] | dict,
    evaluations: Sequence[Evaluation],
    *,
    n_jobs: int = 2,
    cache_dir=None,
    daily_columns: Sequence[str] = (),
    ray_address: str | None = None,
    progress=True,
) -> list[Result]:
    """Evaluate every `Evaluation` and return its `Result`, in the order given.

    `bases` maps a base name to a composed config (`compose([...])`); a single composed config
    is taken as `{"base": cfg}`. Keys are checked against the base first (`ConfigError`
    naming the key, nothing run). `n_jobs` local processes (1 = in this process);
    `ray_address` (`"auto"`, `"ray://host:10001"`, or `"local"` for a Ray on this machine)
    uses Ray instead. `progress`: True prints to stderr, a stream prints there, False is quiet.
    """
    if "horizon_days" in bases:  # one composed config
        bases = {"base": bases}
    for ev in evaluations:
        if ev.base not in bases:
            raise ConfigError(f"base {ev.base!r}: unknown; known: {', '.join(bases)}")
    for name in {ev.base for ev in evaluations}:
        check_keys(bases[name], {k for ev in evaluations if ev.base == name for k in ev.values})
    cache = Path(cache_dir) if cache_dir is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    daily_columns = tuple(daily_columns)

    configs = [evaluation_config(bases, ev) for ev in evaluations]
    hashes = [config_hash(c) for c in configs]
    results: list[Result | None] = [None] * len(evaluations)
    stream = None if progress is False else (sys.stderr if progress is True else progress)
    prog = Progress(len(evaluations), stream)

    todo: dict[str, list[int]] = {}  # config hash → evaluations with that config (run once)
    for i, (ev, h) in enumerate(zip(evaluations, hashes, strict=True)):
        if (data := _read_cache(cache, h, daily_columns)) is not None:
            results[i] = Result(ev, h, data["summary"], data.get("daily"), cached=True)
            prog.update(results[i])
        else:
            todo.setdefault(h, []).append(i)

    def finish(i, summary, series, error, seconds):
        for j in todo[hashes[i]]:
            r = Result(evaluations[j], hashes[j], summary, series, error or None, seconds=seconds)
            if j == i and r.ok and cache is not None:
                _write_cache(cache, r)
            results[j] = r
            prog.update(r)

    first = [idx[0] for idx in todo.values()]
    tasks = [(i, configs[i], daily_columns) for i in first]
    if ray_address is not None:
        _run_ray(tasks, ray_address, finish)
    elif n_jobs == 1 or len(tasks) <= 1:
        for t in tasks:
            finish(*_evaluate_timed(*t))
    else:
        from joblib import Parallel, delayed

        par = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
        for out in par(delayed(_evaluate_timed)(*t) for t in tasks):
            finish(*out)
    return results  # type: ignore[return-value]


def _run_ray(tasks, address: str, finish) -> None:
    """Evaluate `tasks` as Ray tasks on the cluster at `address`, finishing each as it ends."""
    try:
        import ray
    except ImportError as e:
        raise ConfigError(
            "ray_address given but Ray is not installed: pip install -e '.[ray]'"
        ) from e
    started = not ray.is_initialized()
    if started:
        ray.init(address=None if address == "local" else address, ignore_reinit_error=True)
    try:
        remote = ray.remote(_evaluate_timed)
        pending = [remote.remote(*t) for t in tasks]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            finish(*ray.get(ready[0]))
    finally:
        if started:
            ray.shutdown()


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
            **{f"param.{k}": _plain(v) for k, v in r.evaluation.values.items()},
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
