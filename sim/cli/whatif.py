"""`privsim-whatif`: serve the strategist's what-if page (`sim.viz.pages.whatif_page`) on
localhost, offline as privsim-app.

    privsim-whatif [--port 8766] [--horizon DAYS] [--seeds N] [--open]
    python -m sim.cli.whatif --horizon 60 --seeds 2
    privsim --scenario-file scenarios.yaml --scenario 2
    privsim -m $(privsim-whatif --overrides scenarios.yaml --scenario 2)   # the same runs

`--overrides FILE --scenario K` prints scenario K's Hydra overrides and seeds from a scenario
file the page saved (`sim.viz.pages.whatif_share`), for `privsim -m`, and serves nothing;
`privsim --scenario-file` runs them directly (`sim.cli.scenario_file`).

`--horizon` and `--seeds` set the page's defaults, checked against the table's run settings
(`sim.viz.pages.controls`); a value out of range or a busy port exits 2 before serving.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import checks
from sim.cli.exits import refuse
from sim.cli.serve import serve
from sim.viz.pages.controls import RUN, page
from sim.viz.pages.whatif import HORIZON_ENV, SEEDS_ENV

PAGE = "sim.viz.pages.whatif_page"
PROG = "privsim-whatif"


def main(argv: list[str] | None = None) -> int:
    ap = checks.ArgumentParser(
        prog=PROG, description="The strategist's what-if page: a few plans, many seeds each."
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--horizon", type=int, default=None, help="default horizon in days")
    ap.add_argument("--seeds", type=int, default=None, help="default seeds per scenario")
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    ap.add_argument("--overrides", type=Path, metavar="FILE",
                    help="print a saved scenario file's overrides for privsim -m, and exit")
    ap.add_argument("--scenario", metavar="K",
                    help="with --overrides: which, by number from 1 or tag (S2); needed when "
                    "the file holds more than one")  # fmt: skip
    args = ap.parse_args(argv)
    if args.overrides is not None:
        from sim.viz.pages.whatif_share import overrides

        try:
            print(" ".join(overrides(args.overrides.read_text(), args.scenario)))
        except (OSError, ValueError) as e:
            refuse(PROG, f"invalid input: {e}")
        return 0
    run = page(RUN)
    env = {}
    try:
        if args.horizon is not None:
            env[HORIZON_ENV] = str(run["horizon_days"].check(args.horizon))
        if args.seeds is not None:
            env[SEEDS_ENV] = str(run["seeds"].check(args.seeds))
    except ValueError as e:
        refuse(PROG, f"invalid input: {e}")
    return serve(PROG, PAGE, args.host, args.port, args.open, env)


if __name__ == "__main__":
    sys.exit(main())
