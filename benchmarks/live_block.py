"""What a dense block of the live users' hot columns would buy the day's fused pass (issue #24).

    python benchmarks/live_block.py                  # the default run at three years
    python benchmarks/live_block.py --days 365 --override strategy=ten_to_n

Runs one model (the default scenario, `--override`s as the CLI takes them) to `--days`, keeps
the arguments of its last `kernels.day_pass` call, and times on them (best of `--repeat`, hot
cache, trust and stages restored before each call):

- `pass_ms`: today's pass, over the live index into the population's columns (scattered rows:
  at the end of a three-year run 52,103 live users among 293,545 rows);
- `dense_ms`: the same rules over the live users' columns stored densely in live order
  (`dense_pass` below: no pointer walks, no churned check, the KOC and camp touches and the
  1:1 attention given per live row), bit for bit the same trust, stages and hazards (checked
  here; the script exits 1 if any differs);
- `gather_ms`: building those dense columns from the population (what a copy made afresh each
  day would cost, which is why the block must be kept, not rebuilt: see docs/performance.md);
- `kept_ms`: the block as it could be kept (`kept_pass` below): the columns that change
  rarely (operator, intent, repeat rate, the pool-table key) dense in live order, trust and
  stage read and written through the live index (other rules write them every day), the pool
  effects and the operators' attention looked up in their small tables, the KOC and camp
  touches spread over the live order beforehand (`spread_ms`: that day's upkeep); bit for bit
  the engine's results too.

One JSON line. Neither pass is the engine: they price keeping a block of the live users' state
in step with its writers (docs/performance.md: the kept block's ceiling is ~0.25 ms a day, and
its daily spreading costs more, so it is not built).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

import numba
import numpy as np

from sim.core.kernels import _AWARE, _BUY, _CHURNED, _FAMILIAR, _ONE, _TRUST, _ZERO, _readiness
from sim.core.pool import member_key

logging.getLogger("MESA").setLevel(logging.WARNING)


@numba.njit(cache=True)
def dense_pass(trust, stage, one_in, koc_ask, koc_gain, intent, repeat_rate, reach, value,
               one_to_one, friction, promo, keep, gain_scale, weights, thresholds, rates,
               offer_start, hazard):  # fmt: skip
    """`kernels.day_pass` over dense live columns (one pool: scalar promo, keep, gain scale):
    the same float32 operations in the same order, stage moves and the hazard as selects."""
    w_one, w_broadcast, promo_cost, neglect = weights[0], weights[1], weights[2], weights[3]
    familiar_at, to_buy, lead_min, soft = thresholds[0], thresholds[1], thresholds[2], thresholds[3]
    per_cycle, first_rate, boost = rates[0], rates[1], rates[2]
    zero, half, one_f = np.float32(0.0), np.float32(0.5), np.float32(1.0)
    for i in range(trust.size):
        one = one_in[i] * one_to_one[i]
        asks = reach[i] + one
        asks += koc_ask[i]
        asks *= promo
        one *= keep
        gain = one + koc_gain[i]
        gain *= w_one
        gain += w_broadcast * (value[i] * keep)
        gain *= gain_scale
        t = trust[i]
        gain *= one_f - t
        gain -= promo_cost * asks
        gain -= neglect * t
        t += gain
        t = min(max(t, zero), one_f)
        trust[i] = t
        s = stage[i]
        s = _FAMILIAR if (s == _AWARE and t >= familiar_at) else s
        s = _TRUST if (s == _FAMILIAR and t >= to_buy) else s
        stage[i] = s
        fr = one_f - friction[i]
        r = (t - to_buy) * soft + half
        r = min(max(r, zero), one_f) * fr * per_cycle * repeat_rate[i]
        f = (t - lead_min) * soft + half
        f = min(max(f, zero), one_f) * fr * asks * intent[i] * first_rate
        f = f * boost if i >= offer_start else f
        hazard[i] = min(r, one_f) if s >= _BUY else (min(f, one_f) if s >= _FAMILIAR else zero)


@numba.njit(cache=True)
def kept_pass(rows, trust, stage, operator, intent, repeat_rate, key, reach, value, one_to_one,
              friction, attention, one_extra, koc_ask, koc_gain, promo, keep, gain_scale,
              weights, thresholds, rates, offer_from, hazard):  # fmt: skip
    """`kernels.day_pass` with the rarely changing columns kept in live order (`operator`,
    `intent`, `repeat_rate`, `key`: the row of the pool tables `reach` ... `friction`), trust
    and stage through the live index `rows`, the sparse touches spread per live row."""
    w_one, w_broadcast, promo_cost, neglect = weights[0], weights[1], weights[2], weights[3]
    familiar_at, to_buy, lead_min, soft = thresholds[0], thresholds[1], thresholds[2], thresholds[3]
    per_cycle, first_rate, boost = rates[0], rates[1], rates[2]
    last = attention.size - 1
    for j in range(rows.size):
        i = rows[j]
        s = stage[i]
        if s == _CHURNED:
            hazard[j] = _ZERO
            continue
        op, g = operator[j], key[j]
        one = attention[op if op >= 0 else last]
        one += one_extra[j]
        one *= one_to_one[g]
        asks = reach[g] + one
        asks += koc_ask[j]
        asks *= promo
        one *= keep
        gain = one + koc_gain[j]
        gain *= w_one
        gain += w_broadcast * (value[g] * keep)
        gain *= gain_scale
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
        if s >= _BUY:
            h = _readiness(t, to_buy, soft) * (_ONE - friction[g]) * per_cycle * repeat_rate[j]
            h = min(h, _ONE)
        elif s == _FAMILIAR or s == _TRUST:
            h = _readiness(t, lead_min, soft)
            h *= _ONE - friction[g]
            h *= asks
            h *= intent[j]
            h *= first_rate
            h = h * boost if j >= offer_from else h
            h = min(h, _ONE)
        hazard[j] = h


@numba.njit(cache=True)
def spread(rows, sparse, values, scale, out):
    """`out[j] = values[k] * scale` where `rows[j] == sparse[k]` (both sorted): a merge walk."""
    k = 0
    for j in range(rows.size):
        while k < sparse.size and sparse[k] < rows[j]:
            k += 1
        if k < sparse.size and sparse[k] == rows[j]:
            out[j] = values[k] * scale
            k += 1


def capture(days: int, overrides: list[str]):
    """The model after `days`, the arguments of its last fused pass, and the trust and stage
    columns as that pass found them (the day's churn and orders moved them since)."""
    from sim.core import kernels
    from sim.core.model import PrivateDomainModel
    from sim.experiment.config import compose

    cfg = {k: v for k, v in compose([f"horizon_days={days}", *overrides]).items() if k != "hydra"}
    model, last, real = PrivateDomainModel.from_config(cfg), [], kernels.day_pass

    def kept(*a):
        last[:] = [a, a[1].copy(), a[2].copy()]
        return real(*a)

    kernels.day_pass = kept
    try:
        model.run()
    finally:
        kernels.day_pass = real
    a, trust, stage = last
    return model, list(a), trust, stage


def gather(a: list) -> tuple[dict, float]:
    """The dense live columns from the pass's arguments, and the seconds that took."""
    (rows, trust, stage, operator, intent, repeat_rate, reach, value, one_to_one, friction,
     attention, extra_rows, extra_touch, koc_rows, koc_touch, koc_keep) = a[:16]  # fmt: skip

    def where(sparse):  # (positions in `rows` of the sparse rows that are live, which are)
        at = np.minimum(np.searchsorted(rows, sparse), rows.size - 1)
        live = rows[at] == sparse
        return at[live], live

    t = time.perf_counter()
    one_in = attention[operator[rows]]  # -1 (no operator): the trailing zero
    at, live = where(extra_rows)
    one_in[at] += extra_touch[live]
    koc_ask, koc_gain = np.zeros(rows.size, np.float32), np.zeros(rows.size, np.float32)
    at, live = where(koc_rows)
    koc_ask[at] = koc_touch[live]
    koc_gain[at] = (koc_touch * koc_keep)[live]
    cols = {
        "trust": trust[rows], "stage": stage[rows], "one_in": one_in, "koc_ask": koc_ask,
        "koc_gain": koc_gain, "intent": intent[rows], "repeat_rate": repeat_rate[rows],
        "reach": reach[rows], "value": value[rows], "one_to_one": one_to_one[rows],
        "friction": friction[rows],
    }  # fmt: skip
    return cols, time.perf_counter() - t


def best(fn, reset, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        reset()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    from sim.core import kernels

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=1095)
    p.add_argument("--override", nargs="*", default=[])
    p.add_argument("--repeat", type=int, default=100)
    args = p.parse_args()
    model, a, trust0, stage0 = capture(args.days, args.override)
    if np.ndim(a[16]) or np.ndim(a[17]) or np.ndim(a[18]):
        sys.exit("live_block: one pool only (scalar promo share and potential)")
    rows, trust, stage, hazard = a[0], a[1], a[2], a[24]

    def restore():
        trust[:], stage[:] = trust0, stage0

    restore()
    cols, _ = gather(a)
    gather_s = min(gather(a)[1] for _ in range(args.repeat))
    dense0 = {k: v.copy() for k, v in cols.items()}
    out = np.empty(rows.size, np.float32)
    offer = int(np.searchsorted(rows, a[22])) if a[23] > a[22] else rows.size
    dense = [cols[k] for k in dense0] + [*a[16:22], offer, out]

    def restore_dense():
        cols["trust"][:], cols["stage"][:] = dense0["trust"], dense0["stage"]

    pass_s = best(lambda: kernels.day_pass(*a), restore, args.repeat)
    dense_s = best(lambda: dense_pass(*dense), restore_dense, args.repeat)
    same = (
        np.array_equal(trust[rows].view(np.uint32), cols["trust"].view(np.uint32))
        and np.array_equal(stage[rows], cols["stage"])
        and np.array_equal(hazard.view(np.uint32), out.view(np.uint32))
    )
    # the block as it could be kept: the columns rarely written, in live order
    pop = model.population
    key = member_key(pop.touchpoints, model.source.pool_index(pop))[rows].astype(np.int32)
    t = model.tables
    sparse = [np.zeros(rows.size, np.float32) for _ in range(3)]  # extra, KOC asks, KOC gain
    f32 = np.float32

    def upkeep():
        for x in sparse:
            x[:] = 0.0
        spread(rows, a[11], a[12], f32(1.0), sparse[0])
        spread(rows, a[13], a[14], f32(1.0), sparse[1])
        spread(rows, a[13], a[14], f32(a[15]), sparse[2])

    kept = [rows, trust, stage, a[3][rows], a[4][rows], a[5][rows], key, t.reach, t.value,
            t.one_to_one, t.friction, a[10], *sparse, *a[16:22], offer, out]  # fmt: skip
    upkeep()
    restore()
    kept_pass(*kept)
    same &= (
        np.array_equal(trust[rows].view(np.uint32), cols["trust"].view(np.uint32))
        and np.array_equal(stage[rows], cols["stage"])
        and np.array_equal(hazard.view(np.uint32), out.view(np.uint32))
    )
    spread_s = best(upkeep, lambda: None, args.repeat)
    kept_s = best(lambda: kept_pass(*kept), restore, args.repeat)
    print(json.dumps({
        "days": args.days, "overrides": args.override, "rows": int(model.population.n),
        "live": int(rows.size), "pass_ms": round(pass_s * 1e3, 3),
        "dense_ms": round(dense_s * 1e3, 3), "gather_ms": round(gather_s * 1e3, 3),
        "kept_ms": round(kept_s * 1e3, 3), "spread_ms": round(spread_s * 1e3, 3),
        "pass_over_dense": round(pass_s / dense_s, 2), "bit_identical": bool(same),
    }))  # fmt: skip
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
