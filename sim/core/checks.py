"""A built `Scenario` checked: every field's range, then every rule across fields, all here.

`validate` walks the records depth first, as they nest: a record's fields are range-checked
(`sim.core.ranges`, declared on the field) and its inner records checked before the record's own
rule runs (`RULES`, one function per record type), and the `Scenario`'s rule, across groups,
runs last. Each refusal is a `ConfigError` naming the full dotted key (`strategy.phases.2.
team_size = -1 is out of range; allowed: …`), raised before any simulation work. The mechanisms
(`sim.core.pool`, `fit`, `pyramid`) trust what passed here and check nothing themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass

from sim.core.pool_params import MAX_TOUCHPOINTS, Pool, PoolLayer, Washes
from sim.core.population import memory_shortfall
from sim.core.ranges import (
    FIT_DIMENSIONS,
    STAGE_NAMES,
    ConfigError,
    is_number,
    out_of_range,
)
from sim.core.scenario_params import (
    IMPORTED,
    REFERRAL,
    Churn,
    Scenario,
    Trust,
    candidates,
    guesses,
)
from sim.core.strategy_params import Phase, Strategy, Test

PLACE, GOODS, PEOPLE = FIT_DIMENSIONS


def validate(value, key: str = "") -> None:
    """Apply every range rule and record rule in `value` and the records, lists and dicts inside
    it, naming the offending value by its full dotted key (e.g. `strategy.phases.2.team_size`)."""
    if is_dataclass(value):
        for name, allowed in _ranges(type(value)):
            v, k = getattr(value, name), _join(key, name)
            if allowed is not None:
                for kk, vv in _leaves(v, k):
                    if vv is not None and not allowed.test(vv):
                        raise out_of_range(kk, vv, allowed.text)
            validate(v, k)
        if (rule := RULES.get(type(value))) is not None:
            rule(value, key)
    elif isinstance(value, dict):
        for k, v in value.items():
            validate(v, _join(key, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            validate(v, _join(key, str(i)))


@functools.cache
def _ranges(cls) -> tuple:
    return tuple((f.name, f.metadata.get("allowed")) for f in fields(cls))


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _leaves(value, key: str) -> Iterator[tuple[str, object]]:
    """A field's values to range-check: the value itself, or each value of a mapping."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{key}.{k}", v
    else:
        yield key, value


# --- rules of one record ---------------------------------------------------------------------


def _pool(p: Pool | PoolLayer, key: str) -> None:
    if not p.touchpoints:
        raise ConfigError(f"{key}.touchpoints is empty; allowed: a non-empty list of touchpoints")


def _washes(w: Washes, key: str) -> None:
    if w.days > w.every_days:
        raise ConfigError(
            f"{key}.days = {w.days} is out of range; allowed: at most "
            f"{key}.every_days = {w.every_days} (washes do not overlap)"
        )


def _test(t: Test, key: str) -> None:
    for i, d in enumerate(t.dimensions):
        if d not in FIT_DIMENSIONS:
            raise ConfigError(
                f"{key}.dimensions.{i} = {d!r}: unknown dimension; allowed: {FIT_DIMENSIONS}"
            )
    for d in t.candidates:
        if d not in t.dimensions:
            raise ConfigError(
                f"{key}.candidates.{d}: not a tested dimension; allowed: {t.dimensions}"
            )


def _phase(p: Phase, key: str) -> None:
    if p.max_days is not None and p.max_days < p.min_days:
        raise out_of_range(f"{key}.max_days", p.max_days, ">= min_days")
    if p.on_gate_fail != "advance" and not p.gate.conditions():
        raise out_of_range(
            f"{key}.on_gate_fail", p.on_gate_fail, "'advance' for a phase without a gate"
        )


def _strategy(s: Strategy, key: str) -> None:
    if not s.phases:
        raise ConfigError(f"{key}.phases is empty; allowed: a non-empty list of phases")


def _trust(t: Trust, key: str) -> None:
    for k in t.arrival:
        if k not in STAGE_NAMES:
            raise ConfigError(f"{key}.arrival.{k}: unknown stage; allowed: {STAGE_NAMES}")


