"""`privsim-clv <run_dir> [<run_dir> …] [--out DIR]`: a ground-truth check of CLV models on
runs' transaction logs.

Fits BG/NBD and Gamma-Gamma (PyMC-Marketing, the optional `clv` extra) on the orders up to a
calibration date, predicts each customer's holdout purchases and value, and compares them with
what the simulation booked. Writes `<run_dir>/clv/`: `report.md`, `calibration_holdout.png`
(predicted vs actual holdout purchases by calibration repeat purchases), `clv_by_channel.png`
(predicted vs actual holdout value per customer by acquisition channel) and `customers.parquet`
(per customer: predicted vs true). With several runs (or `--out`), each run is fitted on its own
and checked as above, and `--out` (default `results/clv/<timestamp>`) gets the comparison by
strategy: `comparison.parquet` and `report.md` (per run: strategy, seed, customers, predicted vs
simulated holdout purchases and value, error %, fitted r, α, a, b beside CDNOW's) and
`clv_by_strategy.png`; every directory is checked before any fit. Exit codes: 0 done; 2 bad
input (not a finished run, a run without `outputs.transactions=true`, a run given twice, a
calibration date outside the horizon) or the extra missing; 1 the fit failed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim.experiment import clv
from sim.experiment.jobs import atomic_write, write_text
from sim.viz import plots

OUT = "clv"


def calibration_holdout(ax, table) -> None:
    """Mean holdout purchases, predicted vs actual, by calibration repeat purchases."""
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["actual"], 0.4, label="simulated (actual)", color=plots.BLUE)
    ax.bar(x + 0.2, table["predicted"], 0.4, label="BG/NBD predicted", color=plots.VERMILLION)
    labels = [str(i) for i in table.index]
    if labels and int(table.index[-1]) == clv.MAX_GROUP:
        labels[-1] += "+"
    ax.set_xticks(x, labels)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.legend(frameon=False)


def value_by_channel(ax, table) -> None:
    """Holdout value per customer by acquisition channel, predicted vs actual."""
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["actual_value"], 0.4, label="simulated (actual)", color=plots.BLUE)
    ax.bar(x + 0.2, table["predicted_value"], 0.4, label="BG/NBD × Gamma-Gamma",
           color=plots.VERMILLION)  # fmt: skip
    ax.set_xticks(x, [str(c) for c in table.index], rotation=20)
    ax.set_ylabel("holdout value per customer, yuan")
    ax.legend(frameon=False)


def _num(v, fmt=".3g") -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, fmt)


def report(run: clv.Run, fit: clv.Fit, freq, chan) -> str:
    c = fit.customers
    purchase, churn = run.cfg.get("purchase", {}), run.cfg.get("churn", {})
    simulated = {
        "r": purchase.get("rate_shape"),
        "alpha": None,
        "a": churn.get("dropout_a"),
        "b": churn.get("dropout_b"),
    }
    rows = "\n".join(
        f"| {k} | {_num(fit.bgnbd.get(k))} | {_num(simulated[k])} | {_num(clv.CDNOW[k])} |"
        for k in clv.CDNOW
    )
    gg = (
        ", ".join(f"{k} = {_num(v)}" for k, v in fit.gamma_gamma.items())
        if fit.gamma_gamma
        else f"not fitted ({fit.gamma_gamma_error}); values below use purchases only"
    )
    pred, act = c["predicted_orders"].sum(), c["holdout_orders"].sum()
    pv, av = c["predicted_value"].sum(), c["holdout_value"].sum()
    freq_md = "\n".join(
        f"| {i}{'+' if i == clv.MAX_GROUP else ''} | {int(r.customers):,} | {r.predicted:.2f} | "
        f"{r.actual:.2f} |"
        for i, r in freq.iterrows()
    )
    chan_md = "\n".join(
        f"| {ch} | {int(r.customers):,} | {r.predicted_orders:.2f} | {r.actual_orders:.2f} | "
        f"{_num(r.predicted_value, ',.0f')} | {r.actual_value:,.0f} | {r.true_ltv:,.0f} |"
        for ch, r in chan.iterrows()
    )
    return f"""# CLV check: {run.label}, {run.path}

