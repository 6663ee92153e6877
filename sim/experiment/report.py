"""`privsim-report <sweep_dir>`: aggregate a Hydra multirun into `summary.parquet`, figures
and `report.md` in the sweep directory.

A job directory is one holding `.hydra/overrides.yaml`. It is *finished* when it holds
`summary.json` (written last and atomically, so its presence means every output is whole),
*failed* when it holds `error.txt` (written by `sim.experiment.sweep.run_job`), else *incomplete*
(interrupted or still running). Failed and incomplete jobs are listed, the finished ones
aggregated, and the command exits 1 naming the jobs that did not finish.

Lines and groups are keyed by the overrides that vary across finished runs other than `seed`
(e.g. `strategy`, or `strategy` × `pool`); seeds within a group are replicates, and bands are
the 95 % t-interval of the mean across them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from sim.core.stage import Stage  # noqa: E402
from sim.experiment.jobs import atomic_write  # noqa: E402
from sim.experiment.sweep import ERROR_FILE  # noqa: E402

STAGES = [s.name.lower() for s in Stage]
FIGURES = {
    "conversion_decay.png": "Conversion decay",
    "ltv_cac.png": "LTV/CAC and LTV per user",
    "funnel.png": "Funnel over time",
    "cumulative_profit.png": "Cumulative profit",
}
NOT_A_GROUP_KEY = {"seed"}  # replicates, not conditions


# ---------------------------------------------------------------------------- collecting


def _natural(p: Path):
    return (0, int(p.name), "") if p.name.isdigit() else (1, 0, str(p))


def job_dirs(sweep_dir) -> list[Path]:
    """Every job directory under `sweep_dir` (any `subdir` pattern), in job order."""
    found = {p.parent.parent for p in Path(sweep_dir).glob("**/.hydra/overrides.yaml")}
    return sorted(found, key=_natural)


def parse_overrides(job: Path) -> dict[str, str]:
    """`key=value` overrides of a job as strings (`+`/`++`/`~` prefixes dropped)."""
    items = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()) or []
    out = {}
    for item in items:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = value
    return out


def flatten(d: dict, prefix: str = "") -> dict:
    """Scalars of a nested dict with dotted keys; lists are left out."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        elif not isinstance(v, list):
            out[f"{prefix}{k}"] = v
    return out


