"""Composing a study spec (`configs/sensitivity/`, `configs/calibration/`) with the command
line's overrides, into the plain mapping the studies check (`spec_from_dict`).

Why not Hydra alone: a spec's `parameters` and `scenario` (and each sensitivity arm under
`arms`, each optimisation preset or start under `presets`, `starts`) are keyed by *dotted config
keys* (`operators.capacity`, `strategy.phases.0.daily_users`), and Hydra reads every dot of an
override as a level, so `parameters.operators.capacity.low=300` could not be said ("Could not
override"). Overrides into those mappings are applied here
instead, matching the longest dotted key the mapping holds: `parameters.operators.capacity.low=300`
sets that parameter's `low`, `scenario.strategy.phases.0.daily_users=40` that scenario entry,
`~parameters.koc.strength` removes a parameter, `+parameters.trust.decay={low: 0.01, high: 0.1}`
adds one (as Hydra: a key the spec lacks needs `+`). Every other override goes to Hydra.

Two refusals (`ConfigError`, one line, before any run): a spec file that is not valid YAML
(naming the file and the line), and an interpolation (`${oc.env:…}`, `${…}`) anywhere but the
calibration's `data` path, where docs/calibration.md documents it: elsewhere it would copy
environment values into the study's outputs.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import yaml
from omegaconf import OmegaConf

from sim.core.params import ConfigError
from sim.experiment.config import CONFIG_DIR, group_options, hydra_config_dir, override
from sim.experiment.uncertainty import Uncertainty, parse_uncertainty

BRANDS_KEYS = {"count", "uncertainty"}
DOTTED = ("parameters", "scenario")  # mappings keyed by dotted config keys
NAMED = ("arms", "presets", "starts")  # mappings of names, each keyed by dotted config keys
INTERPOLATED = {"data"}  # the only entries whose value may be an interpolation


def compose_spec(group: str, name: str, overrides: list[str] | None, kind: str) -> dict:
    """The spec `configs/<group>/<name>.yaml` with `overrides`, as a plain dict; an unknown
    name is refused, listing the known ones."""
    from hydra import compose as hydra_compose

    known = group_options(group)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(f"{name}: unknown {kind}{hint}; known: {', '.join(known)}")
    path = Path(CONFIG_DIR) / group / f"{name}.yaml"
    check_yaml(path)
    hydra_args, dotted = split_overrides(list(overrides or []))
    with hydra_config_dir(str(path.parent)):
        try:
            cfg = hydra_compose(config_name=name, overrides=hydra_args)
        except Exception as e:
            # Hydra's refusal, with the spec's nearest entry when a key is unknown
            if not (m := re.match(r"Could not override '([^']+)'", str(e))):
                raise
            hint = nearest_entry(yaml.safe_load(path.read_text()) or {}, m[1])
            raise ConfigError(f"{m[1]}: the {kind} has no such entry{hint}") from None
    d = OmegaConf.to_container(cfg, resolve=False)
    d.pop("hydra", None)
    for arg, o in dotted:
        apply_dotted(d, arg, o)
    check_interpolations(d)
    for key in INTERPOLATED & set(d):
        d[key] = OmegaConf.to_container(OmegaConf.create({key: d[key]}), resolve=True)[key]
    return d


def nearest_entry(d: dict, key: str) -> str:
    """ "; did you mean …?; known: …" for a dotted `key` the spec `d` lacks: the close names
    beside its first missing level ("" if a level above is not a mapping)."""
    parts, prefix = key.split("."), ""
    for part in parts:
        if not isinstance(d, dict):
            return ""
        if part not in d:
            names = list(map(str, d))
            close = difflib.get_close_matches(part, names, n=2)
            hint = f"; did you mean {' or '.join(prefix + c for c in close)}?" if close else ""
            return (
                f"{hint}; known{' under ' + prefix.rstrip('.') if prefix else ''}: "
                f"{', '.join(names)}"
            )
        d, prefix = d[part], f"{prefix}{part}."
    return ""


def check_yaml(path: Path) -> None:
    """`ConfigError` naming the file and line when `path` is not valid YAML."""
    try:
        yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        what = getattr(e, "problem", None) or type(e).__name__
        raise ConfigError(f"{path}: not valid YAML{where}: {what}") from None


def _dotted_target(key: str) -> tuple[str, list[str]] | None:
    """(the mapping's path, its parts) when `key` reaches inside a dotted-key mapping:
    `parameters.x.low` → ("parameters", …); `arms.staged.strategy` → ("arms.staged", …), and
    so for an optimisation spec's `presets.<name>` and `starts.<name>`."""
    parts = key.split(".")
    if parts[0] in DOTTED and len(parts) > 1:
        return parts[0], parts[1:]
    if parts[0] in NAMED and len(parts) > 2:
        return f"{parts[0]}.{parts[1]}", parts[2:]
    return None


def split_overrides(overrides: list[str]) -> tuple[list[str], list[tuple[str, object]]]:
    """(the overrides Hydra applies, the parsed ones into dotted-key mappings)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    hydra_args, dotted = [], []
    for arg in overrides:
        o = parser.parse_override(arg)  # a syntax error: Hydra's refusal
        if _dotted_target(o.key_or_group) is None:
            hydra_args.append(arg)
            continue
        if o.is_sweep_override():
            raise ConfigError(f"{arg}: a study takes one value per key, not a sweep")
        dotted.append((arg, o))
    return hydra_args, dotted


def apply_dotted(d: dict, arg: str, o) -> None:
    """Apply one parsed override `o` (`arg` as typed) inside its dotted-key mapping of `d`."""
    from hydra.core.override_parser.types import OverrideType

    where, parts = _dotted_target(o.key_or_group)
    mapping = d
    for level in where.split("."):
        mapping = mapping.get(level) if isinstance(mapping, dict) else None
        if mapping is None:
            raise ConfigError(f"{arg}: the spec has no `{where}`")
    if not isinstance(mapping, dict):
        raise ConfigError(f"{arg}: `{where}` is not a mapping in the spec")
    rest = ".".join(parts)
    keys = sorted(
        (k for k in mapping if rest == k or rest.startswith(f"{k}.")), key=len, reverse=True
    )
    value = o.value()
    if not keys:
        if o.type in (OverrideType.ADD, OverrideType.FORCE_ADD):
            mapping[rest] = value
            return
        fields = [f"{k}.{f}" for k, v in mapping.items() if isinstance(v, dict) for f in v]
        close = difflib.get_close_matches(rest, [*map(str, mapping), *fields], n=1)
        hint = f"did you mean {where}.{close[0]}? " if close else ""
        known = ", ".join(map(str, mapping)) or "none"
        raise ConfigError(
            f"{arg}: `{where}` has no entry {rest}; {hint}known: {known} "
            f"(a new entry needs +{where}.{rest}=…)"
        )
    key = keys[0]
    if rest == key:
        if o.type == OverrideType.DEL:
            del mapping[key]
        else:
            mapping[key] = value
        return
    field = rest[len(key) + 1 :]
    entry = mapping[key]
    if not isinstance(entry, dict):
        raise ConfigError(f"{arg}: `{where}.{key}` is a value, not a mapping with `{field}`")
    if o.type == OverrideType.DEL:
        entry.pop(field, None)
    elif field not in entry and o.type == OverrideType.CHANGE:
        close = difflib.get_close_matches(field, list(map(str, entry)), n=1)
        hint = f"did you mean {where}.{key}.{close[0]}? " if close else ""
        raise ConfigError(
            f"{arg}: `{where}.{key}` has no `{field}`; {hint}known: {', '.join(map(str, entry))}"
            f" (a new one needs +{where}.{key}.{field}=…)"
        )
    else:
        entry[field] = value


def check_interpolations(d, path: str = "") -> None:
    """Refuse an interpolation (`${…}`) anywhere in the spec but `INTERPOLATED`."""
    if isinstance(d, dict):
        for k, v in d.items():
            if not path and k in INTERPOLATED:
                continue
            check_interpolations(v, f"{path}.{k}" if path else str(k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            check_interpolations(v, f"{path}[{i}]")
    elif isinstance(d, str) and "${" in d:
        raise ConfigError(
            f"{path} = {d!r}: interpolations are not allowed here (they would copy values from "
            "the environment into the study's outputs); give the value itself. Only a "
            "calibration's `data` path may use one, e.g. data=${oc.env:BRAND_DATA}"
        )


def whole(d: dict, key: str, default: int, least: int) -> int:
    """`d[key]` (or `default`) as a whole number >= `least`, else refused naming the key."""
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < least:
        raise ConfigError(f"{key} = {v!r}: must be an integer >= {least}")
    return v


def scenario_of(d: dict) -> dict:
    """A spec's `scenario`: its Hydra overrides of the base, a mapping `key: value`."""
    scen = d.get("scenario") or {}
    if not isinstance(scen, dict):
        raise ConfigError("scenario: expected a mapping of Hydra overrides `key: value`")
    return dict(scen)


def mapping(d: dict, key: str, allowed: set) -> dict:
    """A spec's entry `key`: a mapping (empty if absent) of `allowed` keys only."""
    v = d.get(key) or {}
    if not isinstance(v, dict):
        raise ConfigError(f"{key}: expected a mapping")
    if unknown := sorted(set(v) - allowed):
        raise ConfigError(f"{key}.{unknown[0]}: unknown; allowed: {sorted(allowed)}")
    return dict(v)


def brands_of(d: dict) -> tuple[int, Uncertainty]:
    """A search spec's `brands: {count, uncertainty}` (the policy search's and the goal
    seek's): seeds 0 … count−1 (default 6) of the scenario with the `uncertainty`'s shared
    overrides and per-brand draws (`sim.experiment.uncertainty`)."""
    brands = mapping(d, "brands", BRANDS_KEYS)
    uncertainty = parse_uncertainty(brands.get("uncertainty"))
    return whole({"brands.count": brands.get("count", 6)}, "brands.count", 6, 1), uncertainty


def brand_overrides(scenario: dict, uncertainty: Uncertainty) -> list[str]:
    """The brands' scenario as Hydra overrides: the base's, then the shared uncertainty's (a
    drawn key keeps the base's value there; each brand's run sets its own)."""
    return [override(k, v) for k, v in {**scenario, **uncertainty.fixed}.items()]


def not_searched(uncertainty: Uncertainty, horizon: str) -> dict[str, str]:
    """Keys a search may not vary, each with why: the horizon (`horizon` says whose it is) and
    the brand's uncertainty, which describe the brand, not the decision."""
    return {
        "horizon_days": f"the horizon is {horizon}, not a decision",
        **{k: "an uncertainty of the brand (brands.uncertainty), not a decision"
           for k in uncertainty.keys()},
    }  # fmt: skip
