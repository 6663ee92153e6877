"""Every figure of the project, once: each function draws on a given matplotlib Axes from tidy
data, so the sweep report, the per-run figures, the live page and the slide show the same thing
the same way.

Tidy data: `daily` / `cohorts` frames (`sim.core.metrics`) with a `group` column (the condition:
a strategy, an arm of the live page) and a `job` column (one run, i.e. one seed). The same call
serves one run, a live pair of arms with one seed each, and many seeds per group.

Across seeds there is ONE summary for figures: the line is the **median** of the seeds and the
band is the **middle 80 % of seeds** (10th–90th percentile of outcomes): the spread of results a
brand could see, not the uncertainty of an average. Every legend says so (`BAND_NOTE`). A group
with one seed is drawn as its own line, without a band. (Tables of the sweep report use the
95 % CI of the mean instead, and say so: `sim.viz.report`.)

Only matplotlib's object API (`matplotlib.figure.Figure`): no pyplot state, safe in the live
page's threads, and no layout engine is imposed (the live page redraws every few days).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.metrics import CONVERSION_WINDOW
from sim.core.stage import LIVE_STAGES
from sim.experiment.jobs import atomic_write

BAND = (10, 90)  # percentiles of outcomes across seeds
BAND_NOTE = "line: median of seeds; band: middle 80 % of seeds (10th–90th percentile)"
STAGES = [s.name.lower() for s in LIVE_STAGES]  # aware … rebuy (churned is drawn apart)
# The one palette of every figure and page: Okabe & Ito's colour-blind-safe colours. Five stages
# told apart by hue, not by shade, and the arms (A blue, B vermillion) apart from each other for
# every kind of colour vision.
BLUE, VERMILLION, GREEN, PURPLE = "#0072B2", "#D55E00", "#009E73", "#CC79A7"
ORANGE, SKY, YELLOW, BLACK = "#E69F00", "#56B4E9", "#F0E442", "#000000"
PALETTE = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK)  # groups, in order
STAGE_COLOURS = (SKY, YELLOW, GREEN, ORANGE, PURPLE)  # aware … rebuy
HIGHLIGHT = ORANGE  # on a page: what waits for the user (changes pending a Reset)
GREY = "grey"  # single seeds and notes, behind the groups' colours
X_LABELS = {
    "pool_size": "pool size when the cohort joined (live users)",
    "users_per_operator": "users per operator when the cohort joined (users)",
    "first_day": "joining day of the weekly cohort (day)",
}


# ---------------------------------------------------------------------------- figure plumbing


def figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw):
    """A pyplot-free figure and its axes as a flat list; `kw` go to `Figure` (e.g. `layout`,
    `dpi`) except `sharey`, which goes to `subplots`."""
    from matplotlib.figure import Figure

    sharey = kw.pop("sharey", False)
    fig = Figure(figsize=(width, height), **kw)
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False).ravel().tolist()
    for ax in axes:
        ax.grid(alpha=0.3)
    return fig, axes


def save(fig, path: Path, fmt: str | None = None, **kw) -> None:
    """Write `fig` atomically (a reader never sees half an image); the format from `fmt` or the
    file's suffix. An SVG is written without a date and with ids salted by its name, so a
    rerun writes the same bytes. The one save of every figure."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt != "svg":
        atomic_write(path, lambda t: fig.savefig(t, format=fmt, **kw))
        return
    from matplotlib import rc_context

    with rc_context({"svg.hashsalt": path.stem}):
        kw = {"metadata": {"Date": None}, **kw}
        atomic_write(path, lambda t: fig.savefig(t, format="svg", **kw))


def colours(groups) -> dict:
    """One colour per group, stable in order (arm A blue, arm B vermillion, as on the page)."""
    groups = list(groups)
    if len(groups) <= len(PALETTE):
        return dict(zip(groups, PALETTE, strict=False))
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return {g: cmap(i % cmap.N) for i, g in enumerate(groups)}


