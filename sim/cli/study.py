"""What the study commands share (`privsim-sensitivity`, `privsim-calibrate`): a spec named in a
config group plus Hydra overrides of it, `--out`, `--jobs`, `--ray`; and running the study under
the one exit-code scheme (`sim.cli.exits`): a bad spec, config or data stops with one line and
exit 2, a crash prints its trace and exits 1."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path

from sim.cli import checks
from sim.cli.exits import checked


def parser(prog: str, description: str, group: str, names: list[str], example: str):
    """The command's parser with the shared arguments; a command adds its own."""
    p = checks.ArgumentParser(prog=prog, description=description)
    p.add_argument("name", help=f"a spec in configs/{group}/ ({', '.join(names)})")
    p.add_argument("overrides", nargs="*", help=f"Hydra overrides of the spec, e.g. {example}")
    p.add_argument("--out", type=Path, help=f"output folder (default results/{group}/<name>)")
    p.add_argument("--jobs", type=int, default=2, help="local processes (default 2)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (e.g. auto)")
    return p


def parse(prog: str, p: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """The arguments, options and overrides in any order (`name --jobs 4 samples=2`), the
    shared ones checked (one line, exit 2): `--jobs` at least 1, `--out` not a file."""
    args = p.parse_intermixed_args(argv)
    checks.at_least(prog, "--jobs", args.jobs, 1)
    checks.out_folder(prog, "--out", args.out)
    return args


def run[T](prog: str, kind: str, work: Callable[[], T]) -> T:
    """`work()`'s result, or exit by the scheme ("<prog>: invalid <kind>: …", exit 2)."""
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="numpy")
    return checked(prog, work, kind)
