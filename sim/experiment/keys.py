"""Dotted keys, one spelling for configs and summaries (`operators.capacity`,
`strategy.phases.0.daily_users`, `rfm.important_value`).

- Config keys are read and set by OmegaConf's own `select` / `update` (list items by index), the
  spelling Hydra overrides use; a key that names nothing is refused with the part that is
  missing and what is allowed there, before any run.
- Summaries (nested dicts, as `summary.json` holds them) become one row of scalars with
  `flatten`: nested keys dotted, lists left out (a table cell holds one number or word; no
  summary holds a list today, and a sweep's parquet and a study's table stay alike if one
  ever does).
"""

from __future__ import annotations

from collections.abc import Iterable

from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.core.params import ConfigError
from sim.experiment.config import NON_MODEL_KEYS

_MISSING = object()


def plain(v):
    """numpy scalars → Python numbers (configs, hashes and JSON hold plain values)."""
    return v.item() if hasattr(v, "item") else v


def flatten(d: dict, prefix: str = "") -> dict:
    """Scalars of a nested dict with dotted keys (`gates.zero_to_one.day`); lists left out."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        elif not isinstance(v, list | tuple):
            out[f"{prefix}{k}"] = plain(v)
    return out


def select(cfg: dict | DictConfig, key: str, default=None):
    """The value at dotted `key` of a plain or OmegaConf config; `default` if it names nothing."""
    node = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
    try:
        value = OmegaConf.select(node, key, default=_MISSING)
    except Exception:  # a word where a list index belongs
        value = _MISSING
    if value is _MISSING:
        return default
    return OmegaConf.to_container(value) if isinstance(value, DictConfig | ListConfig) else value


def value_at(cfg: dict, key: str):
    """The value at dotted `key`; `ConfigError` naming the missing part if it names nothing."""
    node = OmegaConf.create(cfg)
    if not key or (value := select(node, key, _MISSING)) is _MISSING:
        raise _refusal(node, key)
    return value


def _refusal(node: DictConfig, key: str) -> ConfigError:
    """Why `key` names nothing: the first part that is missing and what is allowed there."""
    parts = key.split(".")
    for i in range(len(parts)):
        here = ".".join(parts[: i + 1])
        if select(node, here, _MISSING) is not _MISSING:
            continue
        parent = node if i == 0 else OmegaConf.select(node, ".".join(parts[:i]))
        if isinstance(parent, ListConfig):
            return ConfigError(f"{key}: unknown key ({here}: no such list item)")
        if isinstance(parent, DictConfig):
            known = ", ".join(sorted(map(str, parent))) or "none"
            return ConfigError(f"{key}: unknown key ({here}); allowed there: {known}")
        return ConfigError(f"{key}: unknown key ({here} is inside a value, not a mapping)")
    return ConfigError(f"{key}: empty key")


def check_keys(cfg: dict, keys: Iterable[str]) -> None:
    """Refuse any dotted key that does not name a model key of `cfg` (raises `ConfigError`)."""
    keys = list(keys)
    for key in keys:
        if key in NON_MODEL_KEYS or key.split(".")[0] in NON_MODEL_KEYS:
            raise ConfigError(f"{key}: not a model key")
    Variants(cfg).check(keys)


def apply_values(cfg: dict, values: dict) -> dict:
    """A copy of `cfg` with each dotted key set to its value (keys checked, values not)."""
    return Variants(cfg).of(values)


class Variants:
    """Copies of one base config with a few dotted keys set (a study's evaluations).

    OmegaConf builds its tree of the base once (the costly part: ~15 ms for our config); each
    variant is set on it with `OmegaConf.update`, read out as a plain dict and set back."""

    def __init__(self, cfg: dict):
        self.node = OmegaConf.create(cfg)

    def check(self, keys: Iterable[str]) -> None:
        """Refuse any dotted key that names nothing in the base (`ConfigError`)."""
        for key in keys:
            if not key or select(self.node, key, _MISSING) is _MISSING:
                raise _refusal(self.node, key)

    def of(self, values: dict) -> dict:
        """The base with `values` set (keys checked, values not): a new plain dict."""
        self.check(values)
        before = {key: select(self.node, key) for key in values}
        try:
            for key, value in values.items():
                OmegaConf.update(self.node, key, plain(value), merge=False)
            return OmegaConf.to_container(self.node)
        finally:
            for key, value in before.items():
                OmegaConf.update(self.node, key, value, merge=False)
