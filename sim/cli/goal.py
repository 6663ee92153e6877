"""`privsim-goal`: the everyday questions as one-dimensional searches (issue #24; the engine is
`sim.experiment.goal`, the report `sim.viz.goal`):

    privsim-goal <question> [overrides]        # a preset, configs/goal/<question>.yaml
    privsim-goal smallest|largest KEY --keep 'METRIC>=X' --range LOW HIGH [--set KEY=VALUE …]
    privsim-goal best KEY --maximise METRIC [--loss-probability '<=Z'] --range LOW HIGH […]

The flags build the same mapping a preset holds (`sim.experiment.goal_spec`), so both are
checked alike: bad input (an unknown key or metric, a range beyond the schema's, a malformed
constraint) stops with one line naming it and exit 2, before any run. The answer's paragraph
goes to stdout, progress to stderr."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from sim.cli import checks, study
from sim.cli.exits import FAILED, refuse
from sim.experiment.goal import ProbeFailed, runs_planned, seek
from sim.experiment.goal_spec import SEARCHES, load_spec, spec_from_dict, spec_names
from sim.viz.goal import answer_text, write

PROG = "privsim-goal"
INTEGER = re.compile(r"[-+]?\d+")


def number(text: str) -> int | float:
    """A bound as typed: a whole number stays an integer (a team of 3, not 3.0)."""
    try:
        return int(text) if INTEGER.fullmatch(text.strip()) else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def flags_parser() -> argparse.ArgumentParser:
    p = checks.ArgumentParser(
        prog=PROG,
        description="Search one config key over a range, on the same brands for every value: "
        "the smallest (largest) value whose mean metric meets --keep (grid, then bisection), "
        "or the value with the highest mean --maximise metric whose loss probability is within "
        "--loss-probability (grid, then refinement). Writes report.md, probes.csv, goal.png.",
    )
    p.add_argument("search", choices=SEARCHES)
    p.add_argument("key", help="a dotted config key, e.g. operators.fixed")
    p.add_argument("--range", nargs=2, type=number, required=True, metavar=("LOW", "HIGH"),
                   help="the values searched, checked against the schema")  # fmt: skip
    p.add_argument("--keep", help="smallest/largest: METRIC>=X or METRIC<=X on the mean over "
                   "brands, e.g. conversion_30d>=0.15")  # fmt: skip
    p.add_argument("--maximise", help="best: the metric maximised, e.g. npv_730d")
    p.add_argument("--loss-probability", help="best: cap on the share of brands whose metric "
                   "is < 0, e.g. '<=0.1'")  # fmt: skip
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a Hydra override of the scenario (repeat), e.g. initial_users=50000")
    p.add_argument("--brands", type=int, default=6, help="seeds 0 … N−1 (default 6)")
    p.add_argument("--steps", type=int, help="grid intervals of the range (the resolution)")
    p.add_argument("--grid", type=int, help="values probed evenly first (default 5)")
    p.add_argument("--refine", type=int, help="best: refinement rounds (default 2)")
    p.add_argument("--name", help="the question's name (default <search>_<key>)")
    p.add_argument("--out", type=Path, help="output folder (default results/goal/<name>)")
    p.add_argument("--jobs", type=int, default=2, help="local processes (default 2)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (e.g. auto)")
    return p


def from_flags(args: argparse.Namespace) -> dict:
    """The spec mapping the flags say (`sim.experiment.goal_spec.spec_from_dict` checks it)."""
    scenario = {}
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq or not key:
            refuse(PROG, f"--set {item!r}: expected KEY=VALUE, e.g. initial_users=50000")
        scenario[key] = value
    low, high = args.range
    d = {
        "name": args.name or f"{args.search}_{args.key}",
        "search": args.search,
        "parameters": {args.key: {"low": low, "high": high}},
        "keep": args.keep,
        "maximise": args.maximise,
        "loss_probability": args.loss_probability,
        "scenario": scenario,
        "brands": {"count": args.brands},
    }
    return d | {k: v for k in ("steps", "grid", "refine") if (v := getattr(args, k)) is not None}


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SEARCHES:
        args = study.parse(PROG, flags_parser(), argv)
        for flag, least in (("brands", 1), ("steps", 1), ("grid", 2), ("refine", 0)):
            checks.at_least(PROG, f"--{flag}", getattr(args, flag), least)

        def make():
            return spec_from_dict(from_flags(args))
    else:
        p = study.parser(
            PROG,
            "Answer a goal-seek question from configs/goal/ (or give the question as flags: "
            f"{PROG} smallest|largest|best KEY --help). Writes report.md, probes.csv, goal.png; "
            "re-running into the same --out reads the cached runs.",
            "goal",
            spec_names(),
            "scenario.initial_users=80000",
        )
        args = study.parse(PROG, p, argv)

        def make():
            return load_spec(args.name, args.overrides)

    def work():
        spec = make()
        out = args.out or Path("results/goal") / spec.name

        def announce(checked):
            print(f"{PROG}: up to {runs_planned(checked)} runs planned -> {out}", file=sys.stderr)

        try:
            return out, seek(spec, out, n_jobs=args.jobs, ray_address=args.ray,
                             before_runs=announce)  # fmt: skip
        except ProbeFailed as e:
            return out, e

    out, result = study.run(PROG, "goal question", work)
    if isinstance(result, ProbeFailed):
        print(f"{PROG}: a value failed, no answer: {result}", file=sys.stderr)
        sys.exit(FAILED)
    path = write(result, out, f"{PROG} " + " ".join(argv))
    print(answer_text(result))
    print(f"{PROG}: report {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
