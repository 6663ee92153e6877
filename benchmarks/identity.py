"""Bit-identity of this tree's results with another commit's, config by config.

    python benchmarks/identity.py --base main                 # every case at a year
    python benchmarks/identity.py --base main --days 1095 --cases staged ten_to_n
    python benchmarks/identity.py --hashes --days 365         # this tree's hashes, one JSON line

A speed-up must not move a result (issue #24: "bit-identical"; tests/test_baseline.py checks
only the default run's summary). This runs each case of `CASES` (strategies, presets, a brand
with fit spread and place and goods arms, a bounded market, the KOC circle, the pyramid) for
`--days` and hashes its daily table, weekly cohorts, summary, customer table and the whole
trust column (churned users' trust included: tests/test_fit.py averages every customer's).
With `--base COMMIT` it checks COMMIT out into a temporary git worktree, runs the same cases
there (a subprocess with PYTHONPATH at that tree, beside this tree's: two processes) and
prints one line per case and output, `same` or `DIFFERENT`; exit status 1 if any differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# name -> config overrides (as the CLI takes them)
CASES: dict[str, list[str]] = {
    "staged": [],
    "premature": ["strategy=premature"],
    "ten_to_n": ["strategy=ten_to_n"],
    "ten_to_n_stoploss": ["strategy=ten_to_n_stoploss"],
    "testing_value_spread": [
        "experiment=testing_value",
        "fit.spread=0.5",
        "fit.truth.replicates=1",
    ],
    "bounded_market": ["strategy=ten_to_n", "market_size=150000"],
    "koc_circle": ["experiment=koc_leverage", "initial_users=10000"],
    "pyramid_camps_washes": [
        "pool=pyramid",
        "pool.layers.camps.enabled=true",
        "pool.layers.washes.enabled=true",
    ],
    "friend_cap_handover": ["operators.handover_share=0.3", "operators.handover_trust_cost=0.1"],
}


def _digest(text: str | bytes) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode()).hexdigest()[:16]


def hashes(name: str, days: int) -> dict:
    """The hashes of one case's outputs after `days` days."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose

    cfg = compose([*CASES[name], f"horizon_days={days}"])
    model = PrivateDomainModel.from_config(cfg).run()
    return {
        "daily": _digest(model.daily().to_csv()),
        "cohorts": _digest(model.cohorts().to_csv()),
        "summary": _digest(json.dumps(model.summary(), sort_keys=True, default=str)),
        "customers": _digest(model.customers().to_csv()),
        "trust": _digest(model.population.trust.tobytes()),
        "rows": int(model.population.n),
    }


def against(base: str, days: int, names: list[str]) -> bool:
    """Each case here and at `base`, side by side; True if every output is the same."""
    here = Path(__file__).resolve().parents[1]
    tmp = tempfile.mkdtemp(prefix="identity_base_")
    subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", tmp, base],
                   check=True, capture_output=True)  # fmt: skip
    try:
        procs = {
            tree: subprocess.Popen(
                [sys.executable, __file__, "--hashes", "--days", str(days), "--cases", *names],
                cwd=root,
                env={**os.environ, "PYTHONPATH": str(root)},
                stdout=subprocess.PIPE,
                text=True,
            )
            for tree, root in (("base", Path(tmp)), ("new", here))
        }
        got = {}
        for tree, p in procs.items():
            out, _ = p.communicate()
            if p.returncode:
                raise SystemExit(f"{tree} tree failed (exit {p.returncode})")
            got[tree] = json.loads(out.strip().splitlines()[-1])
    finally:
        subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", tmp],
                       check=False, capture_output=True)  # fmt: skip
    same = True
    for name in names:
        for key, value in got["new"][name].items():
            ok = value == got["base"][name][key]
            same &= ok
            print(f"{name:24s} {days:5d} d {key:10s} {'same' if ok else 'DIFFERENT'} {value}")
    return same


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", help="the commit to compare with")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--hashes", action="store_true", help="print this tree's hashes as JSON")
    args = p.parse_args()
    if args.hashes or not args.base:
        print(json.dumps({n: hashes(n, args.days) for n in args.cases}))
    elif not against(args.base, args.days, args.cases):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
