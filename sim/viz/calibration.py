"""`privsim-calibrate`: fit the model to a brand's observed series and write what it found.

    privsim-calibrate synthetic_brand                     # configs/calibration/synthetic_brand.yaml
    privsim-calibrate synthetic_brand trials=20 abc.draws=100 --jobs 4
    privsim-calibrate synthetic_brand --data my_brand.csv --out results/calibration/my_brand

Writes into `--out` (default `results/calibration/<name>/`):

- `calibrated.yaml`: a primary Hydra config (configs/config.yaml, the scenario, the estimates):
  `privsim --config-dir <out> --config-name calibrated` runs the calibrated brand, and any
  override or `-m` sweep can follow; `calibrated.args`: the same as plain overrides, one per
  line (`privsim $(cat <out>/calibrated.args)`), and `estimates.args` the estimates alone (to
  run them under another strategy: `privsim strategy=premature $(cat <out>/estimates.args)`);
- `parameters.parquet`: per parameter, the point estimate, the ABC median and 5 %/95 %
  quantiles (the 90 % interval), and the prior bounds;
- `fit.png`: per series, the observed values and the calibrated model's median and
  10th-90th percentile band over `band_seeds` seeds;
- `trials.parquet`, `abc.parquet`: optuna's trials and every ABC draw with its
  negative log-likelihood and whether it was accepted;
- `study.db`: the optuna study (SQLite; re-running resumes it); `evaluations/`: run cache;
- `report.md`, and `report.html`: the same as one self-contained page, the figure embedded,
  to forward or print (`sim.viz.export`, issue #25).

The fit itself is `sim.experiment.calibration` (this floor draws and writes only).
Exit codes: 0 done; 1 an unexpected failure; 2 bad spec or bad data (named), nothing run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from sim.experiment.calibration import (
    MIN_ACCEPTED,
    CalibrationResult,
    calibrated_args,
    calibrated_config,
    group_names,
)
from sim.experiment.jobs import atomic_write, write_text
from sim.viz import export, plots
from sim.viz.plots import figure, save

FIGURE = "fit.png"
UNITS = {"revenue": "yuan"}


def draw(result: CalibrationResult):
    """One panel per fitted series: observed points, the calibrated model's median and band."""
    series = result.spec.series
    fig, axes = figure(7.5, 2.3 * len(series), nrows=len(series), ncols=1, layout="constrained")
    per = "week" if result.spec.frequency == "weekly" else "day"
    for ax, s in zip(axes, series, strict=True):
        days, q10, q50, q90 = result.band[s.name]
        ax.fill_between(days, q10, q90, color=plots.SKY, alpha=0.35,
                        label="calibrated model, 10th-90th percentile")  # fmt: skip
        ax.plot(days, q50, color=plots.BLUE, lw=1.5, label="calibrated model, median")
        ax.plot(days, result.observed[s.name], "o", ms=3, color=plots.VERMILLION, label="observed")
        unit = UNITS.get(s.name, "users" if s.name in ("new_users", "live_users", "churned")
                         else "orders")  # fmt: skip
        stock = s.name == "live_users"
        ax.set_ylabel(f"{s.name}\n({unit}{'' if stock else ' per ' + per})", fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
    axes[-1].set_xlabel(f"day (row = {'the last day of each week' if per == 'week' else 'a day'})")
    est = ", ".join(f"{k} = {number(v)}" for k, v in result.estimate.items())
    fig.suptitle(f"Calibration {result.spec.name}: {est}\nband: {result.spec.band_seeds} seeds of "
                 "the calibrated model (model noise only, no observation noise)",
                 fontsize=9)  # fmt: skip
    return fig


def number(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    a = abs(float(v))
    if a == 0:
        return "0"
    if a >= 1e4:
        return f"{v:,.0f}"
    return f"{v:.4g}" if a >= 1 else f"{v:.3g}"


def report_md(result: CalibrationResult, out: Path, command: str = "") -> str:
    s = result.spec
    acc = result.abc[result.abc["accepted"]]
    lines = [f"# Calibration: {s.name}", ""]
    if s.question:
        lines += [f"**Question.** {s.question}", ""]
    if command:
        lines += [f"**Command.** `{command}`", ""]
    lines += [
        f"**Data.** `{s.data}`: {len(result.observed)} {s.frequency} rows, days "
        f"{int(result.observed['day'].iloc[0])}-{int(result.observed['day'].iloc[-1])}. "
        "**Scenario.** " + (", ".join(f"`{k}={v}`" for k, v in s.scenario.items()) or "defaults"),
        "",
        "**Series and likelihoods** (at the estimate; `fit` = maximum likelihood):",
        "",
        "| series | model column | likelihood | dispersion / sigma |",
        "|---|---|---|---|",
    ]
    for x in s.series:
        fixed = x.dispersion if x.likelihood == "negbin" else x.sigma
        what = (
            "negative binomial, size k (var = μ + μ²/k)"
            if x.likelihood == "negbin"
            else "Gaussian on log(1 + y)"
        )
        val = number(result.nuisance.get(x.name))
        lines.append(
            f"| {x.name} | `{x.column}` | {what} | {val} ({'fixed' if fixed else 'fitted'}) |"
        )
    complete = int((result.trials["state"] == "COMPLETE").sum())
    other = len(result.trials) - complete
    lines += [
        "",
        f"**Method.** Point estimate: optuna TPE, {complete} completed trials"
        + (f" (and {other} failed or interrupted, not counted)" if other else "")
        + f" × {s.seeds} seeds, "
        f"minimising the total negative log-likelihood (best {result.best_nll:.1f}). Interval: "
        f"ABC rejection, {s.abc_draws} prior draws × {s.seeds} seeds, the {len(acc)} closest "
        f"({s.abc_accept:.0%}, ε = {number(float(acc['nll'].max()))}) accepted; 5 % and 95 % "
        "quantiles of the accepted draws. Runtime "
        f"{result.seconds:.0f} s.",
        "",
        "## Parameters",
        "",
        "| parameter | estimate | ABC median | 90 % interval | prior | unit | why |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result.table.itertuples():
        lines.append(
            f"| `{r.parameter}` | {number(r.estimate)} | {number(r.abc_median)} | "
            f"{number(r.q05)} – {number(r.q95)} | {number(r.low)} – {number(r.high)} ({r.scale}) | "
            f"{r.unit or '–'} | {r.why} |"
        )
    lines += [
        "",
        "Read: the data are consistent with "
        + "; ".join(
            f"`{r.parameter}` between {number(r.q05)} and {number(r.q95)}"
            for r in result.table.itertuples()
        )
        + " (90 % ABC interval, conditional on the scenario and every other assumption)."
        + (
            f" **Not yet to be read: only {n_acc} ABC draws were accepted (see Notes).**"
            if (n_acc := int(result.abc["accepted"].sum())) < MIN_ACCEPTED
            else ""
        ),
        "",
        f"![fit]({FIGURE})",
        "",
        "## Run the calibrated brand",
        "",
        "```bash",
        f"privsim --config-dir {out.resolve()} --config-name calibrated",
        f"privsim -m --config-dir {out.resolve()} --config-name calibrated 'seed=range(0,10)'",
        f"privsim $(cat {out / 'calibrated.args'})",
        f"privsim strategy=premature $(cat {out / 'estimates.args'})   # the estimates elsewhere",
        "```",
        "",
    ]
    if result.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in result.notes], ""]
    return "\n".join(lines)


def write(result: CalibrationResult, out_dir, command: str = "") -> Path:
    """Write calibrated.yaml/.args, the tables, the figure, report.html and report.md (last);
    returns the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = calibrated_config(result.spec, result.base, result.estimate, group_names())
    header = (
        f"# Calibrated by privsim-calibrate {result.spec.name} (see report.md). Run:\n"
        f"#   privsim --config-dir {out.resolve()} --config-name calibrated [overrides]\n"
    )
    write_text(out / "calibrated.yaml", header + yaml.safe_dump(cfg, sort_keys=False))
    args = calibrated_args(result.spec, result.estimate, result.base)
    write_text(out / "calibrated.args", "\n".join(args) + "\n")
    n = len(result.spec.scenario)  # the estimates alone: on top of another scenario
    write_text(out / "estimates.args", "\n".join(args[n:]) + "\n")
    for name, df in (
        ("parameters", result.table),
        ("trials", result.trials),
        ("abc", result.abc),
        ("observed", result.observed),
    ):
        atomic_write(out / f"{name}.parquet", lambda t, df=df: df.to_parquet(t, index=False))
    save(draw(result), out / FIGURE, dpi=120)
    text = report_md(result, out, command)
    export.write_atomic(out / "report.html", export.markdown_report(text, out))
    write_text(out / "report.md", text)
    return out / "report.md"
