"""Comparisons across seeds, the statistics behind every report: a mean with its 95 % t-interval
(`mean_ci`), groups ranked with the share of brands each was best in (`ranking`), groups that
differ in one override compared seed by seed (`paired`), and the day one's cumulative profit
overtakes the other's for good in each brand (`overtakes`, with its median across brands).

Runs with the same seed face the same brand (common random numbers; DOMAIN.md §3.1: what fits a
brand is unknown at day 0 and drawn per seed), so two groups' runs with one seed differ only by
what tells the groups apart: their paired differences are what is compared. Percentiles (10th /
50th / 90th) give the spread of outcomes a brand could see; the t-interval says how precisely
the seeds pin a mean down. The views (`sim.viz.report`, the what-if page) only format and draw
these tables.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.core.metrics import horizons_in


def mean_ci(x) -> tuple[float, float, int]:
    """Mean, 95 % t-interval half-width of the mean (NaN below 2 values) and the count of the
    non-NaN values: how precisely the seeds determine the average, for the tables."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return np.nan, np.nan, 0
    if n == 1:
        return float(x[0]), np.nan, 1
    from scipy.stats import t

    return float(x.mean()), float(t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)), n


RANK_BY = "profit"  # the default yardstick of the ranking (`privsim-report --rank-by`)
LOWER_IS_BETTER = {"payback_day", "acquisition_spend", "team_cost", "cac_per_user", "churn_rate"}


def ranking(done: pd.DataFrame, column: str = RANK_BY) -> pd.DataFrame:
    """The groups of finished runs ranked on `column` (best first; lower is better for costs,
    payback and churn): `group`, `runs`, `mean`, `p10`, `p50`, `p90`, `p_best` (share of the
    `brands` seeds every group ran in which it was best, ties sharing), `brands`, `rank`."""
    if column not in done:
        raise KeyError(f"{column!r} is not a column of the summary table")
    groups = list(dict.fromkeys(done["group"]))
    lower = column in LOWER_IS_BETTER
    v = done[["group", "seed", column]].astype({column: float})
    wide = v.drop_duplicates(["group", "seed"]).pivot(index="seed", columns="group", values=column)
    wide = wide.reindex(columns=groups).dropna()  # seeds where every group has a value
    best = wide.min(axis=1) if lower else wide.max(axis=1)
    is_best = wide.eq(best, axis=0)
    credit = is_best.div(is_best.sum(axis=1), axis=0).sum() / len(wide) if len(wide) else None
    rows = []
    for g in groups:
        x = v.loc[v["group"] == g, column].dropna().to_numpy()
        p = np.percentile(x, PERCENTILES) if x.size else [np.nan] * 3
        rows.append(
            dict(
                group=g,
                runs=int(x.size),
                mean=float(x.mean()) if x.size else np.nan,
                **{f"p{q}": float(y) for q, y in zip(PERCENTILES, p, strict=True)},
                p_best=float(credit[g]) if credit is not None else np.nan,
                brands=len(wide),
            )
        )
    out = pd.DataFrame(rows).sort_values("mean", ascending=lower, na_position="last")
    return out.assign(rank=range(1, len(out) + 1)).reset_index(drop=True)


