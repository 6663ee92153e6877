"""The `testing_value` study's figure: what testing first buys, against how much is unknown.

    python -m sim.cli.testing_value <sweep_dir>     # reads <sweep_dir>/summary.parquet

For each brand (seed) and fit spread, the advantage of testing first is the paired difference
staged − ten_to_n (and staged − premature, when those runs exist) on profit over the horizon and
on LTV/CAC at the shortest horizon (90 days by default). Writes `testing_value.png` (one panel
per yardstick: the median over brands with a band covering the middle 80 % of brands, 10th–90th
percentile) and `testing_value.md` (the same numbers as a table, with staged's win count and
how often its test committed the truly best candidate) into the sweep directory.
"""

from __future__ import annotations

import pandas as pd

from sim.experiment.comparison import yardstick, yardsticks
from sim.viz import plots

SPREAD = "fit.spread"
TESTER = "staged"
AGAINST = ("ten_to_n", "premature")


def _finished(table: pd.DataFrame) -> pd.DataFrame:
    t = table[table["status"] == "finished"] if "status" in table else table
    if SPREAD not in t:  # a sweep that did not vary the spread: its one value for every run
        t = t.assign(**{SPREAD: t.get("brand.spread", 0.0)})
    return t.astype({SPREAD: float, "seed": int})


def advantage(table: pd.DataFrame, column: str, tester: str = TESTER, against=AGAINST):
    """`versus`, `spread`, `seed`, `diff` = tester − versus on `column`, paired by brand (seed)
    and spread, for every strategy in `against` that the sweep ran."""
    t = _finished(table)
    a = t.loc[t["strategy"] == tester, [SPREAD, "seed", column]]
    out = []
    for v in against:
        b = t.loc[t["strategy"] == v, [SPREAD, "seed", column]]
        if b.empty:
            continue
        m = a.merge(b, on=[SPREAD, "seed"], suffixes=("_a", "_b")).dropna()
        out.append(
            pd.DataFrame(
                {
                    "versus": v,
                    "spread": m[SPREAD],
                    "seed": m["seed"],
                    "diff": m[f"{column}_a"].astype(float) - m[f"{column}_b"].astype(float),
                }
            )
        )
    cols = ["versus", "spread", "seed", "diff"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def summarise(diffs: pd.DataFrame) -> pd.DataFrame:
    """Per `versus` and spread: brands, the tester's wins, median and 10th/90th percentile."""
    g = diffs.groupby(["versus", "spread"], sort=False)["diff"]
    lo, hi = (p / 100 for p in plots.BAND)
    return pd.DataFrame(
        {
            "brands": g.size(),
            "wins": g.apply(lambda d: int((d > 0).sum())),
            "p10": g.quantile(lo),
            "median": g.median(),
            "p90": g.quantile(hi),
            "mean": g.mean(),
        }
    ).reset_index()


def _per_dimension(t: pd.DataFrame, suffix: str, by: list[str]) -> pd.DataFrame:
    """Mean of `brand.<dim><suffix>` per group of `by`, a column per dimension; empty where
    the summary has none with a value (the evaluation off: `fit.truth.replicates` 0)."""
    cols = [c for c in t if c.startswith("brand.") and c.endswith(suffix)]
    cols = [c for c in cols if t[c].notna().any()]
    if not cols:
        return pd.DataFrame()
    out = t[[*by, *cols]].astype({c: float for c in cols}).groupby(by)[cols].mean()
    out.columns = [c.removeprefix("brand.").removesuffix(suffix) for c in cols]
    return out


def found_best(table: pd.DataFrame, tester: str = TESTER) -> pd.DataFrame:
    """Per spread, the share of the tester's brands whose test committed the truly best
    candidate, per tested dimension (`brand.<dim>_committed_best`: the most valuable per user,
    `sim.core.truth`)."""
    t = _finished(table)
    return _per_dimension(t[t["strategy"] == tester], "_committed_best", [SPREAD])


def regret(table: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and spread, the mean regret of what each brand ran at the end, per
    dimension (`brand.<dim>_regret`: truly best value − value of the one run, yuan per user)."""
    return _per_dimension(_finished(table), "_regret", ["strategy", SPREAD])


def figure(table: pd.DataFrame):
    cols = yardsticks(table)
    fig, axes = plots.figure(6.0 * len(cols), 4.2, ncols=len(cols), layout="constrained")
    for ax, col in zip(axes, cols, strict=True):
        label, _ = yardstick(col)
        plots.advantage_by_spread(ax, advantage(table, col), f"{TESTER} − other, {label}")
        ax.set_title(f"Advantage of testing first: {label}", fontsize=10)
        if col == "profit":
            plots.thousands(ax.yaxis)
    return fig


def markdown(table: pd.DataFrame) -> str:
    lines = [
        "# testing_value: what the 0-1 test buys",
        "",
        f"Paired by brand (seed) at each fit spread: {TESTER} − the other strategy. Median over "
        "brands and the middle 80 % of brands (10th–90th percentile: a spread of outcomes, not a "
        "CI); wins: brands where testing first came out ahead; mean: the mean paired difference.",
        "",
    ]
    for col in yardsticks(table):
        label, fmt = yardstick(col)
        lines += [
            f"## {label}",
            "",
            "| vs | fit.spread | wins | 10th pct | median | 90th pct | mean |",
        ]
        lines.append("|---|---|---|---|---|---|---|")
        for r in summarise(advantage(table, col)).itertuples():
            cells = (format(getattr(r, k), fmt) for k in ("p10", "median", "p90", "mean"))
            lines.append(
                f"| {r.versus} | {r.spread:g} | {r.wins}/{r.brands} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    best = found_best(table)
    if not best.empty:
        lines += [
            f"## {TESTER}'s test committed the truly best candidate (share of brands)",
            "",
            "Truly best: the highest LTV per user at `fit.truth.horizon_days` under the brand's "
            "latent fits (the evaluation's reference test, `sim.core.truth`).",
            "",
        ]
        lines.append("| fit.spread | " + " | ".join(best.columns) + " |")
        lines.append("|---" * (len(best.columns) + 1) + "|")
        for s, row in best.iterrows():
            lines.append(f"| {s:g} | " + " | ".join(f"{v:.0%}" for v in row) + " |")
        lines.append("")
    loss = regret(table)
    if not loss.empty:
        lines += ["## Regret of what ran at the end (mean over brands, yuan per user)", ""]
        lines.append("| strategy | fit.spread | " + " | ".join(loss.columns) + " |")
        lines.append("|---" * (len(loss.columns) + 2) + "|")
        for (g, s), row in loss.iterrows():
            lines.append(f"| {g} | {s:g} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    return "\n".join(lines) + "\n"
