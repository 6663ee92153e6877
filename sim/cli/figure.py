"""`privsim-figure <experiment>` or `privsim-figure --scenario <overrides>`: one slide-ready
figure (PNG + SVG) of an experiment's arms (`sim.viz.slide`). Exit 2 on input it cannot use (an
unknown experiment or override: one line, nothing run), 1 when a run fails."""

from __future__ import annotations

import os
import sys

from sim.cli import checks
from sim.cli.exits import DONE, FAILED, first_line, refusals, refuse
from sim.experiment.preflight import refuse_interpolations
from sim.viz import slide

PROG = "privsim-figure"


def main(argv: list[str] | None = None) -> int:
    ap = checks.ArgumentParser(
        prog=PROG, description="One slide-ready figure (PNG + SVG) of an experiment's arms."
    )
    ap.add_argument(
        "experiment",
        nargs="?",
        help="a config under configs/experiment/, e.g. premature_scaling (or use --scenario)",
    )
    ap.add_argument(
        "--scenario",
        nargs="+",
        metavar="KEY=VALUE",
        help="Hydra overrides instead of an experiment, e.g. strategy=staged,premature "
        "operators.count=3 (the strategies are the arms; default staged,premature)",
    )
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per arm (default 10)")
    ap.add_argument(
        "--out",
        default=str(slide.DEFAULT_OUT),
        help="output folder (default results/figures); the runs are cached in "
        "<out>/runs/<experiment>",
    )
    ap.add_argument(
        "--days", type=int, default=None, help="horizon override (default: the config's)"
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=min(4, len(os.sched_getaffinity(0))),
        help="parallel processes of the batch engine (default: CPU count, at most 4)",
    )
    args = ap.parse_args(argv)
    if (args.experiment is None) == (args.scenario is None):
        ap.error("give an experiment or --scenario KEY=VALUE ..., not both")
    checks.at_least(PROG, "--seeds", args.seeds, 1)
    checks.at_least(PROG, "--jobs", args.jobs, 1)
    checks.out_folder(PROG, "--out", args.out)
    try:
        refuse_interpolations(args.scenario or [])  # as privsim's: nothing resolves into outputs
        paths = slide.write(
            args.experiment, args.seeds, args.out, args.days, args.jobs, args.scenario
        )
    except SystemExit as e:  # the slide refused its input, with one line
        if not isinstance(e.code, str):
            raise
        refuse(PROG, e.code.removeprefix(f"{PROG}: "))
    except refusals() as e:
        refuse(PROG, f"invalid configuration: {first_line(e)}")
    except RuntimeError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return FAILED
    for p in paths:
        print(p)
    return DONE


if __name__ == "__main__":
    sys.exit(main())
