"""`python -m sim.cli.testing_value <sweep_dir>`: the `testing_value` study's figure and table
(`sim.viz.testing_value`) from a reported sweep's `summary.parquet`. Exit 2 when that is
missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sim.cli import checks
from sim.cli.exits import DONE, refuse
from sim.viz import plots, testing_value

PROG = "python -m sim.cli.testing_value"


def main(argv=None) -> int:
    p = checks.ArgumentParser(prog=PROG, description=testing_value.__doc__.splitlines()[0])
    p.add_argument("sweep_dir", type=Path, help="a sweep of experiment=testing_value")
    args = p.parse_args(argv)
    path = args.sweep_dir / "summary.parquet"
    if not path.exists():
        refuse(PROG, f"{path}: missing; run privsim-report {args.sweep_dir} first")
    table = pd.read_parquet(path)
    fig = testing_value.figure(table)
    plots.save(fig, args.sweep_dir / "testing_value.png", dpi=120)
    over = args.sweep_dir / "overtakes.parquet"  # the sweep report's (sim.viz.report)
    text = testing_value.markdown(table, pd.read_parquet(over) if over.exists() else None)
    (args.sweep_dir / "testing_value.md").write_text(text)
    print(text)
    print(f"wrote {args.sweep_dir / 'testing_value.png'} and testing_value.md")
    return DONE


if __name__ == "__main__":
    sys.exit(main())
