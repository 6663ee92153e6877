"""Seed 004's pool washes (`pool.layers.washes`, DOMAIN §2.3); a mechanism of a layered pool.

004: the pool is washed periodically for payment or cross-sell; keep asks infrequent, since
asking every user in every push wears their tolerance. Every `every_days` days a wash draws a
share `reach` of the pool layer's live users and, for `days` days, those still there get
`promo_share` of every touch as asks. The wash adds no rule of its own: the asks are the model's
promotion rule (§2.1) — they convert ready non-buyers (first orders), spend trust, crowd out
value, and above `promo_tolerance` raise the churn hazard — so over-washing drives churn by the
same mechanism as an over-selling pool.
"""

from __future__ import annotations

import numpy as np

from sim.core.mechanism import Day, Mechanism
from sim.core.params import Washes as WashesParams
from sim.core.pool import promo_excess
from sim.core.pyramid import POOL
from sim.core.stage import Stage

_CHURNED = Stage.CHURNED


class Washes(Mechanism):
    """Hooks: touch (today's wash sets its users' promo share and excess asks), account."""

    name = "washes"
    features = ("washes",)

    def __init__(self, params: WashesParams, promo_tolerance: float):
        self.params = params
        # a wash's asks above the tolerated share, in tolerance widths (as a pool's)
        self.excess = promo_excess(params.promo_share, promo_tolerance)
        self._washed = np.zeros(0, dtype=np.int64)  # rows the running wash reached
        self.running = False
        self.users_washed = 0  # live pool-layer users the wash reached today

    def touch(self, model, day: Day) -> None:
        washed = self.wash(model.rng, model.population, day.d)
        if washed is not None:
            day.promo = day.promo.copy()
            day.promo[washed] = self.params.promo_share
            day.excess = day.excess.copy()
            day.excess[washed] = self.excess

    def account(self, model, day: Day) -> None:
        model.today["wash_running"] = int(self.running)
        model.today["users_washed"] = self.users_washed

    def wash(self, rng: np.random.Generator, pop, d: int) -> np.ndarray | None:
        """Rows today's wash reaches (§2.3: periodic washes of the pool), or None on a day
        without one. A wash starts every `every_days` days (the first on day `every_days`),
        draws its reach among the pool layer's live users then, and runs `days` days over
        those of them still live in the pool layer."""
        w = self.params
        self.running = d >= w.every_days and d % w.every_days < w.days
        if not self.running:
            self.users_washed = 0
            return None
        if d % w.every_days == 0:
            rows = np.flatnonzero((pop.pyramid_layer == POOL) & (pop.stage != _CHURNED))
            self._washed = rows[rng.random(rows.size, dtype=np.float32) < np.float32(w.reach)]
        ids = self._washed
        ids = ids[(pop.pyramid_layer[ids] == POOL) & (pop.stage[ids] != _CHURNED)]
        self._washed = ids
        self.users_washed = int(ids.size)
        return ids
