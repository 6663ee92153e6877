"""The standing mechanisms study (issue #22 items 5-6): experiments/mechanisms.md, one command.

`make mechanisms` (or `.venv/bin/python scripts/mechanisms_study.py --write`). For every
mechanism in `STUDIES`, with each strategy named: off, at its configured key parameter (x1, read
from the composed config), and at x0.5 and x1.5 of it, over the same seeds (common random
numbers, paired by seed). Each row reports the mechanism's natural output at x1, its changes
with their standard error across seeds (sd of the paired differences / sqrt(seeds)), and
whether it acts. Runs with the same overrides are run once and shared between rows.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.core.model import PrivateDomainModel
from sim.core.params import REFERRAL
from sim.experiment.config import compose, model_kwargs

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "experiments" / "mechanisms.md"
CACHE = ROOT / "results" / "mechanisms_runs.json"  # results/ is not versioned
SCALES = (0.5, 1.5)


def channel_intent(m, s) -> float:
    pop, n = m.population, m.population.n
    rows = pop.channel[:n] != m.channel_names.index(REFERRAL)
    return float(pop.intent[:n][rows].mean())


def daily(column: str, how: str):
    """The daily table's `column` reduced by `how` ("mean", "sum"); 0 where a run lacks it."""

    def f(m, s) -> float:
        d = m.daily()
        return float(getattr(d[column], how)()) if column in d else 0.0

    return f


def summary_key(key: str):
    return lambda m, s: float(s[key])


# natural outputs by name: (label, model and its summary -> float); every run measures all
MEASURES = {
    "conversion": ("30-day conversion", summary_key("conversion_30d")),
    "intent": ("mean intent of channel arrivals", channel_intent),
    "cac": ("CAC per acquired user (yuan)", summary_key("cac_per_user")),
    "waiting": ("mean users waiting for an account", daily("unassigned_users", "mean")),
    "operators": ("mean operators at work per day", daily("operators", "mean")),
    "koc_referred": ("share of new users referred by KOCs", summary_key("koc_referred_share")),
    "ltv_cac_90d": ("LTV/CAC at 90 days", summary_key("ltv_cac_90d")),
    "first_orders": ("first orders in the year", daily("first_purchases", "sum")),
    "churn": ("churned share of acquired users", summary_key("churn_rate")),
    "profit": ("profit (M yuan)", lambda m, s: s["profit"] / 1e6),
}


@functools.cache
def configured(key: str, overrides: tuple[str, ...]):
    """The value of `key` (dotted) in the config composed with `overrides`."""
    value = compose(list(overrides))
    for part in key.split("."):
        value = value[part]
    return value


@dataclass(frozen=True)
class Study:
    name: str  # the mechanism
    key: str  # its key parameter (x1: the composed config's value)
    output: str  # the natural output, a `MEASURES` name
    off: tuple[str, ...] | None  # overrides that switch it off (None: it has no off)
    on: tuple[str, ...] = ()  # overrides that switch it on where the default is off
    setup: tuple[str, ...] = ()  # overrides of every arm (e.g. the pool it lives in)
    scan: tuple[float, ...] = ()  # extra scales for a finer scan (a non-monotone response)
    why: str = ""  # what the measurements say about its size (the page's notes)

    def base(self):
        """The key parameter's configured value (x1) with the mechanism on."""
        return configured(self.key, (*self.setup, *self.on))

    def overrides(self, scale: float | None) -> tuple[str, ...]:
        """None: off; 1: on as configured; else on with the key parameter at `scale` x base."""
        if scale is None:
            return (*self.setup, *self.off)
        if scale == 1.0:
            return (*self.setup, *self.on)
        base = self.base()
        # a mapping (market.addressable): every entry scaled
        items = base.items() if isinstance(base, dict) else [(None, base)]
        keys = (f"{self.key}{'' if k is None else '.' + k}={scaled(v, scale)}" for k, v in items)
        return (*self.setup, *self.on, *keys)

    def scales(self) -> tuple:
        return (*((None,) if self.off is not None else ()), 1.0, *SCALES, *self.scan)