PERCENTILES = (10, 50, 90)  # each group's spread over the paired brands (plots.BAND and median)
PAIRED_FIELDS = {  # paired.parquet, one row per pair of groups and yardstick: (dtype, meaning)
    "a": ("string", "group A (appears first in the sweep)"),
    "b": ("string", "group B (the other group of the pair)"),
    "a_label": ("string", "group A in words, naming what it sets (`paid ads 1,000 yuan/day`)"),
    "b_label": ("string", "group B in words"),
    "differs_in": ("string", "the one override A and B differ in"),
    "a_level": ("string", "its value in A"),
    "b_level": ("string", "its value in B"),
    "context": ("string", "the overrides A and B share (`pool=nurturing`; empty if none vary)"),
    "yardstick": ("string", "a summary column: `npv_<H>d`, `profit`, `ltv_cac_<H>d`"),
    "brands": ("int64", "seeds both groups ran with a value of the yardstick: the pairs"),
    "seeds": ("string", "those seeds, comma-separated"),
    "a_wins": ("int64", "brands where A's value is higher"),
    "b_wins": ("int64", "brands where B's value is higher"),
    "ties": ("int64", "brands where the two are exactly equal"),
    "mean_diff": ("float64", "mean of A − B over the brands (the yardstick's unit)"),
    "ci_low": ("float64", "lower end of the 95 % t-interval of that mean (empty below 2 brands)"),
    "ci_high": ("float64", "upper end of that interval"),
    "a_p10": ("float64", "A's 10th percentile over the same brands"),
    "a_p50": ("float64", "A's median over the same brands"),
    "a_p90": ("float64", "A's 90th percentile over the same brands"),
    "b_p10": ("float64", "B's 10th percentile over the same brands"),
    "b_p50": ("float64", "B's median over the same brands"),
    "b_p90": ("float64", "B's 90th percentile over the same brands"),
    "spread_ratio": (
        "float64",
        "(b_p90 − b_p10) / (a_p90 − a_p10): B's spread of outcomes over A's; empty if A's is zero",
    ),
    "sentence": ("string", "the comparison in words: A beat B in k of n brands; B's spread …"),
}
PAIRED_COLUMNS = {k: dtype for k, (dtype, _) in PAIRED_FIELDS.items()}
PAIRED_MEANING = {k: meaning for k, (_, meaning) in PAIRED_FIELDS.items()}  # the workbook's About


def yardstick(column: str) -> tuple[str, str]:
    """Label (with units) and number format of a paired yardstick: `npv_<H>d`, `profit`,
    `ltv_cac_<H>d`."""
    if m := re.fullmatch(r"ltv_cac_(\d+)d", column):
        return f"LTV/CAC at {m[1]} days (ratio)", ".2f"
    if m := re.fullmatch(r"npv_(\d+)d", column):
        return f"NPV at {m[1]} days (yuan)", ",.0f"
    return ("profit (yuan)", ",.0f") if column == "profit" else (column, ".3g")


def npv_columns(table: pd.DataFrame) -> list[str]:
    """The `npv_<H>d` columns some finished run has a value of (the others' runs were all
    shorter than H days), by H ascending."""
    cols = [f"npv_{h}d" for h in horizons_in(dict.fromkeys(table.columns), "npv")]
    return [c for c in cols if table[c].notna().any()]


def yardsticks(table: pd.DataFrame) -> list[str]:
    """The headline outcomes compared by pair: NPV at each horizon the runs reached (the
    multi-year yardsticks, issue #23), profit, and LTV/CAC at the shortest horizon."""
    hs = horizons_in(dict.fromkeys(table.columns))
    sticks = [*npv_columns(table), "profit", *(f"ltv_cac_{h}d" for h in hs[:1])]
    return [c for c in sticks if c in table]


def group_levels(done: pd.DataFrame, keys: list[str]) -> dict[str, dict[str, str]]:
    """Each group's value of every group key, as strings ("<NA>" for a missing override)."""
    first = done.drop_duplicates("group").set_index("group")
    return {g: {k: str(first.at[g, k]) for k in keys} for g in first.index}


def group_pairs(done: pd.DataFrame, keys: list[str]):
    """Which groups of finished runs to compare seed by seed.

    Returns `(pairs, refused)`: `pairs` are `(A, B, key)` for groups that differ in exactly the
    override `key` and share a seed, A the one that appears first; `refused` are
    `(A, B, reason)` for the other pairs of groups. Groups are built from the overrides that
    vary (`group_keys`), so runs of two groups that differ in one of them agree on every
    other override: pairing them by seed pairs like with like.
    """
    levels = group_levels(done, keys)
    groups = list(dict.fromkeys(done["group"]))
    seeds = {g: done.loc[done["group"] == g, "seed"].tolist() for g in groups}
    pairs, refused = [], []
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            diff = [k for k in keys if levels[a][k] != levels[b][k]]
            twice = [(g, s) for g in (a, b) for s in set(seeds[g]) if seeds[g].count(s) > 1]
            if len(diff) != 1:
                refused.append((a, b, f"they differ in {len(diff)} overrides ({', '.join(diff)})"))
            elif not set(seeds[a]) & set(seeds[b]):
                refused.append((a, b, "they have no seed in common"))
            elif twice:
                g, s = twice[0]
                refused.append((a, b, f"seed {s} has more than one run in {g}"))
            else:
                pairs.append((a, b, diff[0]))
    return pairs, refused


