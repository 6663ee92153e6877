"""Pools as mixes of touchpoints (DOMAIN §2.4), reduced to per-membership lookup tables.

A user belongs to a subset of the pool's touchpoints (a bit mask, at most 8 touchpoints). What
a user gets from the pool — broadcast reach, value exposure, 1:1 channel quality, purchase
friction, ban risk — depends only on that subset, so it is computed once per subset (≤ 256
rows) and gathered per user with one indexing operation instead of a loop over touchpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.params import MAX_TOUCHPOINTS, Pool, Touchpoint

MASKS = 1 << MAX_TOUCHPOINTS  # rows per pool in stacked tables: row = pool index x MASKS + mask


@dataclass(frozen=True)
class PoolTables:
    """Per-membership-mask effects of a pool; index with `Population.touchpoints`.

    Tables of several pools stacked (`stack_tables`) are indexed by `member_key`: pool index x
    `MASKS` + mask, and carry the pool-level values as columns too (`promo` … `gain`), so users
    of different pools (arms of a place test, DOMAIN §3.1; later, per-layer mixes, §2.4) are
    served in one gather.
    """

    reach: np.ndarray  # float32: expected broadcast exposures per day
    value: np.ndarray  # float32: expected trust-weighted exposures per day
    one_to_one: np.ndarray  # float32: best 1:1 carrier among joined touchpoints
    friction: np.ndarray  # float32: lowest purchase friction among joined touchpoints
    ban_risk: np.ndarray  # float32: daily loss probability from account bans
    cost: np.ndarray  # float64: yuan per member-day
    # stacked tables only (None for one pool, whose scalars the model reads from its record):
    promo: np.ndarray | None = None  # float32: the pool's promo share
    excess: np.ndarray | None = None  # float32: promo share above tolerance, in tolerance widths
    content: np.ndarray | None = None  # float32: the pool's content quality (potential)
    gain: np.ndarray | None = None  # float32: trust-gain multiplier (place fit, sim.core.fit)


class PoolMix:
    """A pool checked by `sim.core.checks.pool_mixes`: its touchpoints in order, and how members
    join them."""

    def __init__(self, pool: Pool, catalogue: dict[str, Touchpoint]):
        self.points = [catalogue[t] for t in pool.touchpoints]
        self.join_prob = np.array([t.join_prob for t in self.points])

    def draw_membership(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Which touchpoints each of `n` new members joins; everyone joins at least the first."""
        joined = rng.random((n, len(self.points))) < self.join_prob
        joined[:, 0] = True  # the entry touchpoint of the mix
        # bit k of the mask: touchpoint k (at most 8 touchpoints: one byte per user)
        return np.packbits(joined, axis=1, bitorder="little").reshape(n)

    def tables(self, reach_multiplier: float, ban_pressure: float) -> PoolTables:
        """Effects for every membership mask, given systems reach and promo pressure."""
        k = len(self.points)
        masks = np.arange(1 << k)
        member = ((masks[:, None] >> np.arange(k)) & 1).astype(bool)  # (masks, touchpoints)
        reach = np.array([t.reach for t in self.points]) * reach_multiplier
        reach = np.minimum(reach, 1.0)
        effect = np.array([t.trust_effect for t in self.points])
        one = np.array([t.one_to_one for t in self.points])
        fric = np.array([t.friction for t in self.points])
        ban = np.array([t.ban_risk for t in self.points])
        cost = np.array([t.cost_per_member_day for t in self.points])
        return PoolTables(
            reach=(member * reach).sum(1).astype(np.float32),
            value=(member * reach * effect).sum(1).astype(np.float32),
            one_to_one=np.where(member, one, 0.0).max(1).astype(np.float32),
            friction=np.where(member, fric, 1.0).min(1).astype(np.float32),
            ban_risk=np.minimum(1.0, (member * ban).sum(1) * ban_pressure).astype(np.float32),
            cost=(member * cost).sum(1),
        )

    def members_cost(self, tables: PoolTables, live_members: np.ndarray) -> float:
        """Daily touchpoint running cost, from the live members per membership mask."""
        return float(live_members @ tables.cost)


def promo_excess(promo_share: float, tolerance: float) -> float:
    """Asks above the tolerated share, in tolerance widths: what raises the churn hazard
    (DOMAIN §2.1; `sim.core.dynamics.churn_hazard`). The one place this is computed: a pool's,
    a pyramid layer's, a wash's."""
    return max(0.0, promo_share - tolerance) / tolerance