def _churn(c: Churn, key: str) -> None:
    if (c.dropout_a is None) != (c.dropout_b is None):
        unset = "dropout_a" if c.dropout_a is None else "dropout_b"
        raise ConfigError(f"{key}.{unset} = None: set both dropout_a and dropout_b, or neither")


# --- rules across groups ---------------------------------------------------------------------


def _scenario(sc: Scenario, key: str = "") -> None:
    """Rules across groups (DOMAIN §2.4, §2.5, §3.1, §5)."""
    for name in ("touchpoints", "channels"):
        if not getattr(sc, name):
            raise ConfigError(f"{name} = {{}}: expected a non-empty mapping of names")
    if why := memory_shortfall(sc.initial_users * 5 // 4):  # the model's first capacity
        raise ConfigError(f"initial_users = {sc.initial_users:,} cannot fit: {why}")
    if sc.market_size is not None and sc.initial_users > sc.market_size:
        raise out_of_range("initial_users", sc.initial_users, f"<= market_size ({sc.market_size})")
    for reserved in (REFERRAL, IMPORTED):
        if reserved in sc.channels:
            raise ConfigError(f"channels.{reserved}: reserved name; configure it elsewhere")
    if sc.initial_channel not in sc.channels:
        raise ConfigError(
            f"initial_channel = {sc.initial_channel!r}: unknown channel; allowed: "
            f"{sorted(sc.channels)}"
        )
    for i, phase in enumerate(sc.strategy.phases):
        shares(phase.channel_mix, f"strategy.phases.{i}.channel_mix", sc.channels)
        _phase_rules(sc, phase, f"strategy.phases.{i}")
    used = {f"channels.{n}.arrival_stage": c.arrival_stage for n, c in sc.channels.items()}
    used["referral.arrival_stage"] = sc.referral.arrival_stage
    for key, s in used.items():  # named by the key that asks for the stage
        if s not in sc.trust.arrival:
            raise ConfigError(
                f"{key} = {s!r}: no trust on arrival for this stage (trust.arrival.{s}); "
                f"allowed: one of {sorted(sc.trust.arrival)}, or add +trust.arrival.{s}=<trust>"
            )
    for c in sorted(set(sc.market.addressable) - set(sc.channels)):
        raise ConfigError(
            f"market.addressable.{c}: unknown channel; allowed: {sorted(sc.channels)}"
        )
    layers(sc)
    fit_candidates(sc)
    pool_mixes(sc)


def shares(mapping: dict, name: str, known) -> None:
    """A mix: known keys, non-negative values summing to 1 (within 1e-6)."""
    for k, v in mapping.items():
        if k not in known:
            raise ConfigError(f"{name}.{k}: unknown key; allowed: {sorted(known)}")
        if not (is_number(v) and v >= 0):
            raise out_of_range(f"{name}.{k}", v, "a share >= 0")
    if abs(sum(mapping.values()) - 1.0) >= 1e-6:
        raise out_of_range(name, dict(mapping), "shares summing to 1")


def layers(sc: Scenario) -> None:
    """Seed 004's pyramid (`pool.layers`, DOMAIN §2.3): only on the scenario's own pool, never
    place-tested, its layers' touchpoints known."""
    pools = {"pool": sc.pool, **{f"fit.place.pools.{k}": p for k, p in sc.fit.place.pools.items()}}
    for key, pool in pools.items():
        if pool.layers is None:
            continue
        if key != "pool" or sc.fit.place.pools:
            raise ConfigError(
                f"{key}.layers: a layered pool cannot be place-tested; allowed: layers only on "
                "`pool`, with fit.place.pools = {}"
            )
        for name, layer in _layers(pool):
            for i, t in enumerate(layer.touchpoints):
                if t not in sc.touchpoints:
                    raise ConfigError(
                        f"{key}.layers.{name}.touchpoints.{i} = {t!r}: unknown touchpoint; "
                        f"allowed: {sorted(sc.touchpoints)}"
                    )


def _layers(pool: Pool) -> list[tuple[str, PoolLayer]]:
    p = pool.layers
    return [] if p is None else [("new", p.new), ("pool", p.pool), ("core", p.core)]


def fit_candidates(sc: Scenario) -> None:
    """Brand fit (`fit`, DOMAIN §3.1): candidates unique and known, the guess among them, tests
    naming known candidates."""
    f, cands = sc.fit, candidates(sc)
    for name, pool in f.place.pools.items():
        for i, t in enumerate(pool.touchpoints):
            if t not in sc.touchpoints:
                raise ConfigError(
                    f"fit.place.pools.{name}.touchpoints.{i} = {t!r}: unknown touchpoint; "
                    f"allowed: {sorted(sc.touchpoints)}"
                )
    for i, c in enumerate(f.people.channels):
        if c not in sc.channels:
            raise ConfigError(
                f"fit.people.channels.{i} = {c!r}: unknown channel; allowed: {sorted(sc.channels)}"
            )
    for dim, names in cands.items():
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"fit.{dim}: candidate {twice[0]!r} listed twice")
    if f.people.channels and f.people.guess is None:
        raise ConfigError(f"fit.people.guess: missing; allowed: one of {cands[PEOPLE]}")
    for dim, guess in guesses(sc).items():
        if guess is not None and guess not in cands[dim]:
            raise ConfigError(
                f"fit.{dim}.guess = {guess!r}: not a candidate; allowed: {cands[dim]}"
            )
    for i, phase in enumerate(sc.strategy.phases):
        if phase.test is None:
            continue
        for dim, names in phase.test.candidates.items():
            for j, n in enumerate(names):
                if n not in cands[dim]:
                    raise ConfigError(
                        f"strategy.phases.{i}.test.candidates.{dim}.{j} = {n!r}: unknown "
                        f"candidate; allowed: {cands[dim]}"
                    )