def paired_values(done: pd.DataFrame, a: str, b: str, column: str) -> pd.DataFrame:
    """`seed`, `a`, `b`, `diff` (= a − b) for the seeds where both groups have `column`."""
    va = done.loc[done["group"] == a, ["seed", column]].rename(columns={column: "a"})
    vb = done.loc[done["group"] == b, ["seed", column]].rename(columns={column: "b"})
    v = va.merge(vb, on="seed").astype({"a": float, "b": float}).dropna()
    return v.sort_values("seed", ignore_index=True).assign(diff=lambda d: d["a"] - d["b"])


def _ratio(x: float) -> str:
    """2.35, 0.79, 12, 0.034: two decimals in the usual range, no false zeros outside it."""
    return f"{x:,.0f}" if x >= 10 else f"{x:.2f}" if x >= 0.1 else f"{x:.2g}"


def sentence(row: dict, label: str) -> str:
    """ "A beat B in k of n brands (t ties); B's profit spread (10th–90th percentile range) is
    x times A's", with zero spread said in words rather than divided by."""
    a, b, n = row["a_label"], row["b_label"], row["brands"]
    name = label.split(" (")[0]
    lead = "" if row["yardstick"] == "profit" else f"On {name}, "
    if row["context"]:  # several overrides vary: name A and B by the one they differ in
        a, b = (f"{row['differs_in']}={row[f'{x}_level']}" for x in "ab")
        lead += f"{'w' if lead else 'W'}ithin {row['context']}, "
    if n == 0:
        return f"{lead}{'n' if lead else 'N'}o brand has a value for both {a} and {b}."
    ties = row["ties"]
    text = f"{lead}{a} beat {b} in {row['a_wins']} of {n} brands"
    if ties:
        text += f" ({ties} tie{'s' if ties > 1 else ''})"
    what = f"{b}'s {name} spread (10th–90th percentile range)"
    sa, sb = row["a_p90"] - row["a_p10"], row["b_p90"] - row["b_p10"]
    if n == 1:
        return f"{text}; with one brand there is no spread to compare."
    if sa > 0:
        return f"{text}; {what} is {_ratio(sb / sa)} times {a}'s."
    if sb > 0:
        zero = f"{a}'s {name} is the same in every brand (zero spread)"
        return f"{text}; {zero}, so {b}'s spread is no multiple of it."
    return f"{text}; neither's {name} spreads across brands (zero 10th–90th percentile range)."


def paired(table: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, list[tuple]]:
    """The paired comparisons of a collected, grouped sweep table: one row per pair of groups
    and yardstick (`PAIRED_COLUMNS`), and the pairs refused (`group_pairs`). Groups are named
    in words by the table's `group_label` column where it has one (`sim.viz.labels`)."""
    done = table[table["status"] == "finished"]
    name = dict(zip(done["group"], done.get("group_label", done["group"]), strict=True))
    rows, refused = [], []
    if done["group"].nunique() > 1 and "seed" in done:
        pairs, refused = group_pairs(done, keys)
        levels = group_levels(done, keys)
        for a, b, key in pairs:
            for col in yardsticks(done):
                v = paired_values(done, a, b, col)
                n = len(v)
                mean, half, _ = mean_ci(v["diff"])
                pa = np.percentile(v["a"], PERCENTILES) if n else [np.nan] * 3
                pb = np.percentile(v["b"], PERCENTILES) if n else [np.nan] * 3
                row = dict(
                    a=a,
                    b=b,
                    a_label=name[a],
                    b_label=name[b],
                    differs_in=key,
                    a_level=levels[a][key],
                    b_level=levels[b][key],
                    context=", ".join(f"{k}={levels[a][k]}" for k in keys if k != key),
                    yardstick=col,
                    brands=n,
                    seeds=",".join(map(str, v["seed"])),
                    a_wins=int((v["diff"] > 0).sum()),
                    b_wins=int((v["diff"] < 0).sum()),
                    ties=int((v["diff"] == 0).sum()),
                    mean_diff=mean,
                    ci_low=mean - half,
                    ci_high=mean + half,
                    **{f"a_p{p}": float(x) for p, x in zip(PERCENTILES, pa, strict=True)},
                    **{f"b_p{p}": float(x) for p, x in zip(PERCENTILES, pb, strict=True)},
                )
                sa = row["a_p90"] - row["a_p10"]
                row["spread_ratio"] = (row["b_p90"] - row["b_p10"]) / sa if sa > 0 else np.nan
                row["sentence"] = sentence(row, yardstick(col)[0])
                rows.append(row)
    frame = pd.DataFrame(rows, columns=list(PAIRED_COLUMNS)).astype(PAIRED_COLUMNS)
    return frame, refused


