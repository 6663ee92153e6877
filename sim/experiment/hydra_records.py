"""Hydra's records of a job (`.hydra/config.yaml`, `hydra.yaml`, `overrides.yaml`), written
atomically, and a failure to write them made that job's failure instead of the sweep's.

Hydra writes them in `hydra.core.utils.run_job` before the task starts and outside its own
error handling: a full disk there aborts the whole sweep with a trace and leaves a truncated
file. `install()` replaces Hydra's `_save_config` (looked up in that module at each call, so
every process that imports `sim.experiment.run`, joblib and Ray workers included, gets it):
each record goes through `jobs.atomic_write`, and an `OSError` is remembered for the job's
folder instead of raised; the task then fails that job (`unsaved`), which the sweep records in
its `error.txt` and names at the end, while the other jobs run on.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from sim.experiment.jobs import atomic_write

_unsaved: dict[Path, str] = {}  # job folder -> why a record of it could not be written


def save_record(cfg, filename: str, output_dir: Path) -> None:
    """Hydra's `_save_config`, atomic, never raising an `OSError` (see the module docstring)."""
    output_dir = Path(output_dir)
    text = OmegaConf.to_yaml(cfg)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    try:
        atomic_write(output_dir / filename, write)
    except OSError as e:
        job = output_dir.parent.resolve()
        _unsaved.setdefault(job, f"could not write {output_dir.name}/{filename}: {e}")


def unsaved(job) -> str | None:
    """Why Hydra's records of `job` could not be written (None: they were)."""
    return _unsaved.get(Path(job).resolve())


def install() -> None:
    import hydra.core.utils

    hydra.core.utils._save_config = save_record
