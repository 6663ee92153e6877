"""Seed 004's pyramid: users move through layers, each with its own touchpoint mix (DOMAIN §2.3,
§2.4).

004 splits a knowledge-business's users by the product that drew them in: new users of the lead
product, to convert (service account + personal account + group); the pool of users who have
been through at least one conversion push, paid or not, for retention and periodic marketing
washes (mini-program + official account); and the core buyers of the high-price product, fewer
than 1,000, for activity and cross-sell (personal account + group).

Transition rules (`pool.layers`):
- new -> pool `to_pool_days` after joining, bought or not: 004's pool is "users who have been
  through at least one conversion push, paid or not", and that push is ~7 days. Rows are in
  joining order, so the users who move on a day are one contiguous slice (one cohort).
- new or pool -> core on a premium order (004: the core layer is the buyers of the high-price
  product), while the core has room (`core_max`, 004: < 1,000).
- Nobody moves down: churned users stay counted in the layer they left from.
- Conversion camps (`pool.layers.camps`, `sim.core.camps`) take new users into the pool when
  their camp ends instead; pool washes (`pool.layers.washes`, `sim.core.washes`) ask the pool
  layer periodically. Each is its own mechanism, built only when enabled.

Each user's entry day into the pool and core layers is kept (`Population.pool_day`,
`core_day`) for the cohort table's layers reached within 30/90 days (`metrics.cohort_layers`).

A move redraws the user's touchpoint memberships from the new layer's mix (bulk, per move) and
re-gathers their rows of the per-user effects. The layers are stacked pool tables
(`sim.core.pool.stack_tables`), indexed by `Population.pyramid_layer` × `MASKS` + mask, the same
per-user pool machinery a place test uses; a layered pool cannot also be place-tested.
"""

from __future__ import annotations

import numpy as np

from sim.core.fit import Brand, fitted
from sim.core.mechanism import Day, Mechanism
from sim.core.metrics import cohort_layers
from sim.core.params import Pool, Pyramid
from sim.core.pool import MASKS, MemberEffects, PoolMix, PoolTables, pressure, stack_tables
from sim.core.stage import Stage

_CHURNED = Stage.CHURNED

LAYERS = ("new", "pool", "core")  # codes 0, 1, 2 in `Population.pyramid_layer`
NEW, POOL, CORE = range(3)


