"""From a composed config (Hydra or plain dict) to model arguments — the only place that knows
the config's shape, so the model never reads Hydra and can be built from a notebook."""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

from sim.core.params import ConfigError

# The versioned configs/ beside the package (an editable install keeps them together).
CONFIG_DIR = str(Path(__file__).resolve().parent.parent.parent / "configs")
NON_MODEL_KEYS = {"hydra"}


def model_kwargs(cfg: dict) -> dict:
    """Map a resolved config onto `PrivateDomainModel` keyword arguments, rejecting unknown keys."""
    from sim.core.model import PrivateDomainModel

    params = inspect.signature(PrivateDomainModel.__init__).parameters
    allowed = set(params) - {"self"}
    kwargs = {k: v for k, v in cfg.items() if k not in NON_MODEL_KEYS}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown key; allowed: {sorted(allowed)}")
    missing = sorted(
        k for k in allowed - set(kwargs) if params[k].default is inspect.Parameter.empty
    )
    if missing:
        raise ConfigError(f"{missing[0]}: missing; the config must define {missing}")
    return kwargs


def config_hash(cfg: dict) -> str:
    """Stable hash of the model-relevant config (seed included)."""
    payload = json.dumps(
        {k: v for k, v in cfg.items() if k not in NON_MODEL_KEYS}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def compose(overrides: list[str] | None = None) -> dict:
    """Compose the versioned `configs/` with Hydra overrides into a plain dict (for notebooks
    and tests); the same composition the `privsim` CLI performs."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
    out = OmegaConf.to_container(cfg, resolve=True)
    out.pop("hydra", None)
    return out
