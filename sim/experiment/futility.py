"""Stop a trial that can no longer become the chosen policy (the policy search's futility rule,
`sim.experiment.optimize`; spec key `prune.futility`).

The search chooses the completed trial with the highest mean NPV over exactly its N brands
(seeds 0 … N−1, the same for every trial: common random numbers). So a trial matters to the
choice only if its N-brand mean ends above the incumbent's (the best completed trial so far,
scored on all N brands). After k < N brands the question is the probability of that, and
the brands make it a paired one: on brand i the trial and the incumbent share every draw but
the policy's, so d_i = trial_i − incumbent_i carries the policy's effect without the brand's
own luck (in the timed reference search a completed trial's NPV had a standard deviation of
50–60 M yuan across brands, its difference to the chosen trial 0.4–24 M).

Derivation. Brands are exchangeable draws, so take d_1 … d_N iid N(μ, σ²) with the standard
noninformative prior p(μ, σ²) ∝ 1/σ². Given the k observed (mean D, standard deviation s,
k − 1 degrees of freedom), the mean of the m = N − k brands still to run is predicted by a
Student t with k − 1 degrees of freedom, centre D and scale s·√(1/m + 1/k) (Gelman et al.,
Bayesian Data Analysis, §3.2). The trial ends above the incumbent iff k·D + m·d̄_rest > 0,
so

    P(win) = T_{k−1}( D / s · √(N·k / (N − k)) ).

N enters because the objective is the mean over these N brands, not over all brands: once k
is close to N the remaining brands can move the mean only a little (at k = N the answer is
certain). The trial stops when P(win) < α / J, where J is the number of checks a trial
passes (one per rung, `checks`): by the union bound, a trial that would have ended above
the incumbent is stopped with probability at most α over all its checks (under the model).
Stopping a trial that would have ended below the incumbent cannot change the choice.

Unlike successive halving's rank (the best 1/factor of the trials scored on the same brands,
whatever the noise), the rule reads the noise: at k = 2 its t has one degree of freedom, so it
stops only near-certain losers there; its saving comes later, from trials within a few
standard errors of the incumbent that halving lets through.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import t as student_t


def win_probability(trial, incumbent, n_brands: int) -> float:
    """P(the trial's mean over `n_brands` ends above the incumbent's), from the trial's NPVs on
    its first k brands and the incumbent's on the same brands (module docstring). 1 at
    k = n_brands if it is above, 0 if not; with no spread in the differences (s = 0): 1 if
    the trial is ahead or level, 0 if behind."""
    d = np.asarray(trial, dtype=float) - np.asarray(incumbent, dtype=float)[: len(trial)]
    k, mean = d.size, float(np.mean(d))
    if k >= n_brands:
        return float(mean > 0)
    s = float(np.std(d, ddof=1)) if k > 1 else math.nan
    if not s > 0:  # one brand (no spread to read) or the same difference on every brand
        return 0.0 if k > 1 and mean < 0 else 1.0
    return float(student_t.cdf(mean / s * math.sqrt(n_brands * k / (n_brands - k)), k - 1))
