"""`privsim-report <sweep_dir>`: aggregate a Hydra multirun into summary.parquet, figures,
report.md, report.html and workbook.xlsx (`sim.viz.report`); exit 1 naming the runs that did
not finish (or when the report fails: the previous one is kept), 2 when the folder holds no
sweep or `--rank-by` names no summary column (before anything is written)."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from sim.cli import checks
from sim.cli.exits import DONE, FAILED, refuse
from sim.experiment.comparison import RANK_BY
from sim.experiment.sweep import name_unfinished, planned_total
from sim.viz.report import FAILED_MARK, BadInput, report

PROG = "privsim-report"


def main(argv=None) -> None:
    p = checks.ArgumentParser(
        prog=PROG,
        description="Aggregate a Hydra multirun into summary.parquet, figures, report.md, "
        "report.html (to forward) and workbook.xlsx in the sweep directory; exit 1 naming the "
        "runs that did not finish.",
    )
    p.add_argument("sweep_dir", type=Path, help="a Hydra multirun directory")
    p.add_argument(
        "--rank-by",
        default=RANK_BY,
        help="summary column the groups are ranked on, with the share of seeds in which each "
        f"is best (default {RANK_BY}; e.g. ltv_cac_90d, payback_day: lower is better)",
    )
    args = p.parse_args(argv)
    try:
        failed = report(args.sweep_dir, args.rank_by)
    except BadInput as e:
        refuse(PROG, str(e))
    except Exception as e:
        traceback.print_exc()
        print(
            f"{PROG}: the report failed: {type(e).__name__}: {e}; the previous report is kept "
            f"(see {args.sweep_dir / FAILED_MARK})",
            file=sys.stderr,
        )
        sys.exit(FAILED)
    if failed:
        name_unfinished(args.sweep_dir, failed, planned_total(args.sweep_dir))
    sys.exit(FAILED if failed else DONE)


if __name__ == "__main__":
    main()
