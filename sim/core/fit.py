"""Brand fit unknown until tested: what the 0-1 test buys (DOMAIN §3.1, seed 001).

0-1 "has one job: test people, goods and place (人、货、场)". A brand has *candidates* on each
dimension and a *guess*, the one it would run untested ("guess first (拍脑袋), then iterate with
data"):

- place (场): candidate pools — the scenario's `pool` (named by its `name`) and `fit.place.pools`;
- goods (货): lead/star product variants at the business's prices — the business's own (named by
  `business.name`) and `fit.goods.variants`;
- people (人): acquisition channels listed in `fit.people.channels`; the phases' shares of these
  channels all go to the one run (the guess, or what a test committed).

Each candidate has a latent fit φ drawn once per run, φ = exp(spread · z), z ~ N(0, 1): its median
is 1 (fits as configured) and a typical candidate lies within ×/÷ exp(spread) of that; spread 0
makes every φ exactly 1 and the model exactly today's. φ scales what the candidate touches:

- place: the trust gain of its members (pool potential × φ) and purchase friction on the odds of
  getting through (odds of 1 − friction × φ);
- goods: the purchase hazards, first and repeat orders (odds × φ), and a first buyer of a poorly
  fitting lead product loses trust `letdown_trust × max(0, 1 − φ)` ("a poor lead product makes
  users judge every product by it"; lower trust then raises churn and lowers repeat orders);
- people: the intent of the channel's users (odds × φ).

Odds scaling keeps probabilities in [0, 1]: p' = φp / (1 − p + φp). The fits come from their own
generator, `default_rng([brand_seed, FIT_STREAM, dimension])` (brand_seed defaults to the run's
seed), so the model's own draws are untouched; arms are randomised with `ARM_STREAM`, drawn only
while a test runs.

A phase's `test` randomises arrivals across the candidates of each tested dimension (each
dimension independently: a factorial design) until every arm has `users_per_arm` users (people:
the candidate channels share the phase's volume on them equally instead), bought at the test's
own `daily_users` while the arms fill: the test is sized in users, not days (DOMAIN §3.2, 001
~365). It holds the phase's gate until its last user has matured (`ready`): 30 days, or
`horizon_days` for the `ltv` metric. When the phase ends the arm with the best measured metric
over its matured users is committed and later phases run it: 30-day conversion, discounted
margin to date, or `ltv` — discounted margin booked at ages < `horizon_days` minus CAC, yuan per
user, the yardstick the business cares about (§4), booked per arm the day each user reaches
that age (`book_values`), from the model's own cohorts only. A phase whose test `continues`,
entered while a test is under way, carries that test on instead (a test is sized in users and
must mature, §3.2, whatever the team or budget of the phases it spans: the workshop game's
consecutive test months, `sim.experiment.workshop`). The measurement is noisy: small
arms sometimes commit to the wrong candidate; `summary()` says so against the evaluation's
value of each candidate (`sim.core.truth`: the latent fits, never read by the rule).
Users keep the pool and product of their arm
(`Population.pool`, `.goods`; `.tested` has one bit per dimension they were randomised in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.mechanism import Day, Mechanism
from sim.core.metrics import CONVERSION_WINDOW, cohort_arms, converted_within, matured_rows
from sim.core.params import FIT_DIMENSIONS, Phase, Scenario, candidates, guesses
from sim.core.pool import PoolMix, PoolTables, pressure, promo_excess, stack_tables

PLACE, GOODS, PEOPLE = FIT_DIMENSIONS
TESTED_BIT = {PLACE: 1, GOODS: 2, PEOPLE: 4}
FIT_STREAM, ARM_STREAM = 0xF17, 0xA53  # sub-streams of the brand's and the run's seeds


def draw_fits(spread: float, seed: int | None, cands: dict[str, list[str]]) -> dict:
    """Latent fit φ = exp(spread · z) per candidate, one sub-stream per dimension."""
    out = {}
    for k, (dim, names) in enumerate(cands.items()):
        if spread == 0:
            out[dim] = np.ones(len(names))
            continue
        rng = np.random.default_rng(None if seed is None else [seed, FIT_STREAM, k])
        out[dim] = np.exp(spread * rng.standard_normal(len(names)))
    return out


def odds_scaled(p: np.ndarray, phi) -> np.ndarray:
    """Probability `p` with its odds multiplied by `phi` (0 stays 0, 1 stays 1)."""
    o = p * phi
    return o / (1.0 - p + o)


@dataclass
class Arms:
    """What `Brand.assign` gives a batch of new users: candidate indices, scalar or per user."""

    pool: int | np.ndarray
    goods: int | np.ndarray
    tested: int  # bits of the dimensions randomised (TESTED_BIT)


class Brand(Mechanism):
    """The brand's candidates, their latent fits, what runs, and the test under way.

    A mechanism of every run (spread 0 and no candidates: the identity), and the run's
    `PoolSource` unless the pool has layers. Hooks: a phase start commits the test under way
    and starts the phase's own (strategy), goods fit scales purchase hazards (advance), a poor
    lead product lets its first buyers down (churn), new users per candidate (account)."""

    name = "fit"
    state = ("pool", "goods", "tested")

    def __init__(self, sc: Scenario, channel_names: list[str], seed: int | None):
        self.names = candidates(sc)
        self.guess = {
            d: None if g is None else self.names[d].index(g) for d, g in guesses(sc).items()
        }
        self.running = dict(self.guess)
        self.spread = sc.fit.spread
        self.brand_seed = seed if sc.fit.brand_seed is None else sc.fit.brand_seed
        self.fit = draw_fits(self.spread, self.brand_seed, self.names)
        self._active: dict[str, tuple[np.ndarray, bool]] = {}  # `active`'s answers
        self.pools = [sc.pool, *(sc.fit.place.pools[n] for n in self.names[PLACE][1:])]
        self.mixes = [PoolMix(p, sc.touchpoints) for p in self.pools]
        self.letdown_trust = sc.fit.goods.letdown_trust
        self.code = {name: i for i, name in enumerate(channel_names)}
        self.mixed = False  # members of several pools: per-user pool effects (after a place test)
        self._arm_rng = np.random.default_rng(None if seed is None else [seed, ARM_STREAM])
        self.test = None  # the running phase's Test, while it runs
        self.metric = None  # the metric of the latest test
        self.test_start = 0
        self.arms: dict[str, np.ndarray] = {}  # tested dimension -> candidate indices
        self.counts: dict[str, np.ndarray] = {}  # tested dimension -> users per arm so far
        self.valued: dict[str, np.ndarray] = {}  # tested dimension -> users valued at the horizon
        self.value: dict[str, np.ndarray] = {}  # ... and their LTV at the horizon, summed
        self.last_join: dict[str, int] = {}
        self.results: dict[str, dict] = {}  # dimension -> the last test's measurement
        self.today = {d: np.zeros(len(self.names[d]), dtype=np.int64) for d in (PLACE, GOODS)}

    # --- what runs ---------------------------------------------------------------------------

    @property
    def pool(self):
        return self.pools[self.running[PLACE]]

    @property
    def mix(self) -> PoolMix:
        return self.mixes[self.running[PLACE]]

    def active(self, dim: str) -> bool:
        """Whether any candidate of `dim` fits other than as configured (asked twice a day:
        kept per fit array, recomputed if one is replaced)."""
        fit = self.fit[dim]
        known = self._active.get(dim)
        if known is None or known[0] is not fit:
            known = self._active[dim] = fit, bool(np.any(fit != 1.0))
        return known[1]

    def channel_mix(self, mix: dict[str, float]) -> dict[str, float]:
        """The phase's mix with its candidate channels' share on the channel run (people), or
        split equally across the arms of a people test that still needs users."""
        cands = self.names[PEOPLE]
        if not cands:
            return mix
        share = sum(mix.get(c, 0.0) for c in cands)
        out = {k: v for k, v in mix.items() if k not in cands}
        if self._filling(PEOPLE):
            arms = [cands[i] for i in self.arms[PEOPLE]]
            out.update(dict.fromkeys(arms, share / len(arms)))
        else:
            out[cands[self.running[PEOPLE]]] = share
        return out

    # --- new users ---------------------------------------------------------------------------

    def assign(self, n: int, channel: str, day: int) -> Arms:
        """Pool and product of `n` new users: the running ones, or random arms of a test."""
        out = Arms(self.running[PLACE], self.running[GOODS], 0)
        tested = 0
        for dim in (PLACE, GOODS):
            if not self._filling(dim):
                self.today[dim][self.running[dim]] += n
                continue
            arms = self.arms[dim]
            pick = self._arm_rng.integers(len(arms), size=n)
            self.counts[dim] += np.bincount(pick, minlength=len(arms))
            self.last_join[dim] = day
            idx = arms[pick]
            self.today[dim] += np.bincount(idx, minlength=len(self.names[dim]))
            setattr(out, "pool" if dim == PLACE else "goods", idx)
            tested |= TESTED_BIT[dim]
        if self._filling(PEOPLE) and channel in self.names[PEOPLE]:
            arm = np.flatnonzero(self.arms[PEOPLE] == self.names[PEOPLE].index(channel))
            if arm.size:
                self.counts[PEOPLE][arm[0]] += n
                self.last_join[PEOPLE] = day
                tested |= TESTED_BIT[PEOPLE]
        out.tested = tested
        return out

    def draw_membership(self, rng: np.random.Generator, pool, n: int) -> np.ndarray:
        """Touchpoint masks of `n` new members of `pool` (one index, or one per user)."""
        if np.isscalar(pool):
            return self.mixes[int(pool)].draw_membership(rng, n)
        out = np.zeros(n, dtype=np.uint8)
        for i in np.unique(pool):  # a loop over candidate pools, not users
            sel = pool == i
            out[sel] = self.mixes[int(i)].draw_membership(rng, int(sel.sum()))
        return out

    def intent(self, channel: str, intent: np.ndarray) -> np.ndarray:
        """New users' intent, odds scaled by their channel's fit (people)."""
        if channel not in self.names[PEOPLE]:
            return intent
        phi = self.fit[PEOPLE][self.names[PEOPLE].index(channel)]
        return intent if phi == 1.0 else odds_scaled(intent, np.float32(phi))

    # --- hooks (sim.core.mechanism) -------------------------------------------------------------

    def strategy(self, model, day: Day) -> None:
        if day.entered:
            self.enter(day.phase, day.d, model.population, model.imported)

    def advance(self, model, day: Day) -> None:
        day.buy_hazard = self.purchase(day.buy_hazard, model.population, day.live_rows)

    def churn(self, model, day: Day) -> None:
        self.letdown(model.population, day.first)

    def account(self, model, day: Day) -> None:
        model.today.update(self.day_columns())
        if self.test is not None:
            self.book_values(model.population, day.d, model.imported)

    def cohorts(self, model):
        """Per candidate where a brand has several place or goods candidates (a test's arms)."""
        pop = model.population
        arms = {PLACE: (pop.pool, self.names[PLACE]), GOODS: (pop.goods, self.names[GOODS])}
        return cohort_arms(pop, model.day, model.imported, arms)

    # --- daily effects (PoolSource) ---------------------------------------------------------

    def tables(self, reach_multiplier: float) -> PoolTables:
        """Effects per membership mask of the running pool, or per (pool, mask) once members of
        several pools coexist; place fit folded in (friction odds; trust gain in `potential`)."""
        phi = self.fit[PLACE]
        if not self.mixed:
            r = self.running[PLACE]
            return fitted(self.mixes[r].tables(reach_multiplier, pressure(self.pools[r])), phi[r])
        return stack_tables(
            [
                fitted(m.tables(reach_multiplier, pressure(p)), f)
                for m, p, f in zip(self.mixes, self.pools, phi, strict=True)
            ],
            self.pools,
            phi,
        )

    def pool_index(self, pop) -> np.ndarray | None:
        """Per-user pool index for the tables (None: one pool, index by mask alone)."""
        return pop.pool if self.mixed else None

    def potential(self, potential: float, content_quality: float, effects):
        """Pool potential × the place fit of each user's pool (its trust gain)."""
        if self.mixed:
            return (effects.content + np.float32(potential - content_quality)) * effects.gain
        phi = self.fit[PLACE][self.running[PLACE]]
        return potential if phi == 1.0 else potential * phi

    def promo(self, effects) -> float:
        """The running pool's promo share, for every user. Also while a place test's pools
        coexist (their tables carry each pool's share, unused): so the model has always done,
        and the stored baseline holds it."""
        return self.pool.promo_share

    def excess(self, effects) -> float:
        """Asks above tolerance (`pool.promo_excess`) of the running pool, for every user."""
        return promo_excess(self.pool.promo_share, self.pool.promo_tolerance)

    def purchase(self, hazard: np.ndarray, pop, rows: np.ndarray) -> np.ndarray:
        """Purchase hazards of the users `rows` with their odds scaled by the fit of each
        user's goods."""
        if not self.active(GOODS):
            return hazard
        phi = self.fit[GOODS].astype(np.float32)[pop.goods[rows]]
        return odds_scaled(hazard, phi)

    def letdown(self, pop, first: np.ndarray) -> None:
        """First buyers of a poorly fitting lead product lose trust (DOMAIN §3.1)."""
        if not (self.letdown_trust and self.active(GOODS)) or first.size == 0:
            return
        phi = self.fit[GOODS][pop.goods[first]]
        loss = (self.letdown_trust * np.maximum(0.0, 1.0 - phi)).astype(np.float32)
        pop.trust[first] = np.maximum(pop.trust[first] - loss, 0.0)

    def day_columns(self) -> dict[str, int]:
        """Users who joined today per candidate of place/goods with several candidates."""
        out = {}
        for dim in (PLACE, GOODS):
            if len(self.names[dim]) > 1:
                for name, k in zip(self.names[dim], self.today[dim], strict=True):
                    out[f"new_{dim}_{name}"] = int(k)
            self.today[dim][:] = 0
        return out

    def arm_columns(self) -> list[str]:
        return [
            f"{dim}_{name}"
            for dim in (PLACE, GOODS)
            if len(self.names[dim]) > 1
            for name in self.names[dim]
        ]

    # --- tests -------------------------------------------------------------------------------

    def enter(self, phase: Phase, day: int, pop, imported: int) -> None:
        """A phase starts on `day`: commit the test under way, start the phase's own (or carry
        the test under way on, when the phase's test `continues` it)."""
        if self.test is not None and phase.test is not None and phase.test.continues:
            return
        if self.test is not None:
            self._commit(pop, day - 1, imported)
        self.test, self.arms, self.counts, self.last_join = None, {}, {}, {}
        self.valued, self.value = {}, {}
        if phase.test is None:
            return
        for dim in phase.test.dimensions:
            names = phase.test.candidates.get(dim) or self.names[dim]
            idx = np.array(sorted({self.names[dim].index(n) for n in names}), dtype=np.int8)
            if idx.size >= 2:
                self.arms[dim] = idx
                self.counts[dim] = np.zeros(idx.size, dtype=np.int64)
                self.valued[dim] = np.zeros(idx.size, dtype=np.int64)
                self.value[dim] = np.zeros(idx.size)
        if self.arms:
            self.test, self.test_start, self.metric = phase.test, day, phase.test.metric
            if PLACE in self.arms:
                self.mixed = True

    def ready(self, day: int) -> bool:
        """Whether the test under way (if any) has full arms whose last user has matured by
        `day`: 30 days old, or `horizon_days` for `ltv` (valued at the end of age H - 1)."""
        if self.test is None:
            return True
        if self.test.metric == "ltv":
            last = day - self.test.horizon_days + 1
        else:
            last = day - CONVERSION_WINDOW
        return all(not self._filling(d) and self.last_join.get(d, day) <= last for d in self.arms)

    def _filling(self, dim: str) -> bool:
        return dim in self.arms and int(self.counts[dim].min()) < self.test.users_per_arm

    def daily_users(self, phase: Phase) -> float:
        """Users to buy today: the test's own volume while its arms fill, else the phase's."""
        t = self.test
        if t is not None and t.daily_users is not None and any(map(self._filling, self.arms)):
            return t.daily_users
        return phase.daily_users

    def _arm_of(self, pop, dim: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Those of `ids` randomised in `dim`, and their arm (position in `self.arms[dim]`;
        -1 for a people test's user from a channel not tested)."""
        arms = self.arms[dim]
        mine = ids[(pop.tested[ids] & TESTED_BIT[dim]) != 0]
        if dim == PEOPLE:
            by_code = np.full(len(self.code), -1)
            for k, i in enumerate(arms):  # a loop over arms
                by_code[self.code[self.names[PEOPLE][i]]] = k
            return mine, by_code[pop.channel[mine]]
        return mine, np.searchsorted(arms, getattr(pop, "pool" if dim == PLACE else dim)[mine])

    def book_values(self, pop, day: int, imported: int) -> None:
        """Value, per arm, the acquired test users who reach age `horizon_days` - 1 today (joined
        on day - H + 1): their discounted margin booked so far (ages 0 … H-1) minus their CAC."""
        joined = day - self.test.horizon_days + 1
        if joined < self.test_start:
            return
        rows = pop.slice_joined(joined, joined)
        ids = np.arange(rows.start, rows.stop)
        ids = ids[pop.channel[ids] != imported]
        for dim, arms in self.arms.items():
            mine, arm = self._arm_of(pop, dim, ids)
            keep = arm >= 0
            value = pop.ltv_margin[mine[keep]] - pop.cac[mine[keep]]
            self.valued[dim] += np.bincount(arm[keep], minlength=arms.size)
            self.value[dim] += np.bincount(arm[keep], weights=value, minlength=arms.size)

    def measure(self, pop, day: int, imported: int) -> dict[str, dict]:
        """Each tested dimension's arms: matured users and the metric, as of the end of `day`."""
        ids = matured_rows(pop, day, self.test_start, imported)
        out = {}
        for dim, arms in self.arms.items():
            if self.test.metric == "ltv":  # booked as users reached the horizon
                n, total = self.valued[dim], self.value[dim]
            else:
                mine, arm = self._arm_of(pop, dim, ids)
                if self.test.metric == "conversion_30d":
                    value = converted_within(pop, mine).astype(np.float64)
                else:
                    value = pop.ltv_margin[mine]
                keep = arm >= 0
                n = np.bincount(arm[keep], minlength=arms.size)
                total = np.bincount(arm[keep], weights=value[keep], minlength=arms.size)
            with np.errstate(invalid="ignore", divide="ignore"):
                metric = np.where(n > 0, total / np.maximum(n, 1), np.nan)
            out[dim] = {"arms": arms, "users": n, "metric": metric, "day": day}
        return out

    def _commit(self, pop, day: int, imported: int) -> None:
        for dim, m in self.measure(pop, day, imported).items():
            metric = m["metric"]
            if not np.all(np.isnan(metric)):
                self.running[dim] = int(m["arms"][int(np.nanargmax(metric))])
            m["committed"] = self.running[dim]
            self.results[dim] = m

    # --- outputs -----------------------------------------------------------------------------

    def summary(self, pop, day: int, imported: int, truth: dict | None = None) -> dict:
        """A flat dict (the sweep report makes dotted columns of it): each candidate's latent
        fit, the guess, the arms tested (users, metric), the candidate committed, the one run at
        the end, and the one with the highest fit (`_best_fit`, `_run_is_best_fit`). With the
        evaluation's `truth` (`sim.core.truth`: each candidate's value, yuan per user), the
        truly best is the most valuable (`_best`, `_value_<name>`, `_value_se_<name>`) and
        `_committed_best`, `_run_is_best` and `_regret` (best value − value of the one run,
        yuan per user) are in that currency; without it they are null."""
        results = dict(self.results)
        if self.test is not None:  # a test still under way: its measurement so far
            for dim, m in self.measure(pop, day, imported).items():
                results[dim] = {**m, "committed": None}
        out: dict = {"spread": self.spread, "brand_seed": self.brand_seed}
        out["test_metric"] = self.metric
        for dim, names in self.names.items():
            if not names:
                continue
            fit, run = self.fit[dim], self.running[dim]
            for name, f in zip(names, fit, strict=True):
                out[f"{dim}_fit_{name}"] = float(f)
            out[f"{dim}_guess"] = names[self.guess[dim]]
            c = None
            if (m := results.get(dim)) is not None:
                for i, k, v in zip(m["arms"], m["users"], m["metric"], strict=True):
                    out[f"{dim}_arm_users_{names[i]}"] = int(k)
                    out[f"{dim}_arm_metric_{names[i]}"] = float(v)
                c = m["committed"]
                out[f"{dim}_committed"] = None if c is None else names[c]
            out[f"{dim}_run"] = names[run]
            best_fit = int(np.argmax(fit))
            out[f"{dim}_best_fit"] = names[best_fit]
            out[f"{dim}_run_is_best_fit"] = bool(fit[run] == fit[best_fit])
            out |= valued(dim, names, (truth or {}).get(dim), run, c, m is not None)
        return out


def valued(dim: str, names: list[str], truth: dict | None, run: int, committed, tested) -> dict:
    """The summary's value-defined fields of one dimension (null without the evaluation)."""
    if truth is None:
        out = dict.fromkeys((f"{dim}_best", f"{dim}_run_is_best", f"{dim}_regret"))
        return out | ({f"{dim}_committed_best": None} if tested else {})
    v = truth["value"]
    best = int(np.nanargmax(v))
    out = {f"{dim}_value_{n}": float(x) for n, x in zip(names, v, strict=True)}
    out |= {f"{dim}_value_se_{n}": float(x) for n, x in zip(names, truth["se"], strict=True)}
    out[f"{dim}_best"] = names[best]
    out[f"{dim}_run_is_best"] = run == best
    out[f"{dim}_regret"] = float(v[best] - v[run])
    if tested:
        out[f"{dim}_committed_best"] = None if committed is None else committed == best
    return out


def fitted(t: PoolTables, phi: float) -> PoolTables:
    """A pool's tables with friction's odds of getting through scaled by its place fit φ
    (the trust-gain side of φ is `potential`'s); the pyramid's layers use it too."""
    if phi == 1.0:
        return t
    through = odds_scaled(1.0 - t.friction.astype(np.float64), phi)
    return PoolTables(
        reach=t.reach,
        value=t.value,
        one_to_one=t.one_to_one,
        friction=(1.0 - through).astype(np.float32),
        ban_risk=t.ban_risk,
        cost=t.cost,
    )
