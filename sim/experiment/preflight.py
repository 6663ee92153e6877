"""What `privsim` checks before Hydra starts: every job of the command, composed and built.

Hydra composes a sweep's jobs one at a time as it launches them, after it has written the sweep
folder (`multirun.yaml`), run the `on_multirun_start` callbacks (`plan.json`, progress markers)
and created each job's folder (`.hydra/`, `run.log`). A value that is refused in job 7 would
then leave six runs done and a finished folder rewritten. So `check` does all of it first,
touching no file: the override syntax, interpolations (refused on the command line: they would
copy environment values into `config.json` and the outputs), the master config with Hydra's
own settings (launcher, output folders), the sweep expanded as `sim.experiment.sweep.planned_jobs`
does, and every job composed and built through `sim.experiment.config.build`, the one build.

Speed: a Hydra composition costs ≈ 0.1 s, a build ≈ 1 ms. Jobs that choose the same config
groups differ only in values (`seed`, `horizon_days=…`), so each distinct group choice is
composed once and the jobs' values are applied to a copy with Hydra's own override code; a job
whose values do not apply that way is composed in full, so any refusal is Hydra's own.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sim.core.params import ConfigError
from sim.experiment.config import (
    CONFIG_DIR,
    build,
    group_options,
    hydra_config_dir,
    null_parent,
)

# Hydra's flags that make it print something instead of running: nothing to check
INFO_FLAGS = {"--help", "-h", "--hydra-help", "--version", "--cfg", "-c", "--info", "-i"}
INFO_FLAGS |= {"--shell-completion", "-sc", "--resolve"}
# Flags that change where the configs come from: Hydra composes those alone
SOURCE_FLAGS = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd"}
SOURCE_FLAGS |= {"--experimental-rerun", "--package", "-p"}
MULTIRUN_FLAGS = {"-m", "--multirun"}


class Refusal(ValueError):
    """Bad input found before any work: one line naming the key, value or folder."""


@dataclass
class Checked:
    """A command that passed: its mode, jobs and the folders Hydra will write."""

    multirun: bool
    overrides: list[str]  # the command line's overrides, as typed
    jobs: list[list[str]] | None  # each job's overrides (None: another sweeper plans them)
    configs: list[dict] = field(default_factory=list)  # each job's composed model config
    out_dir: Path | None = None  # hydra.sweep.dir (multirun) or hydra.run.dir, resolved
    out_dir_given: bool = False  # the command line names it (else pin the resolved one)


def checkable(argv: list[str]) -> bool:
    """Whether `check` applies: a command that runs, on the versioned configs/."""
    flags = {a.split("=", 1)[0] for a in argv if a.startswith("-")}
    return not (flags & (INFO_FLAGS | SOURCE_FLAGS)) and flags <= MULTIRUN_FLAGS


def check(argv: list[str]) -> Checked:
    """Check the command `argv` (Hydra's arguments, flags included) without writing anything;
    raise `Refusal` with one line for the first problem found."""
    multirun = any(a in MULTIRUN_FLAGS for a in argv)
    overrides = [a for a in argv if not a.startswith("-")]
    parse_each(overrides)
    refuse_interpolations(overrides)
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    try:
        with hydra_config_dir(CONFIG_DIR):
            hydra = GlobalHydra.instance().hydra
            mode = RunMode.MULTIRUN if multirun else RunMode.RUN
            master = _composed(
                lambda ov: hydra.compose_config(
                    "config", ov, run_mode=mode, with_log_configuration=False
                ),
                overrides,
            )
            key = "sweep" if multirun else "run"
            out_dir = Path(str(master.hydra[key].dir))
            check_launcher(master)
            check_writable(f"hydra.{key}.dir", out_dir)
            jobs = sweep_jobs(master) if multirun else [overrides]
            configs = [] if jobs is None else composed_jobs(hydra.config_loader, master, jobs)
    except _Unexplained as u:  # explained here: that composes again, outside Hydra's context
        raise Refusal(u.line()) from None
    given = any(a.lstrip("+").startswith(f"hydra.{key}.dir=") for a in overrides)
    return Checked(multirun, overrides, jobs, configs, out_dir, given)


# ---------------------------------------------------------------------------- the command line


def parse_each(overrides: list[str]) -> None:
    """Refuse an override Hydra cannot parse, naming it (Hydra's own message names the
    grammar's tokens, not which argument)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for arg in overrides:
        try:
            parsed = parser.parse_override(arg)
        except Exception as e:
            why = _first(e).removeprefix(f"Error parsing override '{arg}'").lstrip(": ")
            raise Refusal(f"cannot parse the override {arg!r}: {why}") from None
        if not parsed.key_or_group:  # `=5`: Hydra parses it, then fails deep in composition
            raise Refusal(f"cannot parse the override {arg!r}: no key before '='")


def refuse_interpolations(overrides: list[str]) -> None:
    """`${…}` in a model key's override would resolve (`${oc.env:HOME}`) into config.json,
    summary.json, the daily table and the report: refused. Hydra's own settings (`hydra.*`)
    may use them (`${now:…}` in a folder name); they are not written into the outputs."""
    for arg in overrides:
        key = arg.split("=", 1)[0].lstrip("+~")
        if "${" in arg and not key.startswith(("hydra.", "hydra/")):
            raise Refusal(
                f"{arg}: interpolations (${{…}}) are not allowed in a model key's override: "
                "they would copy what they resolve to into the outputs; type the value itself"
            )


# ---------------------------------------------------------------------------- Hydra's settings


def check_launcher(master: DictConfig) -> None:
    """A launcher's process count of 0 (joblib: an error deep in its pool)."""
    n = master.hydra.launcher.get("n_jobs", 1)
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n == 0):
        raise Refusal(
            f"hydra.launcher.n_jobs = {n!r} is out of range; allowed: an integer >= 1 "
            "(or negative: all CPUs but |n| - 1, as joblib counts)"
        )


def check_writable(key: str, folder: Path) -> None:
    """The output folder, or the nearest existing folder above it, must be a writable folder
    (checked without creating anything)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise Refusal(f"{key} = {folder}: {existing} is a file, not a folder")
    writable = existing.exists() and os.access(existing, os.W_OK | os.X_OK)
    if writable and existing != folder:  # the folder is to be made in `existing`: can it be?
        writable = _can_create(existing)
    if not writable:
        raise Refusal(f"{key} = {folder}: {existing} is not writable")


def _can_create(folder: Path) -> bool:
    """Whether a file can be created in `folder` (a trial file, removed at once; only where the
    output folder is still to be made, so a finished folder is never touched): `os.access` says
    yes to root everywhere, also where nothing can be created (/proc, a read-only mount)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".privsim-check-")
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