def pressure(pool: Pool) -> float:
    """A pool's promo share in tolerance widths: what scales its ban risk (§2.4)."""
    return pool.promo_share / pool.promo_tolerance


def stack_tables(tables: list[PoolTables], pools: list[Pool], gain) -> PoolTables:
    """One table over (pool, mask) rows from each pool's tables (padded to `MASKS` rows)."""
    n = len(tables) * MASKS

    def stacked(name: str) -> np.ndarray:
        first = getattr(tables[0], name)
        out = np.zeros(n, dtype=first.dtype)
        for i, t in enumerate(tables):  # a loop over pools
            col = getattr(t, name)
            out[i * MASKS : i * MASKS + col.size] = col
        return out

    def per_pool(values) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=np.float32), MASKS)

    return PoolTables(
        reach=stacked("reach"),
        value=stacked("value"),
        one_to_one=stacked("one_to_one"),
        friction=stacked("friction"),
        ban_risk=stacked("ban_risk"),
        cost=stacked("cost"),
        promo=per_pool([p.promo_share for p in pools]),
        excess=per_pool([promo_excess(p.promo_share, p.promo_tolerance) for p in pools]),
        content=per_pool([p.content_quality for p in pools]),
        gain=per_pool(gain),
    )


def member_key(touchpoints: np.ndarray, pool: np.ndarray | None) -> np.ndarray:
    """Row of each user in (stacked) tables: the mask, or pool index x `MASKS` + mask."""
    if pool is None:
        return touchpoints
    key = pool.astype(np.intp)
    key *= MASKS
    key += touchpoints
    return key


class MemberEffects:
    """`PoolTables` gathered per user, kept in step with the population.

    A user's touchpoint memberships change only on a pyramid layer move (`refresh`) and the
    tables change only when a phase starts, so each user's effects are gathered once per phase
    (and once on joining or moving) instead of one gather per table per user-day. Attributes are
    views over the first `n` users, like `Population`'s.
    """

    NAMES = ("reach", "value", "one_to_one", "friction", "ban_risk")
    OPTIONAL = ("promo", "excess", "content", "gain")  # gathered when the tables have them

    def __init__(self):
        self.tables: PoolTables | None = None
        self.n = 0
        self._data: dict[str, np.ndarray] = {}

    def sync(
        self, tables: PoolTables, touchpoints: np.ndarray, pool: np.ndarray | None = None
    ) -> MemberEffects:
        """Gather the rows not yet gathered under `tables` (all of them when the tables changed);
        `pool` gives each user's pool index in stacked tables (None: one pool)."""
        n = touchpoints.size
        names = self.NAMES + tuple(k for k in self.OPTIONAL if getattr(tables, k) is not None)
        if tables is not self.tables:
            self.tables, self.n = tables, 0
        if not self._data or n > self._data["reach"].size or set(names) != set(self._data):
            cap = max(16, 2 * n, self._data["reach"].size if self._data else 0)
            self._data = {
                k: _grown(self._data.get(k), cap, self.n, getattr(tables, k).dtype) for k in names
            }
        if n > self.n:
            new = member_key(touchpoints[self.n : n], None if pool is None else pool[self.n : n])
            for k in names:
                np.take(getattr(tables, k), new, out=self._data[k][self.n : n])
            self.n = n
        return self

    def refresh(
        self, tables: PoolTables, rows: np.ndarray, touchpoints: np.ndarray, pool: np.ndarray
    ) -> None:
        """Re-gather `rows` whose membership or pool index changed (a pyramid layer move,
        `sim.core.pyramid`); rows not yet gathered are left to `sync`."""
        if tables is not self.tables:
            return  # the next sync gathers everyone under the new tables
        rows = rows[rows < self.n]
        key = member_key(touchpoints[rows], pool[rows])
        for k in self._data:
            self._data[k][rows] = getattr(tables, k)[key]

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data and name in data:
            return data[name][: self.n]
        raise AttributeError(name)


def _grown(old: np.ndarray | None, cap: int, keep: int, dtype) -> np.ndarray:
    new = np.empty(cap, dtype=dtype)
    if old is not None:
        new[:keep] = old[:keep]
    return new