def error_of(job: Path) -> str:
    """The last line of a failed job's traceback (the exception and its message)."""
    lines = [ln for ln in (job / ERROR_FILE).read_text().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _typed(col: pd.Series) -> pd.Series:
    """Override strings as numbers where every value is one."""
    try:
        return pd.to_numeric(col)
    except (ValueError, TypeError):
        return col.astype("string")


def collect(sweep_dir) -> pd.DataFrame:
    """One row per job: `job`, `status`, `error`, every override, every scalar summary key.

    A summary key that is also an override (`seed`, `strategy`, `pool`) keeps the value the
    run reports, falling back to the override's for runs without a summary.
    """
    sweep_dir = Path(sweep_dir)
    rows, override_keys = [], []
    for job in job_dirs(sweep_dir):
        overrides = parse_overrides(job)
        override_keys += [k for k in overrides if k not in override_keys]
        row = {"job": str(job.relative_to(sweep_dir)), "status": "incomplete", "error": None}
        summary_path = job / "summary.json"
        if summary_path.exists():
            row["status"] = "finished"
            summary = flatten(json.loads(summary_path.read_text()))
        else:
            summary = {}
            if (job / ERROR_FILE).exists():
                row.update(status="failed", error=error_of(job))
        for key in set(overrides) & set(summary):  # the reported value, as an override
            v = summary.pop(key)
            overrides[key] = v if isinstance(v, str) else json.dumps(v)
        rows.append((row, overrides, summary))
    table = pd.DataFrame([r for r, _, _ in rows], columns=["job", "status", "error"])
    table["error"] = table["error"].astype("string")
    if not rows:
        return table
    over = pd.DataFrame([o for _, o, _ in rows], columns=override_keys)
    over = over.apply(_typed) if override_keys else over
    summ = pd.DataFrame([s for _, _, s in rows], index=over.index)
    table = pd.concat([table, over, summ], axis=1)
    table.attrs["override_keys"] = override_keys
    return table


def group_keys(table: pd.DataFrame) -> list[str]:
    """Overrides that vary across finished runs, seed excluded; `strategy`, `pool` first."""
    done = table[table["status"] == "finished"]
    keys = [
        k
        for k in table.attrs.get("override_keys", [])
        if k not in NOT_A_GROUP_KEY
        and not k.startswith("hydra.")
        and done[k].astype("string").nunique(dropna=False) > 1
    ]
    first = [k for k in ("strategy", "pool") if k in keys]
    return first + [k for k in keys if k not in first]


def add_groups(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    table = table.copy()
    if not keys:
        table["group"] = "all runs"
    elif len(keys) == 1:
        table["group"] = table[keys[0]].astype("string")
    else:
        table["group"] = (
            table[keys]
            .astype("string")
            .apply(lambda r: ", ".join(f"{k}={v}" for k, v in r.items()), axis=1)
        )
    table["group"] = table["group"].astype("string")
    return table


def load_series(table: pd.DataFrame, sweep_dir: Path, name: str) -> pd.DataFrame:
    """`daily` or `cohorts` of every finished run, tagged with its job and group."""
    frames = []
    for _, r in table[table["status"] == "finished"].iterrows():
        f = pd.read_parquet(sweep_dir / r["job"] / f"{name}.parquet")
        frames.append(f.assign(job=r["job"], group=r["group"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ---------------------------------------------------------------------------- statistics


def mean_ci(x) -> tuple[float, float, int]:
    """Mean, 95 % t-interval half-width (NaN below 2 values) and count of the non-NaN values."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return np.nan, np.nan, 0
    if n == 1:
        return float(x[0]), np.nan, 1
    from scipy.stats import t

    return float(x.mean()), float(t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)), n


def across_runs(per_run: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per group and `x`: mean of `y` across runs with its 95 % interval (columns mean, lo, hi)."""
    rows = []
    for (g, xv), sub in per_run.groupby(["group", x], sort=True):
        m, h, n = mean_ci(sub[y])
        rows.append({"group": g, x: xv, "mean": m, "lo": m - h, "hi": m + h, "n": n})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- figures


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    atomic_write(path, lambda t: fig.savefig(t, dpi=110, format="png"))
    plt.close(fig)


def _line_band(ax, d: pd.DataFrame, x: str, label: str, color) -> None:
    ax.plot(d[x], d["mean"], color=color, label=label, marker="o" if len(d) < 30 else None, ms=3)
    ok = d["hi"].notna()
    if ok.any():
        ax.fill_between(d.loc[ok, x], d.loc[ok, "lo"], d.loc[ok, "hi"], color=color, alpha=0.2)


def _colors(groups) -> dict:
    cmap = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    return {g: cmap(i % cmap.N) for i, g in enumerate(groups)}


def bin_within_groups(c: pd.DataFrame, x: str, bins: int) -> pd.Series:
    """Quantile bins of `x` per group (pooled over runs), as the mean `x` of each bin: every
    line gets its own resolution however different the groups' ranges are."""
    out = pd.Series(np.nan, index=c.index)
    for _, sub in c.groupby("group"):
        edges = np.unique(np.quantile(sub[x], np.linspace(0, 1, bins + 1)))
        idx = np.clip(np.searchsorted(edges, sub[x], side="right") - 1, 0, max(len(edges) - 2, 0))
        out[sub.index] = sub[x].groupby(idx).transform("mean").to_numpy()
    return out


def fig_conversion_decay(cohorts: pd.DataFrame, groups, path: Path, bins: int = 8) -> None:
    """30-day cohort conversion against pool size and users per operator (binned)."""
    c = cohorts[(cohorts["size"] > 0) & cohorts["conversion_30d"].notna()].copy()
    c["converted"] = c["conversion_30d"] * c["size"]
    colors = _colors(groups)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), sharey=True)
    panels = [
        ("pool_size", "pool size when the cohort joined (live users)"),
        ("users_per_operator", "users per operator when the cohort joined"),
    ]
    for ax, (x, xlabel) in zip(axes, panels, strict=False):
        if len(c):
            c["x"] = bin_within_groups(c, x, bins)
            per_run = c.groupby(["group", "job", "x"], as_index=False)[["converted", "size"]].sum()
            per_run["conv"] = 100 * per_run["converted"] / per_run["size"]
            agg = across_runs(per_run, "x", "conv")
            for g in groups:
                d = agg[agg["group"] == g]
                if len(d):
                    _line_band(ax, d, "x", g, colors[g])
            lo, hi = c[x][c[x] > 0].min(), c[x].max()
            if lo > 0 and hi / lo > 50:
                ax.set_xscale("log")
                xlabel += ", log scale"
        ax.set(
            xlabel=f"{xlabel} (binned: {bins} quantile bins per line)",
            title=f"vs {x.replace('_', ' ')}",
        )
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if not len(c):
            ax.text(
                0.5,
                0.5,
                "no cohort has been in the pool 30 days yet\n(horizon too short)",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
    axes[0].set_ylabel("30-day conversion of joining cohorts (%)")
    if len(c):
        axes[0].legend(title="line (band: 95% CI across seeds)", fontsize=8)
    fig.suptitle(
        "Conversion decay: 30-day cohort conversion as the pool grows "
        "(weekly cohorts, size-weighted per bin)"
    )
    _save(fig, path)


def fig_ltv_cac(table: pd.DataFrame, groups, path: Path) -> None:
    """LTV/CAC and LTV per user by group: mean with 95 % CI across seeds, seeds as dots."""
    done = table[table["status"] == "finished"]
    fig, axes = plt.subplots(1, 2, figsize=(max(10, 1.6 * len(groups) + 6), 5.5))
    panels = [
        ("ltv_cac", "LTV/CAC (discounted margin ÷ CAC, ratio)", 1.0, "break-even (1)"),
        ("ltv_per_user", "LTV per acquired user (yuan, discounted margin − CAC)", 0.0, "zero"),
    ]
    xs = np.arange(len(groups))
    for ax, (col, ylabel, ref, ref_label) in zip(axes, panels, strict=False):
        for i, g in enumerate(groups):
            v = done.loc[done["group"] == g, col].astype(float).to_numpy()
            m, h, _ = mean_ci(v)
            jitter = np.linspace(-0.08, 0.08, len(v)) if len(v) > 1 else np.zeros(len(v))
            ax.scatter(
                i + jitter,
                v,
                color="grey",
                alpha=0.5,
                s=14,
                label="single seed" if i == 0 else None,
                zorder=2,
            )
            ax.errorbar(
                i,
                m,
                yerr=0 if np.isnan(h) else h,
                fmt="o",
                color="C3",
                capsize=6,
                ms=7,
                label="mean ± 95% CI across seeds" if i == 0 else None,
                zorder=3,
            )
        ax.axhline(ref, color="black", linestyle=":", linewidth=1, label=ref_label)
        ax.set_xticks(
            xs,
            groups,
            rotation=20 if len(groups) > 3 else 0,
            ha="right" if len(groups) > 3 else "center",
        )
        ax.set(ylabel=ylabel, xlabel="group")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    axes[0].set_title("LTV/CAC by group")
    axes[1].set_title("LTV per user by group")
    fig.suptitle("Unit economics across seeds")
    _save(fig, path)


def _facets(n: int):
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def fig_funnel(daily: pd.DataFrame, groups, path: Path) -> None:
    """Users in each stage over time, mean over seeds, one panel per group."""
    mean = daily.groupby(["group", "day"], as_index=False)[STAGES].mean()
    fig, axes = _facets(len(groups))
    for ax, g in zip(axes, groups, strict=False):
        d = mean[mean["group"] == g]
        for i, s in enumerate(STAGES):
            ax.plot(
                d["day"],
                d[s],
                label=s if s != "churned" else "churned (cumulative)",
                color="black" if s == "churned" else f"C{i}",
                linestyle="--" if s == "churned" else "-",
            )
        ax.set(title=g, xlabel="day", ylabel="users (mean over seeds)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Funnel: users by stage over time (mean over seeds)")
    _save(fig, path)


def fig_cumulative_profit(daily: pd.DataFrame, groups, path: Path) -> None:
    """Cumulative profit per group: mean over seeds with 95 % band."""
    d = daily.sort_values(["job", "day"]).copy()
    d["cum_profit"] = d.groupby("job")["profit"].cumsum() / 1000
    agg = across_runs(d, "day", "cum_profit")
    colors = _colors(groups)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    for g in groups:
        _line_band(ax, agg[agg["group"] == g], "day", g, colors[g])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(
        xlabel="day",
        ylabel="cumulative profit (thousand yuan)",
        title="Cumulative profit over time (mean over seeds, band: 95% CI)",
    )
    ax.legend(title="group", fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)


# ---------------------------------------------------------------------------- report


def _cell(v, fmt: str) -> str:
    m, h, _ = mean_ci(v)
    if np.isnan(m):
        return "–"
    return format(m, fmt) if np.isnan(h) else f"{format(m, fmt)} ± {format(h, fmt)}"


RESULT_COLUMNS = [
    ("users_acquired", "users acquired", ",.0f"),
    ("conversion_30d", "30-day conversion", ".1%"),
    ("ltv_per_user", "LTV per user (yuan)", ",.2f"),
    ("ltv_cac", "LTV/CAC", ".2f"),
    ("profit", "profit (yuan)", ",.0f"),
    ("churn_rate", "churn rate", ".1%"),
]


def _command(sweep_dir: Path) -> list[str] | None:
    path = sweep_dir / "multirun.yaml"
    if not path.exists():
        return None
    cfg = yaml.safe_load(path.read_text())
    return list(cfg.get("hydra", {}).get("overrides", {}).get("task") or [])


def _quote(arg: str) -> str:
    return f"'{arg}'" if any(ch in arg for ch in " ()[]*{}'\"$") else arg


def resume_command(sweep_dir: Path) -> str | None:
    task = _command(sweep_dir)
    if task is None:
        return None
    return " ".join(["privsim", "-m", *map(_quote, task), f"hydra.sweep.dir={sweep_dir}"])


def write_report(sweep_dir: Path, table: pd.DataFrame, keys: list[str], figures: list[str]) -> None:
    done = table[table["status"] == "finished"]
    bad = table[table["status"] != "finished"]
    groups = list(dict.fromkeys(done["group"]))
    lines = [f"# Sweep report: `{sweep_dir.name}`", ""]
    lines.append(f"Sweep directory: `{sweep_dir.resolve()}`  ")
    task = _command(sweep_dir)
    if task is not None:
        lines.append(f"Command: `{' '.join(['privsim', '-m', *map(_quote, task)])}`  ")
    lines.append(
        f"Runs: {len(table)} — {len(done)} finished, "
        f"{(table['status'] == 'failed').sum()} failed, "
        f"{(table['status'] == 'incomplete').sum()} incomplete.  "
    )
    lines.append(
        "Groups: "
        + (" × ".join(f"`{k}`" for k in keys) if keys else "none vary")
        + "; seeds within a group are replicates; ± and bands are the 95% t-interval "
        "of the mean across them."
    )
    if len(bad):
        lines += [
            "",
            "## Runs that did not finish",
            "",
            "| job | status | overrides | error |",
            "|---|---|---|---|",
        ]
        for _, r in bad.iterrows():
            ov = " ".join(f"{k}={v}" for k, v in parse_overrides(sweep_dir / r["job"]).items())
            err = "" if pd.isna(r["error"]) else str(r["error"]).replace("|", "\\|")
            lines.append(f"| {r['job']} | {r['status']} | `{ov}` | {err} |")
        lines += [
            "",
            f"Tracebacks are in `<job>/{ERROR_FILE}`. Re-running the same command "
            "into the same directory skips the finished runs and retries the rest:",
        ]
        if (cmd := resume_command(sweep_dir)) is not None:
            lines += ["", "```bash", cmd, "```"]
    if len(done):
        lines += [
            "",
            "## Results by group",
            "",
            "| group | runs | " + " | ".join(h for _, h, _ in RESULT_COLUMNS) + " |",
            "|---" * (len(RESULT_COLUMNS) + 2) + "|",
        ]
        for g in groups:
            sub = done[done["group"] == g]
            cells = [_cell(sub[c].astype(float).to_numpy(), f) for c, _, f in RESULT_COLUMNS]
            lines.append(f"| {g} | {len(sub)} | " + " | ".join(cells) + " |")
    captions = {
        "conversion_decay.png": "30-day conversion of weekly joining cohorts against the pool "
        "size and the users per operator when they joined; each line's cohorts are binned on "
        "the x axis (quantile bins; conversion size-weighted within a run), then averaged "
        "across seeds.",
        "ltv_cac.png": "Discounted margin over CAC, and LTV per acquired user (discounted "
        "margin minus CAC), per group: grey dots are single seeds.",
        "funnel.png": "Users in each stage of aware → familiar → trust → buy → rebuy, and "
        "cumulative churned users, by day (mean over seeds).",
        "cumulative_profit.png": "Cumulative profit (margin − acquisition spend − team, KOC "
        "and systems cost) by day.",
    }
    if figures:
        lines += ["", "## Figures"]
        for f in figures:
            lines += ["", f"### {FIGURES[f]}", "", f"![{FIGURES[f]}]({f})", "", captions[f]]
    lines += [
        "",
        "## Files",
        "",
        "- `summary.parquet`: one row per run — `job`, `status`, `error`, `group`, every "
        "override, every scalar of `summary.json` (nested keys dotted, e.g. "
        "`rfm.important_value`).",
        "- `<job>/`: the run's own outputs (`daily.parquet`, `cohorts.parquet`, "
        "`summary.json`, `config.json`, `.hydra/`).",
    ]
    text = "\n".join(lines) + "\n"
    atomic_write(sweep_dir / "report.md", lambda t: Path(t).write_text(text))


def report(sweep_dir) -> list[str]:
    """Aggregate `sweep_dir`; returns (and prints) one line per job that did not finish."""
    sweep_dir = Path(sweep_dir)
    table = collect(sweep_dir)
    if table.empty:
        raise FileNotFoundError(f"{sweep_dir}: no job directories (with .hydra/overrides.yaml)")
    keys = group_keys(table)
    table = add_groups(table, keys)
    atomic_write(sweep_dir / "summary.parquet", lambda t: table.to_parquet(t, index=False))
    done = table[table["status"] == "finished"]
    groups = list(dict.fromkeys(done["group"]))
    figures = []
    if len(done):
        daily = load_series(table, sweep_dir, "daily")
        cohorts = load_series(table, sweep_dir, "cohorts")
        fig_conversion_decay(cohorts, groups, sweep_dir / "conversion_decay.png")
        fig_ltv_cac(table, groups, sweep_dir / "ltv_cac.png")
        fig_funnel(daily, groups, sweep_dir / "funnel.png")
        fig_cumulative_profit(daily, groups, sweep_dir / "cumulative_profit.png")
        figures = list(FIGURES)
    write_report(sweep_dir, table, keys, figures)
    failed = [
        f"job {r['job']} ({r['status']}"
        + (f": {r['error']}" if not pd.isna(r["error"]) else "")
        + ")"
        for _, r in table[table["status"] != "finished"].iterrows()
    ]
    print(f"report: {sweep_dir / 'report.md'} ({len(done)} of {len(table)} runs finished)")
    if failed:
        print(f"privsim: {len(failed)} of {len(table)} runs did not finish:", file=sys.stderr)
        for f in failed:
            print(f"  {f}", file=sys.stderr)
        if (cmd := resume_command(sweep_dir)) is not None:
            print(f"retry them (finished runs are skipped): {cmd}", file=sys.stderr)
    return failed


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="privsim-report", description=__doc__.split("\n\n")[0])
    p.add_argument("sweep_dir", type=Path, help="a Hydra multirun directory")
    args = p.parse_args(argv)
    try:
        failed = report(args.sweep_dir)
    except FileNotFoundError as e:
        sys.exit(f"privsim-report: {e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
