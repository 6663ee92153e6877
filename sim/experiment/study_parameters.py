"""A study's parameters: dotted config keys with a range, `{low, high, scale, why, unit}`.

The sensitivity study (`sim.experiment.sensitivity`) varies them and the calibration
(`sim.experiment.calibration`) fits them; both read them here. A spec's `parameters` are first
checked for shape (`parse_parameters`: bounds finite and ordered, a log range above 0), then
against the composed config they vary (`check_parameters`): each key must name a model key, and
the config must pass the one config build (`sim.experiment.config.build`) with every parameter
at its low bound and again at its high bound, so a bound the model refuses reads exactly as
the command line's refusal ("trust.learning_rate = 3.0 is out of range; allowed: …").
Dotted keys are read with OmegaConf (`OmegaConf.select`), as Hydra reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from omegaconf import OmegaConf

from sim.core.params import ConfigError
from sim.experiment.batch import apply_values, check_keys
from sim.experiment.config import build

SCALES = ("linear", "log")
PARAM_KEYS = {"low", "high", "scale", "why", "unit"}


@dataclass(frozen=True)
class Parameter:
    key: str
    low: float
    high: float
    scale: str = "linear"
    why: str = ""
    unit: str = ""
    integer: bool = False

    def bounds(self) -> list[float]:
        """Bounds of the space SALib samples (log10 for a log range)."""
        if self.scale == "log":
            return [math.log10(self.low), math.log10(self.high)]
        return [float(self.low), float(self.high)]

    def value(self, x: float):
        """The config value for a sampled coordinate `x`."""
        v = 10.0**x if self.scale == "log" else float(x)
        v = min(max(v, self.low), self.high)  # float round-off at the bounds
        return int(round(v)) if self.integer else v


def parse_parameters(params) -> list[Parameter]:
    """A study spec's `parameters` (`dotted.key: {low, high, scale, why, unit}`), shape checked,
    each problem named by its key (`privsim-sensitivity` and `privsim-calibrate` alike)."""
    params = params or {}
    if not isinstance(params, dict) or not params:
        raise ConfigError("parameters: give at least one `dotted.key: {low, high}`")
    parameters = []
    for key, p in params.items():
        if not isinstance(p, dict):
            raise ConfigError(f"parameters.{key}: expected a mapping {{low, high, scale, why}}")
        if unknown := sorted(set(p) - PARAM_KEYS):
            allowed = sorted(PARAM_KEYS)
            raise ConfigError(f"parameters.{key}.{unknown[0]}: unknown; allowed: {allowed}")
        low, high, scale = p.get("low"), p.get("high"), p.get("scale", "linear")
        check_range(f"parameters.{key}", low, high, scale)
        parameters.append(
            Parameter(str(key), low, high, scale, str(p.get("why", "")), str(p.get("unit", "")))
        )
    return parameters


def check_range(where: str, low, high, scale) -> None:
    """A range's shape (`where` names it in each refusal): finite bounds, low below high, a
    known scale, a log range above 0."""
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(f"{where}.{name} = {v!r}: must be a finite number")
    if not low < high:
        raise ConfigError(f"{where}: low = {low} must be below high = {high}")
    if scale not in SCALES:
        raise ConfigError(f"{where}.scale = {scale!r}: allowed: {', '.join(SCALES)}")
    if scale == "log" and low <= 0:
        raise ConfigError(f"{where}: a log range needs low > 0 (low = {low})")


SEED_NOTE = (
    "the seed is not an assumption: seeds are replicates of one scenario (set `seeds: N`, each "
    "point runs seeds 0…N-1)"
)


def check_parameters(
    parameters: list[Parameter], cfg: dict, where: str = "", fixed: dict[str, str] | None = None
) -> list[Parameter]:
    """The parameters against a composed config: keys exist and hold numbers (not the seed, nor
    a key of `fixed`, which maps a key a study cannot vary to why), and the config build
    accepts all of them at their low and at their high bounds together; returns them with
    `integer` set from the config's types. `where` is added to a bound's message (", arm
    staged")."""
    fixed = {"seed": SEED_NOTE, **(fixed or {})}
    for p in parameters:
        if p.key in fixed:
            raise ConfigError(f"parameters.{p.key}: {fixed[p.key]}")
    try:
        check_keys(cfg, [p.key for p in parameters])
    except ConfigError as e:
        raise ConfigError(f"parameters.{e}") from None
    tree = OmegaConf.create(cfg)
    for p in parameters:
        v = OmegaConf.select(tree, p.key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise ConfigError(
                f"parameters.{p.key}: not a number in the config (a {type(v).__name__}); "
                "only numeric assumptions can be varied"
            )
    for bound in ("low", "high"):
        probe = apply_values(cfg, typed(cfg, {p.key: getattr(p, bound) for p in parameters}))
        try:
            build(probe)
        except ConfigError as e:
            raise ConfigError(f"parameters ({bound} bounds{where}): {e}") from None
    return [
        Parameter(p.key, p.low, p.high, p.scale, p.why, p.unit, _is_integer(tree, p.key))
        for p in parameters
    ]


def typed(cfg: dict, values: dict) -> dict:
    """`values` by dotted key, rounded to integers where the config holds an integer there."""
    tree = OmegaConf.create(cfg)
    return {k: int(round(v)) if _is_integer(tree, k) else v for k, v in values.items()}


def _is_integer(tree, key: str) -> bool:
    v = OmegaConf.select(tree, key)
    return isinstance(v, int) and not isinstance(v, bool)
