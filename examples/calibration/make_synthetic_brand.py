"""Regenerate examples/calibration/synthetic_brand.csv: a SYNTHETIC brand's 90 days.

No real brand's data is public. This series is made by the model itself from stated parameters,
with observation noise, so that calibrating to it (`privsim-calibrate synthetic_brand`) can be
checked against the truth. The truth differs from configs/config.yaml's defaults on purpose.

    .venv/bin/python examples/calibration/make_synthetic_brand.py
"""

from pathlib import Path

from sim.experiment.calibration import load_spec, synthetic_observed
from sim.experiment.config import compose

TRUTH = {"purchase.first_buy_rate": 0.3, "churn.base_rate": 0.002}  # defaults: 0.2, 0.001
SEED = 2026  # the brand (model seed); not one of the seeds the fit uses (0, 1, 1000+)
NOISE = {"dispersion": 30.0, "sigma": 0.15, "noise_seed": 7}  # NB size; sd on log(1 + yuan)


def main() -> Path:
    spec = load_spec("synthetic_brand")
    base = compose(spec.overrides())
    df = synthetic_observed(base, TRUTH, seed=SEED, series=[s.name for s in spec.series], **NOISE)
    path = Path(__file__).with_name("synthetic_brand.csv")
    df.to_csv(path, index=False)
    print(f"wrote {path} ({len(df)} days) from {TRUTH}, seed {SEED}, noise {NOISE}")
    return path


if __name__ == "__main__":
    main()