# ---------------------------------------------------------------------------- the jobs


def sweep_jobs(master: DictConfig) -> list[list[str]] | None:
    """The sweep's jobs (`planned_jobs`); an empty sweep is refused naming the override."""
    from sim.experiment.sweep import sweep_values

    values = sweep_values(master)
    if values is None:
        return None
    for line, found in values.values():
        if not found:
            raise Refusal(f"{line}: the sweep has no jobs (this override gives no values)")
    from sim.experiment.sweep import planned_jobs

    return planned_jobs(master)


def composed_jobs(loader, master: DictConfig, jobs: list[list[str]]) -> list[dict]:
    """Every job's model config, built (raising `Refusal` naming the job in a sweep)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    bases: dict[tuple[str, ...], tuple[DictConfig, dict]] = {}
    out = []
    for num, job in enumerate(jobs):
        where = f" (job {num}: {' '.join(job)})" if len(jobs) > 1 else ""
        groups = tuple(a for a in job if not _plain_value(a))
        try:
            if groups not in bases:
                cfg = _composed(lambda ov: loader.load_sweep_config(master, ov), list(groups))
                bases[groups] = (cfg, _plain(cfg, where))
            values = parser.parse_overrides([a for a in job if _plain_value(a)])
            plain = _with_values(*bases[groups], values)
        except (_Unexplained, Refusal):
            plain = None
        if plain is None:  # the fast path does not apply: Hydra composes the job itself
            cfg = _composed(lambda ov: loader.load_sweep_config(master, ov), job, where)
            plain = _plain(cfg, where)
        try:
            build(plain)
        except ConfigError as e:
            raise Refusal(f"{e}{where}") from None
        out.append(plain)
    return out


def _plain_value(arg: str) -> bool:
    """`key=value` setting a value (not a group choice, addition or deletion)."""
    key = arg.split("=", 1)[0]
    if key.startswith(("+", "~", "hydra")) or "@" in key or "/" in key:
        return False
    return not (Path(CONFIG_DIR) / key.replace(".", "/")).is_dir()


def _with_values(cfg: DictConfig, plain: dict, values) -> dict | None:
    """`plain` (the model part of `cfg`) with `values` set, each converted by the schema as
    Hydra would set it (on `cfg`, then put back); None unless every one sets a single
    existing value to a single value (the full composition handles the rest)."""
    from omegaconf import Container

    out = copy.deepcopy(plain)
    for o in values:
        key, value = o.key_or_group, o.value()
        if o.is_sweep_override() or isinstance(value, (dict, list)):
            return None
        try:
            old = OmegaConf.select(cfg, key, throw_on_missing=True)
            if old is None or isinstance(old, Container):
                return None
            OmegaConf.update(cfg, key, value, merge=True)
            try:
                typed = OmegaConf.select(cfg, key, throw_on_missing=True)
            finally:
                OmegaConf.update(cfg, key, old, merge=True)
        except Exception:
            return None
        *path, last = [int(p) if p.isdigit() else p for p in key.split(".")]
        node = out
        for part in path:
            node = node[part]
        node[last] = typed
    return out


def _plain(cfg: DictConfig, where: str) -> dict:
    """The model's part as plain values (Hydra's own node is left out before resolving: its
    job fields are filled only when a job starts)."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        return {
            k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else cfg[k]
            for k, v in ((k, cfg._get_node(k)) for k in cfg if k != "hydra")
        }
    except OmegaConfBaseException as e:
        raise Refusal(f"{_first(e)}{where}") from None


