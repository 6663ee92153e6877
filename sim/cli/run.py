"""`privsim` (and `python -m sim`): the Hydra app of `sim.experiment.run` with the one exit-code
scheme of `sim.cli.exits`.

Hydra itself catches every exception of composition or of the task and exits 1 with a long trace
unless HYDRA_FULL_ERROR is set; so this sets it for the call, catches the composition errors
itself (one line and the hint, exit 2), an invalid configuration met while building the model
(exit 2) and an output that fails its checks (exit 1), and leaves the full trace (exit 1) for
crashes. A user who set HYDRA_FULL_ERROR gets Hydra's own behaviour for Hydra's errors.
"""

from __future__ import annotations

import os
import sys
import traceback

import yaml

from sim.cli.exits import FAILED, REFUSED
from sim.core.params import ConfigError
from sim.experiment.config import UnknownOption, check_experiments, null_parent
from sim.experiment.jobs import OutputError
from sim.experiment.run import HINT, config_error_line, hydra_main

PROG = "privsim"


def main() -> None:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    user_full = os.environ.get("HYDRA_FULL_ERROR") == "1"
    try:
        check_experiments(sys.argv[1:])
    except UnknownOption as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(REFUSED)
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        hydra_main()
    except ConfigError as e:  # the model refused a value: the whole message, as it names the key
        print(f"{PROG}: invalid configuration: {e}", file=sys.stderr)
        sys.exit(REFUSED)
    except OutputError as e:
        print(f"{PROG}: run failed: {e}", file=sys.stderr)
        sys.exit(FAILED)
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as e:
        if user_full:
            raise
        print(f"{PROG}: invalid configuration: {config_error_line(e)}", file=sys.stderr)
        print(f"{PROG}: ({HINT})", file=sys.stderr)
        sys.exit(REFUSED)
    except Exception as e:
        if user_full:
            raise
        line = _null_parent(sys.argv[1:]) if isinstance(e, AssertionError) else None
        if line is None:
            traceback.print_exc()
            sys.exit(FAILED)
        print(f"{PROG}: invalid configuration: {line}", file=sys.stderr)
        sys.exit(REFUSED)


def _null_parent(argv: list[str]) -> str | None:
    """OmegaConf asserts (no message) on a key set under a null node: name it, when the command
    line composes the versioned configs (no other --config-dir/-name); None otherwise."""
    args = [a for a in argv if a not in ("-m", "--multirun")]
    if any(a.startswith("-") for a in args):
        return None
    try:
        return null_parent(args)
    except Exception:
        return None


if __name__ == "__main__":
    main()