def _phase_rules(sc: Scenario, phase: Phase, key: str) -> None:
    """A phase's rules (`sim.core.rules`) name configured channels, and the LTV ages its gate
    and stop-loss read are ones the model books margin for (`economics.ltv_horizons_days`)."""
    for name in phase.rules.spend:
        if name not in sc.channels:
            raise ConfigError(
                f"{key}.rules.spend.{name}: unknown channel; allowed: {sorted(sc.channels)}"
            )
    most = max(sc.economics.ltv_horizons_days)
    ages = {}
    if phase.gate.min_ltv_cac is not None:
        ages[f"{key}.gate.ltv_horizon_days"] = phase.gate.ltv_horizon_days
    if phase.rules.stop_loss is not None and phase.rules.stop_loss.metric == "ltv_cac":
        ages[f"{key}.rules.stop_loss.horizon_days"] = phase.rules.stop_loss.horizon_days
    for k, age in ages.items():
        if age > most:
            raise out_of_range(k, age, f"<= max(economics.ltv_horizons_days) = {most}")


def pool_mixes(sc: Scenario) -> None:
    """Every touchpoint mix the model builds (`sim.core.pool.PoolMix`: the pool, its layers,
    the candidate pools): touchpoints known, each once, at most `MAX_TOUCHPOINTS` (a user's
    memberships are one byte)."""
    mixes = [("pool", sc.pool)]
    mixes += [(f"pool.layers.{name}", layer) for name, layer in _layers(sc.pool)]
    mixes += [(f"fit.place.pools.{k}", p) for k, p in sc.fit.place.pools.items()]
    for key, pool in mixes:
        unknown = [t for t in pool.touchpoints if t not in sc.touchpoints]
        if unknown:
            raise ConfigError(
                f"{key}.touchpoints: unknown touchpoint {unknown[0]!r}; allowed: "
                f"{sorted(sc.touchpoints)}"
            )
        if len(pool.touchpoints) > MAX_TOUCHPOINTS:
            raise ConfigError(
                f"{key}.touchpoints has {len(pool.touchpoints)} entries; allowed: at most "
                f"{MAX_TOUCHPOINTS}"
            )
        if len(set(pool.touchpoints)) != len(pool.touchpoints):
            raise ConfigError(f"{key}.touchpoints = {pool.touchpoints}: listed twice")


# one rule per record type, run after the record's fields and inner records are checked
RULES: dict[type, Callable] = {
    Pool: _pool,
    PoolLayer: _pool,
    Washes: _washes,
    Test: _test,
    Phase: _phase,
    Strategy: _strategy,
    Trust: _trust,
    Churn: _churn,
    Scenario: _scenario,
}
