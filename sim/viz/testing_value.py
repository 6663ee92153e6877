"""The `testing_value` study's figure: what testing first buys, against how much is unknown.

    python -m sim.cli.testing_value <sweep_dir>     # reads <sweep_dir>/summary.parquet

For each brand (seed) and fit spread, the advantage of testing first is the paired difference
staged − each untested launch the sweep ran (ten_to_n, ten_to_n_stoploss, premature) on the
multi-year yardsticks (NPV at each of `economics.npv_horizons_days` the runs reached; issue #23,
DOMAIN §3.2), on profit over the horizon and on LTV/CAC at the shortest LTV horizon. Writes
`testing_value.png` (one panel per NPV horizon and LTV/CAC: the median over brands with a band
covering the middle 80 % of brands, 10th–90th percentile) and `testing_value.md`: the break-even
spread at each horizon (where the median brand's advantage turns positive; DOMAIN §3.1: "where
the break-even lies is a result, not an input"), the tables behind the figure, the day staged's
cumulative profit overtakes each launch's for good (from the sweep report's
`overtakes.parquet`), how often each launch's stop-loss fired, and how often staged's test
committed the truly best candidate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiment.comparison import npv_columns, overtake_median, yardstick, yardsticks
from sim.viz import plots

SPREAD = "fit.spread"
TESTER = "staged"
AGAINST = ("ten_to_n", "ten_to_n_stoploss", "premature")


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


def break_even(s: pd.DataFrame) -> str:
    """Where the median brand's advantage (`summarise` rows of one `versus`, by spread) turns
    positive for good: "ahead at every spread" when it never is ≤ 0; else the spread,
    interpolated linearly between the last measured spread where it was ≤ 0 and the next; "not
    up to <max>" when it is ≤ 0 at the largest spread measured."""
    s = s.sort_values("spread")
    x, y = s["spread"].to_numpy(float), s["median"].to_numpy(float)
    behind = np.flatnonzero(y <= 0)
    if behind.size == 0:
        return "ahead at every spread"
    i = int(behind[-1])
    if i == len(x) - 1:
        return f"not up to {x[-1]:g}"
    cross = x[i] + (x[i + 1] - x[i]) * (0 - y[i]) / (y[i + 1] - y[i])
    return f"{cross:.2f} (between {x[i]:g} and {x[i + 1]:g})"


def overtaking(table: pd.DataFrame, over: pd.DataFrame, tester: str = TESTER) -> pd.DataFrame:
    """Per `versus` and spread, from the sweep report's overtakes (`sim.viz.report`): the
    brands, in how many of them the tester's cumulative profit overtook the other's for good
    by the horizon (`overtaken`), and the median day (`comparison.overtake_median`: NaN where it
    did not happen in more than half the brands)."""
    t = _finished(table).drop_duplicates("group").set_index("group")
    rows = []
    for r in over.itertuples():
        a, b = (t.loc[g, "strategy"] if g in t.index else None for g in (r.a, r.b))
        if tester not in (a, b) or r.differs_in != "strategy":
            continue
        mine = r.a_overtakes_day if a == tester else r.b_overtakes_day
        rows.append(
            dict(versus=b if a == tester else a, spread=float(t.loc[r.a, SPREAD]), day=mine)
        )
    if not rows:
        return pd.DataFrame(columns=["versus", "spread", "brands", "overtaken", "median_day"])
    g = pd.DataFrame(rows).groupby(["versus", "spread"], sort=False)["day"]
    out = pd.DataFrame(
        {"brands": g.size(), "overtaken": g.count(), "median_day": g.apply(overtake_median)}
    )
    return out.reset_index()


def stop_losses(table: pd.DataFrame) -> pd.DataFrame:
    """Per strategy with a stop-loss and spread: the brands, and in how many it stopped buying
    (`rules.stop_loss_day` set) with the median day it did."""
    t = _finished(table)
    if "rules.stop_loss_day" not in t:
        return pd.DataFrame()
    t = t[t["strategy"].isin(t.loc[t["rules.stop_loss_day"].notna(), "strategy"].unique())]
    d = (
        t.astype({"rules.stop_loss_day": float})
        .groupby(["strategy", SPREAD])["rules.stop_loss_day"]
    )
    return pd.DataFrame({"brands": d.size(), "stopped": d.count(), "median_day": d.median()})