def thousands(axis) -> None:
    """Ticks as 950, 12k, 2.5k, 1.25M: counts and yuan without scientific notation, with the
    decimals a tick needs (2,500 is not "2k")."""
    from matplotlib.ticker import FuncFormatter

    def short(x: float) -> str:
        return f"{x:,.2f}".rstrip("0").rstrip(".")

    def fmt(v, _):
        a = abs(v)
        if a >= 1e6:
            return f"{short(v / 1e6)}M"
        return f"{short(v / 1e3)}k" if a >= 1e3 else f"{v:,.0f}"

    axis.set_major_formatter(FuncFormatter(fmt))


def _seeds(frame: pd.DataFrame) -> int:
    """Most seeds (jobs) any group has."""
    return int(frame.groupby("group")["job"].nunique().max()) if len(frame) else 0


def legend(ax, frame: pd.DataFrame) -> None:
    """The groups' legend; with several seeds per group its title states the band."""
    if not ax.get_legend_handles_labels()[0]:
        return
    n = _seeds(frame)
    title = f"{BAND_NOTE}; {n} seeds" if n > 1 else None
    ax.legend(title=title, fontsize=8, title_fontsize=7, framealpha=0.8)


def empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=GREY)


def across_seeds(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per group and `x`: median and 10th/90th percentile of `y` across jobs, and their count."""
    g = frame.groupby(["group", x], sort=True)[y]
    q = g.quantile([BAND[0] / 100, 0.5, BAND[1] / 100]).unstack()
    q.columns = ["lo", "median", "hi"]
    return q.assign(n=g.count()).reset_index()


def lines(ax, frame: pd.DataFrame, x: str, y: str, groups=None) -> None:
    """One line per group of `y` against `x`: the run itself for a one-seed group, else the
    median of its seeds with the band of the middle 80 % of seeds. A group whose line equals an
    earlier group's at every `x` (a stop-loss that never fired) would hide it: it is drawn
    dashed, so both colours show, and its legend entry says which line it repeats."""
    if frame.empty:
        return
    groups = list(dict.fromkeys(frame["group"])) if groups is None else groups
    col = colours(groups)
    many = frame.groupby("group")["job"].nunique()
    drawn = {}  # group -> (x, line) as drawn
    for g in groups:
        sub = frame[frame["group"] == g]
        if sub.empty:
            continue
        if many[g] == 1:
            d = sub.sort_values(x)
            xs, mid, band = d[x], d[y], None
        else:
            d = across_seeds(sub, x, y)
            xs, mid, band = d[x], d["median"], d[d["n"] > 1]
        same = next((h for h, line in drawn.items() if _same_line(line, (xs, mid))), None)
        drawn[g] = (xs, mid)
        label, style = (str(g), "-") if same is None else (f"{g} (same line as {same})", "--")
        marker = "o" if len(xs) < 30 else None
        ax.plot(xs, mid, style, color=col[g], label=label, marker=marker, ms=3, linewidth=1.8)
        if band is not None and len(band):
            ax.fill_between(band[x], band["lo"], band["hi"], color=col[g], alpha=0.2, lw=0)


def _same_line(a: tuple, b: tuple) -> bool:
    """Whether two `(x, y)` lines are equal point for point (no tolerance: drawn the same)."""
    (xa, ya), (xb, yb) = a, b
    return np.array_equal(xa, xb) and np.array_equal(ya, yb, equal_nan=True)


@dataclass(frozen=True)
class Mark:
    """A moment on a time axis: a phase start (`kind="phase"`) or an event such as one arm's
    conversion falling below the other's (`kind="event"`), in its group's colour."""

    day: float
    text: str
    group: str
    kind: str = "phase"


def marks(ax, items, col: dict, label: bool = True) -> None:
    """Vertical lines at each mark's day (phase starts dashed, events solid), labelled with
    their text beside the line (phases from the top down, events from the bottom up)."""
    n = {"phase": 0, "event": 0}
    lo, hi = ax.get_xlim()
    for m in items:
        c = col.get(m.group, GREY)
        ls, lw = ("--", 1.3) if m.kind == "phase" else ("-", 1.8)
        ax.axvline(m.day, color=c, linestyle=ls, linewidth=lw, alpha=0.9, zorder=1)
        if not label:
            continue
        k = n[m.kind]
        n[m.kind] += 1
        top = m.kind == "phase"
        right = m.day > lo + 0.7 * (hi - lo)  # near the right edge: the text goes left
        ax.annotate(
            m.text,
            (m.day, (0.97 - 0.12 * k) if top else (0.04 + 0.12 * k)),
            xycoords=("data", "axes fraction"),
            xytext=(-4 if right else 4, 0),
            textcoords="offset points",
            ha="right" if right else "left",
            va="top" if top else "bottom",
            fontsize=9,
            color=c,
            fontweight="normal" if top else "bold",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            zorder=5,
        )


# ---------------------------------------------------------------------------- derived series


def cumulative(daily: pd.DataFrame, column: str) -> pd.DataFrame:
    """`daily` with `cumulative_<column>` summed over days within each job (jobs keep their
    order: the groups' legend order and colours follow the sweep, not job names as text)."""
    d = daily.sort_values("day", kind="stable")
    return d.assign(**{f"cumulative_{column}": d.groupby("job")[column].cumsum()})


def churned_share(daily: pd.DataFrame) -> pd.DataFrame:
    """`daily` with `churned_pct`: the users who have churned so far as a % of every user who
    has joined so far (live + churned; imported users included), per day within each job (jobs
    keep their order). Cumulative, so the lines say how much of the pool a strategy has lost to
    date (DOMAIN §1: churn is the end of the funnel)."""
    d = daily.sort_values("day", kind="stable")
    joined = (d["live_users"] + d["churned"]).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return d.assign(churned_pct=100.0 * d["churned"].to_numpy(float) / joined)


def _day_axis(ax, frame: pd.DataFrame) -> None:
    """Days from 0 to the last one shown (at least a week): no fractional days when empty."""
    last = int(frame["day"].max()) if len(frame) else 0
    ax.set_xlim(0, max(last, 7))
    ax.set_xlabel("day", fontsize=9)


# ---------------------------------------------------------------------------- the figures


def funnel(ax, daily: pd.DataFrame) -> None:
    """Users in each stage over time, stacked, and cumulative churned users as a dashed line;
    with several seeds, the mean of each stage (means stack; medians would not)."""
    n = daily["job"].nunique() if len(daily) else 0
    if n:
        d = daily.groupby("day", as_index=False)[[*STAGES, "churned"]].mean()
        ax.stackplot(
            d["day"], *[d[s] for s in STAGES], labels=STAGES, colors=STAGE_COLOURS, alpha=0.9
        )
        ax.plot(d["day"], d["churned"], color=BLACK, ls="--", lw=1.2, label="churned (cumulative)")
        ax.legend(fontsize=8, loc="upper left", framealpha=0.8)
    ax.set_ylabel("users (count)" if n <= 1 else f"users (mean of {n} seeds)", fontsize=9)
    thousands(ax.yaxis)
    _day_axis(ax, daily)


def _bins_per_group(c: pd.DataFrame, x: str, bins: int) -> pd.Series:
    """Quantile bins of `x` per group (pooled over its runs), as the mean `x` of each bin: every
    line gets its own resolution however different the groups' ranges are."""
    out = pd.Series(np.nan, index=c.index)
    for _, sub in c.groupby("group"):
        edges = np.unique(np.quantile(sub[x], np.linspace(0, 1, bins + 1)))
        idx = np.clip(np.searchsorted(edges, sub[x], side="right") - 1, 0, max(len(edges) - 2, 0))
        out[sub.index] = sub[x].groupby(idx).transform("mean").to_numpy()
    return out


def conversion_decay(ax, cohorts: pd.DataFrame, x: str = "pool_size", bins: int | None = 8):
    """30-day conversion of weekly joining cohorts against `x` (`pool_size`,
    `users_per_operator` when they joined, or `first_day`), one line per group.

    A one-seed group shows every cohort. With several seeds, each seed's cohorts are put in
    `bins` quantile bins of `x` (per group; `bins=None` when all seeds share the x values, as
    joining days do) with conversion size-weighted per seed and bin, then median and band.
    """
    c = cohorts
    if len(c):
        c = c[(c["size"] > 0) & c["conversion_30d"].notna()]
    xlabel = X_LABELS[x]
    if len(c):
        c = c.assign(converted=c["conversion_30d"] * c["size"])
        binned = bins is not None and _seeds(c) > 1
        if binned:
            c = c.assign(**{x: _bins_per_group(c, x, bins)})
            xlabel += f"\nbinned: {bins} quantile bins per line"
        per_run = c.groupby(["group", "job", x], as_index=False, sort=False)[
            ["converted", "size"]
        ].sum()
        per_run["conversion_pct"] = 100 * per_run["converted"] / per_run["size"]
        lines(ax, per_run, x, "conversion_pct", groups=list(dict.fromkeys(c["group"])))
        lo, hi = c[x][c[x] > 0].min(), c[x].max()
        if x != "first_day":
            if lo > 0 and hi / lo > 50:
                from matplotlib.ticker import NullFormatter

                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
                xlabel += "; log scale" if "\n" in xlabel else "\nlog scale"
            thousands(ax.xaxis)
    else:
        empty(ax, f"no cohort has closed its {CONVERSION_WINDOW}-day window yet")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("30-day conversion (% of cohort)", fontsize=9)
    ax.set_ylim(bottom=0)
    legend(ax, c)


def users_per_operator(ax, daily: pd.DataFrame) -> None:
    """Live users per operator over time: the load 1:1 attention is shared over."""
    lines(ax, daily, "day", "users_per_operator")
    ax.set_ylabel("live users per operator (users)", fontsize=9)
    ax.set_ylim(bottom=0)
    thousands(ax.yaxis)
    _day_axis(ax, daily)
    legend(ax, daily)


def cumulative_profit(ax, daily: pd.DataFrame) -> None:
    """Cumulative profit (margin − acquisition − team, KOC and systems cost) over time."""
    lines(ax, cumulative(daily, "profit"), "day", "cumulative_profit")
    ax.axhline(0, color=BLACK, linewidth=0.8)
    ax.set_ylabel("cumulative profit (¥)", fontsize=9)
    thousands(ax.yaxis)
    _day_axis(ax, daily)
    legend(ax, daily)


def ltv_cac_over_time(ax, daily: pd.DataFrame) -> None:
    """LTV/CAC of the users acquired so far, per day (needs an `ltv_cac` column per day)."""
    lines(ax, daily, "day", "ltv_cac")
    ax.axhline(1, color=BLACK, linewidth=0.8, linestyle=":")
    ax.set_ylabel("LTV/CAC to date (ratio, 1 = break-even)", fontsize=9)
    ax.set_ylim(bottom=0)
    _day_axis(ax, daily)
    legend(ax, daily)


def churn(ax, daily: pd.DataFrame) -> None:
    """Churned users to date as a share of every user who joined so far (`churned_share`)."""
    lines(ax, churned_share(daily), "day", "churned_pct")
    ax.set_ylabel("churned to date (% of users joined)", fontsize=9)
    ax.set_ylim(bottom=0)
    _day_axis(ax, daily)
    legend(ax, daily)


def by_group(ax, table: pd.DataFrame, column: str, ylabel: str, ref: float, ref_label: str):
    """One end-of-run outcome per group: every seed as a grey dot, the median with the
    10th–90th percentile of seeds as an error bar, and a reference line (break-even, zero)."""
    groups = list(dict.fromkeys(table["group"]))
    for i, g in enumerate(groups):
        v = table.loc[table["group"] == g, column].astype(float).dropna().to_numpy()
        jitter = np.linspace(-0.08, 0.08, len(v)) if len(v) > 1 else np.zeros(len(v))
        seed_label = "one seed" if i == 0 else None
        ax.scatter(i + jitter, v, color=GREY, alpha=0.5, s=14, zorder=2, label=seed_label)
        if len(v):
            lo, med, hi = np.percentile(v, [BAND[0], 50, BAND[1]])
            bar_label = (
                BAND_NOTE.replace("band", "bar").replace("line", "point") if i == 0 else None
            )
            ax.errorbar(
                i,
                med,
                yerr=[[med - lo], [hi - med]],
                fmt="o",
                color=VERMILLION,
                capsize=6,
                ms=7,
                zorder=3,
                label=bar_label,
            )
    ax.axhline(ref, color=BLACK, linestyle=":", linewidth=1, label=ref_label)
    # a label's parts (`staged · paid ads ×2`) on lines of their own; tilted, anchored at the
    # tick, only when many groups would still crowd the axis
    names = [str(g).replace(" · ", "\n") for g in groups]
    tilt = len(groups) > 5
    ax.set_xticks(
        range(len(groups)),
        names,
        rotation=30 if tilt else 0,
        ha="right" if tilt else "center",
        rotation_mode="anchor" if tilt else "default",
        fontsize=8,
    )
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_xlabel("group (condition of the sweep)", fontsize=9)
    ax.legend(fontsize=7, framealpha=0.8)


def paired_differences(
    ax, diffs: pd.DataFrame, stats: pd.DataFrame, xlabel: str, legend: bool = True
) -> None:
    """Paired comparisons of groups, one row per pair (`A − B`): each brand's (seed's)
    difference A − B as a grey dot, the mean difference with its 95 % t-interval (the CI of the
    mean, not a spread of outcomes) in red, and zero (no difference) as a dotted line.

    `diffs`: `pair`, `seed`, `diff`; `stats`: `pair`, `mean_diff`, `ci_low`, `ci_high`, one row
    per pair (`sim.viz.report.paired`), in the order the rows are drawn, top down. `legend`:
    False where the figure draws one legend for all its panels.
    """
    pairs = list(dict.fromkeys(stats["pair"]))
    if not len(diffs):
        empty(ax, "no brand (seed) has a value\nfor both groups of any pair")
    seed_label = "one brand (seed): A − B"
    mean_label = "mean difference, 95 % CI of the mean (t-interval)"
    for i, p in enumerate(pairs):
        y = len(pairs) - 1 - i
        v = diffs.loc[diffs["pair"] == p, "diff"].astype(float).to_numpy()
        jitter = np.linspace(-0.12, 0.12, len(v)) if len(v) > 1 else np.zeros(len(v))
        if len(v):
            ax.scatter(v, y + jitter, color=GREY, alpha=0.6, s=16, zorder=2, label=seed_label)
            seed_label = None
        s = stats[stats["pair"] == p].iloc[0]
        mean, lo, hi = (float(s[c]) for c in ("mean_diff", "ci_low", "ci_high"))
        if np.isnan(mean):
            continue
        err = [[0.0], [0.0]] if np.isnan(lo) else [[mean - lo], [hi - mean]]  # one brand: no CI
        ax.errorbar(
            mean,
            y,
            xerr=err,
            fmt="o",
            color=VERMILLION,
            capsize=6,
            ms=7,
            zorder=3,
            label=mean_label,
        )
        mean_label = None
    ax.axvline(0, color=BLACK, linestyle=":", linewidth=1, label="no difference")
    ax.set_yticks(range(len(pairs)), pairs[::-1], fontsize=8)
    ax.set_ylim(-0.6, len(pairs) - 0.4)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("pair of groups (A − B)", fontsize=9)
    if legend:
        ax.legend(fontsize=7, framealpha=0.8)


def advantage_by_spread(ax, diffs: pd.DataFrame, ylabel: str) -> None:
    """Paired advantage of one strategy over others against how much is unknown about the brand.

    `diffs`: `versus` (the strategy compared against), `spread` (`fit.spread`), `seed` (the
    brand), `diff` (A − versus on that brand). Per `versus`: each brand as a faint dot, the
    median over brands as a line and the middle 80 % of brands (10th–90th percentile) as a band
    — the spread of what a brand could see, not a CI; zero (no advantage) dotted. The y axis
    spans the bands (a few extreme brands would flatten them); the brands beyond it are counted
    in the legend's title.
    """
    if not len(diffs):
        empty(ax, "no brand (seed) has both runs")
        return
    versus = list(dict.fromkeys(diffs["versus"]))
    col = dict(zip(versus, PALETTE[2:], strict=False))
    lo, hi = 0.0, 0.0
    for v in versus:
        d = diffs[diffs["versus"] == v].astype({"spread": float, "diff": float})
        q = d.groupby("spread")["diff"].quantile([BAND[0] / 100, 0.5, BAND[1] / 100]).unstack()
        n = d.groupby("spread")["seed"].nunique()
        x = q.index.to_numpy()
        ax.scatter(d["spread"], d["diff"], color=col[v], alpha=0.25, s=10)
        ax.plot(x, q[0.5], "o-", color=col[v], label=f"vs {v}: median of {n.min()} brands")
        ax.fill_between(x, q[BAND[0] / 100], q[BAND[1] / 100], color=col[v], alpha=0.2)
        lo, hi = min(lo, q[BAND[0] / 100].min()), max(hi, q[BAND[1] / 100].max())
    pad = 0.15 * (hi - lo) or 1.0
    ax.set_ylim(lo - pad, hi + pad)
    beyond = int(((diffs["diff"] < lo - pad) | (diffs["diff"] > hi + pad)).sum())
    ax.axhline(0, color=BLACK, linestyle=":", linewidth=1, label="no advantage")
    ax.set_xlabel("fit.spread: sd of log fit of each candidate (how much is unknown)", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.legend(
        fontsize=7,
        framealpha=0.8,
        title="band: middle 80 % of brands (10th–90th pct)"
        + (f"\n{beyond} brand dots beyond the axis (see the table)" if beyond else ""),
        title_fontsize=7,
    )


def by_brand(
    ax,
    values: dict[str, np.ndarray],
    ylabel: str,
    scale: float = 1.0,
    ref: tuple[float, str] = (0.0, "break-even (0)"),
) -> None:
    """One outcome of several policies on the same brands (seeds): a column per policy, each
    brand's values joined across the columns by a grey line (paired: read a brand along its
    line), each brand as a dot in the policy's colour and the mean over the brands as a black
    bar. `values`: policy → one value per brand, brands in the same order; divided by `scale`
    (1e6 for M yuan). `ref`: the reference line's value and label (a ratio's break-even is 1)."""
    names = list(values)
    col = colours(names)
    grid = np.array([np.asarray(values[n], dtype=float) / scale for n in names])
    x = np.arange(len(names))
    for i, brand in enumerate(grid.T):
        ax.plot(x, brand, color=GREY, alpha=0.5, lw=0.8, zorder=1,
                label="one brand (seed), joined across policies" if i == 0 else None)  # fmt: skip
    for i, n in enumerate(names):
        ax.scatter(np.full(grid.shape[1], i), grid[i], color=col[n], s=18, zorder=2)
        ax.hlines(grid[i].mean(), i - 0.25, i + 0.25, color=BLACK, lw=2, zorder=3,
                  label="mean over the brands" if i == 0 else None)  # fmt: skip
    ax.axhline(ref[0], color=BLACK, linestyle=":", linewidth=1, label=ref[1])
    tilt = len(names) > 4
    ax.set_xticks(x, names, rotation=20 if tilt else 0, ha="right" if tilt else "center",
                  rotation_mode="anchor" if tilt else "default", fontsize=8)  # fmt: skip
    ax.set_xlabel("policy", fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.legend(fontsize=7, framealpha=0.8)


def front(ax, x, y, on_front, marks: dict, xlabel: str, ylabel: str) -> None:
    """Two objectives of a search's trials: every completed trial as a grey dot, the Pareto
    front (`on_front`: no other trial is better on both) as a line through its trials, and
    named trials (`marks`: label → (x, y), e.g. the starting point, the chosen one) as large
    markers in their own colours."""
    x, y, on_front = np.asarray(x, float), np.asarray(y, float), np.asarray(on_front, bool)
    ax.scatter(x, y, color=GREY, s=16, alpha=0.6, zorder=1, label="a completed trial")
    order = np.argsort(x[on_front])
    ax.plot(x[on_front][order], y[on_front][order], "o-", color=BLUE, ms=5, zorder=2,
            label="Pareto front (no trial better on both)")  # fmt: skip
    shapes = ("*", "D", "s", "^", "v", "P")
    for i, (label, (mx, my)) in enumerate(marks.items()):
        ax.scatter([mx], [my], marker=shapes[i % len(shapes)], s=130, edgecolor=BLACK,
                   color=PALETTE[1 + i % (len(PALETTE) - 1)], zorder=3, label=label)  # fmt: skip
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.legend(fontsize=7, framealpha=0.8)