Do the standard CLV models, fitted on the first part of this run's transaction log, predict the
rest? The simulation draws each user's repeat rate from a Gamma and their dropout from a Beta
(DOMAIN §5, BG/NBD), but its purchases also depend on trust, operator attention and churn.

- Calibration: {run.start.date()} … {fit.calibration_end.date()}; holdout: the next
  {fit.holdout_weeks:.1f} weeks to {run.last_date.date()} (time unit: weeks).
- Customers: the {len(c):,} users who ordered in the calibration period (users who first
  ordered in the holdout are outside these models).
- Holdout purchases: predicted {pred:,.0f}, simulated {act:,.0f} ({(pred - act) / act:+.1%}).
- Holdout value: predicted {pv:,.0f} yuan, simulated {av:,.0f} yuan ({(pv - av) / av:+.1%}).

## BG/NBD parameters (MAP), beside the simulation's inputs and CDNOW

The simulation's r is `purchase.rate_shape` (each user's repeat-rate multiplier ~ Gamma(r)),
its a, b are `churn.dropout_a`/`dropout_b` (dropout after each repeat order ~ Beta(a, b)); its
purchase hazard also varies with trust and attention, so the fitted values need not match.
CDNOW: Fader, Hardie & Lee (2005), weekly CD purchases, for scale.

| parameter | fitted | simulation input | CDNOW |
|---|---|---|---|
{rows}

Gamma-Gamma (spend per repeat order): {gg}.

## Calibration vs holdout (`calibration_holdout.png`)

| calibration repeat purchases | customers | predicted holdout purchases | simulated |
|---|---|---|---|
{freq_md}

## By acquisition channel (`clv_by_channel.png`), per customer

| channel | customers | predicted purchases | simulated | predicted value | simulated value \
| true LTV to the horizon |
|---|---|---|---|---|---|---|
{chan_md}

True LTV is `ltv` of customers.parquet: margin to the horizon discounted to the joining day,
minus CAC. Per-customer values: `customers.parquet` in this folder.
"""


def write_run(run: clv.Run, fit: clv.Fit) -> Path:
    """Write one run's check into `<run_dir>/clv/`; returns that folder."""
    out = run.path / OUT
    freq, chan = clv.by_frequency(fit.customers), clv.by_channel(fit.customers)
    atomic_write(out / "customers.parquet", lambda t: fit.customers.to_parquet(t, index=False))
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    calibration_holdout(ax, freq)
    ax.set_title(f"{run.label}: calibration vs holdout (BG/NBD)")
    plots.save(fig, out / "calibration_holdout.png", dpi=120, bbox_inches="tight")
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    value_by_channel(ax, chan)
    ax.set_title(f"{run.label}: holdout value by acquisition channel")
    plots.save(fig, out / "clv_by_channel.png", dpi=120, bbox_inches="tight")
    write_text(out / "report.md", report(run, fit, freq, chan))
    return out


def check(run_dir, calibration_end: str | None = None) -> Path:
    """Run the CLV check of one run; returns the output folder."""
    ((run, end),) = clv.load_all([run_dir], calibration_end)
    clv.import_clv()  # after the input checks: bad input is reported without the extra
    return write_run(run, clv.fit(run, end))


def _run_label(row) -> str:
    return f"{row.strategy}\nseed {row.seed}"


