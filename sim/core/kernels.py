"""The daily per-user passes fused into single loops (numba), bit-identical to `dynamics`.

Why: a day's rules in numpy are ~40 whole-array operations, each a pass over every row with a
temporary, and in a three-year run most rows are churned (issue #24: 83 % at the end of a
`ten_to_n` run). A loop compiled by numba does a row's touches → trust → stage → purchase
hazard in registers, in one pass, and churn hazards and events only on live rows; the daily
tallies over live rows (stage counts, the referral sums) are row-order loops too.

Bit-identity with the numpy rules of `sim.core.dynamics` (the reference, and what
tests/test_kernels.py compares against) rests on three things: every operation is the same
float32 operation in the same order (constants are passed in as float32, so numba never
promotes a step to float64 where numpy stays in float32); no fast-math (so no fused
multiply-add contraction); and sparse additions (KOC touches, camps' extra 1:1 attention) are
applied at the same point of a row's arithmetic as numpy's fancy-indexed `+=`. Per-row values
that are a scalar for one pool and an array for several (promo share, potential, excess
asks) arrive as a float32 or an array (`_at`, compiled for each).

`cache=True`: compiled once per machine into `__pycache__`; a fresh worker process loads the
cache instead of compiling (docs/performance.md).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.core.stage import Stage

_AWARE, _FAMILIAR, _TRUST = np.int8(Stage.AWARE), np.int8(Stage.FAMILIAR), np.int8(Stage.TRUST)
_BUY, _CHURNED = np.int8(Stage.BUY), np.int8(Stage.CHURNED)
_ZERO, _HALF, _ONE = np.float32(0.0), np.float32(0.5), np.float32(1.0)


def _at(values, i):
    """A per-row value given as an array of n, or as a scalar (every row the same)."""
    return values[i] if isinstance(values, np.ndarray) else values


@numba.extending.overload(_at, inline="always")
def _at_compiled(values, i):
    # compiled per argument type, so no per-row test of which it is
    if isinstance(values, numba.types.Array):
        return lambda values, i: values[i]
    return lambda values, i: values


@numba.njit(cache=True, inline="always")
def _readiness(t, threshold, scale):
    """`dynamics.readiness` of one row (float32 throughout)."""
    r = t - threshold
    r *= scale
    r += _HALF
    return min(max(r, _ZERO), _ONE)


@numba.njit(cache=True)
def day_pass(
    trust, stage, operator, intent, repeat_rate,  # population columns (all n rows)
    reach, value, one_to_one, friction,  # pool effects per row (`MemberEffects`)
    attention,  # per operator, trailing zero for no operator (`team.attention`)
    extra_rows, extra_touch,  # camps' extra 1:1 attention (sorted unique rows)
    koc_rows, koc_touch, koc_keep,  # KOC-maintained rows (sorted unique), touch, value share
    promo, keep,  # ask share and value share (1 - promo): a float32, or one per row
    gain_scale,  # learning rate x potential: a float32, or one per row
    weights,  # float32: one_to_one_weight, broadcast_weight, promo_cost, neglect_rate
    thresholds,  # float32: familiar_at, trust_to_buy, lead min_trust, 0.5 / softness
    rates,  # float32: 1 / purchase_cycle_days, first_buy_rate, new-user offer boost
    offer_start, offer_stop,  # rows joined within the new-user offer (boost applies)
    hazard,  # out: purchase hazard per row
):  # fmt: skip
    """`dynamics.touches`, `update_trust`, `advance_stages` and `purchase_hazard` for every
    row in one pass (trust moves for churned rows too, as in the numpy rules)."""
    w_one, w_broadcast, promo_cost, neglect = weights[0], weights[1], weights[2], weights[3]
    familiar_at, to_buy, lead_min, soft = thresholds[0], thresholds[1], thresholds[2], thresholds[3]
    per_cycle, first_rate, boost = rates[0], rates[1], rates[2]
    last = attention.size - 1
    e, k = 0, 0
    for i in range(trust.size):
        op = operator[i]
        one = attention[op if op >= 0 else last]
        if e < extra_rows.size and extra_rows[e] == i:
            one += extra_touch[e]
            e += 1
        one *= one_to_one[i]
        asks = reach[i] + one
        koc = k < koc_rows.size and koc_rows[k] == i
        if koc:
            asks += koc_touch[k]
        asks *= _at(promo, i)
        kp = _at(keep, i)
        one *= kp
        gain = one
        if koc:
            gain += koc_touch[k] * _at(koc_keep, k)
            k += 1
        gain *= w_one
        gain += w_broadcast * (value[i] * kp)
        gain *= _at(gain_scale, i)
        t = trust[i]
        gain *= _ONE - t
        gain -= promo_cost * asks
        gain -= neglect * t
        t += gain
        t = min(max(t, _ZERO), _ONE)
        trust[i] = t
        s = stage[i]
        if s == _AWARE and t >= familiar_at:
            s = _FAMILIAR
        if s == _FAMILIAR and t >= to_buy:
            s = _TRUST
        stage[i] = s
        h = _ZERO
        if s >= _BUY and s < _CHURNED:
            h = _readiness(t, to_buy, soft)
            h *= _ONE - friction[i]
            h *= per_cycle
            h *= repeat_rate[i]
            h = min(h, _ONE)
        elif s == _FAMILIAR or s == _TRUST:
            h = _readiness(t, lead_min, soft)
            h *= _ONE - friction[i]
            h *= asks
            h *= intent[i]
            h *= first_rate
            if offer_start <= i < offer_stop:
                h *= boost
            h = min(h, _ONE)
        hazard[i] = h


@numba.njit(cache=True)
def churn_events(u, live, trust, intent, ban_risk, scale, coefs, buy_hazard):
    """`dynamics.churn_hazard` then `draw_events` over the live rows `live`: returns (churned,
    bought) ids. `u`: the day's uniforms, one per row; `scale`: base rate x excess asks term
    (a float32, or one per live row); `coefs`: float32 trust_coef, intent_coef."""
    churned = np.empty(live.size, dtype=live.dtype)
    bought = np.empty(live.size, dtype=live.dtype)
    nc, nb = 0, 0
    for j in range(live.size):
        i = live[j]
        h = _ONE - trust[i]
        h *= coefs[0]
        h += _ONE
        low = _ONE - intent[i]
        low *= coefs[1]
        low += _ONE
        h *= low
        h *= _at(scale, j)
        h += ban_risk[i]
        h = min(h, _ONE)
        if u[i] < h:
            churned[nc] = i
            nc += 1
        elif u[i] < h + buy_hazard[i]:
            bought[nb] = i
            nb += 1
    return churned[:nc], bought[:nb]


@numba.njit(cache=True)
def trust_by_layer_stage(rows, layer, stage, trust, stages):
    """Trust summed per (periphery 0 / influence or core 1, stage) over `rows`, in float64 and
    in row order: what `np.bincount(key, weights=trust.astype(float64))` sums, bit for bit."""
    out = np.zeros((2, stages))
    for i in rows:
        out[1 if layer[i] > 0 else 0, stage[i]] += np.float64(trust[i])
    return out


@numba.njit(cache=True)
def stage_counts(group, stage, rows, groups, stages):
    """Users per (group, stage) of the users `rows`, `group` being theirs
    (`Population.stage_counts_by`): int64 counts, as `bincount` gives."""
    out = np.zeros((groups, stages), dtype=np.int64)
    for j in range(rows.size):
        out[group[j], stage[rows[j]]] += 1
    return out


@numba.njit(cache=True)
def stage_counts_of(column, offset, stage, rows, groups, stages):
    """`stage_counts` with each user's group `column[row] + offset` read in the loop (no
    gathered copy of the column)."""
    out = np.zeros((groups, stages), dtype=np.int64)
    for j in range(rows.size):
        i = rows[j]
        out[column[i] + offset, stage[i]] += 1
    return out


@numba.njit(cache=True)
def still_live(rows, stage, out):
    """The ids of `rows` not churned, in order, written to `out`; returns how many."""
    n = 0
    for j in range(rows.size):
        if stage[rows[j]] != _CHURNED:
            out[n] = rows[j]
            n += 1
    return n


@numba.njit(cache=True)
def unassigned(rows, operator, limit):
    """(The first `limit` of `rows` without an operator, how many of `rows` have none)."""
    first = np.empty(min(limit, rows.size), dtype=rows.dtype)
    n, total = 0, 0
    for j in range(rows.size):
        if operator[rows[j]] < 0:
            if n < first.size:
                first[n] = rows[j]
                n += 1
            total += 1
    return first[:n], total
