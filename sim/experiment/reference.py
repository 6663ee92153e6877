"""The parameter reference, `docs/parameters.md`, generated from the schema and the configs.

What a key *means*, its *unit* and what it *allows* come from the schema: the `doc`, `unit` and
`allowed` metadata of each `ranged(...)`/`described(...)` field of the records (`sim.core.params`
gathers them: `pool_params`, `strategy_params`, `scenario_params`). Its
*default* comes from the composed default config (`configs/config.yaml` and the group options
its defaults list picks), and its *source* is the comment on the key's line in the YAML file
that sets it (or on its nearest parent key's line: a flow mapping such as a touchpoint's shares
its line's comment). Sources stay in the YAML because they belong to the *value*, not to the
key: `business.purchase_cycle_days` is "monthly replenishment (001)" in one quadrant and "a
repeat project every ~2 years" in another. Keys whose lines carry no comment are shown as
"not stated" (and counted at the top), so gaps in provenance are visible, not hidden.

    privsim-params            # print the reference
    privsim-params --write    # write docs/parameters.md (make docs)
    privsim-params --check    # exit 1 if docs/parameters.md is not what the code generates

`tests/test_reference.py` regenerates it and compares it with the committed file.
"""

from __future__ import annotations

import re
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass
from pathlib import Path

import yaml

from sim.core.params import Scenario, Strategy, structured
from sim.experiment.config import CONFIG_DIR, compose, group_options

ROOT = Path(CONFIG_DIR).parent
DOC = ROOT / "docs" / "parameters.md"
NOT_STATED = "not stated"

# ---------------------------------------------------------------------------- YAML comments

_KEY = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[A-Za-z_][\w]*)\s*:(?P<rest>.*)$")


def _split_comment(rest: str) -> tuple[str, str]:
    """A line's value and its trailing comment (a `#` after whitespace, outside quotes)."""
    quote = None
    for i, ch in enumerate(rest):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote else ch
        elif ch == "#" and quote is None and (i == 0 or rest[i - 1].isspace()):
            return rest[:i].strip(), rest[i + 1 :].strip()
    return rest.strip(), ""


def yaml_comments(path: Path) -> tuple[list[str], dict[str, str]]:
    """The header comment of a YAML file (lines before its first key, `@package` dropped) and
    each key's line comment by dotted key (list items by index), continuation lines joined: a
    comment-only line indented past its key continues the key's comment."""
    header: list[str] = []
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing keys
    items: dict[str, int] = {}  # list index per parent path
    last: str | None = None
    for line in Path(path).read_text().splitlines():
        stripped = line.strip()
        if not stripped:
            last = None
            continue
        indent = len(line) - len(line.lstrip())
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            if not out and last is None and not stack:
                if not text.startswith("@package"):
                    header.append(text)
            elif last is not None and indent > 0:
                out[last] = f"{out[last]} {text}".strip()
            continue
        m = _KEY.match(line)
        if not m:  # a flow mapping's continuation line, a bare list item
            continue
        key_indent = indent + (len(m["dash"]) if m["dash"] else 0)
        while stack and stack[-1][0] >= (indent if m["dash"] else key_indent):
            stack.pop()
        parent = ".".join(k for _, k in stack)
        if m["dash"]:
            items[parent] = items.get(parent, -1) + 1
            stack.append((indent, str(items[parent])))
            parent = ".".join(k for _, k in stack)
        dotted = f"{parent}.{m['key']}" if parent else m["key"]
        _, comment = _split_comment(m["rest"])
        out[dotted] = comment
        last = dotted if comment else None
        stack.append((key_indent, m["key"]))
    return header, {k: v for k, v in out.items() if v}


def source(comments: dict[str, str], key: str) -> str:
    """The comment on `key`'s line, else on its nearest parent's line, else `NOT_STATED`."""
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        if c := comments.get(".".join(parts[:n])):
            return c
    return NOT_STATED


