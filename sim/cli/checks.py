"""Checks of the commands' own arguments (not the model's config), each refusing with one line
and exit 2 (`sim.cli.exits.refuse`) before any work: argparse's own errors print a usage block,
and a value argparse accepts (`--jobs 0`, `--port 99999`, `--out` naming a file) would otherwise
fail later with a trace, or after work was done. Every command's parser is `ArgumentParser`:
an option is read only as typed in full."""

from __future__ import annotations

import argparse
import difflib
import ipaddress
import sys
from pathlib import Path

from sim.cli.exits import refuse


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser without prefix matching (`allow_abbrev=False`): `privsim-whatif --seed
    3` would otherwise be read as `--seeds 3` without a word. An option it does not know is
    refused (exit 2, argparse's usage and one error line) naming the closest known option."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        if message.startswith("unrecognized arguments: "):
            known = [o for o in self._option_string_actions if o.startswith("--")]
            typed = [a.split("=")[0] for a in message.split(": ", 1)[1].split()]
            for arg in (a for a in typed if a.startswith("--")):
                if close := difflib.get_close_matches(arg, known, n=1):
                    message += f" (did you mean {close[0]}?)"
                    break
        super().error(message)


PORTS = (1, 65535)
LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


def at_least(prog: str, flag: str, value: int | None, least: int) -> None:
    """`value` (None: not given) is a whole number >= `least`."""
    if value is not None and value < least:
        refuse(prog, f"{flag} {value}: must be at least {least}")


def out_folder(prog: str, flag: str, path: Path | str | None) -> None:
    """`path` (None: not given) can be an output folder: missing, or a folder, not a file."""
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        refuse(prog, f"{flag} {path}: is a file, not a folder; give a new or existing folder")


def empty_folder(prog: str, flag: str, path: Path | str | None) -> None:
    """`path` (None: not given) is missing or an empty folder: a command that writes a whole
    run into it must not overwrite what is there (e.g. the run it reproduces)."""
    if path is None:
        return
    out_folder(prog, flag, path)
    if Path(path).is_dir() and any(Path(path).iterdir()):
        refuse(prog, f"{flag} {path}: the folder is not empty; give a new or empty folder")


def port(prog: str, value: int) -> None:
    lo, hi = PORTS
    if not lo <= value <= hi:
        refuse(prog, f"--port {value}: out of range; allowed: {lo}-{hi}")


def loopback(host: str) -> bool:
    """Whether `host` reaches this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(prog: str, host: str) -> None:
    """The pages have no authentication: serving beyond loopback lets anyone who can reach the
    address use them (and run simulations on this machine). Say so, on stderr."""
    if not loopback(host):
        print(
            f"{prog}: warning: serving on {host} reaches beyond this machine, and the page has "
            "no authentication: anyone who can reach this address can use it (and run "
            "simulations here). Use --host 127.0.0.1 unless that is intended.",
            file=sys.stderr,
            flush=True,
        )
