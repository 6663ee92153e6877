"""`privsim-sensitivity`: run a sensitivity study and write its tables, figure and report.

    privsim-sensitivity premature_scaling            # configs/sensitivity/premature_scaling.yaml
    privsim-sensitivity premature_scaling samples=4 seeds=1 scenario.horizon_days=180 --jobs 4
    privsim-sensitivity premature_scaling --ray auto         # on a running Ray cluster

Writes into `--out` (default `results/sensitivity/<name>/`):

- `samples.parquet`: every evaluation (point, arm, seed, parameter values, status, error, every
  summary scalar);
- `points.parquet`: every sampled point with each output (mean over seeds);
- `indices.parquet`: per output × parameter, Morris μ, μ*, its 95 % bootstrap interval and σ,
  or Sobol S1 and ST with their 95 % bootstrap intervals, and the rank;
- `sensitivity.png`: one panel per output, parameters sorted by μ* (or ST), with intervals;
- `report.md`: the question, the parameters and why, the indices, and for each output how
  often and where its sign holds (which parameter's end of range could flip it).

The study itself is `sim.experiment.sensitivity` (this floor draws and writes only).
Exit codes: 0 done; 1 some evaluation failed (the rest is reported); 2 bad spec, nothing run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment.jobs import atomic_write, write_text
from sim.experiment.sensitivity import StudyResult
from sim.viz import plots
from sim.viz.plots import figure, save

FIGURE = "sensitivity.png"


def output_unit(output: str) -> str:
    """The unit of an output expression, from its first metric's name."""
    m = output.split("[")[0].strip().lstrip("+-").strip()
    if m.startswith("ltv_cac") or m == "ltv_cac_to_date":
        return "ratio"
    if m.endswith("_users") or m in ("users_acquired", "users_total", "customers",
                                     "customers_lost", "final_live_users"):  # fmt: skip
        return "users"
    if m in ("profit", "gmv") or m.startswith("ltv_") or m.endswith("_per_user"):
        return "yuan"
    if m.startswith(("conversion", "churn", "referred", "koc_referred")):
        return "share"
    if m.endswith("_day") or m.startswith("phase_starts"):
        return "days"
    if m == "peak_users_per_operator":
        return "users per operator"
    return "output units"