def value_by_strategy(ax, table) -> None:
    """Holdout value per calibration customer, predicted vs simulated, one pair of bars a run."""
    x = np.arange(len(table))
    ax.bar(
        x - 0.2, table["true_value_per_customer"], 0.4, label="simulated (true)", color=plots.BLUE
    )
    ax.bar(
        x + 0.2,
        table["predicted_value_per_customer"],
        0.4,
        label="BG/NBD × Gamma-Gamma predicted",
        color=plots.VERMILLION,
    )
    ax.set_xticks(x, [_run_label(r) for r in table.itertuples()])
    ax.set_xlabel("run (strategy, seed)")
    ax.set_ylabel("holdout value per customer, yuan")
    values = table[["true_value_per_customer", "predicted_value_per_customer"]].to_numpy(float)
    top = np.nanmax(values, initial=0.0)  # an unfitted Gamma-Gamma leaves NaN predictions
    ax.set_ylim(0, 1.25 * top if top > 0 else 1.0)  # headroom for the legend
    ax.legend(frameon=False, loc="upper center", ncols=2)


def comparison_report(table, out: Path) -> str:
    def row(r) -> str:
        return (
            f"| {r.strategy} | {r.seed} | {int(r.customers):,} | {r.predicted_orders:,.0f} | "
            f"{r.true_orders:,.0f} | {_num(r.orders_error_pct, '+.1f')} | "
            f"{_num(r.predicted_value, ',.0f')} | {r.true_value:,.0f} | "
            f"{_num(r.value_error_pct, '+.1f')} | {_num(r.predicted_value_per_customer, ',.1f')} "
            f"| {r.true_value_per_customer:,.1f} | {_num(r.r)} | {_num(r.alpha)} | {_num(r.a)} "
            f"| {_num(r.b)} |"
        )

    cd = clv.CDNOW
    rows = "\n".join(row(r) for r in table.itertuples())
    runs = "\n".join(
        f"- {r.strategy}, seed {r.seed}: `{r.run}` (calibration to {r.calibration_end}, holdout "
        f"{r.holdout_weeks:.1f} weeks; Gamma-Gamma: {r.gamma_gamma}; details in `{r.run}/clv/`)"
        for r in table.itertuples()
    )
    return f"""# CLV check by strategy

Do BG/NBD (purchases) and Gamma-Gamma (spend per repeat order), fitted on the first part of each
run's transaction log, predict the rest as well under every scaling strategy? Each run is its
own brand and strategy, so each is fitted on its own (no pooling); the customers are those who
ordered in the run's calibration period, values are holdout purchases and spend in yuan.

{runs}

| strategy | seed | customers | predicted purchases | simulated | error % | predicted value, \
yuan | simulated | error % | predicted per customer | simulated per customer | r | α | a | b |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
{rows}
| CDNOW (Fader, Hardie & Lee 2005) | | | | | | | | | | | {cd["r"]} | {cd["alpha"]} | \
{cd["a"]} | {cd["b"]} |

Error % is (predicted − simulated) / simulated. r, α, a, b: BG/NBD (MAP, time in weeks).
Figure: `clv_by_strategy.png`; table: `comparison.parquet` (in {out}).
"""


def compare(run_dirs, calibration_end: str | None = None, out=None) -> Path:
    """Fit each run on its own and write the comparison by strategy into `out` (default
    `results/clv/<timestamp>`), besides each run's own check in `<run_dir>/clv/`."""
    runs = clv.load_all(run_dirs, calibration_end)  # every directory checked before any fit
    clv.import_clv()
    out = Path(out) if out else Path("results/clv") / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    fits = []
    for run, end in runs:
        f = clv.fit(run, end)
        write_run(run, f)
        fits.append((run, f))
    table = clv.compare(fits)
    atomic_write(out / "comparison.parquet", lambda t: table.to_parquet(t, index=False))
    fig = Figure(figsize=(max(6, 1.6 * len(table) + 2), 4))
    ax = fig.subplots()
    value_by_strategy(ax, table)
    ax.set_title("Predicted vs simulated holdout value per customer, by strategy")
    plots.save(fig, out / "clv_by_strategy.png", dpi=120, bbox_inches="tight")
    write_text(out / "report.md", comparison_report(table, out))
    return out
