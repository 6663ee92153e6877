"""The daily rules over user arrays: trust, stage advance, purchase and churn (DOMAIN §2.1, §2.6).

Every function is vectorised over the population (no loop over users) and each mechanism has a
coefficient that switches it off at 0, so a test can isolate it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core import kernels
from sim.core.params import Business, Churn, Purchase, Trust
from sim.core.pool import MemberEffects
from sim.core.population import Population
from sim.core.stage import Stage


@dataclass
class Touches:
    """What each user received today (float32 arrays over the population)."""

    one_to_one: np.ndarray  # value share of operator 1:1 touches (carried by 1:1 touchpoints)
    koc_ids: np.ndarray  # users maintained by a KOC (the only ones with KOC touches)
    koc: np.ndarray  # value share of their KOC touches, already weighted by KOC strength
    value: np.ndarray  # value share of trust-weighted broadcast exposures
    asks: np.ndarray  # ask share of every touch: broadcast, operator 1:1 and KOC


def touches(
    pop: Population,
    op_attention: np.ndarray,
    koc_ids: np.ndarray,
    koc_touch: np.ndarray,
    effects: MemberEffects,
    promo_share: float,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
) -> Touches:
    """Touches per user (§6 step 4): 1:1 = capacity ÷ load, KOC reach, broadcast mix.
    `extra` (rows, touches): 1:1 attention on top, as conversion camps give (sim.core.pyramid).

    One rule for every touch: a share `promo_share` of it asks (spends trust, may convert) and
    the rest adds value (builds trust) — a touch is one or the other, never both (001: "every
    post must add potential"; asking spends it). Operators' and KOCs' touches carry the same
    promo share as broadcast content: KOCs replicate the operator's community work (001),
    selling included. So at promo_share = 1 no touch builds trust, at 0 none asks.
    `effects` holds each user's pool effects (`PoolTables` rows for their touchpoints).
    """
    # one pool: a scalar; pools side by side (sim.core.fit): each user's pool's share
    keep = np.float32(1.0 - promo_share) if np.ndim(promo_share) == 0 else 1.0 - promo_share
    koc_keep = keep if np.ndim(keep) == 0 else keep[koc_ids]
    one = np.take(op_attention, pop.operator)  # index -1 hits the trailing zero: no operator
    if extra is not None:
        one[extra[0]] += extra[1]
    one *= effects.one_to_one
    asks = effects.reach + one
    asks[koc_ids] += koc_touch
    asks *= np.float32(promo_share)
    one *= keep
    value = effects.value * keep
    return Touches(one, koc_ids, koc_touch * koc_keep, value, asks)


def update_trust(
    trust: np.ndarray, t: Touches, p: Trust, potential: float, churned: np.ndarray | None = None
) -> None:
    """Value touches raise trust (saturating, scaled by the pool's potential), asks spend it,
    neglect decays it (001: "every post must add potential; if it doesn't, don't post it").
    `t` holds the value and ask shares already split by `touches`. `churned` (a mask): users
    who left, whose trust no longer moves (nothing reads it but averages over them)."""
    gain = t.one_to_one.copy()
    gain[t.koc_ids] += t.koc
    gain *= np.float32(p.one_to_one_weight)
    gain += np.float32(p.broadcast_weight) * t.value
    gain *= np.float32(p.learning_rate * potential)
    gain *= 1.0 - trust
    gain -= np.float32(p.promo_cost) * t.asks
    gain -= np.float32(p.neglect_rate) * trust
    if churned is not None:
        gain[churned] = 0.0
    trust += gain
    np.clip(trust, 0.0, 1.0, out=trust)


def advance_stages(pop: Population, familiar_at: float, trust_to_buy: float) -> None:
    """aware → familiar → trust by trust thresholds (§6 step 6); stages never move back."""
    stage, trust = pop.stage, pop.trust
    stage[(stage == Stage.AWARE) & (trust >= familiar_at)] = Stage.FAMILIAR
    stage[(stage == Stage.FAMILIAR) & (trust >= trust_to_buy)] = Stage.TRUST


def readiness(trust: np.ndarray, trust_to_buy: float, softness: float) -> np.ndarray:
    """0 well below the buying threshold, 1/2 at it, 1 once trust exceeds it by `softness`."""
    r = trust - np.float32(trust_to_buy)
    r *= np.float32(0.5 / softness)
    r += np.float32(0.5)
    return np.clip(r, 0.0, 1.0, out=r)


def purchase_hazard(
    pop: Population,
    t: Touches,
    friction: np.ndarray,
    day: int,
    business: Business,
    p: Purchase,
) -> np.ndarray:
    """Daily purchase probability per user (§6 step 6).

    First order (stages `familiar` and `trust`): the lead product is a cheap trial, so it needs
    only `business.lead.min_trust` ("order of entry follows trust: cheap trial first", 001). An
    ask converts in proportion to intent and readiness for the lead product, less friction,
    boosted during the new-user offer (003: close within 3 days). Repeat orders (stages
    `buy`/`rebuy`) are the star product and need `business.trust_to_buy`: purchasing at a
    constant rate while trust holds (BG/NBD, DOMAIN §5), a daily probability
    readiness x (1 - friction) / purchase_cycle_days. Gaps between orders are geometric, so
    `purchase_cycle_days` is the mean gap of a *ready* customer (readiness 1: trust >=
    trust_to_buy + readiness_softness; 1/2 at trust_to_buy) buying through a frictionless
    touchpoint, for a user whose own repeat-rate multiplier is 1 (`Population.repeat_rate`:
    BG/NBD's Gamma-distributed rates, mean 1 at average intent). Friction f (the lowest among
    the user's touchpoints) loses a share f of those orders to the jump out of WeChat (§2.4:
    the mini-program store buys with no jump out), so the mean gap in the pool is
    cycle / (1 - f): 60 days for a 30-day cycle in the nurturing pool (f = 0.5).
    tests/test_correctness.py measures both.
    """
    stage = pop.stage
    # repeats in `buy`/`rebuy`; first orders are set below; nothing for `aware` or `churned`.
    # Computed on those rows only (most rows of a long run are churned; same values per row)
    h = np.zeros(stage.size, dtype=np.float32)
    repeat = np.flatnonzero((stage >= Stage.BUY) & (stage < Stage.CHURNED))
    r = readiness(pop.trust[repeat], business.trust_to_buy, p.readiness_softness)
    r *= 1.0 - friction[repeat]
    r *= np.float32(1.0 / business.purchase_cycle_days)
    r *= pop.repeat_rate[repeat]
    h[repeat] = np.minimum(r, 1.0, out=r)
    first = np.flatnonzero((stage == Stage.FAMILIAR) | (stage == Stage.TRUST))
    ask = readiness(pop.trust[first], business.lead.min_trust, p.readiness_softness)
    ask *= 1.0 - friction[first]
    ask *= t.asks[first]
    ask *= pop.intent[first]
    ask *= np.float32(p.first_buy_rate)
    if p.new_user_offer_days > 0 and p.new_user_offer_boost != 1.0:
        new = pop.slice_joined(day - p.new_user_offer_days + 1, day)
        ask[(first >= new.start) & (first < new.stop)] *= np.float32(p.new_user_offer_boost)
    h[first] = np.minimum(ask, 1.0)
    return h


def churn_hazard(
    pop: Population, rows: np.ndarray, ban_risk: np.ndarray, promo_excess, p: Churn
) -> np.ndarray:
    """Daily churn probability (§6 step 7) of the users `rows` (ids: the live ones; churned
    rows have none): asks above the tolerated share (the potential gap turning negative,
    001/003), low trust, low intent (deal hunters), and account bans. `ban_risk` and an array
    `promo_excess` are over the whole population."""
    h = 1.0 - pop.trust[rows]
    h *= np.float32(p.trust_coef)
    h += 1.0
    low_intent = 1.0 - pop.intent[rows]
    low_intent *= np.float32(p.intent_coef)
    low_intent += 1.0
    h *= low_intent
    h *= _churn_scale(rows, promo_excess, p)
    h += ban_risk[rows]
    return np.minimum(h, 1.0, out=h)


def _churn_scale(rows: np.ndarray, promo_excess, p: Churn):
    """The churn hazard's base rate x the excess-asks term, of the users `rows` (a float32
    scalar for one pool, else per row)."""
    if np.ndim(promo_excess):
        promo_excess = promo_excess[rows]
    return np.float32(p.base_rate * (1.0 + p.promo_coef * promo_excess))


@dataclass
class Events:
    churned: np.ndarray  # user ids
    bought: np.ndarray  # user ids


def draw_events(
    rng: np.random.Generator, live: np.ndarray, churn_h: np.ndarray, buy_h: np.ndarray
) -> Events:
    """One uniform per user decides competing events: churn first, then purchase. `live`: the
    live users' ids, `churn_h` their churn hazards; `buy_h` is over the whole population. The
    draw stays one per row, churned or not, so the random stream does not depend on who is
    live."""
    u = rng.random(buy_h.size, dtype=np.float32)[live]
    churned = u < churn_h
    churn_h += buy_h[live]
    bought = u < churn_h
    bought &= ~churned
    return Events(live[churned], live[bought])


def repeat_dropout(
    rng: np.random.Generator, pop: Population, bought: np.ndarray, p: Churn
) -> np.ndarray:
    """Customers who drop out after today's repeat order (call after booking it), each with
    their own probability `Population.dropout`: the BG/NBD geometric dropout after every repeat
    purchase, p ~ Beta(a, b) across customers (Fader, Hardie & Lee 2005; DOMAIN §5). A dropout
    stops buying for good (the caller sets their repeat rate to 0) but stays in the pool: BG/NBD
    dropout is inactivity as a buyer, while leaving the pool (block, delete) is the churn
    hazard's, and the RFM win-back segments (000) exist because lapsed buyers stay reachable.
    No draw at all when switched off, so the random stream is the homogeneous model's."""
    if p.dropout_a is None:
        return bought[:0]
    repeat = bought[pop.orders[bought] >= 2]
    return repeat[rng.random(repeat.size, dtype=np.float32) < pop.dropout[repeat]]


# --- the same rules fused into compiled passes (sim.core.kernels; what the model runs) ------

_U64 = (1 << 64) - 1
_NONE_ROWS, _NONE_TOUCH = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)