def default_sources() -> dict[str, str]:
    """Source comment of every key of the composed default config: config.yaml's own keys
    (`_self_` comes after the groups, so its values win), else the chosen group file's."""
    defaults = yaml.safe_load((Path(CONFIG_DIR) / "config.yaml").read_text())["defaults"]
    files: list[tuple[str, Path]] = []
    for entry in defaults:
        if isinstance(entry, dict):
            ((group, option),) = entry.items()
            if not group.startswith("optional") and option is not None:
                files.append((group, Path(CONFIG_DIR) / group / f"{option}.yaml"))
    files.append(("", Path(CONFIG_DIR) / "config.yaml"))
    merged: dict[str, str] = {}
    for prefix, path in files:
        header, comments = yaml_comments(path)
        if prefix and header:  # a group file's header speaks for its keys without a comment
            merged[prefix] = f"{path.parent.name}/{path.name}: {' '.join(header)}"
        for k, v in comments.items():
            merged[f"{prefix}.{k}" if prefix else k] = v
    return merged


# ---------------------------------------------------------------------------- schema walk


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def fmt(v) -> str:
    """A config value as YAML writes it, compactly."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, float) and v == int(v) and abs(v) >= 1e6:
        return f"{v:.0e}"
    return str(v)


def _allowed(f, tp) -> str:
    """The range rule's text, or for a field without one its type (names are checked
    against the groups they name: `sim.core.checks`)."""
    if (allowed := f.metadata.get("allowed")) is not None:
        return allowed.text
    if typing.get_origin(tp) is None:
        return {str: "text", bool: "true or false"}.get(tp, tp.__name__)
    return str(tp).replace("typing.", "")


def rows(cls=Scenario, prefix: str = ""):
    """(dotted key, field, type) for every leaf of the schema; a mapping or list of records
    gives one row per field with `<name>` / `<i>` in the key."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        tp, key = hints[f.name], f"{prefix}{f.name}"
        args = typing.get_args(tp)
        origin = typing.get_origin(tp)
        if is_dataclass(tp):
            yield from rows(tp, f"{key}.")
        elif origin is dict and args and is_dataclass(args[1]):
            yield from rows(args[1], f"{key}.<name>.")
        elif origin is list and args and is_dataclass(args[0]):
            yield from rows(args[0], f"{key}.<i>.")
        else:
            yield key, f, tp


@dataclass(frozen=True)
class KeyInfo:
    """What the schema says of one dotted key: meaning, unit, what it allows, whether whole."""

    doc: str
    unit: str
    allowed: str
    integer: bool


def describe(key: str) -> KeyInfo | None:
    """The schema's word on a dotted config key (`operators.fixed`,
    `channels.paid_ads.budget_per_day`); None if no leaf of the schema has that shape."""
    for pattern, f, tp in rows():
        rx = re.escape(pattern).replace(re.escape("<name>"), r"[^.]+")
        if re.fullmatch(rx.replace(re.escape("<i>"), r"\d+"), key):
            whole = tp is int or int in typing.get_args(tp)
            return KeyInfo(f.metadata.get("doc", ""), f.metadata.get("unit", ""),
                           _allowed(f, tp), whole)  # fmt: skip
    return None


def _lookup(cfg, key: str):
    """Value at a dotted key; `<name>` / `<i>` expand to {name: value} over the entries."""
    head, _, tail = key.partition(".")
    if head in ("<name>", "<i>"):
        entries = cfg.items() if isinstance(cfg, dict) else enumerate(cfg)
        return {k: _lookup(v, tail) for k, v in entries}
    value = cfg.get(head, MISSING) if isinstance(cfg, dict) else MISSING
    if value is MISSING or not tail:
        return value
    return _lookup(value, tail)


def _default_cell(cfg, key: str, f) -> str:
    v = _lookup(cfg, key)
    if "<name>" in key or "<i>" in key:
        if key.startswith("touchpoints."):
            return "per touchpoint: see [Touchpoints](#touchpoints)"
        if key.startswith("channels."):
            return "per channel: see [Channels](#channels)"
        if not v:  # an empty collection by default (e.g. strategy.phase_rules)
            return "none"
        return "per phase: " + "; ".join(
            f"{i}: {fmt(x if x is not MISSING else _field_default(f))}" for i, x in v.items()
        )
    if v is MISSING:
        return fmt(_field_default(f))
    return fmt(v)


