"""`privsim-sensitivity <spec> [overrides]`: a global sensitivity study (Morris or Sobol, SALib)
of a spec in configs/sensitivity/ (`sim.experiment.sensitivity`), written by
`sim.viz.sensitivity`. Exit 0 every run finished, 1 some failed, 2 a bad spec."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import study
from sim.cli.exits import DONE, FAILED
from sim.experiment.sensitivity import load_spec, run_study, spec_names
from sim.viz.sensitivity import write_study

PROG = "privsim-sensitivity"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = study.parser(
        PROG,
        "Global sensitivity analysis (Morris or Sobol, SALib) of a study spec in "
        "configs/sensitivity/; writes samples.parquet, indices.parquet, sensitivity.png and "
        "report.md. Re-running into the same --out resumes (finished runs are cached).",
        "sensitivity",
        spec_names(),
        "samples=4",
    )
    args = study.parse(PROG, p, argv)

    def work():
        spec = load_spec(args.name, args.overrides)
        out = args.out or Path("results/sensitivity") / spec.name

        def announce():
            print(f"{PROG}: {spec.runs_planned()} runs planned -> {out}", file=sys.stderr)

        return out, run_study(
            spec, out, n_jobs=args.jobs, ray_address=args.ray, before_runs=announce
        )

    out, result = study.run(PROG, "study", work)
    path = write_study(result, out, f"{PROG} " + " ".join(argv))
    print(f"{PROG}: report {path}", file=sys.stderr)
    for n in result.notes:
        print(f"{PROG}: {n}", file=sys.stderr)
    sys.exit(FAILED if (result.samples["status"] != "finished").any() else DONE)


if __name__ == "__main__":
    main()