class Layers(Mechanism):
    """The pyramid's mixes, tables and moves; one per model run with `pool.layers`.

    The run's `PoolSource` (its tables are per layer, with the brand's place fit folded in) and
    a mechanism: today's moves (churn, after orders are booked), live users per layer and
    today's entries (account)."""

    name = "layers"
    state = ("pyramid_layer", "pool_day", "core_day")
    features = ("layers",)

    def __init__(self, pool: Pool, catalogue, brand: Brand):
        p: Pyramid = pool.layers
        self.params = p
        self.brand = brand  # its place fit φ of the (only) pool scales every layer
        self.pools = [
            Pool(
                name=f"{pool.name}.{name}",
                touchpoints=list(getattr(p, name).touchpoints),
                promo_share=getattr(p, name).promo_share,
                promo_tolerance=pool.promo_tolerance,
                content_quality=getattr(p, name).content_quality,
            )
            for name in LAYERS
        ]
        self.mixes = [PoolMix(q, catalogue) for q in self.pools]
        self.core_live = 0  # live core members at the last count (the core's room)
        self.moved = np.zeros(len(LAYERS), dtype=np.int64)  # users who entered each layer today
        self.camps = None  # the run's conversion camps (`sim.core.camps.Camps`), if any

    # --- PoolSource --------------------------------------------------------------------------

    def tables(self, reach_multiplier: float) -> PoolTables:
        """Per-(layer, mask) effects, the pool's place fit folded in (`fit.fitted`)."""
        phi = float(self.brand.fit["place"][0])
        return stack_tables(
            [
                fitted(m.tables(reach_multiplier, pressure(q)), phi)
                for m, q in zip(self.mixes, self.pools, strict=True)
            ],
            self.pools,
            [phi] * len(LAYERS),
        )

    def pool_index(self, pop) -> np.ndarray:
        return pop.pyramid_layer

    def draw_membership(self, rng: np.random.Generator, pool, n: int) -> np.ndarray:
        """New users join the new layer's mix (a layered pool has no place arms)."""
        return self.mixes[NEW].draw_membership(rng, n)

    def potential(self, potential: float, content_quality: float, effects) -> np.ndarray:
        """Each user's layer content plus the pool-wide KOC boost, × place fit."""
        return (effects.content + np.float32(potential - content_quality)) * effects.gain

    def promo(self, effects: MemberEffects) -> np.ndarray:
        return effects.promo

    def excess(self, effects: MemberEffects) -> np.ndarray:
        return effects.excess

    def core_members(self, pop) -> np.ndarray:
        """Users in the core layer (where `circle_in_core` keeps the KOC circle, 004)."""
        return pop.pyramid_layer == CORE

    # --- hooks -------------------------------------------------------------------------------

    def churn(self, model, day: Day) -> None:
        """Pushes ended and premium orders move layers (§2.3)."""
        self.move(
            model.rng,
            model.population,
            day.d,
            day.orders.premium_buyers,
            model.effects,
            model.tables,
        )

    def account(self, model, day: Day) -> None:
        per = self.counts(day.live_by_key)
        t = model.today
        t.update({f"layer_{x}": int(k) for x, k in zip(LAYERS, per, strict=True)})
        t.update({f"entered_{x}": int(self.moved[i + 1]) for i, x in enumerate(LAYERS[1:])})

    def cohorts(self, model):
        """Layers reached within 30/90 days per joining week (004, §2.3)."""
        return cohort_layers(model.population, model.day, model.imported)

    # --- moves -------------------------------------------------------------------------------

    def move(
        self,
        rng: np.random.Generator,
        pop,
        day: int,
        premium_buyers: np.ndarray | None,
        effects: MemberEffects,
        tables: PoolTables,
    ) -> None:
        """Today's moves: the cohort whose push ended joins the pool; premium buyers the core."""
        self.moved[:] = 0
        rows = pop.slice_joined(day - self.params.to_pool_days, day - self.params.to_pool_days)
        layer = pop.pyramid_layer[rows]
        ids = rows.start + np.flatnonzero((layer == NEW) & (pop.stage[rows] != _CHURNED))
        if self.camps is not None:  # camp members join the pool when their camp ends
            ids = self.camps.graduate(pop, day, ids)
        self._enter(rng, pop, ids, POOL, day, effects, tables)
        if premium_buyers is not None and premium_buyers.size:
            up = premium_buyers[
                (pop.pyramid_layer[premium_buyers] != CORE)
                & (pop.stage[premium_buyers] != _CHURNED)
            ]
            if self.params.core_max is not None:
                up = up[: max(0, self.params.core_max - self.core_live - int(self.moved[CORE]))]
            self._enter(rng, pop, up, CORE, day, effects, tables)

    def _enter(self, rng, pop, ids, layer: int, day: int, effects: MemberEffects, tables) -> None:
        if ids.size == 0:
            return
        pop.pyramid_layer[ids] = layer
        (pop.pool_day if layer == POOL else pop.core_day)[ids] = day
        pop.touchpoints[ids] = self.mixes[layer].draw_membership(rng, ids.size)
        effects.refresh(tables, ids, pop.touchpoints, pop.pyramid_layer)
        self.moved[layer] += ids.size

    def counts(self, by_key: np.ndarray) -> np.ndarray:
        """Live users per layer from live users per (layer, mask) row."""
        per = by_key.reshape(len(LAYERS), MASKS).sum(axis=1)
        self.core_live = int(per[CORE])
        return per