# ---------------------------------------------------------------------------- overtaking

OVERTAKE_COLUMNS = {  # overtakes.parquet: one row per pair of groups and brand (seed)
    "a": "string",  # group A (appears first in the sweep), as in PAIRED_COLUMNS
    "b": "string",
    "differs_in": "string",
    "context": "string",
    "seed": "int64",  # the brand
    "days": "int64",  # days both runs have: the horizon the overtake is judged to
    "a_overtakes_day": "float64",  # first day from which A stays ahead to the horizon (NaN: never)
    "b_overtakes_day": "float64",  # the same for B
}


def overtake_day(a, b) -> float:
    """The day A's cumulative profit overtakes B's for good: the first day d such that
    `a[t] > b[t]` on every day t from d to the last (`a`, `b`: cumulative profit by day from
    day 0, of equal length). 0 if A was ahead on every day; NaN ("never") if A is not strictly
    ahead on the last day. A lead A later loses does not count: only the last crossing does."""
    behind = np.flatnonzero(~(np.asarray(a, dtype=float) > np.asarray(b, dtype=float)))
    if behind.size == 0:
        return 0.0
    last = int(behind[-1])
    return float(last + 1) if last + 1 < len(a) else np.nan


def overtake_median(days) -> float:
    """Median over brands of overtake days, a brand where it never happened counted as later
    than any day: a day only where A overtook B for good in more than half the brands, else
    NaN ("never")."""
    d = np.where(np.isnan(np.asarray(days, dtype=float)), np.inf, days)
    m = float(np.median(d)) if d.size else np.nan
    return m if np.isfinite(m) else np.nan


def overtakes(done: pd.DataFrame, daily: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """For each pair of groups compared seed by seed (`group_pairs`) and each brand (seed)
    both ran: the day A's and the day B's cumulative profit overtook the other's for good
    (`overtake_day`), over the days both runs have (`OVERTAKE_COLUMNS`). `daily` holds every
    finished run's daily `profit` by `day`, tagged with its `job` (`load_series`)."""
    rows = []
    if done["group"].nunique() > 1 and "seed" in done and len(daily):
        levels = group_levels(done, keys)
        cum = {
            job: f.sort_values("day")["profit"].astype(float).cumsum().to_numpy()
            for job, f in daily.groupby("job")
        }
        job_of = done.set_index(["group", "seed"])["job"]
        for a, b, key in group_pairs(done, keys)[0]:
            seeds = [set(done.loc[done["group"] == g, "seed"]) for g in (a, b)]
            for seed in sorted(seeds[0] & seeds[1]):
                ca, cb = cum.get(job_of[(a, seed)]), cum.get(job_of[(b, seed)])
                if ca is None or cb is None:
                    continue
                n = min(len(ca), len(cb))
                rows.append(
                    dict(
                        a=a,
                        b=b,
                        differs_in=key,
                        context=", ".join(f"{k}={levels[a][k]}" for k in keys if k != key),
                        seed=int(seed),
                        days=n,
                        a_overtakes_day=overtake_day(ca[:n], cb[:n]),
                        b_overtakes_day=overtake_day(cb[:n], ca[:n]),
                    )
                )
    return pd.DataFrame(rows, columns=list(OVERTAKE_COLUMNS)).astype(OVERTAKE_COLUMNS)
