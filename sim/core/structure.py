"""Plain data (YAML, JSON, a notebook's dicts, records) into parameter records, strictly.

What OmegaConf's structured merge checks, done directly on the dataclasses' type hints so that
one build costs a fraction of a millisecond (OmegaConf takes ~0.1 s for a whole config, more
than a short run): unknown keys, missing keys and wrong types are refused as `ConfigError`
naming the full dotted key, and values are converted the way OmegaConf converts them (an int
where a float is declared becomes a float, "3" an int, "yes" a bool), so a config built here
equals the one Hydra composes against the schema. A record given where a mapping is expected
is taken field by field, checked the same way. Ranges and rules across fields are not checked
here (`sim.core.checks`).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass

from sim.core.ranges import ConfigError

MANDATORY = "???"  # OmegaConf's mark of a value still to be given (a composed config may hold it)

Convert = Callable[[object, str], object]


def structured(cls, data, key: str = ""):
    """Record `cls` from a mapping of its fields (or a record of that type, taken field by
    field); every record, list and dict inside is built anew, so the result shares nothing
    mutable with `data`."""
    if is_dataclass(data) and type(data) is cls:
        data = {f.name: getattr(data, f.name) for f in fields(cls)}
    if not isinstance(data, dict):
        raise ConfigError(f"{key} = {data!r}: expected a mapping of {cls.__name__} fields")
    known = _fields(cls)
    out = {}
    for k, v in data.items():
        convert = known.get(k)
        if convert is None:
            raise ConfigError(f"{_join(key, str(k))}: unknown key; allowed: {sorted(known)}")
        out[k] = convert(v, _join(key, k))
    for name in _required(cls):
        if name not in out:
            raise ConfigError(f"{_join(key, name)}: missing")
    return cls(**out)


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


@functools.cache
def _fields(cls) -> dict[str, Convert]:
    hints = typing.get_type_hints(cls)
    return {f.name: _converter(hints[f.name]) for f in fields(cls)}


@functools.cache
def _required(cls) -> tuple[str, ...]:
    return tuple(
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    )


def _converter(hint) -> Convert:
    """How a value declared as `hint` is checked and converted."""
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    optional = origin in (typing.Union, types.UnionType)
    if optional:
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError(f"unsupported field type {hint}")
        hint = inner[0]
        args, origin = typing.get_args(hint), typing.get_origin(hint)
    convert = _plain_converter(hint, origin, args)
    return _given(convert, _type_name(hint), optional, is_dataclass(hint))


def _plain_converter(hint, origin, args) -> Convert:
    if is_dataclass(hint):
        return functools.partial(structured, hint)
    if origin is list:
        return functools.partial(_list, _converter(args[0]), is_dataclass(args[0]))
    if origin is dict:
        return functools.partial(_dict, _converter(args[1]))
    if hint in _SCALARS:
        return _SCALARS[hint]
    raise TypeError(f"unsupported field type {hint}")


def _type_name(hint) -> str:
    return getattr(hint, "__name__", str(hint).replace("typing.", ""))


def _given(convert: Convert, name: str, optional: bool, record: bool) -> Convert:
    """`convert` behind the checks every value gets: None only where optional, OmegaConf's
    mandatory mark never."""

    def given(v, key):
        if v is None:
            if optional:
                return None
            if record:
                raise ConfigError(f"{key} = None: expected a mapping of {name} fields")
            raise ConfigError(f"{key}: Incompatible value 'None' for field of type '{name}'")
        if isinstance(v, str) and v == MANDATORY:
            raise ConfigError(f"{key}: missing")
        return convert(v, key)

    return given


def _list(item: Convert, records: bool, v, key):
    if not isinstance(v, list | tuple):
        raise ConfigError(f"{key}: Value '{v}' of type '{type(v).__name__}' is not a list")
    # records in a list are named like mapping entries (strategy.phases.2), values as OmegaConf
    # names them (economics.ltv_horizons_days[0])
    if records:
        return [item(x, f"{key}.{i}") for i, x in enumerate(v)]
    return [item(x, f"{key}[{i}]") for i, x in enumerate(v)]


def _dict(value: Convert, v, key):
    if not isinstance(v, dict):
        raise ConfigError(f"{key}: Value '{v}' of type '{type(v).__name__}' is not a mapping")
    out = {}
    for k, x in v.items():
        if not isinstance(k, str):
            raise ConfigError(f"{key}: key {k!r} of type '{type(k).__name__}' is not a name")
        out[k] = value(x, f"{key}.{k}")
    return out


def _cannot(v, target: str, key: str) -> ConfigError:
    return ConfigError(
        f"{key}: Value '{v}' of type '{type(v).__name__}' could not be converted to {target}"
    )


def _float(v, key):
    if type(v) in (float, int, str):
        try:
            return float(v)
        except ValueError:
            pass
    raise _cannot(v, "Float", key)


def _int(v, key):
    if type(v) in (int, str):
        try:
            return int(v)
        except ValueError:
            pass
    raise _cannot(v, "Integer", key)


_TRUE, _FALSE = ("yes", "y", "on", "true"), ("no", "n", "off", "false")


def _bool(v, key):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v != 0
    if isinstance(v, str):
        try:
            return int(v) != 0
        except ValueError:
            if v.lower() in _TRUE:
                return True
            if v.lower() in _FALSE:
                return False
    raise ConfigError(f"{key}: Value '{v}' is not a valid bool (type {type(v).__name__})")


def _str(v, key):
    if isinstance(v, dict | list | tuple | bytes) or is_dataclass(v):
        raise ConfigError(f"{key}: Cannot convert '{type(v).__name__}' to string: '{v}'")
    return str(v)


_SCALARS: dict[type, Convert] = {float: _float, int: _int, bool: _bool, str: _str}
