"""What-if scenarios a colleague can open: a small YAML file and the page's URL.

The file (`to_yaml` / `from_yaml`) holds the run settings and, per scenario, its title, the
controls it sets away from their defaults (what the page restores) and the Hydra overrides
they make (what `privsim` runs):

    seeds: 10
    horizon_days: 365
    scenarios:
    - title: S1 · staged
      controls: {}
      overrides: [strategy=staged, pool=nurturing, …]

    privsim --scenario-file file.yaml --scenario 2   # scenario 2's seeds (sim.cli.scenario_file)
    privsim -m $(privsim-whatif --overrides file.yaml --scenario 2)   # the same runs

The URL (`to_query` / `from_query`) carries the same: `?seeds=10&horizon_days=365&s1=&s2=team:3,
budget_paid_ads:2000`. Both are read back through the controls' own checks
(`controls.check`), so a mistyped value is refused with the choices allowed, and an unknown
control name with the nearest one suggested.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import yaml

from sim.viz.pages import controls
from sim.viz.pages.controls import RUN, WHATIF
from sim.viz.pages.whatif import MAX_SCENARIOS, Plan, horizon_of, run_overrides, titles

FILE_NAME = "whatif-scenarios.yaml"  # the page's download


def commands(k: int) -> list[str]:
    """`privsim --scenario-file …` running each of the `k` scenarios of the page's download, as
    the page shows them to copy (a file of one needs no `--scenario`: `sim.cli.scenario_file`)."""
    line = f"privsim --scenario-file {FILE_NAME}"
    return [f"{line} --scenario {i}" for i in range(1, k + 1)] if k > 1 else [line]


def changed(s: Plan) -> dict:
    """The controls a plan sets away from their defaults."""
    d = controls.defaults(WHATIF)
    return {k: v for k, v in s.__dict__.items() if v != d[k]}


def to_yaml(scenarios: list[Plan], seeds: int, horizon: int | None = None) -> str:
    names = titles(scenarios)
    doc = {
        "seeds": int(seeds),
        "horizon_days": horizon_of(horizon),
        "scenarios": [
            {"title": n, "controls": changed(s), "overrides": run_overrides(s, horizon)}
            for n, s in zip(names, scenarios, strict=True)
        ],
    }
    head = (
        "# privsim what-if scenarios: open on the page (Upload), or run scenario k's seeds with\n"
        "#   privsim --scenario-file THIS_FILE --scenario k\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _known(names, allowed, what: str) -> None:
    for k in names:
        if k not in allowed:
            hint = controls.nearest(k, allowed)
            raise ValueError(f"{k}: unknown {what}{hint}; allowed: {', '.join(allowed)}")


def _settings(seeds, horizon) -> tuple[int, int]:
    run = controls.check(RUN, {"seeds": seeds, "horizon_days": horizon})
    return run["seeds"], run["horizon_days"]


def plans(items: list[dict]) -> list[Plan]:
    """Plans from each scenario's changed controls (parsed and checked as a page sends them)."""
    if not 1 <= len(items) <= MAX_SCENARIOS:
        raise ValueError(f"scenarios: {len(items)}; allowed: 1 to {MAX_SCENARIOS}")
    out = []
    for i, values in enumerate(items):
        try:
            out.append(Plan.parse(**values))
        except ValueError as e:
            raise ValueError(f"scenario {i + 1}: {e}") from None
    return out


def from_yaml(text: str) -> tuple[list[Plan], int, int]:
    """(scenarios, seeds, horizon) of a file `to_yaml` wrote; ValueError says what is wrong."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(f"not a YAML file: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list):
        raise ValueError("expected a what-if scenario file: seeds, horizon_days, scenarios")
    _known(doc, ("seeds", "horizon_days", "scenarios"), "key")
    items = [(x or {}).get("controls") or {} for x in doc["scenarios"]]
    seeds, horizon = _settings(doc.get("seeds", controls.CONTROLS["seeds"].default),
                               doc.get("horizon_days", horizon_of(None)))  # fmt: skip
    return plans(items), seeds, horizon


def overrides(text: str, k: int | str | None) -> list[str]:
    """Scenario `k`'s overrides and its seeds, for `privsim -m`, recomputed from its controls
    (so an edited `overrides:` list cannot disagree with them). `k`: its number from 1 or its
    title's tag (`S2`); None for a file of one scenario. ValueError lists the choices."""
    scenarios, seeds, horizon = from_yaml(text)
    names = titles(scenarios)
    choices = "; ".join(f"{i} ({n})" for i, n in enumerate(names, 1))
    if k is None and len(scenarios) > 1:
        raise ValueError(f"holds {len(scenarios)} scenarios: choose one with --scenario: {choices}")
    tag = str(k or 1).strip().upper().removeprefix("S")
    if not (tag.isdigit() and 1 <= int(tag) <= len(scenarios)):
        raise ValueError(f"--scenario {k}: no such scenario; choices: {choices}")
    return [*run_overrides(scenarios[int(tag) - 1], horizon), f"seed=range(0,{seeds})"]


def to_query(scenarios: list[Plan], seeds: int, horizon: int | None = None) -> str:
    q = {"seeds": seeds, "horizon_days": horizon_of(horizon)}
    for i, s in enumerate(scenarios):
        q[f"s{i + 1}"] = ",".join(f"{k}:{v}" for k, v in changed(s).items())
    return urlencode(q, safe=":,")


def _value(name: str, text: str):
    """A control's value as written in a URL: a number where the control takes one."""
    c = controls.CONTROLS.get(name)
    if c is None or c.kind is str or text == str(c.keep):
        return c.keep if c is not None and text == str(c.keep) else text
    try:
        return float(text) if c.kind is float else int(text)
    except ValueError:
        return text  # refused by the control's check, with what it allows


def from_query(search: str) -> tuple[list[Plan], int, int] | None:
    """(scenarios, seeds, horizon) of a `to_query` string; None when it names no scenario."""
    q = {k: v[0] for k, v in parse_qs(search.lstrip("?"), keep_blank_values=True).items()}
    keys = sorted((k for k in q if k[:1] == "s" and k[1:].isdigit()), key=lambda k: int(k[1:]))
    if not keys:
        return None
    items = []
    for k in keys:
        pairs = [p.partition(":") for p in q[k].split(",") if p]
        items.append({name: _value(name, v) for name, _, v in pairs})
    seeds, horizon = _settings(
        _value("seeds", q.get("seeds", str(controls.CONTROLS["seeds"].default))),
        _value("horizon_days", q.get("horizon_days", str(horizon_of(None)))),
    )
    return plans(items), seeds, horizon
