"""`python -m sim.cli.strategy_map <sweep_dir> [<sweep_dir> …]`: the strategy map
(`sim.viz.strategy_map`) from reported sweeps' `summary.parquet`: which policy wins where.
Several sweeps are read as one table (e.g. a study's earlier runs and the policies or conditions
added since: runs with the same config and seed are the same brand), written into the first.
Exit 2 when a summary is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.cli import checks
from sim.cli.exits import DONE, refuse
from sim.experiment.jobs import write_text
from sim.viz import plots, strategy_map

PROG = "python -m sim.cli.strategy_map"


def main(argv=None) -> int:
    p = checks.ArgumentParser(prog=PROG, description=strategy_map.__doc__.splitlines()[0])
    p.add_argument("sweep_dir", type=Path, nargs="+", help="reported sweeps of several strategies")
    args = p.parse_args(argv)
    paths = [d / "summary.parquet" for d in args.sweep_dir]
    if missing := next((p for p in paths if not p.exists()), None):
        refuse(PROG, f"{missing}: missing; run privsim-report {missing.parent} first")
    table = strategy_map.combined([pd.read_parquet(p) for p in paths])
    out = args.sweep_dir[0]
    plots.save(strategy_map.figure(table), out / "strategy_map.png", dpi=120)
    text = strategy_map.markdown(table)
    write_text(out / "strategy_map.md", text)
    print(text)
    print(f"wrote {out / 'strategy_map.png'} and strategy_map.md")
    return DONE


if __name__ == "__main__":
    sys.exit(main())
