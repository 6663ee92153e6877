"""Run the console scripts inside the test process, as a shell would run them, for the bad-input
corpus (tests/test_bad_input.py).

A subprocess per case costs ~2 s of imports; the corpus has hundreds of cases, so each command's
`main` is called here with its argv instead: stdout/stderr captured, `SystemExit` turned into the
exit code, an exception that escapes `main` turned into what a real process shows (its traceback
on stderr, exit 1). Hydra keeps global state between calls: it is cleared before and after each
call, and `HYDRA_FULL_ERROR` (which `privsim` sets for its own call) is restored. The page
commands never serve: the server start (`os.execve` / `subprocess.call` in `sim.cli.serve`) is
replaced by a recorder, so a case can say whether the command got as far as serving.
`test_bad_input.py` checks a handful of cases as real subprocesses to keep this honest.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

# Console script -> module whose `main` it runs (pyproject.toml, [project.scripts]).
COMMANDS = {
    "privsim": "sim.cli.run",
    "privsim-report": "sim.cli.report",
    "privsim-reproduce": "sim.cli.reproduce",
    "privsim-figure": "sim.cli.figure",
    "privsim-clv": "sim.cli.clv",
    "privsim-params": "sim.cli.params",
    "privsim-sensitivity": "sim.cli.sensitivity",
    "privsim-calibrate": "sim.cli.calibrate",
    "privsim-optimize": "sim.cli.optimize",
    "privsim-goal": "sim.cli.goal",
    "privsim-workshop": "sim.cli.workshop",
    "privsim-app": "sim.cli.app",
    "privsim-whatif": "sim.cli.whatif",
    "privsim-game": "sim.cli.game",
}
SERVERS = {"privsim-app", "privsim-whatif", "privsim-game"}


@dataclass
class Outcome:
    """What a user sees: the exit code, stdout, stderr; and whether a page command started its
    server (`served`)."""

    code: int
    out: str
    err: str
    served: bool = False


class _Served(Exception):
    """Raised by the stand-in for the server start: the command got as far as serving."""


def _clear_hydra() -> None:
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()


def invoke(command: str, argv: list[str], cwd: Path) -> Outcome:
    """Run `command argv` in `cwd` inside this process; returns what the user would see."""
    import sim.cli.serve as serve

    main = importlib.import_module(COMMANDS[command]).main
    out, err = io.StringIO(), io.StringIO()
    served = False

    def start_server(*a, **k):
        raise _Served

    saved = (
        os.getcwd(),
        sys.argv,
        os.environ.get("HYDRA_FULL_ERROR"),
        serve.os.execve,
        serve.subprocess.call,
    )
    root_logging = (logging.root.level, list(logging.root.handlers))
    os.chdir(cwd)
    os.environ.pop("HYDRA_FULL_ERROR", None)
    serve.os.execve = start_server
    serve.subprocess.call = start_server
    _clear_hydra()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                if command == "privsim":
                    sys.argv = [command, *argv]
                    result = main()
                else:
                    result = main(list(argv))
                code = result if isinstance(result, int) else 0
            except SystemExit as e:
                code = _exit_code(e.code, err)
            except _Served:
                served, code = True, 0
            except Exception:  # what an uncaught exception does to a real process
                traceback.print_exc(file=err)
                code = 1
    finally:
        _clear_hydra()
        os.chdir(saved[0])
        sys.argv = saved[1]
        if saved[2] is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved[2]
        serve.os.execve, serve.subprocess.call = saved[3], saved[4]
        _restore_logging(cwd, root_logging)
    return Outcome(code, out.getvalue(), err.getvalue(), served)


def _exit_code(code, err: io.StringIO) -> int:
    """`sys.exit(code)` as the interpreter treats it: None is 0, a string is printed and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)
    return 1


def _restore_logging(cwd: Path, root: tuple) -> None:
    """Hydra's job logging replaces the root logger's handlers (console, and a file handler on
    `run.log` it leaves open): close the files opened under `cwd` and put the root logger back
    as it was, so neither the next case nor the rest of the test session logs into them."""
    for logger in [logging.root, *logging.Logger.manager.loggerDict.values()]:
        for h in list(getattr(logger, "handlers", [])):
            name = getattr(h, "baseFilename", None)
            if name and str(name).startswith(str(cwd)):
                h.close()
                logger.removeHandler(h)
    level, handlers = root
    logging.root.setLevel(level)
    logging.root.handlers[:] = handlers


# ---------------------------------------------------------------------------- disk snapshots


# The browser tests' own output folder: under pytest-xdist (`make test`) another worker writes
# there while a case runs; no command or notebook under test writes into it.
BROWSER_OUT = Path(__file__).resolve().parent.parent / "results" / "e2e"


def snapshot(*roots: Path) -> dict[str, tuple]:
    """Every file and folder under `roots` but `BROWSER_OUT`: path -> (kind, size, content
    hash). Two equal snapshots mean nothing was written, removed or changed (a rewrite with equal
    bytes passes: what a user can lose is content)."""
    state: dict[str, tuple] = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _, filenames in os.walk(root):
            d = Path(dirpath)
            if d == BROWSER_OUT or BROWSER_OUT in d.parents:
                continue
            state[str(d)] = ("dir",)
            for name in filenames:
                p = d / name
                if p.is_symlink() or not p.is_file():
                    state[str(p)] = ("other",)
                    continue
                data = p.read_bytes()
                state[str(p)] = ("file", len(data), hashlib.sha1(data).hexdigest())
    return state


def differences(before: dict, after: dict) -> list[str]:
    """What changed between two snapshots, one line per path (for an assertion message)."""
    lines = [f"written: {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"removed: {p}" for p in sorted(before.keys() - after.keys())]
    lines += [
        f"changed: {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]
    ]
    return lines
