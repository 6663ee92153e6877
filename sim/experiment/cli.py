"""`privsim`: the Hydra app. Thin by design: compose the config, hand a plain dict to
`sim.experiment.run`.

In a multirun (`-m`) each job goes through `sim.experiment.sweep.run_job`, which records a failure
in the job's `error.txt` instead of raising, so the other jobs, the progress lines and the sweep
report (`sim.experiment.sweep.SweepCallback`, registered in configs/config.yaml) still happen; the
command then exits non-zero naming the failed jobs.
"""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.core.params import ConfigError
from sim.experiment.config import CONFIG_DIR
from sim.experiment.run import run
from sim.experiment.sweep import result_line, run_job


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> str | None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    plain = OmegaConf.to_container(cfg, resolve=True)
    if hc.mode == RunMode.MULTIRUN:
        return run_job(plain, out_dir)
    try:
        s = run(plain, out_dir)
    except ConfigError as e:
        print(f"privsim: invalid configuration: {e}", file=sys.stderr)
        sys.exit(2)
    print(result_line(s, out_dir))
    return None


if __name__ == "__main__":
    main()
