"""From a composed config (Hydra or plain dict) to model arguments.

`sim.core.params.Scenario` is registered here as the schema of `configs/config.yaml` (first in
its defaults list), so Hydra and OmegaConf reject unknown keys and wrong types while composing.
Registering on import of this module covers every composition: `compose()`, the `privsim` app
(`sim.experiment.run` imports this module) and joblib workers, which import the task function's
module and receive the ConfigStore with Hydra's singleton state.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
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


def model_keys(cfg: dict) -> dict:
    """The model's part of a composed config: everything but `NON_MODEL_KEYS`."""
    return {k: v for k, v in cfg.items() if k not in NON_MODEL_KEYS}


def build(cfg: dict) -> Scenario:
    """The checked `Scenario` of a composed config (or a notebook's plain dicts): its model keys
    through the one build, `sim.core.params.scenario`. Every caller on the experiment floor (a
    run, a study's parameter bounds, a page's controls) builds here, so a refusal reads the same
    everywhere: a `ConfigError` naming the full dotted key."""
    return scenario(model_keys(cfg))


def model_kwargs(cfg: dict) -> dict:
    """`PrivateDomainModel` keyword arguments from a config: the checked `Scenario` of its
    model keys (`build`), built once."""
    return {"scenario": build(cfg)}


def override(key: str, value) -> str:
    """A Hydra command-line override setting `key` to `value` (`pool=b2b`, `seed=null`)."""
    if value is None:
        return f"{key}=null"
    if isinstance(value, bool):
        return f"{key}={str(value).lower()}"
    return f"{key}={value}"


def config_hash(cfg: dict) -> str:
    """Stable hash of the model-relevant config (seed included)."""
    payload = json.dumps(model_keys(cfg), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# Hydra keeps one GlobalHydra per process; the pages compose from several threads at once (a
# render, the preview, a goal seek), and a second initialisation while one is open is refused.
HYDRA_LOCK = threading.RLock()


@contextlib.contextmanager
def hydra_config_dir(config_dir: str | None = None):
    """`hydra.initialize_config_dir(config_dir)` (default `CONFIG_DIR`), one thread at a time
    (`HYDRA_LOCK`): every composition of the project goes through here."""
    from hydra import initialize_config_dir

    path = CONFIG_DIR if config_dir is None else config_dir
    with HYDRA_LOCK, initialize_config_dir(config_dir=path, version_base="1.3"):
        yield


def compose(overrides: list[str] | None = None) -> dict:
    """Compose the versioned `configs/` with Hydra overrides into a plain dict (for notebooks
    and tests); the same composition the `privsim` CLI performs."""
    check_experiments(list(overrides or []))
    try:
        return _compose(list(overrides or []))
    except AssertionError:  # OmegaConf's answer to a key set under a null node
        raise ConfigError(null_parent(list(overrides or [])) or "invalid override") from None


def _compose(overrides: list[str]) -> dict:
    from hydra import compose as hydra_compose
    from omegaconf import OmegaConf

    with hydra_config_dir():
        cfg = hydra_compose(config_name="config", overrides=overrides)
    out = OmegaConf.to_container(cfg, resolve=True)
    out.pop("hydra", None)
    return out


def null_parent(overrides: list[str]) -> str | None:
    """Why an override cannot be set: a node on its path is null in the composed config (e.g.
    `pool.layers.camps.enabled=true` on a pool without layers; OmegaConf only asserts), naming
    the key and the group options that define the node. None if no override is such a case.
    A sweep is tried one value at a time (the others at their first). Composes again: for the
    error path only."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    choices = []  # per override: (the values it can take as single overrides, its key)
    for arg in overrides:
        try:
            o = parser.parse_override(arg)
            key = o.key_or_group
            if o.is_sweep_override():
                values = [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
            else:
                values = [arg]
        except Exception:  # a syntax error or a glob sweep: Hydra says what it says
            return None
        if not key.lstrip("+~").startswith(("hydra.", "hydra/")):
            choices.append((values, key))
    first = [values[0] for values, _ in choices]
    variants = [first] + [
        first[:i] + [v] + first[i + 1 :]
        for i, (values, _) in enumerate(choices)
        for v in values[1:]
    ]
    keys = [key for _, key in choices]
    for args in variants:
        if (line := _null_in(args, keys)) is not None:
            return line
    return None


def _null_in(args: list[str], keys: list[str]) -> str | None:
    plain = [a for a, key in zip(args, keys, strict=True) if "." not in key]
    base = _compose(plain)
    for key in keys:
        path = key.lstrip("+~").split(".")
        node = base
        for i, part in enumerate(path[:-1]):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                where = ".".join(path[: i + 1])
                group = path[0]
                defined = [
                    f"{group}={n}"
                    for n in group_options(group)
                    if _defines(plain, group, n, path[1 : i + 1])
                ]
                allowed = f"choose {' or '.join(defined)} first" if defined else "no config has it"
                groups = [a for a in plain if group_options(a.split("=")[0].lstrip("+~"))]
                chosen = ", ".join(groups) or "the default groups"
                return f"{key}: `{where}` is null in this config ({chosen}); allowed: {allowed}"
    return None


def _defines(plain: list[str], group: str, option: str, path: list[str]) -> bool:
    node = _compose([*(a for a in plain if not a.startswith(f"{group}=")), f"{group}={option}"])
    for part in [group, *path]:
        node = node.get(part) if isinstance(node, dict) else None
    return node is not None