def draw_panel(ax, df: pd.DataFrame, method: str, output: str) -> None:
    """One output's indices on `ax`: parameters sorted (largest at the top), intervals as bars."""
    unit = output_unit(output)
    y = np.arange(len(df))[::-1]
    if method == "morris":
        mu_label = "μ* (mean |elementary effect|) with 95 % bootstrap interval"
        ax.barh(y, df["mu_star"], xerr=df["mu_star_conf"], color=plots.BLUE, capsize=3,
                label=mu_label)  # fmt: skip
        sigma_label = "σ (spread of effects: interactions, non-linearity, seed noise)"
        ax.plot(df["sigma"], y, "o", color=plots.VERMILLION, label=sigma_label)
        ax.set_xlabel(f"change of the output over the parameter's full range ({unit})")
    else:
        h = 0.38
        ax.barh(y + h / 2, df["ST"], h, xerr=df["ST_conf"], color=plots.BLUE, capsize=3,
                label="ST (total index) with 95 % bootstrap interval")  # fmt: skip
        ax.barh(y - h / 2, df["S1"], h, xerr=df["S1_conf"], color=plots.SKY, capsize=3,
                label="S1 (first-order index) with 95 % bootstrap interval")  # fmt: skip
        ax.axvline(0, color=plots.BLACK, lw=0.8)
        ax.set_xlabel("share of the output's variance (Sobol index, 0–1)")
    ax.set_yticks(y)
    ax.set_yticklabels(df["parameter"])
    ax.set_ylabel("parameter (sorted by importance)")
    ax.set_title(output, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")


def draw(result: StudyResult):
    """The study's figure: one panel per output."""
    outputs = list(dict.fromkeys(result.indices["output"])) if len(result.indices) else []
    n = max(1, len(outputs))
    height = 1.2 + 0.32 * len(result.parameters)
    fig, axes = figure(7.5, height * n, nrows=n, ncols=1, layout="constrained")
    for ax, out in zip(axes, outputs, strict=False):
        draw_panel(ax, result.indices[result.indices["output"] == out], result.spec.method, out)
    what = "Morris screening" if result.spec.method == "morris" else "Sobol indices"
    fig.suptitle(
        f"Sensitivity of {result.spec.name}: {what}, {len(result.points)} points × "
        f"{result.spec.seeds} seed(s), runs of {horizon_words(result.horizons)}",
        fontsize=11,
    )
    return fig


# ---------------------------------------------------------------------------- report

HORIZON = "{horizon}"  # in a spec's question: the days the runs simulated


def horizon_words(horizons: tuple[int, ...]) -> str:
    return " and ".join(f"{h:,}" for h in horizons) + " days"


def question_md(question: str, horizons: tuple[int, ...]) -> str:
    """The spec's question naming the horizon the runs simulated: `{horizon}` becomes it; a
    question without the placeholder gets it appended, so a study shortened on the command line
    is never read as answering the spec's default horizon."""
    words = horizon_words(horizons)
    if HORIZON in question:
        return question.replace(HORIZON, words)
    return f"{question} (Runs of {words}.)"


def _num(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e4:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.4g}"
    return f"{v:.3g}"


def sign_table(result: StudyResult, output: str) -> list[str]:
    """Where the output is positive: overall, and with each parameter in the lowest / highest
    quarter of its (log) range (the points where that assumption is at one end)."""
    y = result.points[output].to_numpy(float)
    ok = np.isfinite(y)
    lines = [
        f"Positive in {int((y[ok] > 0).sum())} of {int(ok.sum())} points; range "
        f"{_num(np.nanmin(y))} … {_num(np.nanmax(y))}, median {_num(np.nanmedian(y))}.",
        "",
        "| parameter | range | share > 0, lowest quarter | share > 0, highest quarter | "
        "median, lowest → highest quarter |",
        "|---|---|---|---|---|",
    ]
    for p in result.parameters:
        x = result.points[p.key].to_numpy(float)
        u = np.log10(x) if p.scale == "log" else x
        lo_b, hi_b = p.bounds()
        frac = (u - lo_b) / (hi_b - lo_b)
        lo, hi = ok & (frac <= 0.25 + 1e-9), ok & (frac >= 0.75 - 1e-9)
        share = [
            f"{(y[m] > 0).mean():.0%} (n={int(m.sum())})" if m.any() else "–" for m in (lo, hi)
        ]
        med = [_num(np.median(y[m])) if m.any() else "–" for m in (lo, hi)]
        lines.append(
            f"| `{p.key}` | {_num(p.low)} – {_num(p.high)} ({p.scale}) | {share[0]} | {share[1]} | "
            f"{med[0]} → {med[1]} |"
        )
    return lines


def report_md(result: StudyResult, command: str = "") -> str:
    s = result.spec
    ok = int((result.samples["status"] == "finished").sum())
    cached = int(result.samples["cached"].sum())
    lines = [f"# Sensitivity: {s.name}", ""]
    if s.question:
        lines += [f"**Question.** {question_md(s.question, result.horizons)}", ""]
    if command:
        lines += [f"**Command.** `{command}`", ""]
    what = (
        f"Morris screening, r = {s.samples} trajectories, {s.levels} levels"
        if s.method == "morris"
        else f"Sobol first-order and total indices, N = {s.samples}"
    )
    lines += [
        f"**Design.** {what}: {len(result.points)} points × {s.seeds} seed(s) × "
        f"{len(s.arms_used())} arm(s) = {len(result.samples)} runs ({ok} finished, "
        f"{len(result.samples) - ok} failed, {cached} read from the cache) in "
        f"{result.seconds:.0f} s. Scenario: "
        + (", ".join(f"`{k}={v}`" for k, v in s.scenario.items()) or "defaults")
        + ". Arms: "
        + "; ".join(
            f"`{a}` (" + (", ".join(f"{k}={v}" for k, v in s.arms[a].items()) or "base") + ")"
            for a in s.arms_used()
        )
        + ". Each output is the mean over seeds of its per-seed value (arms paired by seed).",
        "",
        "## Parameters",
        "",
        "| parameter | low | high | scale | unit | why |",
        "|---|---|---|---|---|---|",
    ]
    for p in result.parameters:
        lines.append(
            f"| `{p.key}` | {_num(p.low)} | {_num(p.high)} | {p.scale} | {p.unit or '–'} | "
            f"{p.why} |"
        )
    lines += ["", f"![sensitivity]({FIGURE})", ""]
    if result.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in result.notes], ""]
    for out in dict.fromkeys(result.indices["output"]) if len(result.indices) else []:
        df = result.indices[result.indices["output"] == out]
        unit = output_unit(out)
        lines += [f"## `{out}` ({unit})", ""]
        if s.method == "morris":
            lines += [
                f"μ*, σ, μ: change of the output over the parameter's full range ({unit}); "
                "interval: 95 % bootstrap.",
                "",
                "| rank | parameter | μ* | 95 % interval | μ (signed) | σ |",
                "|---|---|---|---|---|---|",
            ]
            for r in df.itertuples():
                lines.append(
                    f"| {r.rank} | `{r.parameter}` | {_num(r.mu_star)} | ± {_num(r.mu_star_conf)} "
                    f"| {_num(r.mu)} | {_num(r.sigma)} |"
                )
        else:
            lines += [
                "| rank | parameter | ST | ± 95 % | S1 | ± 95 % |",
                "|---|---|---|---|---|---|",
            ]
            for r in df.itertuples():
                lines.append(
                    f"| {r.rank} | `{r.parameter}` | {_num(r.ST)} | {_num(r.ST_conf)} | "
                    f"{_num(r.S1)} | {_num(r.S1_conf)} |"
                )
        lines += ["", *sign_table(result, out), ""]
    return "\n".join(lines) + "\n"


def write_study(result: StudyResult, out_dir, command: str = "") -> Path:
    """Write the tables, the figure and the report into `out_dir`; returns the report's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (
        ("samples", result.samples),
        ("points", result.points),
        ("indices", result.indices),
    ):
        atomic_write(out / f"{name}.parquet", lambda t, df=df: df.to_parquet(t, index=False))
    if len(result.indices):
        save(draw(result), out / FIGURE, dpi=120)
    write_text(out / "report.md", report_md(result, command))
    return out / "report.md"
