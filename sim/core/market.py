"""A finite market that burns (`market`, issue #22 item 3): a mechanism.

Sources. DOMAIN §5 (Bass 1969: a market of size M), §3.2 ("the market is finite: users burned
are not there to buy again, and the rest cost more to reach"), §2.5 and 001's channels (the
brand's public-store customers are a fixed list: 001 ~357-372 puts them at 100k-1M for a
high-frequency brand; fission spreads through the members' friends; paid ads and KOLs reach a
platform's audience for the category).

Rule. Each channel listed in `market.addressable` reaches at most that many people over the
brand's life. Everyone it brought in is gone from it — live members are already in, and users
who churned are burned: they are not re-acquired (the model never re-acquires a user). With
`remaining` = addressable - brought in, the channel's arrivals today

- cost `unit_cost x (addressable / remaining) ** cost_elasticity` (deeper audiences are reached
  by broader targeting and higher bids: the same money buys less),
- draw their intent with mean `x (remaining / addressable) ** intent_elasticity` (the
  best-fitting people came first),
- and number at most `remaining`.

A channel with a stated budget (`budget_per_day`) buys budget / today's higher cost. Channels
not listed are unlimited.

`market_size` is kept as it is: the Bass market of all channels and referrals together, where a
contact with someone already in the pool is lost (arrivals thinned at today's price). The two
compose: a run may set either or both; a channel's audience is a part of the whole market.

Defaults (`configs/config.yaml`): assumptions sized from 001 where it gives a number. On by
default; `enabled: false` does not build it.
"""

from __future__ import annotations

from sim.core.mechanism import Day, Mechanism
from sim.core.params import Market as MarketParams


class Market(Mechanism):
    """Hooks: acquire (cost, intent and room per channel), account (reached, columns)."""

    name = "market"
    features = ("market",)

    def __init__(self, params: MarketParams, channels):
        self.params = params
        self.size = {c: float(a) for c, a in sorted(params.addressable.items()) if c in channels}
        self.reached = dict.fromkeys(self.size, 0)  # brought in so far, churned included

    def remaining_share(self, channel: str) -> float:
        a = self.size[channel]
        return max(a - self.reached[channel], 0.0) / a

    def acquire(self, model, day: Day) -> None:
        p = self.params
        for name, a in self.size.items():
            left = max(a - self.reached[name], 0.0)
            share = max(left, 1.0) / a  # at least one person: a finite cost at the very end
            day.cost_factor[name] = day.cost_factor.get(name, 1.0) * share**-p.cost_elasticity
            day.intent_factor[name] = day.intent_factor.get(name, 1.0) * share**p.intent_elasticity
            day.room[name] = int(left)

    def account(self, model, day: Day) -> None:
        for name in self.size:
            self.reached[name] += day.new.get(name, 0)
        total = sum(self.size.values())
        model.today["market_reached_share"] = sum(self.reached.values()) / total if total else 0.0
