"""`privsim`: the Hydra app. Thin by design: compose the config, hand a plain dict to `sim.run`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.params import ConfigError
from sim.run import run

# The versioned configs/ beside the package (an editable install keeps them together).
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    out_dir = HydraConfig.get().runtime.output_dir
    plain = OmegaConf.to_container(cfg, resolve=True)
    try:
        s = run(plain, out_dir)
    except ConfigError as e:
        print(f"privsim: invalid configuration: {e}", file=sys.stderr)
        sys.exit(2)
    print(
        f"{s['strategy']} / {s['pool']} / seed {s['seed']}: acquired {s['users_acquired']:,}, "
        f"30-day conversion {s['conversion_30d']:.1%}, LTV/CAC {s['ltv_cac']:.2f}, "
        f"churn {s['churn_rate']:.1%} -> {out_dir}"
    )


if __name__ == "__main__":
    main()
