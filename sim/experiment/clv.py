"""The CLV check's data side: a finished run's transaction log split at a calibration date, BG/NBD
and Gamma-Gamma fitted on the calibration period (PyMC-Marketing, the optional `clv` extra), and
their holdout predictions set beside what the simulation actually booked.

The question (docs/clv.md): the model draws each user's repeat rate from a Gamma and
their dropout from a Beta (DOMAIN §5, BG/NBD), but its purchases also depend on trust, operator
attention and churn; do the standard CLV models, fitted on the first part of the log, predict
the second part? Figures and the report are drawn by `sim.viz.clv` (`privsim-clv`).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment import jobs

EXTRA = "clv"
INSTALL = f".venv/bin/pip install -e '.[{EXTRA}]'"
# Orders are grouped per day (two orders a day are one, as lifetimes and PyMC-Marketing do) and
# times counted in weeks, the unit of the CDNOW benchmark (Fader, Hardie & Lee 2005)
TIME_UNIT = "D"
DAYS_PER_UNIT = 7
# BG/NBD on CDNOW (weeks): Fader, Hardie & Lee (2005), "Counting your customers the easy way"
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
MAX_GROUP = 7  # calibration repeat purchases grouped 0, 1, …, 7+ (the paper's figure)


class BadInput(ValueError):
    """The run directory or an option cannot be used (exit 2)."""


class MissingExtra(ImportError):
    """PyMC-Marketing is not installed (exit 2, naming the extra)."""


@dataclass
class Run:
    path: Path
    cfg: dict
    transactions: pd.DataFrame
    customers: pd.DataFrame
    start: pd.Timestamp
    horizon_days: int
    summary: dict = field(default_factory=dict)  # summary.json: strategy, seed, totals

    @property
    def last_date(self) -> pd.Timestamp:
        return self.start + pd.Timedelta(days=self.horizon_days - 1)

    @property
    def label(self) -> str:
        name = self.summary.get("strategy") or self.cfg.get("strategy", {}).get("name")
        return str(name or self.path.name)

    @property
    def seed(self):
        return self.summary.get("seed", self.cfg.get("seed"))


def load(run_dir) -> Run:
    """A finished run with its transaction log, or `BadInput` saying what is wrong."""
    path = Path(run_dir)
    if not path.is_dir():
        raise BadInput(f"{path}: no such directory")
    state = jobs.status(path)
    if state != "finished":
        why = jobs.error_of(path) if state in ("damaged", "failed") else "no summary.json"
        raise BadInput(f"{path} is not a finished run ({state}: {why})")
    cfg = json.loads((path / jobs.CONFIG).read_text())
    if not jobs.transactions_on(cfg):
        raise BadInput(
            f"{path} was run without the transaction log; re-run it with outputs.transactions=true"
        )
    outputs = cfg["outputs"]
    return Run(
        path=path,
        cfg=cfg,
        transactions=pd.read_parquet(path / jobs.TRANSACTIONS),
        customers=pd.read_parquet(path / jobs.CUSTOMERS),
        start=pd.Timestamp(outputs["start_date"]),
        horizon_days=int(cfg["horizon_days"]),
        summary=json.loads((path / jobs.SUMMARY).read_text()),
    )


def load_all(run_dirs, date: str | None) -> list[tuple[Run, pd.Timestamp]]:
    """Every run with its calibration end, checked before any fit: `BadInput` names the first
    directory that is not a finished run with a transaction log (or given twice), or whose
    horizon does not hold `date`."""
    out, seen = [], set()
    for d in run_dirs:
        key = Path(d).resolve()
        if key in seen:
            raise BadInput(f"{d} is given twice; each run is compared once")
        seen.add(key)
        r = load(d)
        try:
            end = calibration_end(r, date)
        except BadInput as e:
            raise BadInput(f"{r.path}: {e}") from None
        out.append((r, end))
    return out


def calibration_end(run: Run, date: str | None) -> pd.Timestamp:
    """The last day of the calibration period: `date`, or the middle of the horizon. Both
    periods must hold at least one day (the calibration end lies in [start, last date − 1])."""
    if date is None:
        return run.start + pd.Timedelta(days=run.horizon_days // 2 - 1)
    try:
        end = pd.Timestamp(datetime.date.fromisoformat(date))
    except (ValueError, TypeError):
        raise BadInput(f"--calibration-end {date!r} is not a date (YYYY-MM-DD)") from None
    last = run.last_date - pd.Timedelta(days=1)
    if not run.start <= end <= last:
        raise BadInput(
            f"--calibration-end {date} is outside the run's horizon; allowed: "
            f"{run.start.date()} … {last.date()} (the holdout needs at least one day)"
        )
    return end


def import_clv():
    """`pymc_marketing.clv`, or `MissingExtra` naming the extra to install."""
    try:
        from pymc_marketing import clv
    except ImportError as e:
        raise MissingExtra(
            f"the CLV check needs PyMC-Marketing, the optional `{EXTRA}` extra ({e}); "
            f"install it with: {INSTALL}"
        ) from None
    return clv


@dataclass
class Fit:
    """The fitted models' results beside the simulated truth."""

    calibration_end: pd.Timestamp
    holdout_weeks: float
    bgnbd: dict[str, float]  # r, alpha, a, b
    gamma_gamma: dict[str, float] | None  # p, q, v; None if it could not be fitted
    gamma_gamma_error: str | None
    customers: pd.DataFrame  # per customer of the calibration period: predicted vs true


