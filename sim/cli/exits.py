"""One exit-code scheme for every command.

- 0 (`DONE`): the command did what was asked.
- 1 (`FAILED`): it ran and something failed (a run, a report, a reproduction that differs); a
  crash prints its trace.
- 2 (`REFUSED`): bad input (an unknown key, a value out of range, a missing file, a mistyped
  option): one line naming the key or file, before any work and with nothing written.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import NoReturn

DONE, FAILED, REFUSED = 0, 1, 2


class Refused(ValueError):
    """Bad input a command refuses with one line and exit 2 (raise it where the input is read)."""


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def refuse(prog: str, message: str) -> NoReturn:
    """Print `<prog>: <message>` on stderr and exit 2."""
    print(f"{prog}: {message}", file=sys.stderr)
    sys.exit(REFUSED)


def refusals() -> tuple[type[BaseException], ...]:
    """The exceptions that mean bad input everywhere: ours, Hydra's and OmegaConf's config
    errors, an unknown group option (`experiment=premature_scalin`), a command the pre-flight
    check refuses (`sim.experiment.preflight`), YAML syntax errors, and a
    missing file."""
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from sim.core.params import ConfigError
    from sim.experiment.config import UnknownOption
    from sim.experiment.preflight import Refusal

    return (
        Refused,
        Refusal,
        ConfigError,
        UnknownOption,
        HydraException,
        OmegaConfBaseException,
        yaml.YAMLError,
        FileNotFoundError,
    )


def checked[T](prog: str, work: Callable[[], T], kind: str = "input") -> T:
    """`work()`'s result; a refusal exits 2 with one line ("<prog>: invalid <kind>: …"), any
    other exception prints its trace and exits 1."""
    try:
        return work()
    except refusals() as e:
        refuse(prog, f"invalid {kind}: {first_line(e)}")
    except Exception:
        traceback.print_exc()
        sys.exit(FAILED)


def guard(prog: str, work: Callable[[], int | None], kind: str = "input") -> NoReturn:
    """Run `work()` as `checked` does and exit with its return value (None = 0)."""
    code = checked(prog, work, kind)
    sys.exit(DONE if code is None else code)