# ---------------------------------------------------------------------------- Hydra's errors


class _Unexplained(Exception):
    """A composition error whose one line needs the configs composed again (`explain`)."""

    def __init__(self, error: BaseException | None, overrides: list[str], where: str):
        super().__init__(str(error))
        self.error, self.overrides, self.where = error, overrides, where

    def line(self) -> str:
        if self.error is None:  # OmegaConf's assertion on a key set under a null node
            return (null_parent(self.overrides) or "invalid override") + self.where
        return explain(self.error, self.overrides) + self.where


def _composed(compose, overrides: list[str], where: str = "") -> DictConfig:
    """`compose(overrides)`; Hydra's and OmegaConf's errors become `_Unexplained`."""
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return compose(overrides)
    except AssertionError:
        raise _Unexplained(None, overrides, where) from None
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as e:
        raise _Unexplained(e, overrides, where) from None


def explain(e: BaseException, overrides: list[str]) -> str:
    """One line for a composition error: an unknown group option lists the options and the
    close ones; an unknown key names the close keys of its node."""
    from sim.experiment.run import config_error_line

    text = str(e)
    if m := re.search(r"Could not find '([^']+)/([^'/]+)'", text):
        group, name = m.group(1), m.group(2)
        known = group_options(group)
        if known:
            near = _close(name, known)
            return f"{group}={name}: unknown {group}{near}; known: {', '.join(known)}"
    if m := re.search(r"Could not override '([^']+)'", text):
        key = m.group(1)
        near = _near_keys(key, overrides)
        if near is not None:
            return f"{key}: unknown key{near}"
    return config_error_line(e)


def _near_keys(key: str, overrides: list[str]) -> str | None:
    """ "; did you mean …?" with the keys beside `key` in the config (None if its parent is
    not a mapping there, or holds it)."""
    parent, _, leaf = key.lstrip("+~").rpartition(".")
    from sim.experiment.config import compose

    rest = [a for a in overrides if not a.lstrip("+~").startswith(key.lstrip("+~") + "=")]
    rest = [a for a in rest if "," not in a and "(" not in a]  # one job's choices are enough
    try:
        node = compose(rest)
    except Exception:
        return None
    for part in parent.split(".") if parent else []:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or leaf in node:  # not an unknown key: Hydra's message
        return None
    return _close(leaf, [str(k) for k in node], prefix=f"{parent}." if parent else "") + (
        f"; allowed under {parent}: {', '.join(map(str, node))}" if parent else ""
    )


def _close(name: str, known: list[str], prefix: str = "") -> str:
    near = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    near += [k for k in known if k.lower() == name.lower() and k not in near]
    near += [k for k in known if k.startswith(name) and k != name and k not in near]
    return f"; did you mean {' or '.join(prefix + n for n in near[:3])}?" if near else ""


def _first(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
