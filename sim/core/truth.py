"""The truly best candidate, by value: the evaluation's yardstick, never a rule's (DOMAIN §3.1, §4).

A run's 0-1 test commits the arm with the best *measured* metric; whether that was the right
call is judged in the currency the business cares about: LTV per user (discounted margin at
ages < H minus CAC, yuan). A candidate's expected value under the brand's latent fits has no
closed form (it runs through trust, capacity and churn), so it is estimated the way a test
would, without its noise: a *reference test* of every candidate of each dimension with several
(`fit.truth`: users per arm, volume, team, horizon), repeated `replicates` times with run seeds
of their own (`TRUTH_STREAM`, independent of the run's, so the run's lucky draws do not favour
what it committed) under the same latent fits. Each candidate's value is its arms' LTV at H
pooled over the repeats; its standard error comes from the spread of the repeats' arm means.

The reference does not depend on the strategy run, so the guess a big launch runs and the
candidate a test commits are valued alike (regret per brand is comparable across strategies).
Arrivals come from `initial_channel` (001 ~365: seed users come from the brand's own public-store
customers), or from the people candidates in equal shares when people are uncertain.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sim.core.params import FIT_DIMENSIONS, Phase, Scenario, Strategy, Test, candidates
from sim.core.ranges import MAX_HORIZON_DAYS

TRUTH_STREAM = 0x7207  # a sub-stream of the brand's seed


def reference(sc: Scenario, seed: int) -> Scenario:
    """The scenario of one repeat: one phase running the reference test, fits and brand kept."""
    t = sc.fit.truth
    dims = [d for d, names in candidates(sc).items() if len(names) >= 2]
    people = sc.fit.people.channels
    mix = {c: 1.0 / len(people) for c in people} if people else {sc.initial_channel: 1.0}
    test = Test(dims, {}, t.users_per_arm, "ltv", t.horizon_days)
    phase = Phase(
        name="reference_test",
        daily_users=t.daily_users,
        channel_mix=mix,
        team_size=t.team_size,
        koc_programme=False,
        systems=0.0,
        build_capability=False,
        min_days=0,
        max_days=None,
        test=test,
    )
    fit = replace(sc.fit, truth=replace(t, replicates=0))
    strategy = Strategy(name="truth", phases=[phase])
    # the repeat ends when its arms are valued (`candidate_values`); the horizon only bounds it
    return replace(sc, strategy=strategy, fit=fit, seed=seed, horizon_days=MAX_HORIZON_DAYS)


def candidate_values(sc: Scenario, fits: dict, brand_seed: int | None, model_cls) -> dict | None:
    """Per dimension with several candidates: `value` (LTV at `fit.truth.horizon_days` per
    user, yuan) and `se` of every candidate, under latent `fits`; None when off (0 repeats)
    or when no dimension has several candidates. `model_cls` builds a model of a scenario."""
    t = sc.fit.truth
    if t.replicates == 0 or not any(len(n) >= 2 for n in candidates(sc).values()):
        return None
    seeds = np.random.SeedSequence(None if brand_seed is None else [brand_seed, TRUTH_STREAM])
    means: dict[str, list[np.ndarray]] = {}
    sums: dict[str, np.ndarray] = {}
    users: dict[str, np.ndarray] = {}
    for child in seeds.spawn(t.replicates):
        m = model_cls(reference(sc, int(child.generate_state(1)[0] >> 1)))
        m.brand.fit = {d: np.array(f, dtype=float) for d, f in fits.items()}
        while m.day < m.horizon_days:
            m.step()
            if m.brand.ready(m.day - 1):
                break
        for dim, r in m.brand.measure(m.population, m.day - 1, m.imported).items():
            means.setdefault(dim, []).append(r["metric"])
            sums[dim] = sums.get(dim, 0.0) + r["metric"] * r["users"]
            users[dim] = users.get(dim, 0) + r["users"]
    out = {}
    for dim in FIT_DIMENSIONS:
        if dim not in users:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(users[dim] > 0, sums[dim] / np.maximum(users[dim], 1), np.nan)
        reps = np.array(means[dim])
        se = reps.std(axis=0, ddof=1) / np.sqrt(len(reps)) if len(reps) > 1 else np.nan + value
        out[dim] = {"value": value, "se": se}
    return out
