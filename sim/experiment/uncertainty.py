"""What a strategist does not know about their brand (`brands.uncertainty` of a policy search
or a goal seek, issue #24): settings every brand shares, and settings drawn per brand.

A brand is one seed of the scenario (DOMAIN §3.1: which place and goods fit is drawn per seed,
as wide as `fit.spread`). Some of what a brand does not know is not drawn by the model at all:
how large its market is (`market_size`, DOMAIN §5's saturation), what its basket is worth
(`business.*`). An entry of `brands.uncertainty` is therefore either

- a value (`fit.spread: 0.5`): a Hydra override every brand shares, as before; or
- a draw (`market_size: {low: 100000, high: 1000000, scale: log}`, or
  `market_size: {choices: [150000, null]}`): each brand gets its own value, uniform on the range
  (on its logarithm with `scale: log`; a whole number where the config holds one) or one of the
  choices, each equally likely.

A brand's draws are a function of its seed and the key alone (a generator seeded by both), so
every trial, preset and starting point meets the same brands (common random numbers), a re-run
meets them again, and the fresh brands (later seeds) draw their own. The draws' bounds and
choices are checked against the schema before any run (`check`), as a searched parameter's are.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from sim.core.params import ConfigError
from sim.experiment.batch import apply_values, check_keys
from sim.experiment.config import build
from sim.experiment.reference import describe
from sim.experiment.study_parameters import check_range

DRAW_KEYS = {"low", "high", "scale", "choices", "why"}


@dataclass(frozen=True)
class Draw:
    """One setting drawn per brand: uniform on [low, high] (its log with `scale: log`), or one
    of `choices`."""

    key: str
    low: float | None = None
    high: float | None = None
    scale: str = "linear"
    choices: tuple = ()
    integer: bool = False
    why: str = ""

    def value(self, seed: int):
        """This brand's value: a generator of its own per (seed, key), so adding a key or a
        brand leaves the other draws as they were."""
        rng = np.random.default_rng([int(seed), zlib.crc32(self.key.encode())])
        if self.choices:
            return self.choices[int(rng.integers(len(self.choices)))]
        u = float(rng.random())
        if self.scale == "log":
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        v = min(max(v, self.low), self.high)  # float round-off at the bounds
        return int(round(v)) if self.integer else v

    def probes(self) -> list:
        """The values the schema must accept: the bounds, or every choice."""
        if self.choices:
            return list(self.choices)
        return [int(self.low), int(self.high)] if self.integer else [self.low, self.high]

    def words(self) -> str:
        """The draw as the report states it."""
        if self.choices:
            shown = ", ".join("null" if c is None else f"{c:,}" if isinstance(c, int) else
                              str(c) for c in self.choices)  # fmt: skip
            return f"{self.key} drawn per brand from {{{shown}}}, each equally likely"
        kind = "log-uniform" if self.scale == "log" else "uniform"
        return f"{self.key} drawn per brand, {kind} on [{self.low:,}, {self.high:,}]"


@dataclass(frozen=True)
class Uncertainty:
    """`brands.uncertainty`: the overrides every brand shares (`fixed`), and the draws."""

    fixed: dict = field(default_factory=dict)
    drawn: tuple[Draw, ...] = ()

    def keys(self) -> list[str]:
        return [*self.fixed, *(d.key for d in self.drawn)]

    def values(self, seed: int) -> dict:
        """Brand `seed`'s drawn values by dotted key (empty without draws)."""
        return {d.key: d.value(seed) for d in self.drawn}

    def check(self, cfg: dict) -> None:
        """The draws against the brands' composed config, before any run: each key exists, and
        the config build accepts each bound (or choice)."""
        for d in self.drawn:
            try:
                check_keys(cfg, [d.key])
            except ConfigError as e:
                raise ConfigError(f"brands.uncertainty.{e}") from None
            for v in d.probes():
                try:
                    build(apply_values(cfg, {d.key: v}))
                except ConfigError as e:
                    raise ConfigError(f"brands.uncertainty.{d.key} = {v}: {e}") from None

    def words(self) -> str:
        """Everything a brand does not know, as the reports state it."""
        parts = [f"{k}={v}" for k, v in self.fixed.items()] + [d.words() for d in self.drawn]
        return "; ".join(parts) or "none"


def parse_uncertainty(v) -> Uncertainty:
    """`brands.uncertainty` (a mapping of dotted keys), shape checked: a mapping holding `low`
    and `high`, or `choices`, is a draw (keys `DRAW_KEYS`); anything else a shared override."""
    if v is None:
        return Uncertainty()
    if not isinstance(v, dict):
        raise ConfigError("brands.uncertainty: expected a mapping of Hydra overrides or draws")
    fixed, drawn = {}, []
    for key, entry in v.items():
        if not (isinstance(entry, dict) and {"low", "high", "choices"} & set(entry)):
            fixed[str(key)] = entry
            continue
        drawn.append(_draw(str(key), entry))
    return Uncertainty(fixed, tuple(drawn))


def _draw(key: str, e: dict) -> Draw:
    where = f"brands.uncertainty.{key}"
    if unknown := sorted(set(e) - DRAW_KEYS):
        raise ConfigError(f"{where}.{unknown[0]}: unknown; allowed: {sorted(DRAW_KEYS)}")
    why = str(e.get("why", ""))
    if "choices" in e:
        if {"low", "high", "scale"} & set(e):
            raise ConfigError(f"{where}: give either choices or low and high, not both")
        choices = e["choices"]
        if not isinstance(choices, list | tuple) or len(choices) < 2:
            raise ConfigError(f"{where}.choices: give a list of at least two values")
        return Draw(key, choices=tuple(choices), why=why)
    low, high, scale = e.get("low"), e.get("high"), e.get("scale", "linear")
    check_range(where, low, high, scale)
    info = describe(key)  # the schema's type: a null default (market_size) has no value to read
    integer = info is not None and info.integer
    if integer and not all(float(b).is_integer() for b in (low, high)):
        raise ConfigError(f"{where}: a whole-number key; give whole-number low and high")
    return Draw(key, low, high, scale, integer=integer, why=why)
