"""Shared builders: tests compose the real configs, then shrink or isolate what they test."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest

from sim.core.model import PrivateDomainModel
from sim.experiment.config import compose, model_kwargs

logging.getLogger("MESA").setLevel(logging.WARNING)

_BASE = None

# issue #22's mechanisms (on by default) and the friend cap, off: for tests sized on the model
# without them, whose subject is another mechanism (`build(WITHOUT_ISSUE_22)`, dotted keys)
WITHOUT_ISSUE_22 = {
    "capability.enabled": False,
    "market.enabled": False,
    "reputation.enabled": False,
    "operators.friend_cap": None,
}


def base_config() -> dict:
    """The default composed config (composed once, copied per use)."""
    global _BASE
    if _BASE is None:
        _BASE = compose([])
    return copy.deepcopy(_BASE)


def one_phase(daily_users: float, mix: dict, team_size=None, koc=False, systems=0.0) -> dict:
    """A single-phase strategy: constant acquisition, fixed team — isolates one mechanism."""
    return {
        "name": "probe",
        "phases": [
            {
                "name": "probe",
                "daily_users": daily_users,
                "channel_mix": mix,
                "team_size": team_size,
                "koc_programme": koc,
                "systems": systems,
                "build_capability": False,
                "min_days": 0,
                "max_days": None,
            }
        ],
    }


def set_path(cfg: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    node = cfg
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    node[keys[-1]] = value


def build(changes: dict | None = None, **top) -> PrivateDomainModel:
    cfg = base_config()
    for k, v in (changes or {}).items():
        set_path(cfg, k, v)
    cfg.update(top)
    return PrivateDomainModel(**model_kwargs(cfg))


def across_seeds(metric, changes: dict, seeds, **top) -> np.ndarray:
    """`metric(model)` after running the model once per seed."""
    return np.array([metric(build(changes, seed=s, **top).run()) for s in seeds])


def assert_greater(a: np.ndarray, b: np.ndarray, k: float = 3.0) -> None:
    """mean(a) > mean(b) by more than k standard errors of the difference (across seeds)."""
    diff = a.mean() - b.mean()
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert diff > k * se, (
        f"mean {a.mean():.4g} vs {b.mean():.4g}: diff {diff:.4g} <= {k} SE ({se:.4g})"
    )


@pytest.fixture
def small():
    """A short default run, for invariants."""
    return build({"horizon_days": 90}, seed=3)
