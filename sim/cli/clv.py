"""`privsim-clv <run_dir> [<run_dir> …]`: BG/NBD and Gamma-Gamma fitted to runs' transaction
logs, checked on a holdout (`sim.experiment.clv`, written by `sim.viz.clv`). Exit 2 when a run
directory or an option cannot be used or the `clv` extra is missing, 1 when a fit fails."""

from __future__ import annotations

import sys
import traceback

from sim.cli import checks
from sim.cli.exits import FAILED, refuse
from sim.experiment import clv
from sim.viz import clv as views

PROG = "privsim-clv"


def main(argv=None) -> None:
    p = checks.ArgumentParser(prog=PROG, description=views.__doc__.split("\n\n")[0])
    p.add_argument(
        "run_dir",
        nargs="+",
        help="finished runs written with outputs.transactions=true; several: compared by strategy",
    )
    p.add_argument(
        "--calibration-end",
        metavar="YYYY-MM-DD",
        help="last day of the calibration period (default: the middle of each run's horizon)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="folder of the comparison by strategy (several runs, or one with --out; default "
        "results/clv/<timestamp>)",
    )
    a = p.parse_args(argv)
    checks.out_folder(PROG, "--out", a.out)
    try:
        if len(a.run_dir) == 1 and a.out is None:
            out = views.check(a.run_dir[0], a.calibration_end)
        else:
            out = views.compare(a.run_dir, a.calibration_end, a.out)
    except (clv.BadInput, clv.MissingExtra) as e:
        refuse(PROG, str(e))
    except Exception:
        traceback.print_exc()
        print(f"{PROG}: the fit failed (trace above)", file=sys.stderr)
        sys.exit(FAILED)
    print(f"{PROG}: wrote {out}/report.md")


if __name__ == "__main__":
    main()
