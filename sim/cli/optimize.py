"""`privsim-optimize <spec> [overrides]`: search a scaling policy's parameters robustly across
brands (optuna; `sim.experiment.optimize`), validate the chosen policy on fresh brands, written
by `sim.viz.optimize`. Exit 0 done; 1 a validation run failed (the chosen policy, a starting
point or a preset: named on stderr, the report written); 2 a bad spec (naming the key), before
any run."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import study
from sim.cli.exits import DONE, FAILED
from sim.experiment.optimize import optimize
from sim.experiment.optimize_spec import load_spec, spec_names
from sim.viz.optimize import label, money, write

PROG = "privsim-optimize"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = study.parser(
        PROG,
        "Search a scaling policy's parameters (optuna: TPE, or NSGA-II with a downside "
        "measure) over the same brands for every trial, pruning losers early, then validate "
        "the chosen policy, the starting points and the presets on fresh brands; spec in "
        "configs/optimize/. Writes policy.yaml, policy.args, trials.csv, report.md, report.html "
        "(to forward), workbook.xlsx, fresh.png (front.png with a downside), study.db. "
        "Re-running into the same --out resumes (optuna study in study.db, runs cached). Exit 1 "
        "when a validation run failed.",
        "optimize",
        spec_names(),
        "trials=8",
    )
    args = study.parse(PROG, p, argv)

    def work():
        spec = load_spec(args.name, args.overrides)
        out = args.out or Path("results/optimize") / spec.name

        def announce():
            print(f"{PROG}: up to {spec.runs_planned()} runs planned -> {out}", file=sys.stderr)

        return out, optimize(
            spec, out, n_jobs=args.jobs, ray_address=args.ray, before_runs=announce
        )

    out, result = study.run(PROG, "optimisation spec", work)
    path = write(result, out, f"{PROG} " + " ".join(argv))
    print(f"{PROG}: report {path}", file=sys.stderr)
    for name, o in result.fresh.items():
        print(f"{PROG}: {label(result, name)} on {o.npv.size} fresh brands: mean "
              f"{result.spec.metric} {money(o.mean)} (standard error {money(o.se)})",
              file=sys.stderr)  # fmt: skip
    for n in result.notes:
        print(f"{PROG}: {n}", file=sys.stderr)
    for f in result.failed:
        print(f"{PROG}: failed: {f}", file=sys.stderr)
    sys.exit(FAILED if result.failed else DONE)


if __name__ == "__main__":
    main()
