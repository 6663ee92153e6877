"""`privsim-calibrate <spec> [overrides] [--data FILE]`: fit the model's free parameters to a
brand's observed series (`sim.experiment.calibration`), written by `sim.viz.calibration`. Exit 2
on a bad spec or bad data (naming the column and row), before any run."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import study
from sim.experiment.calibration import calibrate, load_spec, spec_names
from sim.viz.calibration import number, write

PROG = "privsim-calibrate"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = study.parser(
        PROG,
        "Fit the model's free parameters to a brand's observed series (optuna point fit, "
        "ABC-rejection intervals); spec in configs/calibration/. Writes calibrated.yaml, "
        "parameters.parquet, fit.png, study.db, report.md, report.html (to forward). "
        "Re-running into the same --out resumes (optuna study in study.db, runs cached).",
        "calibration",
        spec_names(),
        "trials=20",
    )
    p.add_argument("--data", type=Path, help="observed series (CSV/parquet), instead of the spec's")
    args = study.parse(PROG, p, argv)

    def work():
        spec = load_spec(args.name, args.overrides)
        out = args.out or Path("results/calibration") / spec.name

        def announce():
            print(f"{PROG}: {spec.runs_planned()} runs planned -> {out}", file=sys.stderr)

        return out, calibrate(
            spec, out, n_jobs=args.jobs, ray_address=args.ray, data=args.data, before_runs=announce
        )

    out, result = study.run(PROG, "calibration", work)
    path = write(result, out, f"{PROG} " + " ".join(argv))
    print(f"{PROG}: report {path}", file=sys.stderr)
    for r in result.table.itertuples():
        print(
            f"{PROG}: {r.parameter} = {number(r.estimate)} "
            f"(90 % interval {number(r.q05)} - {number(r.q95)})",
            file=sys.stderr,
        )
    for n in result.notes:
        print(f"{PROG}: {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