def scaled(value, scale: float):
    """`value` x `scale`, an integer where the value is one (a count, days)."""
    return int(round(value * scale)) if isinstance(value, int) else round(value * scale, 9)


PYRAMID = ("pool=pyramid",)
STUDIES = [
    Study(
        "capability (#22 item 1)",
        "capability.unprepared",
        "conversion",
        ("capability.enabled=false",),
        why="A touch by an operator with no codified capability is worth `unprepared` of a "
        "capable one's; `staged` codifies it in 1-10, `ten_to_n` learns by doing (1/365 a day).",
    ),
    Study(
        "reputation (#22 item 2)",
        "reputation.strength",
        "intent",
        ("reputation.enabled=false",),
        why="Detractors' word of mouth lowers the intent of later channel arrivals.",
    ),
    Study(
        "finite market (#22 item 3)",
        "market.addressable",
        "cac",
        ("market.enabled=false",),
        why="x0.5 / x1.5 scale every channel's addressable audience (x1: configs/config.yaml).",
    ),
    Study(
        "friend cap (#22 item 4)",
        "operators.friend_cap",
        "waiting",
        ("operators.friend_cap=null",),
        why="Overflow waits unassigned for an account with room.",
    ),
    Study(
        "prepared hiring (item 5)",
        "operators.capability_days",
        "operators",
        None,
        why="Inert at defaults by construction. Hires are prepared (14 + 14 days lead and ramp, "
        "not 60 + 60) once phases that build capability have run `capability_days` (90) days. "
        "`ten_to_n` builds none, so its hires are unprepared at any value; `staged`'s 1-10 "
        "lasts at least its `min_days` = 90 before 10-N hires, so any value up to 90 "
        "(x0.5 = 45 included) counts as prepared. It acts only above the 1-10 phase's length "
        "(x1.5 = 135 makes `staged`'s 10-N hires unprepared unless 1-10's gate held it 135 days) "
        "or in a custom strategy whose building phase is shorter than 90 days. The capability "
        "module's codified state reaches 1 after `capability.build_days` (90) building days, "
        "the same quarter (001: 'at least a quarter'), so the two agree at defaults; the "
        "threshold is kept as its own parameter because the delay also applies with "
        "`capability.enabled=false`.",
    ),
    Study(
        "KOC word of mouth (item 5)",
        "koc.referral_multiplier",
        "koc_referred",
        ("koc.referral_multiplier=1",),
        why="Off = a KOC talks like an ordinary trusting member (multiplier 1).",
    ),
    Study(
        "KOC word of mouth (item 5)",
        "koc.referral_multiplier",
        "ltv_cac_90d",
        ("koc.referral_multiplier=1",),
        why="Acts, and mostly through reputation. A KOC's word counts in the brand's positive "
        "word of mouth, which dilutes the detractors' negative share (`sim.core.reputation`), "
        "so every channel's arrivals keep more intent and buy more: with reputation off (next "
        "row) the ±50 % changes of LTV/CAC at 90 days are within a standard error or two, as "
        "issue #22 measured before the mechanisms were on. The direct saving is small: a "
        "referred user costs `referral.reward` (10 yuan) against ~42 yuan a user on average, "
        "but KOC referrals are ~1.3 % of new users (KOCs are at most operators x `deep_limit` "
        "and 2 % of the pool), so CAC per user moves by ~0.3 yuan. CAC counts channel costs and "
        "referral rewards of the users acquired; KOC rewards are team cost. KOC-referred users "
        "are not told apart from other referred users; referred users (seed 0, `ten_to_n`, 365 "
        "days) arrive familiar with intent 0.60 (paid ads 0.30), 55 % buy (38 %), 1.24 orders "
        "each (0.76), discounted margin 115 yuan a user (66) at CAC 10 (77), 40 % churned (59 %): "
        "lead product first, then the star and premium products like everyone.",
    ),
    Study(
        "KOC word of mouth, reputation off (item 5)",
        "koc.referral_multiplier",
        "ltv_cac_90d",
        ("koc.referral_multiplier=1",),
        setup=("reputation.enabled=false",),
        why="The same row without reputation: what KOC word of mouth does to value by its "
        "referrals alone.",
    ),
    Study(
        "washes (item 5)",
        "pool.layers.washes.reach",
        "first_orders",
        (),
        on=("pool.layers.washes.enabled=true",),
        setup=PYRAMID,
        why="Wired as specified: a washed user's promo share (0.2 vs the pool layer's 0.1) "
        "reaches the ask-driven first-order rule and the churn rule. Small because (i) only "
        "first orders respond to asks (repeat orders follow the BG/NBD rate, so a wash cannot "
        "cross-sell to buyers); (ii) the pool layer's non-buyers are the low-intent leftovers of "
        "the conversion push (mean intent ~0.23, trust ~0.27, readiness ~0.4 for the lead "
        "product at seed 0, `ten_to_n`); (iii) its touchpoints reach a member ~0.2 times a day, "
        "so a wash adds ~0.02 asks a user-day for 3 days a month; (iv) its promo share sits at "
        "the tolerance (0.2), so it adds no excess-ask churn. Per washed non-buyer-day the first-"
        "order hazard rises by ~3e-4: ~15 first orders a wash, ~3 % of the year's. On vs off "
        "is measurable; the ±50 % changes of `reach` are not at 4 seeds, since paired runs "
        "part once an order differs (the noise is ~40-60 first orders). In `staged` the "
        "pyramid holds 0-1 all year (its 30-day conversion stays under the 8 % gate), so there "
        "is little pool to wash.",
    ),
    Study(
        "washes (item 5)",
        "pool.layers.washes.reach",
        "churn",
        (),
        on=("pool.layers.washes.enabled=true",),
        setup=PYRAMID,
        why="Asks at the tolerance spend trust (`trust.promo_cost`) but add no excess-ask churn; "
        "a promo share above 0.2 would.",
    ),
    Study(
        "camps (item 5)",
        "pool.layers.camps.effort_share",
        "conversion",
        (),
        on=("pool.layers.camps.enabled=true",),
        setup=PYRAMID,
        scan=(0.75, 1.25),
        why="A genuine interior optimum at the default, from two rules of the mechanism. A camp "
        "member gets effort_share x capacity / size extra 1:1 touches a day, capped at "
        "`max_touches_per_user_day` (1): 0.25 x 400 / 100 = 1, exactly the cap, so below 0.25 "
        "members get fewer touches (x0.5: 0.5 a day) and conversion falls, while above it the "
        "extra effort is clipped (not absorbable) yet still taken from the rest. And an operator "
        "runs int(1 / effort_share) camps: 4 at 0.25, 3 at 0.3125, 2 at 0.375 and 0.5, so at "
        "x1.5 half the camp slots: fewer new users get a camp (the finer scan: 0.3125, 3 slots, "
        "is as good as 0.25; 0.375 drops). Not a wiring error: the default sits at the "
        "saturation point, effort_share = size x `max_touches_per_user_day` / capacity. In "
        "`staged` camps lift the pyramid's conversion over the 0-1 gate, so it scales on and "
        "loses money in this (loss-making) pool: the profit column.",
    ),
]


