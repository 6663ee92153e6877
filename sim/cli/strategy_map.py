"""`python -m sim.cli.strategy_map <sweep_dir>`: the strategy map (`sim.viz.strategy_map`) from
a reported sweep's `summary.parquet`: which policy wins where. Exit 2 when that is missing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sim.cli.exits import DONE, refuse
from sim.experiment.jobs import write_text
from sim.viz import plots, strategy_map

PROG = "python -m sim.cli.strategy_map"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=strategy_map.__doc__.splitlines()[0])
    p.add_argument("sweep_dir", type=Path, help="a reported sweep of several strategies")
    args = p.parse_args(argv)
    path = args.sweep_dir / "summary.parquet"
    if not path.exists():
        refuse(PROG, f"{path}: missing; run privsim-report {args.sweep_dir} first")
    table = pd.read_parquet(path)
    plots.save(strategy_map.figure(table), args.sweep_dir / "strategy_map.png", dpi=120)
    text = strategy_map.markdown(table)
    write_text(args.sweep_dir / "strategy_map.md", text)
    print(text)
    print(f"wrote {args.sweep_dir / 'strategy_map.png'} and strategy_map.md")
    return DONE


if __name__ == "__main__":
    sys.exit(main())
