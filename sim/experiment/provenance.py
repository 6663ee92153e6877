"""What produced a run: package version, source tree and environment (`summary.json`).

`provenance()` is recorded in every run's `summary.json` under `provenance` (by
`sim.experiment.run.run`): the package `version` (setuptools-scm, from git at install time),
the `git_commit` and whether the tree was `git_dirty` when the run started (asked of `git`
beside the package; without git, read from the installed version's local part, `+g<hash>` and
`.d<date>` for a dirty tree; `git_source` says which), Python's version and the versions of the
key dependencies. Nothing here may fail a run: what cannot be found is recorded as null.

The rule for resuming and reproducing (`sim.experiment.jobs.damage`,
`sim.experiment.reproduce`): a summary counts as this package's if its *release* equals the
installed one (`release("0.1.dev12+gabc.d20250101") == release("0.1.0")`, both 0.1): a
development version string changes with every commit and every reinstall, and redoing every
finished run after each commit would make resuming useless. Runs written by another release
are redone. `privsim-reproduce` compares results only: it ignores `version` and `provenance`.
"""

from __future__ import annotations

import functools
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from sim import __version__

DEPENDENCIES = ("mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf")
SOURCE_DIR = Path(__file__).resolve().parent.parent.parent  # the checkout holding `sim/`


def release(version: str | None) -> tuple[int, ...]:
    """The release segment of a version, trailing zeros dropped: "0.1.0", "0.1" and
    "0.1.dev5+g1234abc.d20250101" all give (0, 1); an unparsable version gives ()."""
    m = re.match(r"v?(\d+(?:\.\d+)*)", str(version or ""))
    parts = [int(p) for p in m.group(1).split(".")] if m else []
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def same_release(a: str | None, b: str | None) -> bool:
    return release(a) == release(b) and bool(re.match(r"v?\d", str(a or "")))


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(SOURCE_DIR), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def from_version(version: str) -> tuple[str | None, bool | None]:
    """Commit (short hash) and dirtiness from a setuptools-scm version's local part."""
    local = version.partition("+")[2]
    m = re.search(r"(?:^|\.)g([0-9a-f]{7,40})", local)
    if not m:
        return None, None
    return m.group(1), bool(re.search(r"(?:^|\.)d\d{8}", local))


@functools.cache
def source_tree() -> dict:
    """`git_commit`, `git_dirty` and `git_source` ("git", "package metadata" or null)."""
    commit = _git("rev-parse", "HEAD") if (SOURCE_DIR / ".git").exists() else None
    if commit:
        status = _git("status", "--porcelain")
        return {
            "git_commit": commit,
            "git_dirty": None if status is None else bool(status),
            "git_source": "git",
        }
    commit, dirty = from_version(__version__)
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "git_source": "package metadata" if commit else None,
    }


def label() -> str:
    """What made a figure, in a few words: the git commit where the source is a checkout (an
    editable install's package version keeps the commit it was installed at), else the
    package version."""
    t = source_tree()
    if t["git_source"] == "git":
        return f"privsim git {t['git_commit'][:9]}{' (modified)' if t['git_dirty'] else ''}"
    return f"privsim {__version__}"


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def provenance() -> dict:
    """Everything `summary.json` records about what produced the run."""
    return {
        "version": __version__,
        **source_tree(),
        "python": platform.python_version(),
        "dependencies": {name: _installed(name) for name in DEPENDENCIES},
    }
