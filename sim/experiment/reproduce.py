"""`privsim-reproduce <run_dir>`: re-run a finished run from its saved config and seed and check
that `daily.parquet`, `cohorts.parquet` and `summary.json` come out identical.

The source of truth is the run's `config.json` (the resolved config, seed included), checked
against the `config_hash` in its `summary.json`; the versioned `configs/` are not needed, so a
run reproduces the same whichever launcher or machine ran it. If replaying the run's
`.hydra/overrides.yaml` against today's `configs/` gives a different config, that is reported as
a note (the configs changed since), not a failure. Exit status: 0 identical, 1 different,
2 not a finished run.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from sim.experiment.config import config_hash
from sim.experiment.jobs import COHORTS, CONFIG, DAILY, SUMMARY
from sim.experiment.run import run

FRAMES = (DAILY, COHORTS)
# what produced the run (package version, commit, environment) may move on without changing
# results: compared are the results only (sim.experiment.provenance)
IGNORED_SUMMARY_KEYS = {"version", "provenance"}


def frame_differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Exact comparison: columns, dtypes, shape, then every value (NaN equal to NaN)."""
    if list(a.columns) != list(b.columns):
        if set(a.columns) == set(b.columns):
            i = next(i for i, (x, y) in enumerate(zip(a.columns, b.columns, strict=True)) if x != y)
            return [
                f"column order differs from position {i}: {list(a.columns[i : i + 4])} vs "
                f"{list(b.columns[i : i + 4])}"
            ]
        return [
            f"columns differ: only in the original {sorted(set(a.columns) - set(b.columns))}"
            f", only in the reproduction {sorted(set(b.columns) - set(a.columns))}"
        ]
    if len(a) != len(b):
        return [f"{len(a)} rows vs {len(b)}"]
    out = []
    for col in a.columns:
        x, y = a[col], b[col]
        if x.dtype != y.dtype:
            out.append(f"column {col!r}: dtype {x.dtype} vs {y.dtype}")
            continue
        same = ((x == y).fillna(False) | (x.isna() & y.isna())).to_numpy(dtype=bool)
        if not same.all():
            i = int((~same).nonzero()[0][0])
            out.append(
                f"column {col!r}: {int((~same).sum())} rows differ "
                f"(first at row {i}: {x.iloc[i]!r} vs {y.iloc[i]!r})"
            )
        elif x.dtype.kind in "biuf" and x.to_numpy().tobytes() != y.to_numpy().tobytes():
            out.append(f"column {col!r}: equal values but different bits (-0.0 vs 0.0 or NaN)")
    return out


def dict_differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        key = f"{prefix}{k}"
        if k not in a or k not in b:
            out.append(f"{key}: only in the {'original' if k in a else 'reproduction'}")
        elif isinstance(a[k], dict) and isinstance(b[k], dict):
            out += dict_differences(a[k], b[k], f"{key}.")
        elif a[k] != b[k] and not (a[k] != a[k] and b[k] != b[k]):  # NaN == NaN
            out.append(f"{key}: {a[k]!r} vs {b[k]!r}")
    return out


def replay_note(run_dir: Path, cfg: dict) -> str | None:
    """A note if today's configs/ + the run's overrides no longer give its config."""
    overrides_path = run_dir / ".hydra" / "overrides.yaml"
    if not overrides_path.exists():
        return None
    from sim.experiment.config import compose

    try:
        replayed = compose(yaml.safe_load(overrides_path.read_text()) or [])
    except Exception as e:  # e.g. a config group renamed since
        return f"replaying .hydra/overrides.yaml against configs/ fails now ({e})"
    diffs = dict_differences(cfg, replayed)
    if diffs:
        return (
            "configs/ changed since this run; replaying its overrides now differs in "
            f"{len(diffs)} key(s), e.g. {diffs[0]} (reproducing from config.json)"
        )
    return None


def read_json(path: Path) -> dict:
    """A run's JSON record; `ValueError` naming the file when it is not a JSON object."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not valid JSON (not UTF-8 text)") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object (a {type(data).__name__})")
    return data


def reproduce(run_dir, work_dir=None) -> list[str]:
    """Re-run `run_dir` into `work_dir` (a temp dir if None); returns what differs (empty: same).

    Raises `FileNotFoundError`/`ValueError` if `run_dir` is not a finished, consistent run.
    """
    run_dir = Path(run_dir)
    for f in (CONFIG, SUMMARY, *FRAMES):
        if not (run_dir / f).exists():
            raise FileNotFoundError(f"{run_dir}: no {f} (not a finished run)")
    cfg, original = read_json(run_dir / CONFIG), read_json(run_dir / SUMMARY)
    if original.get("config_hash") != config_hash(cfg):
        raise ValueError(
            f"{run_dir}: config.json hashes to {config_hash(cfg)} but summary.json "
            f"says {original.get('config_hash')} (config.json was altered?)"
        )
    with tempfile.TemporaryDirectory(prefix="privsim-reproduce-") as tmp:
        out = Path(work_dir or tmp)
        logging.getLogger("MESA").setLevel(logging.WARNING)
        run(cfg, out, resume=False)
        diffs = []
        for f in FRAMES:
            diffs += [
                f"{f}: {d}"
                for d in frame_differences(pd.read_parquet(run_dir / f), pd.read_parquet(out / f))
            ]
        again = json.loads((out / SUMMARY).read_text())
        drop = lambda d: {k: v for k, v in d.items() if k not in IGNORED_SUMMARY_KEYS}  # noqa: E731
        diffs += [f"summary.json: {d}" for d in dict_differences(drop(original), drop(again))]
    return diffs