def fit(run: Run, end: pd.Timestamp) -> Fit:
    """Fit BG/NBD (purchases) and Gamma-Gamma (spend per repeat order) on the orders up to
    `end`, predict each calibration customer's holdout purchases and value, and join the
    truth: holdout orders and spend booked by the simulation, and the customer's channel and
    true LTV (customers.parquet)."""
    clv = import_clv()
    tx = run.transactions
    cal = tx[tx["date"] <= end]
    hold = tx[tx["date"] > end]
    if cal.empty:
        raise BadInput(f"no order on or before the calibration end {end.date()}")
    rfm = clv.rfm_summary(
        cal,
        "customer_id",
        "date",
        "monetary_value",
        observation_period_end=end,
        time_unit=TIME_UNIT,
        time_scaler=DAYS_PER_UNIT,
    )
    weeks = (run.last_date - end).days / DAYS_PER_UNIT
    bg = clv.BetaGeoModel()
    bg.fit(rfm[["customer_id", "frequency", "recency", "T"]], method="map", progressbar=False)
    bgnbd = {k: float(v) for k, v in bg.fit_summary().items() if k in CDNOW}
    expected = bg.expected_purchases(future_t=weeks).mean(("chain", "draw")).to_numpy()

    repeat = rfm[(rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)]
    gg, gg_error = None, None
    spend = np.full(len(rfm), np.nan)
    try:
        g = clv.GammaGammaModel()
        g.fit(
            repeat[["customer_id", "frequency", "monetary_value"]], method="map", progressbar=False
        )
        gg = {k: float(v) for k, v in g.fit_summary().items() if k in ("p", "q", "v")}
        spend = (
            g.expected_customer_spend(data=rfm[["customer_id", "frequency", "monetary_value"]])
            .mean(("chain", "draw"))
            .to_numpy()
        )
    except Exception as e:  # a degenerate spend distribution: say so, predict purchases only
        gg_error = f"{type(e).__name__}: {e}".splitlines()[0]

    actual = hold.groupby("customer_id").agg(
        holdout_orders=("monetary_value", "size"), holdout_value=("monetary_value", "sum")
    )
    out = rfm.rename(columns={"monetary_value": "calibration_mean_repeat_value"})
    out["predicted_orders"] = expected
    out["predicted_spend_per_order"] = spend
    out["predicted_value"] = expected * spend
    out = out.join(actual, on="customer_id")
    out[["holdout_orders", "holdout_value"]] = out[["holdout_orders", "holdout_value"]].fillna(0)
    truth = run.customers.set_index("customer_id")[["channel", "join_day", "churn_day", "ltv"]]
    out = out.join(truth, on="customer_id")
    out["strategy"] = run.label
    return Fit(end, weeks, bgnbd, gg, gg_error, out.reset_index(drop=True))


def by_frequency(customers: pd.DataFrame) -> pd.DataFrame:
    """Mean predicted and actual holdout orders per calibration repeat-purchase count
    (0, 1, …, `MAX_GROUP`+): the calibration/holdout check of Fader, Hardie & Lee (2005)."""
    group = customers["frequency"].clip(upper=MAX_GROUP).astype(int)
    out = customers.groupby(group).agg(
        customers=("customer_id", "size"),
        predicted=("predicted_orders", "mean"),
        actual=("holdout_orders", "mean"),
    )
    out.index.name = "calibration_repeats"
    return out


def by_channel(customers: pd.DataFrame) -> pd.DataFrame:
    """Per acquisition channel: customers, predicted and true holdout value per customer."""
    out = customers.groupby("channel", observed=True).agg(
        customers=("customer_id", "size"),
        predicted_orders=("predicted_orders", "mean"),
        actual_orders=("holdout_orders", "mean"),
        predicted_value=("predicted_value", "mean"),
        actual_value=("holdout_value", "mean"),
        true_ltv=("ltv", "mean"),
    )
    return out


def _pct(predicted: float, actual: float) -> float:
    return 100 * (predicted - actual) / actual if actual else float("nan")


def compare(fits: list[tuple[Run, Fit]]) -> pd.DataFrame:
    """One row per run (each fitted on its own: a run is one brand under one strategy): its
    strategy and seed, the calibration customers, predicted vs simulated holdout purchases and
    value (total and per customer, error in %), and the fitted BG/NBD r, α, a, b."""
    rows = []
    for run, f in fits:
        c = f.customers
        n = len(c)
        po, ao = float(c["predicted_orders"].sum()), float(c["holdout_orders"].sum())
        pv, av = float(c["predicted_value"].sum()), float(c["holdout_value"].sum())
        rows.append(
            {
                "run": str(run.path),
                "strategy": run.label,
                "seed": run.seed,
                "calibration_end": f.calibration_end.date().isoformat(),
                "holdout_weeks": f.holdout_weeks,
                "customers": n,
                "predicted_orders": po,
                "true_orders": ao,
                "orders_error_pct": _pct(po, ao),
                "predicted_value": pv,
                "true_value": av,
                "value_error_pct": _pct(pv, av),
                "predicted_value_per_customer": pv / n if n else float("nan"),
                "true_value_per_customer": av / n if n else float("nan"),
                **{k: f.bgnbd.get(k, float("nan")) for k in CDNOW},
                "gamma_gamma": "fitted" if f.gamma_gamma else f.gamma_gamma_error,
            }
        )
    return pd.DataFrame(rows)
