"""Regenerate examples/calibration/synthetic_brand.csv: a SYNTHETIC brand's 90 days.

No real brand's data is public. This series is made by the model itself from stated parameters,
with observation noise, so that calibrating to it (`privsim-calibrate synthetic_brand`) can be
checked against the truth. The truth differs from configs/config.yaml's defaults on purpose.
tests/test_calibration.py checks that the committed file is what this script makes now.

    .venv/bin/python examples/calibration/make_synthetic_brand.py
"""

from pathlib import Path

import pandas as pd

from sim.experiment.calibration import load_spec
from sim.experiment.config import compose
from sim.experiment.observed import synthetic_observed

TRUTH = {"purchase.first_buy_rate": 0.3, "churn.base_rate": 0.002}  # defaults: 0.2, 0.001
SEED = 2026  # the brand (model seed); not one of the seeds the fit uses (0, 1, 1000+)
NOISE = {"dispersion": 30.0, "sigma": 0.15, "noise_seed": 7}  # NB size; sd on log(1 + yuan)
PATH = Path(__file__).with_name("synthetic_brand.csv")


def synthetic_brand() -> pd.DataFrame:
    """The brand's observed days: the spec's series from one run at TRUTH, plus noise."""
    spec = load_spec("synthetic_brand")
    base = compose(spec.overrides())
    return synthetic_observed(base, TRUTH, seed=SEED, series=[s.name for s in spec.series], **NOISE)


def main() -> Path:
    df = synthetic_brand()
    df.to_csv(PATH, index=False)
    print(f"wrote {PATH} ({len(df)} days) from {TRUTH}, seed {SEED}, noise {NOISE}")
    return PATH


if __name__ == "__main__":
    main()
