"""Coverage of privsim-calibrate's 90 % ABC interval across synthetic brands (not a timed test).

Each brand: parameters drawn from the prior of tests/test_calibration.py's recovery set-up
(2 free parameters, 30 users/day, 75 days), data made by the model plus observation noise
(`synthetic_observed`), then the full calibration. Reports, per parameter, how often the 90 %
interval covers the truth (nominal 90 %; with n brands, the binomial sd is sqrt(0.09/n)) and
the median |log(estimate/truth)|. Slow: ~45 s per brand on 2 cores at the defaults (6 seeds, as
privsim-calibrate's; `--seeds 2` is the old default, ~20 s).

    .venv/bin/python benchmarks/calibration.py --brands 8
    .venv/bin/python benchmarks/calibration.py --brands 24 --first 8   # brands 8-23 only
    .venv/bin/python benchmarks/calibration.py --brands 24 --only 1 2 \
        --override capability.enabled=false reputation.enabled=false

`--override KEY=VALUE ...` changes the scenario of both the data and the fit (the same brands:
their truths are drawn the same whatever is skipped or overridden).
"""

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_calibration import PARAMETERS, SCENARIO, SERIES, spec_dict  # noqa: E402

from sim.experiment import calibration as cal  # noqa: E402
from sim.experiment import observed  # noqa: E402
from sim.experiment.config import compose  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--brands", type=int, default=8)
    p.add_argument("--first", type=int, default=0, help="skip brands before this one (resume)")
    p.add_argument("--trials", type=int, default=24)
    p.add_argument("--draws", type=int, default=120)
    p.add_argument("--seeds", type=int, default=cal.Spec.seeds, help="model seeds per evaluation")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", type=int, nargs="*", default=None, help="these brands only")
    p.add_argument("--override", nargs="*", default=[], help="KEY=VALUE for data and fit")
    a = p.parse_args(argv)
    scenario = {**SCENARIO, **dict(o.split("=", 1) for o in a.override)}
    base = compose([f"{k}={v}" for k, v in scenario.items()])
    rng = np.random.default_rng(2026)
    rows = []
    for b in range(a.brands):
        truth = {}
        for k, q in PARAMETERS.items():  # log-uniform prior, inner 80 % (away from the bounds)
            lo, hi = math.log(q["low"]), math.log(q["high"])
            truth[k] = float(math.exp(lo + (0.1 + 0.8 * rng.random()) * (hi - lo)))
        if b < a.first or (a.only is not None and b not in a.only):
            continue  # drawn all the same, so brand b is the same brand in every call
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "brand.csv"
            observed.synthetic_observed(
                base, truth, seed=500 + b, series=SERIES, dispersion=30.0, sigma=0.15,
                noise_seed=500 + b,
            ).to_csv(data, index=False)  # fmt: skip
            spec = cal.spec_from_dict(
                spec_dict(
                    data,
                    scenario=scenario,
                    trials=a.trials,
                    seeds=a.seeds,
                    abc={"draws": a.draws, "accept": 0.15, "seed": b},
                )  # fmt: skip
            )
            r = cal.calibrate(spec, Path(tmp) / "out", n_jobs=a.jobs, progress=False)
        t = r.table.set_index("parameter")
        for k, v in truth.items():
            row = dict(brand=b, parameter=k, truth=v, estimate=r.estimate[k],
                       q05=t.loc[k, "q05"], q95=t.loc[k, "q95"])  # fmt: skip
            row["covered"] = row["q05"] <= v <= row["q95"]
            rows.append(row)
            interval = f"[{row['q05']:.4g}, {row['q95']:.4g}]"
            print(f"brand {b}: {k} truth {v:.4g} est {row['estimate']:.4g} {interval} "
                  f"covered={row['covered']}", flush=True)  # fmt: skip
    n = len(rows) // len(PARAMETERS)
    sd = math.sqrt(0.09 / n)
    print(f"\n90 % interval coverage over {n} brands (binomial sd {sd:.0%}):")
    for k in PARAMETERS:
        rs = [r for r in rows if r["parameter"] == k]
        cov = np.mean([r["covered"] for r in rs])
        low = sum(r["truth"] < r["q05"] for r in rs)
        high = sum(r["truth"] > r["q95"] for r in rs)
        err = [abs(math.log(r["estimate"] / r["truth"])) for r in rs]
        print(f"  {k}: coverage {cov:.0%} (truth below the interval {low}, above {high}), "
              f"|log(est/truth)| median {np.median(err):.2f}, max {max(err):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
