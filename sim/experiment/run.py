"""One run, end to end, from a plain config dict: build, simulate, write. What the CLI calls."""

from __future__ import annotations

import json
from pathlib import Path

from sim.core.model import PrivateDomainModel
from sim.experiment.config import config_hash, model_kwargs
from sim.experiment.jobs import write_json, write_run


def finished(out_dir, cfg: dict) -> dict | None:
    """The summary of a finished run of this exact config in `out_dir`, else None."""
    path = Path(out_dir) / "summary.json"
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    return summary if summary.get("config_hash") == config_hash(cfg) else None


def run(cfg: dict, out_dir, resume: bool = True) -> dict:
    """Simulate `cfg` and write its outputs into `out_dir`; returns the summary.

    With `resume`, a directory already holding the finished outputs of the same config is
    left as it is (an interrupted sweep re-run skips its finished runs).
    """
    if resume and (done := finished(out_dir, cfg)):
        return done
    model = PrivateDomainModel(**model_kwargs(cfg))
    model.run()
    summary = model.summary()
    summary.update(
        seed=cfg.get("seed"),
        config_hash=config_hash(cfg),
        strategy=model.strategy.name,
        pool=model.pool_params.name,
        business=model.business.name,
    )
    out = Path(out_dir)
    write_json(out / "config.json", cfg)
    title = f" — {model.strategy.name}, {model.pool_params.name} pool, seed {cfg.get('seed')}"
    write_run(out, model.daily(), model.cohorts(), summary, title)
    return summary
