"""From a composed config (Hydra or plain dict) to model arguments.

`sim.core.params.Scenario` is registered here as the schema of `configs/config.yaml` (first in
its defaults list), so Hydra and OmegaConf reject unknown keys and wrong types while composing.
Registering on import of this module covers every composition: `compose()`, the `privsim` app
(`sim.experiment.run` imports this module) and joblib workers, which import the task function's
module and receive the ConfigStore with Hydra's singleton state.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hydra.core.config_store import ConfigStore

from sim.core.params import ConfigError, Scenario, scenario

# The versioned configs/ beside the package (an editable install keeps them together).
CONFIG_DIR = str(Path(__file__).resolve().parent.parent.parent / "configs")
NON_MODEL_KEYS = {"hydra"}
SCHEMA = "scenario_schema"

ConfigStore.instance().store(name=SCHEMA, node=Scenario)


class UnknownOption(ValueError):
    """A config group option that is not in `configs/` (Hydra ignores optional ones)."""


def group_options(group: str) -> list[str]:
    """Names selectable in a config group, e.g. `strategy` → staged, premature, channel/fission…"""
    root = Path(CONFIG_DIR) / group
    names = [p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml")]
    return sorted(names, key=lambda n: (n.count("/"), n))


def compose_spec(group: str, name: str, overrides: list[str] | None, kind: str) -> dict:
    """A study spec `configs/<group>/<name>.yaml` composed with Hydra overrides, as a plain dict
    (the sensitivity and calibration specs); an unknown name is refused, listing the known."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    known = group_options(group)
    if name not in known:
        raise ConfigError(f"{name}: unknown {kind}; known: {', '.join(known)}")
    with initialize_config_dir(config_dir=str(Path(CONFIG_DIR) / group), version_base="1.3"):
        cfg = hydra_compose(config_name=name, overrides=list(overrides or []))
    d = OmegaConf.to_container(cfg, resolve=True)
    d.pop("hydra", None)
    return d


def check_experiments(overrides: list[str]) -> None:
    """Refuse `experiment=<name>` (also in a sweep list) naming no file in configs/experiment/:
    the group is optional in the defaults list, so Hydra would silently run the default."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    known = group_options("experiment")
    parser = OverridesParser.create()
    for arg in overrides:
        if arg.startswith("-") or not arg.lstrip("+~").startswith("experiment="):
            continue
        try:
            o = parser.parse_override(arg)
        except Exception:  # a syntax error: Hydra reports it
            continue
        if o.is_sweep_override():
            try:
                names = list(o.sweep_string_iterator())
            except Exception:  # glob(...) and the like: Hydra expands them from the folder
                continue
        else:
            names = [o.value()]
        for name in names:
            if name is not None and str(name) not in ("null", *known):
                raise UnknownOption(
                    f"experiment={name}: unknown experiment; known: {', '.join(known)}"
                )


def model_kwargs(cfg: dict) -> dict:
    """`PrivateDomainModel` keyword arguments from a config, checked: its model keys, as plain
    data (the model builds its records again, from `scenario`'s memo of plain data)."""
    kwargs = {k: v for k, v in cfg.items() if k not in NON_MODEL_KEYS}
    scenario(kwargs)
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

    check_experiments(list(overrides or []))
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
    out = OmegaConf.to_container(cfg, resolve=True)
    out.pop("hydra", None)
    return out
