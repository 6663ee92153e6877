"""The observed series a calibration fits (`sim.experiment.calibration`): their schema, loading
and checking, and synthetic series made by the model.

A brand's data are a CSV or parquet file, one row per day or per week (`load_observed` gives
the schema). Anything else is refused with a `ConfigError` naming the column and the row (rows
counted from 1), before any run. An error never quotes the file's content (a header, a cell):
the `data` path can name any file, and its content must not reach a terminal or a log.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.params import ConfigError
from sim.experiment.batch import apply_values, simulate
from sim.experiment.study_parameters import typed

# Observed column -> the model's daily column (sim/core/results.py).
SERIES = {
    "new_users": "new_users",
    "first_purchases": "first_purchases",
    "orders": "orders",
    "revenue": "revenue",
    "churned": "churned_today",
    "live_users": "live_users",
}
STOCKS = {"live_users"}  # weekly data: end-of-week value; every other series: the week's sum
COUNTS = set(SERIES) - {"revenue"}
FREQUENCIES = {"daily": 1, "weekly": 7}


def _row(i: int) -> str:
    return f"row {i + 1}"  # data rows counted from 1, the header not counted


def load_observed(path, frequency: str = "daily", start_date: str | None = None) -> pd.DataFrame:
    """The observed series, checked: one row per day (`daily`) or per week (`weekly`), a `day`
    column (integer, the model's day from 0) and the series columns of `SERIES`.

    Schema: a `day` column (integers ≥ 0) or a `date` column (calendar dates; day = date −
    `start_date`, by default the first date for daily data and six days before it for weekly
    data); then any of `new_users`, `first_purchases`, `orders`, `churned` (users who churned
    that day: the model's `churned_today`), `live_users` (whole numbers ≥ 0) and `revenue`
    (yuan ≥ 0). Weekly: one row per week of days d−6 … d, labelled by its last day d (so
    d = 6, 13, 20, …): flows are the week's sums, `live_users` the value at the end of day d.
    Days must increase strictly; gaps (unobserved days or weeks) are allowed. Anything else is
    refused with a `ConfigError` naming the column and the row (rows counted from 1)."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"data = {path}: no such file")
    try:
        df = pd.read_parquet(p) if p.suffix in (".parquet", ".pq") else pd.read_csv(p)
    except Exception as e:  # its message may quote the file: name the file and the kind only
        kind = "parquet" if p.suffix in (".parquet", ".pq") else "CSV"
        raise ConfigError(f"data = {path}: cannot be read as {kind} ({type(e).__name__})") from None
    where = f"data {p.name}"
    if "day" in df and "date" in df:
        raise ConfigError(f"{where}: give a `day` or a `date` column, not both")
    if "day" not in df and "date" not in df:
        raise ConfigError(
            f"{where}: no `day` or `date` column in its header ({len(df.columns)} columns); "
            "is it the observed series' file?"
        )
    for i, c in enumerate(df.columns):
        if c not in ("day", "date") and c not in SERIES:
            close = difflib.get_close_matches(str(c), list(SERIES), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(
                f"{where}: column {i + 1} of the header is not a series the model "
                f"produces{hint}; allowed: day or date, {', '.join(SERIES)}"
            )
    if len(df) == 0:
        raise ConfigError(f"{where}: no rows")
    step = FREQUENCIES[frequency]
    if "date" in df:
        dates = pd.to_datetime(df["date"], errors="coerce")
        if (bad := dates.isna().to_numpy()).any():
            i = int(np.argmax(bad))
            raise ConfigError(f"{where}: column `date`, {_row(i)}: not a date")
        start = (
            pd.Timestamp(start_date)
            if start_date is not None
            else dates.iloc[0] - pd.Timedelta(days=step - 1)
        )
        day = ((dates - start).dt.days).to_numpy()
        col = "date"
    else:
        raw = pd.to_numeric(df["day"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(raw) | (raw != np.round(raw))
        if bad.any():
            i = int(np.argmax(bad))
            raise ConfigError(f"{where}: column `day`, {_row(i)}: not a whole day number")
        day = raw.astype(np.int64)
        col = "day"
    if (neg := day < 0).any():
        i = int(np.argmax(neg))
        raise ConfigError(f"{where}: column `{col}`, {_row(i)}: before day 0 (day {day[i]})")
    for i in range(1, len(day)):
        if day[i] == day[i - 1]:
            raise ConfigError(
                f"{where}: column `{col}`, {_row(i)}: day {day[i]} repeats {_row(i - 1)}"
            )
        if day[i] < day[i - 1]:
            raise ConfigError(
                f"{where}: column `{col}`, {_row(i)}: day {day[i]} comes after day {day[i - 1]} "
                "(rows must be sorted by day)"
            )
    if step > 1 and (off := day % step != step - 1).any():
        i = int(np.argmax(off))
        raise ConfigError(
            f"{where}: column `{col}`, {_row(i)}: weekly rows are labelled by the week's last day "
            f"(6, 13, 20, …); got day {day[i]}"
        )
    out = pd.DataFrame({"day": day})
    for c in df.columns:
        if c in ("day", "date"):
            continue
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        if (nan := ~np.isfinite(v)).any():
            i = int(np.argmax(nan))
            raise ConfigError(f"{where}: column `{c}`, {_row(i)}: missing or not a number")
        if (neg := v < 0).any():
            i = int(np.argmax(neg))
            raise ConfigError(f"{where}: column `{c}`, {_row(i)}: negative value {v[i]:g}")
        if c in COUNTS and (frac := v != np.round(v)).any():
            i = int(np.argmax(frac))
            raise ConfigError(
                f"{where}: column `{c}`, {_row(i)}: a count must be a whole number ({v[i]:g})"
            )
        out[c] = v
    return out


def check_data(spec, obs: pd.DataFrame, horizon_days: int) -> None:
    """The observed days fit in the scenario's horizon, and every fitted series of the calibration
    `spec` is in the data."""
    last = int(obs["day"].iloc[-1])
    if last >= horizon_days:
        i = len(obs) - 1
        raise ConfigError(
            f"data {Path(spec.data).name}: column `day`, {_row(i)}: day {last} is beyond the "
            f"scenario's horizon_days = {horizon_days} (days 0-{horizon_days - 1}); set "
            f"scenario.horizon_days to at least {last + 1}"
        )
    for s in spec.series:
        if s.name not in obs:
            cols = ", ".join(c for c in obs.columns if c != "day")
            raise ConfigError(f"series.{s.name}: not in the data (its series: {cols})")


def synthetic_observed(
    base: dict,
    values: dict,
    *,
    seed: int,
    series: list[str],
    dispersion: float,
    sigma: float,
    noise_seed: int,
    days: int | None = None,
) -> pd.DataFrame:
    """Data a brand might have observed, made by the model: one run of `base` with `values` set
    (seed `seed`), its daily `series` (observed names) with observation noise on top: counts
    ~ negative binomial (mean = the simulated value, size `dispersion`), revenue × exp(N(0,
    sigma²)) on log(1 + y). For tests, the benchmark and the shipped example; never a brand's."""
    cfg = apply_values(base, typed(base, values))
    cfg["seed"] = int(seed)
    _, daily = simulate(cfg, [SERIES[s] for s in series])
    rng = np.random.default_rng(noise_seed)
    n = int(days or cfg["horizon_days"])
    out = pd.DataFrame({"day": np.arange(n)})
    for s in series:
        mu = np.asarray(daily[SERIES[s]], dtype=float)[:n]
        if s == "revenue":
            y = np.expm1(np.log1p(mu) + rng.normal(0.0, sigma, n))
            out[s] = np.round(np.maximum(y, 0.0), 2)
        else:
            p = dispersion / (dispersion + np.maximum(mu, 0.0))
            out[s] = rng.negative_binomial(dispersion, p).astype(np.int64)
    return out
