"""What the study commands share (`privsim-sensitivity`, `privsim-calibrate`): a spec named in
a config group plus Hydra overrides of it, `--out`, `--jobs`, `--ray`; and one exit-code scheme,
as `privsim`'s: a bad spec, config or data stops with one line and exit 2, a crash prints its
trace and exits 1."""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

from sim.core.params import ConfigError


def parser(prog: str, description: str, group: str, names: list[str], example: str):
    """The command's parser with the shared arguments; a command adds its own."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("name", help=f"a spec in configs/{group}/ ({', '.join(names)})")
    p.add_argument("overrides", nargs="*", help=f"Hydra overrides of the spec, e.g. {example}")
    p.add_argument("--out", type=Path, help=f"output folder (default results/{group}/<name>)")
    p.add_argument("--jobs", type=int, default=2, help="local processes (default 2)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (e.g. auto)")
    return p


def run(prog: str, kind: str, work: Callable[[], object]):
    """`work()`'s result; a `ConfigError` or a Hydra/OmegaConf error exits 2 with one line
    ("<prog>: invalid <kind>: …"), anything else prints its trace and exits 1."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    warnings.filterwarnings("ignore", category=RuntimeWarning, module="numpy")
    try:
        return work()
    except (ConfigError, HydraException, OmegaConfBaseException) as e:
        line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"{prog}: invalid {kind}: {line}", file=sys.stderr)
        sys.exit(2)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
