"""`privsim-params`: print, write (`--write`) or check (`--check`) docs/parameters.md, the
parameter reference generated from the schema and the configs (`sim.experiment.reference`)."""

from __future__ import annotations

import sys

from sim.cli import checks
from sim.cli.exits import FAILED
from sim.experiment import reference

PROG = "privsim-params"


def main(argv: list[str] | None = None) -> None:
    ap = checks.ArgumentParser(prog=PROG, description=reference.__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    doc = reference.DOC
    where = doc.relative_to(reference.ROOT)
    mode.add_argument("--write", action="store_true", help=f"write {where}")
    mode.add_argument("--check", action="store_true", help="exit 1 if it is out of date")
    args = ap.parse_args(argv)
    text = reference.markdown()
    if args.write:
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(text)
        print(f"{PROG}: wrote {doc}")
    elif args.check:
        if not doc.exists() or doc.read_text() != text:
            print(f"{PROG}: {doc} is out of date; run `make docs`", file=sys.stderr)
            sys.exit(FAILED)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