def one(args) -> dict[str, float]:
    """One run: every natural output and profit."""
    strategy, over, seed = args
    cfg = compose([f"strategy={strategy}", f"seed={seed}", *over])
    t0 = time.time()
    m = PrivateDomainModel(**model_kwargs(cfg)).run()
    s = m.summary()
    return {**{k: f(m, s) for k, (_, f) in MEASURES.items()}, "seconds": time.time() - t0}


def fingerprint() -> str:
    """A hash of the model's code and configs: cached runs count only while it is unchanged
    (a change to `MEASURES` here needs the cache deleted)."""
    h = hashlib.sha256()
    files = [*sorted((ROOT / "sim").rglob("*.py")), *sorted((ROOT / "configs").rglob("*.yaml"))]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def load(path: Path, key: str) -> dict:
    """Runs already done under this fingerprint: (strategy, overrides, seed) -> measures."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if data.get("fingerprint") != key:
        return {}
    return {(r["strategy"], tuple(r["overrides"]), r["seed"]): r["measures"] for r in data["runs"]}


def save(path: Path, key: str, done: dict) -> None:
    runs = [
        {"strategy": st, "overrides": list(over), "seed": seed, "measures": v}
        for (st, over, seed), v in done.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fingerprint": key, "runs": runs}))


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean paired difference a - b across seeds and its standard error."""
    d = a - b
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def delta(a: np.ndarray, b: np.ndarray, digits: int) -> str:
    mean, se = paired(a, b)
    return f"{mean:+.{digits}f} ± {se:.{digits}f}"