def _per_row(x):
    """A float32 scalar or per-row array, as the kernels take them (`kernels._at`)."""
    return np.float32(x) if np.ndim(x) == 0 else np.asarray(x, dtype=np.float32)


def _sparse(rows: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sparse per-row additions for a kernel's pointer walk: sorted unique rows (what numpy's
    fancy-indexed `+=` sums once per row; the circle's and the camps' rows are so built)."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size > 1 and not (rows[1:] > rows[:-1]).all():
        raise ValueError("sparse touches need sorted unique rows")
    return rows, np.asarray(values, dtype=np.float32)


def day_pass(
    pop: Population,
    rows: np.ndarray,
    op_attention: np.ndarray,
    koc_ids: np.ndarray,
    koc_touch: np.ndarray,
    effects: MemberEffects,
    promo_share,
    extra: tuple[np.ndarray, np.ndarray] | None,
    trust: Trust,
    potential,
    day: int,
    business: Business,
    p: Purchase,
) -> np.ndarray:
    """`touches` → `update_trust` → `advance_stages` → `purchase_hazard` (same arguments, same
    results bit for bit) in one compiled pass over the users `rows` (`sim.core.kernels.day_pass`;
    sorted ids, the model's live index: a churned user's trust, stage and hazard never change,
    so the churned rows, most rows of a long run, are not visited): updates trust and stages in
    place and returns the purchase hazards of `rows` (`purchase_hazard(...)[rows]`)."""
    promo = _per_row(promo_share)
    # as `touches` spells it: 1 - promo in float64 for one pool, in float32 per user
    keep = _per_row(1.0 - promo_share if np.ndim(promo) == 0 else 1.0 - promo)
    koc_rows, koc_touch = _sparse(koc_ids, koc_touch)
    koc_keep = keep if np.ndim(keep) == 0 else keep[koc_rows]
    extra_rows, extra_touch = (_NONE_ROWS, _NONE_TOUCH) if extra is None else _sparse(*extra)
    offer = slice(0, 0)
    if p.new_user_offer_days > 0 and p.new_user_offer_boost != 1.0:
        offer = pop.slice_joined(day - p.new_user_offer_days + 1, day)
    f32 = np.float32
    rows = np.asarray(rows, dtype=np.intp)
    hazard = np.empty(rows.size, dtype=np.float32)
    kernels.day_pass(
        rows, pop.trust, pop.stage, pop.operator, pop.intent, pop.repeat_rate,
        effects.reach, effects.value, effects.one_to_one, effects.friction,
        op_attention, extra_rows, extra_touch, koc_rows, koc_touch, koc_keep,
        promo, keep, _per_row(np.float32(trust.learning_rate * potential)),
        np.array([trust.one_to_one_weight, trust.broadcast_weight, trust.promo_cost,
                  trust.neglect_rate], dtype=f32),
        np.array([trust.familiar_at, business.trust_to_buy, business.lead.min_trust,
                  0.5 / p.readiness_softness], dtype=f32),
        np.array([1.0 / business.purchase_cycle_days, p.first_buy_rate,
                  p.new_user_offer_boost], dtype=f32),
        offer.start, offer.stop, hazard,
    )  # fmt: skip
    return hazard


