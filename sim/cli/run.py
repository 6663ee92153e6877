"""`privsim` (and `python -m sim`): the Hydra app of `sim.experiment.run` with the one exit-code
scheme of `sim.cli.exits`.

Before Hydra starts, `preflight` checks the whole command without writing anything
(`sim.experiment.preflight`: every job composed and built; `sim.experiment.folders`: a folder
holding another command's finished work, a sweep folder in use): a refusal is one line and
exit 2, with nothing written. Only then is the sweep folder locked and Hydra run, on the folder
the check resolved (`hydra.sweep.dir`/`hydra.run.dir` pinned, so a timestamp cannot move on).
`--replace`, stripped before Hydra sees it, lets a command run into a folder of another's;
`--scenario-file FILE [--scenario K]`, also stripped, runs a scenario the what-if page saved
(`sim.cli.scenario_file`: its overrides first, the command line's after).

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

from sim.cli import scenario_file
from sim.cli.exits import FAILED, REFUSED
from sim.core.params import ConfigError
from sim.experiment.config import UnknownOption, check_experiments, null_parent
from sim.experiment.folders import REPLACE, FolderRefused, guard_run, guard_sweep, lock_sweep
from sim.experiment.jobs import OutputError
from sim.experiment.preflight import Refusal, check, checkable
from sim.experiment.run import HINT, config_error_line, hydra_main

PROG = "privsim"


def main() -> None:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    user_full = os.environ.get("HYDRA_FULL_ERROR") == "1"
    replace = REPLACE in sys.argv[1:]
    sys.argv[1:] = [a for a in sys.argv[1:] if a != REPLACE]
    try:
        sys.argv[1:] = scenario_file.expand(sys.argv[1:])
        check_experiments(sys.argv[1:])
        sys.argv[1:] = preflight(sys.argv[1:], replace)
    except Refusal as e:
        print(f"{PROG}: invalid configuration: {e}", file=sys.stderr)
        sys.exit(REFUSED)
    except (UnknownOption, FolderRefused, scenario_file.Refused) as e:
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


def preflight(argv: list[str], replace: bool) -> list[str]:
    """Check the command before Hydra writes anything (raising a refusal), lock a sweep's
    folder, and return the arguments for Hydra: the checked output folder pinned."""
    if not checkable(argv):  # --help, --cfg, another config source: Hydra alone
        return argv
    checked = check(argv)
    if checked.multirun:
        guard_sweep(checked.out_dir, checked.overrides, checked.jobs, replace)
        lock_sweep(checked.out_dir)
        guard_sweep(checked.out_dir, checked.overrides, checked.jobs, replace)  # under the lock
    else:
        guard_run(checked.out_dir, checked.configs[0], replace)
    if checked.out_dir_given:
        return argv
    key = "sweep" if checked.multirun else "run"
    return [*argv, f"hydra.{key}.dir={_quoted(str(checked.out_dir))}"]


def _quoted(value: str) -> str:
    """A value for Hydra's override grammar: quoted unless it is plain path characters."""
    if all(c.isalnum() or c in "/._-" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


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
