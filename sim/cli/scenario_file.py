"""`privsim --scenario-file FILE [--scenario K] [overrides …]`: run a scenario the what-if page
saved (its "Download scenarios (.yaml)", `sim.viz.pages.whatif_share`) directly.

    privsim --scenario-file whatif-scenarios.yaml --scenario 2
    privsim --scenario-file whatif-scenarios.yaml --scenario 2 horizon_days=730 'seed=range(0,3)'

The two options are taken off the command line before anything else reads it and replaced by
scenario K's overrides and seeds, exactly those `privsim-whatif --overrides FILE --scenario K`
prints (`whatif_share.overrides`), as a multirun (`-m`, as the page's own commands): the same
runs as `privsim -m $(privsim-whatif --overrides FILE --scenario K)`, number for number. The
file's overrides go first; an override also given on the command line replaces the file's of
the same key (later wins). `--scenario` is a number from 1 or the title's tag (`S2`); it may be
left out when the file holds one scenario. A missing or unreadable file, a file that is not a
scenario file, an unknown scenario: one line naming the choices (`Refused`), before any run.
"""

from __future__ import annotations

from pathlib import Path

FILE, SCENARIO = "--scenario-file", "--scenario"
MULTIRUN = ("-m", "--multirun")


class Refused(ValueError):
    """The scenario options cannot be used: one line saying why and what to choose."""


def take(argv: list[str], flag: str) -> tuple[str | None, list[str]]:
    """The value of `flag` (`--flag VALUE` or `--flag=VALUE`) and the other arguments."""
    rest, value = [], None
    args = iter(argv)
    for a in args:
        if a == flag:
            value = next(args, None)
            if value is None or value.startswith("-"):
                raise Refused(f"{flag} needs a value")
        elif a.startswith(flag + "="):
            value = a.split("=", 1)[1]
        else:
            rest.append(a)
    return value, rest


def key(override: str) -> str:
    """The key an override sets (`+a.b=1`, `a.b=1`, `~a.b` -> `a.b`)."""
    return override.split("=", 1)[0].lstrip("+~")


def expand(argv: list[str]) -> list[str]:
    """`argv` with `--scenario-file FILE [--scenario K]` replaced by scenario K's overrides
    (first, `-m` added) and the rest of the command line (after: its overrides win);
    `argv` itself when it names no scenario file."""
    path, rest = take(argv, FILE)
    chosen, rest = take(rest, SCENARIO)
    if path is None:
        if chosen is not None:
            raise Refused(f"{SCENARIO} {chosen}: needs {FILE} FILE (a what-if scenario file)")
        return argv
    from sim.viz.pages.whatif_share import overrides

    try:
        saved = overrides(Path(path).read_text(encoding="utf-8"), chosen)
    except OSError as e:
        raise Refused(f"{FILE} {path}: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused(f"{FILE} {path}: {e}") from None
    given = {key(a) for a in rest if not a.startswith("-")}
    multirun = [] if any(a in MULTIRUN for a in rest) else ["-m"]
    return [*multirun, *(o for o in saved if key(o) not in given), *rest]