def _field_default(f):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


# ---------------------------------------------------------------------------- markdown


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in body]
    return out


SECTIONS = [
    ("Run", ("horizon_days", "initial_users", "initial_channel", "market_size", "seed")),
    ("Pool (`pool/`)", ("pool.",)),
    ("Touchpoints (`touchpoints/`)", ("touchpoints.",)),
    ("Business (`business/`)", ("business.",)),
    ("Channels (`channels/`)", ("channels.",)),
    ("Strategy (`strategy/`)", ("strategy.",)),
    ("Operators", ("operators.",)),
    ("Core circle (KOCs)", ("koc.",)),
    ("Trust", ("trust.",)),
    ("Purchase", ("purchase.",)),
    ("Churn", ("churn.",)),
    ("Referral", ("referral.",)),
    ("Systems", ("systems.",)),
    ("Economics", ("economics.",)),
    ("Brand fit (unknown until tested)", ("fit.",)),
    (
        "Capability, market, reputation (issue #22; on by default)",
        ("capability.", "market.", "reputation."),
    ),
    ("Outputs", ("outputs.",)),
]


def _section_of(key: str) -> int:
    for i, (_, prefixes) in enumerate(SECTIONS):
        if any(key == p or (p.endswith(".") and key.startswith(p)) for p in prefixes):
            return i
    raise KeyError(f"{key}: no section in sim.experiment.reference.SECTIONS")


def _options_table(group: str, keys: list[str] | None = None) -> list[str]:
    """One column per option of `group`, one row per key; then each option's comments."""
    options = group_options(group)
    paths = {o: Path(CONFIG_DIR) / group / f"{o}.yaml" for o in options}
    data = {o: yaml.safe_load(p.read_text()) for o, p in paths.items()}
    flat = {o: dict(_flatten(d)) for o, d in data.items()}
    keys = keys or list(dict.fromkeys(k for o in options for k in flat[o]))
    out = _table(
        ["key", *[f"`{o}`" for o in options]],
        [
            [
                f"`{group}.{k}`",
                *[fmt(flat[o].get(k, "—")) if k in flat[o] else "—" for o in options],
            ]
            for k in keys
        ],
    )
    out.append("")
    for o in options:
        header, comments = yaml_comments(Path(CONFIG_DIR) / group / f"{o}.yaml")
        out.append(f"- `{group}={o}`: {' '.join(header) or NOT_STATED}")
        out += [f"  - `{k}`: {_cell(c)}" for k, c in comments.items()]
    return out


def _flatten(d, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict) and k not in ("arrival",):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def _mapping_table(group: str, option: str) -> list[str]:
    """A mapping of records (touchpoints, channels): one row per entry, one column per field."""
    path = Path(CONFIG_DIR) / group / f"{option}.yaml"
    data = yaml.safe_load(path.read_text())
    header, comments = yaml_comments(path)
    names = list(dict.fromkeys(k for v in data.values() for k in v))
    out = [f"`{group}={option}` — {' '.join(header)}", ""]
    out += _table(
        ["name", *[f"`{n}`" for n in names], "source"],
        [
            [f"`{e}`", *[fmt(v.get(n, "—")) for n in names], source(comments, e)]
            for e, v in data.items()
        ],
    )
    return out


def _strategy_tables() -> list[str]:
    out: list[str] = []
    cols = [
        "daily_users",
        "channel_mix",
        "team_size",
        "koc_programme",
        "systems",
        "build_capability",
        "min_days",
        "max_days",
        "gate",
        "on_gate_fail",
    ]
    for o in group_options("strategy"):
        path = Path(CONFIG_DIR) / "strategy" / f"{o}.yaml"
        header, comments = yaml_comments(path)
        s = structured(Strategy, yaml.safe_load(path.read_text()), "strategy")
        out += [f"### `strategy={o}`", "", " ".join(header) or NOT_STATED, ""]
        body = []
        for i, ph in enumerate(s.phases):
            gate = {k: v for k, v in vars(ph.gate).items() if v is not None}
            row = [f"{i}: `{ph.name}`"]
            for c in cols:
                row.append(fmt(gate) if c == "gate" else fmt(getattr(ph, c)))
            body.append(row)
        out += _table(["phase", *cols], body)
        notes = [(k, c) for k, c in comments.items() if k.startswith("phases.")]
        if notes:
            out.append("")
            out += [f"- `{k}`: {_cell(c)}" for k, c in notes]
        out.append("")
    return out


