"""`privsim-reproduce <run_dir>`: re-run a finished run from its saved config and seed and check
that its tables and summary come out identical (`sim.experiment.reproduce`). Exit 0 identical,
1 different, 2 not a finished run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim.cli import checks
from sim.cli.exits import DONE, FAILED, refuse
from sim.experiment import reproduce as rep
from sim.experiment.jobs import CONFIG, SUMMARY

PROG = "privsim-reproduce"


def main(argv=None) -> None:
    p = checks.ArgumentParser(prog=PROG, description=rep.__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path, help="a run directory (one job of a sweep, or a run)")
    p.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write the reproduction here (a new or empty folder) instead of a temporary one",
    )
    args = p.parse_args(argv)
    checks.empty_folder(PROG, "--keep", args.keep)
    try:
        note = rep.replay_note(args.run_dir, json.loads((args.run_dir / CONFIG).read_text()))
    except (OSError, ValueError):
        note = None  # reproduce() below names what is missing
    try:
        diffs = rep.reproduce(args.run_dir, args.keep)
    except (FileNotFoundError, ValueError) as e:
        refuse(PROG, str(e))  # a refusal is one line: the note only with a reproduction
    if note:
        print(f"note: {note}", file=sys.stderr)
    if diffs:
        print(f"{PROG}: NOT reproduced: {args.run_dir}", file=sys.stderr)
        for d in diffs:
            print(f"  {d}", file=sys.stderr)
        sys.exit(FAILED)
    s = json.loads((args.run_dir / SUMMARY).read_text())
    print(
        f"reproduced {args.run_dir}: {', '.join(rep.FRAMES)} and summary.json identical "
        f"(config_hash {s['config_hash']}, seed {s.get('seed')})"
    )
    sys.exit(DONE)


if __name__ == "__main__":
    main()