def figure(table: pd.DataFrame):
    cols = [c for c in yardsticks(table) if c != "profit"]  # NPV at its last horizon says it
    ncols = min(len(cols), 2)
    nrows = -(-len(cols) // ncols)
    fig, axes = plots.figure(6.5 * ncols, 4.4 * nrows, nrows, ncols, layout="constrained")
    for ax, col in zip(axes, cols, strict=False):
        label, _ = yardstick(col)
        plots.advantage_by_spread(ax, advantage(table, col), f"{TESTER} − other, {label}")
        ax.set_title(f"Advantage of testing first: {label}", fontsize=10)
        if col.startswith("npv_"):
            plots.thousands(ax.yaxis)
    for ax in axes[len(cols) :]:
        ax.set_visible(False)
    return fig


def markdown(table: pd.DataFrame, over: pd.DataFrame | None = None) -> str:
    """The study's tables; `over`: the sweep report's overtakes (None: that section left out)."""
    sums = {col: summarise(advantage(table, col)) for col in yardsticks(table)}
    lines = [
        "# testing_value: what the 0-1 test buys",
        "",
        f"Paired by brand (seed) at each fit spread: {TESTER} − the other strategy. Median over "
        "brands and the middle 80 % of brands (10th–90th percentile: a spread of outcomes, not a "
        "CI); wins: brands where testing first came out ahead; mean: the mean paired difference. "
        "*NPV at H days*: daily profit of days 0 … H − 1 discounted to day 0 at "
        "`economics.discount_rate_annual`.",
        "",
    ]
    npvs = npv_columns(table)
    if npvs:
        lines += [
            "## Break-even spread, by horizon",
            "",
            f"The fit spread from which the median brand's NPV is higher testing first "
            f"({TESTER}) than launching untested (linear between the spreads measured).",
            "",
            "| vs | " + " | ".join(yardstick(c)[0].removesuffix(" (yuan)") for c in npvs) + " |",
            "|---" * (len(npvs) + 1) + "|",
        ]
        for v in dict.fromkeys(sums[npvs[0]]["versus"]):
            cells = [break_even(sums[c][sums[c]["versus"] == v]) for c in npvs]
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
        lines.append("")
    for col, s in sums.items():
        label, fmt = yardstick(col)
        lines += [
            f"## {label}",
            "",
            "| vs | fit.spread | wins | 10th pct | median | 90th pct | mean |",
        ]
        lines.append("|---|---|---|---|---|---|---|")
        for r in s.itertuples():
            cells = (format(getattr(r, k), fmt) for k in ("p10", "median", "p90", "mean"))
            lines.append(
                f"| {r.versus} | {r.spread:g} | {r.wins}/{r.brands} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    o = overtaking(table, over) if over is not None else pd.DataFrame()
    if len(o):
        lines += [
            f"## The day {TESTER}'s cumulative profit overtakes the launch's for good",
            "",
            "Per brand, the first day from which testing first stays ahead on cumulative profit "
            "(undiscounted) to the horizon; median over brands, a brand where it never did "
            "counted as later than any day (never: in half the brands or more).",
            "",
            "| vs | fit.spread | overtaken by the horizon | median day |",
            "|---|---|---|---|",
        ]
        for r in o.itertuples():
            day = "never" if np.isnan(r.median_day) else f"{r.median_day:,.0f}"
            lines.append(f"| {r.versus} | {r.spread:g} | {r.overtaken}/{r.brands} | {day} |")
        lines.append("")
    stops = stop_losses(table)
    if len(stops):
        lines += [
            "## Stop-losses that fired",
            "",
            "| strategy | fit.spread | stopped buying | median day |",
            "|---|---|---|---|",
        ]
        for (g, sp), r in stops.iterrows():
            day = "–" if np.isnan(r.median_day) else f"{r.median_day:,.0f}"
            lines.append(f"| {g} | {sp:g} | {int(r.stopped)}/{int(r.brands)} | {day} |")
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
