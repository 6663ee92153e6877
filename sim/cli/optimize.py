"""`privsim-optimize <spec> [overrides]`: search a scaling policy's parameters robustly across
brands (optuna; `sim.experiment.optimize`), validate the chosen policy on fresh brands, written
by `sim.viz.optimize`. Exit 2 on a bad spec (naming the key), before any run."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import study
from sim.experiment.optimize import optimize
from sim.experiment.optimize_spec import load_spec, spec_names
from sim.viz.optimize import money, write

PROG = "privsim-optimize"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = study.parser(
        PROG,
        "Search a scaling policy's parameters (optuna: TPE, or NSGA-II with a downside "
        "measure) over the same brands for every trial, then validate the chosen policy and "
        "the starting point on fresh brands; spec in configs/optimize/. Writes policy.yaml, "
        "policy.args, trials.csv, report.md, study.db. Re-running into the same --out resumes "
        "(optuna study in study.db, runs cached).",
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
        print(f"{PROG}: {name} policy on {o.npv.size} fresh brands: mean {result.spec.metric} "
              f"{money(o.mean)} (standard error {money(o.se)})", file=sys.stderr)  # fmt: skip
    for n in result.notes:
        print(f"{PROG}: {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
