"""Series a view asks a running model for, computed here from the population (as Agents.jl's
`adata`/`mdata`: the caller names what it needs, the model side reads its own arrays), so that
no view reads `model.population`.

- `acquired_ltv_cac(model)`: LTV/CAC to date of the users acquired so far (DOMAIN.md §2.7;
  imported users have no acquisition cost and are left out);
- `conversion_by_join_day(model, window, min_pooled)`: 30-day conversion of acquired users by
  joining day, pooled over a window of joining days (DOMAIN.md §2.2: conversion decay shows as
  this line falling while the pool grows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.core import metrics
from sim.core.metrics import CONVERSION_WINDOW, converted_within
from sim.core.params import IMPORTED


def _acquired(model) -> np.ndarray:
    """Mask of users who came through a channel (not imported at the start)."""
    return model.population.channel != model.channel_names.index(IMPORTED)


def acquired_ltv_cac(model) -> float:
    """Today's LTV/CAC of the users acquired so far (NaN before any acquisition cost)."""
    return metrics.ltv_cac(model.population, _acquired(model))


def conversion_by_join_day(model, window: int, min_pooled: int) -> pd.DataFrame:
    """30-day conversion (%) of acquired users by joining day, pooled over the `window` joining
    days ending on each day; only joiners whose 30 days are over count; NaN where fewer than
    `min_pooled` joiners are pooled. Columns `join_day`, `conversion_pct`."""
    pop = model.population
    last = model.day - 1 - CONVERSION_WINDOW  # latest joining day whose window has closed
    if last < 0:
        return pd.DataFrame({"join_day": np.empty(0, int), "conversion_pct": np.empty(0)})
    acquired = _acquired(model) & (pop.join_day <= last)
    jd = pop.join_day[acquired]
    conv = converted_within(pop, acquired).astype(float)
    n = np.bincount(jd, minlength=last + 1).astype(float)
    k = np.bincount(jd, weights=conv, minlength=last + 1)
    kernel = np.ones(window)
    n_w = np.convolve(n, kernel)[: last + 1]
    k_w = np.convolve(k, kernel)[: last + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n_w >= min_pooled, 100.0 * k_w / n_w, np.nan)
    return pd.DataFrame({"join_day": np.arange(last + 1), "conversion_pct": pct})
