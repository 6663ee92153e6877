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

import llvmlite.ir
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
    rows,  # the rows to pass (sorted ascending: the live index)
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
    hazard,  # out: purchase hazard of each of `rows`
):  # fmt: skip
    """`dynamics.touches`, `update_trust`, `advance_stages` and `purchase_hazard` for the rows
    `rows` in one pass; a churned one keeps its trust (as in the numpy rules) and no hazard.
    The sparse rows (KOC, extra) are walked with pointers that skip those not in `rows`."""
    w_one, w_broadcast, promo_cost, neglect = weights[0], weights[1], weights[2], weights[3]
    familiar_at, to_buy, lead_min, soft = thresholds[0], thresholds[1], thresholds[2], thresholds[3]
    per_cycle, first_rate, boost = rates[0], rates[1], rates[2]
    last = attention.size - 1
    e, k = 0, 0
    for j in range(rows.size):
        i = rows[j]
        while e < extra_rows.size and extra_rows[e] < i:
            e += 1
        while k < koc_rows.size and koc_rows[k] < i:
            k += 1
        s = stage[i]
        if s == _CHURNED:  # a churned user's trust stays as it was when they left
            hazard[j] = _ZERO
            continue
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
        hazard[j] = h


@numba.njit(cache=True, inline="always")
def _churn_hazard(i, j, trust, intent, ban_risk, scale, coefs):
    """`dynamics.churn_hazard` of row `i`, the `j`-th live row (float32 throughout)."""
    h = _ONE - trust[i]
    h *= coefs[0]
    h += _ONE
    low = _ONE - intent[i]
    low *= coefs[1]
    low += _ONE
    h *= low
    h *= _at(scale, j)
    h += ban_risk[i]
    return min(h, _ONE)


@numba.njit(cache=True)
def churn_events(u, live, trust, intent, ban_risk, scale, coefs, buy_hazard):
    """`dynamics.churn_hazard` then `draw_events` over the live rows `live`: returns (churned,
    bought) ids. `u`: the day's uniforms, one per row; `scale`: base rate x excess asks term
    (a float32, or one per live row); `coefs`: float32 trust_coef, intent_coef; `buy_hazard`:
    one per live row (`day_pass`'s over `live`)."""
    churned = np.empty(live.size, dtype=live.dtype)
    bought = np.empty(live.size, dtype=live.dtype)
    nc, nb = 0, 0
    for j in range(live.size):
        i = live[j]
        h = _churn_hazard(i, j, trust, intent, ban_risk, scale, coefs)
        if u[i] < h:
            churned[nc] = i
            nc += 1
        elif u[i] < h + buy_hazard[j]:
            bought[nb] = i
            nb += 1
    return churned[:nc], bought[:nb]


# --- numpy's PCG64 stream, drawn inside the churn pass -------------------------------------
# `Generator.random(n, dtype=float32)` on PCG64 gives row k the k-th 32-bit word of the stream
# (the low half of each 64-bit output first, a left-over high half kept for the next draw) as
# (word >> 8) x 2^-24. Reproducing that here, bit for bit, lets the churn pass draw each row's
# uniform where it reads it: no array of n uniforms written and read back, and only the outputs
# a live row reads computed; the LCG jumps over the others (state x a^k + increment x (1 + a +
# ... + a^(k-1)): one 128-bit multiply-add per jump, the powers tabled once), so a day costs
# per live row, not per row. Same draws, same order, the generator left in numpy's state.

_U32 = np.uint64(0xFFFFFFFF)
_PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645  # numpy's PCG_DEFAULT_MULTIPLIER_128
_JUMPS = 64  # the longest jump tabled; longer gaps take several


def _jump_table() -> np.ndarray:
    """uint64 (hi, lo) words of a^k and 1 + a + ... + a^(k-1) mod 2^128 for k = 0.._JUMPS."""
    out, power, total = np.zeros((_JUMPS + 1, 4), dtype=np.uint64), 1, 0
    for k in range(_JUMPS + 1):
        out[k] = power >> 64, power & (2**64 - 1), total >> 64, total & (2**64 - 1)
        power, total = power * _PCG64_MULTIPLIER % 2**128, (total + power) % 2**128
    return out


_PCG64_JUMPS = _jump_table()