def z(a: np.ndarray, b: np.ndarray) -> float:
    mean, se = paired(a, b)
    return abs(mean) / se if se > 0 else (np.inf if mean else 0.0)


def verdict(zs: list[float]) -> str:
    """Acts: both ±50 % changes exceed 2 standard errors; one way: one does; else small."""
    big = sum(v > 2 for v in zs)
    return "acts" if big == 2 else "one way" if big == 1 else "small"


def fmt_key(s: Study) -> str:
    base = s.base()
    if isinstance(base, dict):
        return f"`{s.key}` (every channel, x1 = config)"
    return f"`{s.key}` = {base:g}"


def page(get, strategies: list[str], seeds: list[int], minutes: str) -> str:
    """`get(study, strategy, scale, measure)`: the values over seeds."""
    lines = [
        "# Mechanisms study (issue #22): which mechanisms act, and how much",
        "",
        "Generated by `make mechanisms` (scripts/mechanisms_study.py); do not edit by hand.",
        f"Default scenario (`pool=pyramid` where a row says so), {len(seeds)} seeds "
        f"({seeds[0]}-{seeds[-1]}), horizon 365 days, strategies "
        f"{', '.join(f'`{s}`' for s in strategies)}; {minutes}.",
        "",
        "Issue #22's four mechanisms (capability, reputation, finite market, friend cap) are ON "
        "by default; *off* switches one off alone. Washes and camps are off in the pyramid "
        "preset; *off* is the preset, *x1* switches them on at the preset's values.",
        "",
        "How to read a row. *x1*: the natural output with the key parameter as configured. "
        "Changes are means of paired differences across seeds (same seed = same brand) ± their "
        "standard error (sd / sqrt(seeds)): *on − off* the mechanism at x1 vs without it; "
        "*x0.5 − x1* / *x1.5 − x1* its key parameter halved / raised by half. *acts*: both "
        "±50 % changes exceed 2 standard errors; *one way*: one does; *small*: neither (why: "
        "the notes below).",
        "",
        "Definitions, all over the 365-day run: *30-day conversion*: share of acquired users "
        "who joined by day 334 whose first order came within 30 days of joining. *Mean intent "
        "of channel arrivals*: over every user not referred. *CAC per acquired user*: "
        "acquisition spend (channel unit costs, referral rewards) ÷ acquired users. *Mean users "
        "waiting*: daily mean of users with no operator account. *Mean operators at work*: "
        "daily mean of arrived operators. *Share referred by KOCs*: KOC referrals ÷ all new "
        "users. *LTV/CAC at 90 days*: over acquired users who joined by day 275, margin "
        "discounted to the joining day booked in their first 90 days ÷ their CAC. *First "
        "orders*: first purchases in the year. *Churned share*: acquired users churned by day "
        "365. *Profit*: margin − acquisition spend − team cost (salaries, KOC rewards, "
        "systems, touchpoints) over the year, M yuan.",
        "",
    ]
    for strategy in strategies:
        lines += [
            f"## `strategy={strategy}`",
            "",
            "| mechanism | key parameter | natural output | x1 | on − off | x0.5 − x1 | x1.5 − x1 "
            "| verdict | profit on − off (M yuan) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for s in STUDIES:

            def at(sc, what=s.output, s=s, strategy=strategy):
                return get(s, strategy, sc, what)

            x1 = at(1.0)
            digits = 4 if abs(x1.mean()) < 10 else 1
            has_off = s.off is not None
            on_off = delta(x1, at(None), digits) if has_off else "—"
            profit = delta(at(1.0, "profit"), at(None, "profit"), 3) if has_off else "—"
            lines.append(
                f"| {s.name} | {fmt_key(s)} | {MEASURES[s.output][0]} | {x1.mean():.{digits}f} "
                f"| {on_off} | {delta(at(0.5), x1, digits)} | {delta(at(1.5), x1, digits)} "
                f"| {verdict([z(at(sc), x1) for sc in SCALES])} | {profit} |"
            )
        lines.append("")
    scans = [s for s in STUDIES if s.scan]
    for s in scans:
        grid = sorted((*SCALES, 1.0, *s.scan))
        base = s.base()
        lines += [
            f"## Finer scan: {s.name}, {MEASURES[s.output][0]}, change vs x1",
            "",
            "| strategy | " + " | ".join(f"{base * g:g}" for g in grid) + " |",
            "|---|" + "---|" * len(grid),
        ]
        for strategy in strategies:
            x1 = get(s, strategy, 1.0, s.output)
            cells = [
                f"{x1.mean():.4f} (x1)" if g == 1.0 else delta(get(s, strategy, g, s.output), x1, 4)
                for g in grid
            ]
            lines.append(f"| `{strategy}` | " + " | ".join(cells) + " |")
        lines.append("")
    if len(strategies) == 2:
        a, b = strategies
        lines += [
            f"## `{a}` − `{b}` profit (M yuan), paired by seed, each mechanism varied alone",
            "",
            "What each mechanism does to the strategy comparison (measured, whichever way it "
            "comes out; nothing here is tuned to make one win). Rows of the pyramid are in "
            "`pool=pyramid`.",
            "",
            "| mechanism | off | x1 | x0.5 | x1.5 |",
            "|---|---|---|---|---|",
        ]
        seen = set()
        for s in STUDIES:
            if (s.key, s.setup) in seen:
                continue
            seen.add((s.key, s.setup))
            cells = [
                "—"
                if sc is None and s.off is None
                else delta(get(s, a, sc, "profit"), get(s, b, sc, "profit"), 3)
                for sc in (None, 1.0, *SCALES)
            ]
            lines.append(f"| {s.name} (`{s.key}`) | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## Notes: why each mechanism acts as much as it does",
        "",
        "Written by hand in the script; the tables above are regenerated each time. Numbers quoted "
        "in a note (CACs, shares, intents of seed 0) were measured on 2026-12-02 with issue #22's "
        "mechanisms on and before the 10-N spend rule and the friend cap's queue (issue #23); they "
        "explain the mechanism, the tables give today's sizes.",
        "",
    ]
    lines += [f"- **{s.name}**, {MEASURES[s.output][0]}: {s.why}" for s in STUDIES]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--strategies", default="ten_to_n,staged")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--write", action="store_true", help=f"write {PAGE.name}")
    ap.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
        help="runs done are kept here and reused while sim/ and configs/ are unchanged (a "
        "fingerprint of them); delete it to rerun everything",
    )
    a = ap.parse_args()
    strategies, seeds = a.strategies.split(","), list(range(a.seeds))
    arms = list(dict.fromkeys(s.overrides(sc) for s in STUDIES for sc in s.scales()))
    tasks = [(st, over, seed) for st in strategies for over in arms for seed in seeds]
    key = fingerprint()
    done = load(a.cache, key)
    todo = [t for t in tasks if t not in done]
    t0 = time.time()
    with ProcessPoolExecutor(a.jobs) as pool:
        futures = {pool.submit(one, t): t for t in todo}
        for k, f in enumerate(as_completed(futures), 1):
            done[futures[f]] = f.result()
            save(a.cache, key, done)
            spent = time.time() - t0
            eta = spent / k * (len(todo) - k)
            progress = f"{k}/{len(todo)} runs done, {spent:.0f} s, ETA {eta:.0f} s"
            print(f"\r{progress}", end="", flush=True)
    print()

    def get(s: Study, strategy: str, scale, what: str) -> np.ndarray:
        over = s.overrides(scale)
        return np.array([done[(strategy, over, seed)][what] for seed in seeds])

    cpu = sum(done[t]["seconds"] for t in tasks) / 60
    text = page(get, strategies, seeds, f"{cpu:.0f} min of run time on this machine, summed")
    if a.write:
        PAGE.write_text(text)
        print(f"wrote {PAGE}")
    else:
        print(text)


if __name__ == "__main__":
    main()