INTRO = """\
# Parameter reference

<!-- Generated by `privsim-params --write` (`make docs`) from the records of sim/core/params.py
and configs/; tests/test_reference.py fails when it drifts. Do not edit by hand. -->

Every key of the model's config, as `privsim key=value` overrides it (dotted). *Meaning*,
*unit* and *allowed* come from the schema (the records `sim/core/params.py` gathers: each
field's `ranged(..., doc=, unit=)`); a value outside *allowed* is refused before simulating
(exit 2, naming the key; rules across keys: `sim/core/checks.py`). *Default* is the composed
default config (`configs/config.yaml`: pool `nurturing`, business `high_freq_high_margin`,
strategy `staged`). *Source* is the comment on the key's line in the YAML that sets it (or on
its parent's line, or the group file's header): a section of [DOMAIN.md](DOMAIN.md) (§), a seed
article (000–004, listed there), an outside study, or "assumption". {missing} of {total} keys
have no comment in the configs ("{not_stated}").

Units: *trust*, *intent* and *potential* are dimensionless model states in [0, 1] (trust,
intent) or ≥ 0 (potential); *share* and *probability* are in [0, 1]; *yuan* is money;
*weight* and *multiplier* are relative (1 = the reference).

Group options (switch with `pool=conversion`, `business=low_freq_high_margin`,
`strategy=premature`, …) are listed with their values after the tables. Hydra's own settings
(`hydra.*`: output folders, callbacks, launchers) are Hydra's; see [Sweeps](sweeps.md). A named
study is `experiment=<name>` (configs/experiment/). `privsim --help` points here.
"""


def markdown() -> str:
    """The whole reference (what `docs/parameters.md` must hold)."""
    cfg = compose([])
    sources = default_sources()
    sections: list[list[list[str]]] = [[] for _ in SECTIONS]
    missing = 0
    for key, f, tp in rows():
        if "<" in key:
            src = "per option: see below"
        else:
            src = source(sources, key)
            missing += src == NOT_STATED
        sections[_section_of(key)].append(
            [
                f"`{key}`",
                f.metadata.get("doc") or "—",
                f.metadata.get("unit") or "—",
                _default_cell(cfg, key, f),
                _allowed(f, tp),
                src,
            ]
        )
    total = sum(len(s) for s in sections)
    lines = [INTRO.format(missing=missing, total=total, not_stated=NOT_STATED)]
    for (title, _), body in zip(SECTIONS, sections, strict=True):
        lines += [f"## {title}", ""]
        lines += _table(["key", "meaning", "unit", "default", "allowed", "source"], body)
        lines.append("")
    lines += ["# Group options", "", "## Pools", ""]
    lines += _options_table("pool") + [""]
    lines += ["## Business quadrants", ""]
    lines += _options_table("business") + [""]
    lines += ["## Touchpoints", ""]
    for o in group_options("touchpoints"):
        lines += _mapping_table("touchpoints", o) + [""]
    lines += ["## Channels", ""]
    for o in group_options("channels"):
        lines += _mapping_table("channels", o) + [""]
    lines += ["## Strategies", ""]
    lines += _strategy_tables()
    lines += ["## Experiments", ""]
    for o in group_options("experiment"):
        header, _ = yaml_comments(Path(CONFIG_DIR) / "experiment" / f"{o}.yaml")
        lines.append(f"- `experiment={o}`: {' '.join(header) or NOT_STATED}")
    lines.append("")
    return "\n".join(lines)
