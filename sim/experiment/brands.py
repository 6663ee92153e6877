"""A policy's outcome on a set of brands, through the batch engine: what the policy search
(`sim.experiment.optimize`) and the goal seek (`sim.experiment.goal`) evaluate.

A brand is one seed of a scenario with its uncertainty overrides (DOMAIN §3.1: what fits a
brand is unknown and drawn per seed). Every policy runs on the same seeds (common random
numbers), so on one brand two policies differ by the policy alone: their difference is read
paired by brand. Every run goes through `sim.experiment.batch.run_batch`, cached by config hash
(a re-run reads the cache) and counted, as each comes back, on one `Progress` (runs done,
ETA) across the batches.
"""

from __future__ import annotations

import math

import numpy as np

from sim.experiment.batch import Evaluation, run_batch


def mean_se(x) -> tuple[float, float]:
    """The mean over brands and its standard error (sd with divisor n − 1, over √n; NaN for
    one brand)."""
    x = np.asarray(x, dtype=float)
    se = float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    return float(np.mean(x)), se


class BrandRuns:
    """One summary metric of policies (dotted-key values on `base`) on brands `seeds`."""

    def __init__(self, base: dict, cache_dir, n_jobs: int, ray_address: str | None, prog):
        self.base, self.cache, self.prog = base, cache_dir, prog
        self.n_jobs, self.ray_address = n_jobs, ray_address
        self.computed = 0  # runs simulated, not read from the cache

    def metric(self, policies: list[dict], seeds, metric: str) -> list[tuple[list | None, str]]:
        """Per policy, in one batch: (`metric` on each brand, "") or (None, why it failed: a
        run's error, or the metric not finite on some brand)."""
        seeds = list(seeds)
        evs = [Evaluation(values, seed=s) for values in policies for s in seeds]
        results = run_batch(self.base, evs, n_jobs=self.n_jobs, cache_dir=self.cache,
                            ray_address=self.ray_address, progress=self.prog)  # fmt: skip
        self.computed += sum(not r.cached for r in results)
        out = []
        for k in range(len(policies)):
            mine = results[k * len(seeds) : (k + 1) * len(seeds)]
            if bad := next((r for r in mine if not r.ok), None):
                out.append((None, bad.error))
                continue
            vals = [float(r.summary.get(metric, math.nan)) for r in mine]
            finite = all(math.isfinite(v) for v in vals)
            out.append((vals, "") if finite else (None, f"{metric} is not finite on every brand"))
        return out
