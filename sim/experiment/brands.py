"""A policy's outcome on a set of brands, through the batch engine: what the policy search
(`sim.experiment.optimize`) and the goal seek (`sim.experiment.goal`) evaluate.

A brand is one seed of a scenario with its uncertainty (DOMAIN §3.1: what fits a brand is
unknown and drawn per seed; settings such as the market's size drawn per seed as well,
`sim.experiment.uncertainty`). Every policy runs on the same seeds (common random
numbers), so on one brand two policies differ by the policy alone: their difference is read
paired by brand. Every run goes through `sim.experiment.batch.run_batch`, cached by config hash
(a re-run reads the cache) and counted, as each comes back, on one `Progress` (runs done,
ETA) across the batches.
"""

from __future__ import annotations

import math

import numpy as np

from sim.experiment.batch import Evaluation, run_batch
from sim.experiment.uncertainty import Uncertainty


def mean_se(x) -> tuple[float, float]:
    """The mean over brands and its standard error (sd with divisor n − 1, over √n; NaN for
    one brand)."""
    x = np.asarray(x, dtype=float)
    se = float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    return float(np.mean(x)), se


class BrandRuns:
    """One summary metric of policies (dotted-key values on a base config) on brands."""

    def __init__(self, bases: dict, cache_dir, n_jobs: int, ray_address: str | None, prog,
                 uncertainty: Uncertainty | None = None):  # fmt: skip
        """`bases`: one composed config, or named ones (`run_batch`'s `bases`); `uncertainty`:
        the brands' draws, set on each brand's runs (its shared overrides are in the bases)."""
        self.bases, self.cache, self.prog = bases, cache_dir, prog
        self.uncertainty = uncertainty or Uncertainty()
        self.n_jobs, self.ray_address = n_jobs, ray_address
        self.computed = 0  # runs simulated, not read from the cache
        self.backfill = None  # a `sim.experiment.backfill.Backfill` feeding idle workers

    def named(self, policies: dict, metric: str) -> dict:
        """{key: (`metric` on each brand, "") or (None, why it failed: a run's error, or the
        metric not finite on some brand)} for `{key: (base name, values, seeds)}`, in one
        batch."""
        evs = [(k, self.evaluation(b, v, s)) for k, (b, v, seeds) in policies.items()
               for s in seeds]  # fmt: skip
        results = run_batch(self.bases, [e for _, e in evs], n_jobs=self.n_jobs,
                            cache_dir=self.cache, ray_address=self.ray_address,
                            progress=self.prog, backfill=self.backfill)  # fmt: skip
        self.computed += len({r.config_hash for r in results if not r.cached})  # run once each
        out = {}
        for key in policies:
            mine = [r for (k, _), r in zip(evs, results, strict=True) if k == key]
            if bad := next((r for r in mine if not r.ok), None):
                out[key] = None, bad.error
                continue
            vals = [float(r.summary.get(metric, math.nan)) for r in mine]
            finite = all(math.isfinite(v) for v in vals)
            out[key] = (vals, "") if finite else (None, f"{metric} is not finite on every brand")
        return out

    def evaluation(self, base: str, values: dict, seed: int) -> Evaluation:
        """Policy `values` on brand `seed`: its draws, then the policy's (no key is both: an
        uncertainty key is never searched nor set by a preset)."""
        return Evaluation({**self.uncertainty.values(seed), **values}, seed=seed, base=base)

    def metric(self, policies: list[dict], seeds, metric: str) -> list[tuple[list | None, str]]:
        """Per policy on the one base, in one batch: as `named`."""
        seeds = list(seeds)
        got = self.named({i: ("base", v, seeds) for i, v in enumerate(policies)}, metric)
        return [got[i] for i in range(len(policies))]