@numba.extending.intrinsic
def _mul_add128(typingctx, hi, lo, m_hi, m_lo, a_hi, a_lo):
    """(hi, lo) x (m_hi, m_lo) + (a_hi, a_lo) mod 2^128, as (hi, lo) uint64 words: LLVM's i128
    arithmetic (numba has no 128-bit integer type); PCG64's LCG step and its jumps."""
    u64 = numba.types.uint64
    sig = numba.types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

    def codegen(context, builder, signature, args):
        i128, i64 = llvmlite.ir.IntType(128), llvmlite.ir.IntType(64)
        c64 = llvmlite.ir.Constant(i128, 64)

        def joined(h, low):
            return builder.or_(builder.shl(builder.zext(h, i128), c64), builder.zext(low, i128))

        x = builder.mul(joined(args[0], args[1]), joined(args[2], args[3]))
        x = builder.add(x, joined(args[4], args[5]))
        words = [builder.trunc(builder.lshr(x, c64), i64), builder.trunc(x, i64)]
        return context.make_tuple(builder, signature.return_type, words)

    return sig, codegen


@numba.njit(cache=True, inline="always")
def _pcg64_output(hi, lo):
    """PCG64's XSL-RR output of a state: (hi xor lo) rotated right by the top 6 bits."""
    x = hi ^ lo
    r = hi >> np.uint64(58)
    return (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


@numba.njit(cache=True, inline="always")
def _uniform(word):
    """numpy's float32 uniform of a 32-bit word."""
    return np.float32(word >> np.uint64(8)) * np.float32(1.0 / 16777216.0)


@numba.njit(cache=True)
def churn_events_pcg64(state, n, live, trust, intent, ban_risk, scale, coefs, buy_hazard):
    """`churn_events` on the uniforms `Generator.random(n, dtype=float32)` would draw from
    the PCG64 `state` (uint64: state hi, lo, increment hi, lo, has_uint32 << 32 | uinteger,
    numpy's own fields), drawn in the pass; `state` is left as that draw leaves it. The
    outputs between two live rows' are jumped over, not stepped through (`_JUMPS`)."""
    churned = np.empty(live.size, dtype=live.dtype)
    bought = np.empty(live.size, dtype=live.dtype)
    if n == 0:
        return churned, bought
    hi, lo, jumps = state[0], state[1], _PCG64_JUMPS
    adds = np.empty((jumps.shape[0], 2), dtype=np.uint64)  # increment x (1 + ... + a^(k-1))
    for k in range(jumps.shape[0]):
        adds[k, 0], adds[k, 1] = _mul_add128(state[2], state[3], jumps[k, 2], jumps[k, 3],
                                             np.uint64(0), np.uint64(0))  # fmt: skip
    spare = state[4] & _U32  # row 0's word if the last draw left a half (has_uint32)
    off = 1 if state[4] >> np.uint64(32) else 0
    steps, word = 0, np.uint64(0)  # outputs stepped; the last one
    nc, nb = 0, 0
    for j in range(live.size):
        i = live[j]
        if i < off:
            w = spare
        else:
            m = (i - off) >> 1  # the 64-bit output serving rows off + 2m and off + 2m + 1
            if steps <= m:
                hi, lo = _jump(hi, lo, m + 1 - steps, jumps, adds)
                steps = m + 1
                word = _pcg64_output(hi, lo)
            w = (word >> np.uint64(32 * ((i - off) & 1))) & _U32
        u = _uniform(w)
        h = _churn_hazard(i, j, trust, intent, ban_risk, scale, coefs)
        if u < h:
            churned[nc] = i
            nc += 1
        elif u < h + buy_hazard[j]:
            bought[nb] = i
            nb += 1
    total = (n - off + 1) >> 1  # outputs the draw takes
    if steps < total:  # the rows after the last live one
        hi, lo = _jump(hi, lo, total - steps, jumps, adds)
    if total:  # numpy keeps the last output's high half, for the next draw if unused
        spare = _pcg64_output(hi, lo) >> np.uint64(32)
    has = np.uint64((n - off) & 1)
    state[0], state[1], state[4] = hi, lo, (has << np.uint64(32)) | spare
    return churned[:nc], bought[:nb]


@numba.njit(cache=True, inline="always")
def _jump(hi, lo, k, jumps, adds):
    """PCG64's state `k` outputs on, in jumps of at most `_JUMPS`."""
    while k > 0:
        d = min(k, jumps.shape[0] - 1)
        hi, lo = _mul_add128(hi, lo, jumps[d, 0], jumps[d, 1], adds[d, 0], adds[d, 1])
        k -= d
    return hi, lo


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
