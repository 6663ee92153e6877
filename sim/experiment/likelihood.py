"""The calibration's likelihood: how probable the observed series are given the simulated ones
(`sim.experiment.calibration`, its method section).

Counts are negative binomial around the simulated mean (dispersion fixed or profiled on
`SIZE_GRID`); revenue is Gaussian on log(1 + y) (sd fixed or its ML value). Weekly data are
compared with the simulated week (its sum for a flow, its last day for a stock).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import gammaln

from sim.experiment.observed import FREQUENCIES, STOCKS

# Size grid for a fitted negative-binomial dispersion (var = mu + mu^2 / size): from very
# overdispersed (0.1) to nearly Poisson (1e4); the profile maximum is taken on it.
SIZE_GRID = np.logspace(-1, 4, 101)
SIGMA_MIN = 1e-3  # a fitted lognormal sd never below this (a perfect fit would give log 0)


def aggregate(daily: np.ndarray, days: np.ndarray, step: int, stock: bool) -> np.ndarray:
    """Simulated daily values (…, horizon) at the observed rows: the day's value (daily), or the
    week ending on each observed day (its sum for a flow, its last value for a stock)."""
    if step == 1 or stock:
        return daily[..., days]
    csum = np.concatenate([np.zeros(daily.shape[:-1] + (1,)), np.cumsum(daily, axis=-1)], axis=-1)
    return csum[..., days + 1] - csum[..., days + 1 - step]


def negbin_nll(y: np.ndarray, mu: np.ndarray, size: float | None) -> tuple[float, float]:
    """Negative log-likelihood of counts `y` ~ NB(mean mu, size) and the size used (the
    maximum-likelihood size on `SIZE_GRID` when `size` is None)."""
    k = SIZE_GRID[:, None] if size is None else np.array([[size]])
    ll = (
        gammaln(y + k) - gammaln(k) - gammaln(y + 1)
        + k * np.log(k / (k + mu)) + y * np.log(mu / (k + mu))
    )  # fmt: skip
    nll = -ll.sum(axis=1)
    j = int(np.argmin(nll))
    return float(nll[j]), float(k[j, 0])


def lognormal_nll(y: np.ndarray, mu: np.ndarray, sigma: float | None) -> tuple[float, float]:
    """Negative log-likelihood of log(1 + y) ~ N(log(1 + mu), sigma²) (the Jacobian, constant
    in the parameters, left out) and the sigma used (its ML value when `sigma` is None)."""
    r = np.log1p(y) - np.log1p(mu)
    s = max(float(np.sqrt(np.mean(r**2))), SIGMA_MIN) if sigma is None else sigma
    return float(np.sum(0.5 * np.log(2 * np.pi * s**2) + r**2 / (2 * s**2))), s


def objective(spec, obs: pd.DataFrame, daily: list[dict]) -> tuple[float, dict]:
    """Total negative log-likelihood of the observed series given the mean over seeds of the
    simulated ones (`daily`: one dict of daily columns per seed), and per series its
    nll and fitted nuisance value (dispersion or sigma)."""
    days = obs["day"].to_numpy()
    step = FREQUENCIES[spec.frequency]
    total, parts = 0.0, {}
    for s in spec.series:
        sims = np.array([np.asarray(d[s.column], dtype=float) for d in daily])
        mu = np.maximum(aggregate(sims, days, step, s.name in STOCKS).mean(axis=0), spec.floor)
        y = obs[s.name].to_numpy(dtype=float)
        if s.likelihood == "negbin":
            nll, nuisance = negbin_nll(y, mu, s.dispersion)
        else:
            nll, nuisance = lognormal_nll(y, mu, s.sigma)
        parts[s.name] = (nll, nuisance)
        total += nll
    return total, parts
