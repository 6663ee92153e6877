"""One run, end to end: `run(cfg, out_dir)` builds, simulates and writes a run's data outputs
(`sim.experiment.jobs`), and `main` is `privsim`, the Hydra app around it.

`main` is thin by design: compose the config, hand a plain dict to `run`. In a multirun (`-m`)
each job goes through `sim.experiment.sweep.run_job`, which records a failure in the job's
`error.txt` instead of raising, so the other jobs still run and the callbacks registered in
configs/config.yaml (`hydra.callbacks`: progress lines, then the figures and sweep report of
`sim.viz.report`) still happen; the command then exits non-zero naming the failed jobs.
Figures are views attached through those callbacks: nothing here draws.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.core.metrics import horizons_in
from sim.core.model import PrivateDomainModel
from sim.core.params import ConfigError
from sim.experiment.config import CONFIG_DIR, config_hash, model_kwargs
from sim.experiment.jobs import finished, write_outputs
from sim.experiment.sweep import run_job


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
    write_outputs(Path(out_dir), cfg, model.daily(), model.cohorts(), summary)
    return summary


def result_line(s: dict, out_dir) -> str:
    """What a finished run prints: its arm, headline numbers (LTV/CAC at the shortest
    horizon, over cohorts old enough) and where its outputs are."""
    h = horizons_in(s)[0]
    return (
        f"{s['strategy']} / {s['pool']} / seed {s['seed']}: acquired {s['users_acquired']:,}, "
        f"30-day conversion {s['conversion_30d']:.1%}, "
        f"LTV/CAC at {h} days {s[f'ltv_cac_{h}d']:.2f}, "
        f"churn {s['churn_rate']:.1%} -> {out_dir}"
    )


def _run_afresh(cfg: dict, out_dir) -> str:
    return result_line(run(cfg, out_dir, resume=False), out_dir)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> str | None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    plain = OmegaConf.to_container(cfg, resolve=True)
    if hc.mode == RunMode.MULTIRUN:
        return run_job(plain, out_dir, _run_afresh)
    try:
        s = run(plain, out_dir)
    except ConfigError as e:
        print(f"privsim: invalid configuration: {e}", file=sys.stderr)
        sys.exit(2)
    print(result_line(s, out_dir))
    return None


if __name__ == "__main__":
    main()