def churn_events(
    rng: np.random.Generator,
    pop: Population,
    live: np.ndarray,
    ban_risk: np.ndarray,
    promo_excess,
    p: Churn,
    buy_h: np.ndarray,
) -> Events:
    """`churn_hazard` then `draw_events` (same draw: one uniform per row of `pop`, same results)
    in one compiled pass over the live rows (`sim.core.kernels.churn_events`); `buy_h`: the
    purchase hazards of `live` (`day_pass`'s), not of every row. On numpy's PCG64 (every
    model's generator) the pass draws the uniforms itself, bit for bit those of `rng.random`,
    and leaves `rng` in the state that draw leaves it (`kernels.churn_events_pcg64`)."""
    coefs = np.array([p.trust_coef, p.intent_coef], dtype=np.float32)
    scale = _per_row(_churn_scale(live, promo_excess, p))
    args = live, pop.trust, pop.intent, ban_risk, scale, coefs, buy_h
    bits = rng.bit_generator
    if type(bits) is not np.random.PCG64:
        u = rng.random(pop.n, dtype=np.float32)  # one per row, as `draw_events`
        return Events(*kernels.churn_events(u, *args))
    with bits.lock:
        state = bits.state
        words = state["state"]
        fields = np.array([words["state"] >> 64, words["state"] & _U64, words["inc"] >> 64,
                           words["inc"] & _U64, state["has_uint32"] << 32 | state["uinteger"]],
                          dtype=np.uint64)  # fmt: skip
        churned, bought = kernels.churn_events_pcg64(fields, pop.n, *args)
        words["state"] = int(fields[0]) << 64 | int(fields[1])
        state["has_uint32"], state["uinteger"] = int(fields[4]) >> 32, int(fields[4]) & 0xFFFFFFFF
        bits.state = state
    return Events(churned, bought)
