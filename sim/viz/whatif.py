"""The strategist's what-if page: a few scenarios, many seeds each, compared in one table.

    privsim-whatif                    # (console script) serves http://127.0.0.1:8766
    python -m sim.viz.whatif --port 8766  # the same without the console script

The trainer's page (`sim.viz.app`) plays one pair of runs live; this page answers "which of
these plans pays, and how sure are we": up to `MAX_SCENARIOS` scenarios, each chosen with a few
controls (validated against option lists), each run for `seeds` seeds (0 … N−1, the same seeds
for every scenario, so seed k is the same simulated brand in each: paired comparisons) by the
batch engine (`sim.experiment.batch.run_batch`, in the background, progress on the page). The
table gives per scenario the median and 10th–90th percentile across seeds of profit, LTV/CAC at
90 days, 30-day conversion and the payback day, and P(best) on profit (`sim.viz.report.ranking`,
paired by seed); two figures show every seed's profit and LTV/CAC by scenario
(`sim.viz.plots.by_group`). Each scenario shows the `privsim -m …` command that reproduces it.

How the controls map onto the config:

- *strategy*, *pool preset*, *business*: `strategy=<name>`, `pool=<name>`, `business=<name>`.
- *fixed team*: "as the strategy hires" or N operators from day 0 (`operators.fixed=N`).
- *paid-ads budget*: "as planned" (the strategy's volume) or yuan per day
  (`channels.paid_ads.budget_per_day=B`: users = budget / the day's unit cost).
- *fission share*: "as planned" or the share of each phase's acquisition through fission, in
  the phases that use fission (`strategy.phases.<i>.channel_mix.*`, as on the trainer's page:
  `sim.viz.live.phase_overrides`).
- *horizon* (advanced; `privsim-whatif --horizon N` sets its default): `horizon_days=N`; empty
  keeps the config's. `--seeds N` sets the default seeds per scenario.

The data logic is plain functions (`Scenario.overrides`, `command`, `comparison`) that the tests
call; the Solara part at the bottom only wires them.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import sys
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sim.experiment.batch import Evaluation, Result, results_frame, run_batch
from sim.experiment.config import compose, group_options
from sim.viz import live, plots, report

logging.getLogger("MESA").setLevel(logging.WARNING)

MAX_SCENARIOS = 4
N_JOBS = 2  # local processes for the batch (the machine the page serves from)
AS_PLANNED = "as planned"
AS_HIRED = "as the strategy hires"
# option lists of the numeric controls (anything else is refused): assumptions, a strategist's
# usual range of choices, not findings
OPERATORS = (AS_HIRED, 1, 2, 3, 5, 8, 10, 15, 20, 30)  # people
AD_BUDGETS = (AS_PLANNED, 0, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)  # yuan/day
FISSION_SHARES = (AS_PLANNED, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # share
SEEDS = (2, 50)  # seeds per scenario: at least 2 (a spread), at most 50 (the page's patience)
HORIZON = (1, 3650)  # days (the schema's range of horizon_days)
DEFAULT_SEEDS = 10
HORIZON_ENV = "PRIVSIM_WHATIF_HORIZON"  # the page's default horizon (privsim-whatif --horizon)
SEEDS_ENV = "PRIVSIM_WHATIF_SEEDS"  # the page's default seeds per scenario (--seeds)

# the table's yardsticks: summary column -> (label, format, lower is better)
YARDSTICKS = {
    "profit": ("Profit (yuan)", ",.0f", False),
    "ltv_cac_90d": ("LTV/CAC at 90 days", ".2f", False),
    "conversion_30d": ("30-day conversion", ".1%", False),
    "payback_day": ("Payback day", ".0f", True),
}
RANK_ON = "profit"


@dataclass(frozen=True)
class Scenario:
    """One scenario's control values (the defaults are the page's)."""

    strategy: str = "staged"
    pool: str = "nurturing"
    business: str = "high_freq_high_margin"
    operators: int | str = AS_HIRED
    ad_budget: int | str = AS_PLANNED
    fission_share: float | str = AS_PLANNED

    def __post_init__(self):
        """Accept only the options shown: the values become Hydra overrides (a group value such
        as `../../x` would make Hydra load any YAML it names)."""
        for name in ("strategy", "pool", "business"):
            v = getattr(self, name)
            if v not in group_options(name):
                raise ValueError(f"{name} = {v!r}; allowed: {', '.join(group_options(name))}")
        for name, options in (
            ("operators", OPERATORS),
            ("ad_budget", AD_BUDGETS),
            ("fission_share", FISSION_SHARES),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or v not in options:
                allowed = ", ".join(map(str, options))
                raise ValueError(f"{name} = {v!r}; allowed: {allowed}")

    def overrides(self) -> list[str]:
        """The Hydra overrides of this scenario (without seed and horizon), as on the CLI."""
        out = [f"strategy={self.strategy}", f"pool={self.pool}", f"business={self.business}"]
        if self.operators != AS_HIRED:
            out.append(f"operators.fixed={int(self.operators)}")
        if self.ad_budget != AS_PLANNED:
            out.append(f"channels.paid_ads.budget_per_day={float(self.ad_budget)!r}")
        if self.fission_share != AS_PLANNED:
            share = float(self.fission_share)
            out += live.phase_overrides(compose(out), live.Controls(fission_share=share))
        return out


def check_run(seeds: int, horizon: int | None) -> None:
    """Refuse a seed count or horizon outside the page's ranges."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not SEEDS[0] <= seeds <= SEEDS[1]:
        raise ValueError(f"seeds = {seeds!r}; allowed: a whole number in [{SEEDS[0]}, {SEEDS[1]}]")
    if horizon is not None and (
        isinstance(horizon, bool)
        or not isinstance(horizon, int)
        or not HORIZON[0] <= horizon <= HORIZON[1]
    ):
        lo, hi = HORIZON
        raise ValueError(f"horizon_days = {horizon!r}; allowed: a whole number in [{lo}, {hi}]")


def run_overrides(s: Scenario, horizon: int | None = None) -> list[str]:
    """A scenario's overrides with the horizon, when one is set."""
    return s.overrides() + ([f"horizon_days={int(horizon)}"] if horizon is not None else [])


def command(s: Scenario, seeds: int, horizon: int | None = None) -> str:
    """The `privsim -m …` multirun that reproduces a scenario's runs (seeds 0 … N−1)."""
    return " ".join(["privsim -m", *run_overrides(s, horizon), f"'seed=range(0,{int(seeds)})'"])


def label(i: int, s: Scenario) -> str:
    """A scenario's name in the table and figures: its number and strategy."""
    return f"S{i + 1} · {s.strategy}"


def evaluations(scenarios: list[Scenario], seeds: int, horizon: int | None = None):
    """(bases, evaluations) for `run_batch`: one composed base per scenario, seeds 0 … N−1."""
    if not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise ValueError(f"scenarios: {len(scenarios)}; allowed: 1 to {MAX_SCENARIOS}")
    check_run(seeds, horizon)
    bases = {label(i, s): compose(run_overrides(s, horizon)) for i, s in enumerate(scenarios)}
    evs = [Evaluation({}, seed, base=name) for name in bases for seed in range(seeds)]
    return bases, evs


def run(scenarios, seeds, horizon=None, progress=False, n_jobs=N_JOBS) -> list[Result]:
    """Run every scenario's seeds through the batch engine."""
    bases, evs = evaluations(scenarios, seeds, horizon)
    return run_batch(bases, evs, n_jobs=n_jobs, progress=progress)


def runs_table(results: list[Result]) -> pd.DataFrame:
    """The finished runs, one row per run: `group` (the scenario's label), `seed`, summary."""
    frame = results_frame(results)
    frame = frame[frame["status"] == "finished"].rename(columns={"base": "group"})
    for col in YARDSTICKS:
        if col not in frame:
            frame[col] = np.nan
    return frame.reset_index(drop=True)


def comparison(results: list[Result]) -> pd.DataFrame:
    """The comparison table, one row per scenario in the order run: `scenario`, `runs`,
    `failed`, for each yardstick `<col>_p10`, `<col>_p50`, `<col>_p90` (percentiles across the
    seeds with a value) and `<col>_n` (those seeds), and `p_best` on profit (the share of seeds
    in which the scenario had the highest profit, paired by seed, ties sharing:
    `sim.viz.report.ranking`)."""
    names = list(dict.fromkeys(r.evaluation.base for r in results))
    done = runs_table(results)
    failed = {n: sum(1 for r in results if r.evaluation.base == n and not r.ok) for n in names}
    best = (
        report.ranking(done, RANK_ON).set_index("group")["p_best"]
        if len(done)
        else pd.Series(dtype=float)
    )
    rows = []
    for name in names:
        sub = done[done["group"] == name]
        row = dict(scenario=name, runs=len(sub), failed=failed[name])
        for col in YARDSTICKS:
            v = sub[col].astype(float).dropna().to_numpy()
            p = np.percentile(v, report.PERCENTILES) if v.size else [np.nan] * 3
            row.update(
                {f"{col}_p{q}": float(x) for q, x in zip(report.PERCENTILES, p, strict=True)}
            )
            row[f"{col}_n"] = int(v.size)
        row["p_best"] = float(best.get(name, np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def cell(row: dict | pd.Series, col: str) -> str:
    """ "median (10th–90th)" of a yardstick, with the seeds that had no value said."""
    _, fmt, _ = YARDSTICKS[col]
    if row[f"{col}_n"] == 0:
        return "not within the horizon" if col == "payback_day" else "not measurable in the horizon"
    lo, med, hi = (format(row[f"{col}_p{q}"], fmt) for q in report.PERCENTILES)
    text = f"{med} ({lo} – {hi})"
    if row[f"{col}_n"] < row["runs"]:
        text += f" [{row[f'{col}_n']} of {row['runs']} seeds]"
    return text


def table_html(table: pd.DataFrame, commands: dict[str, str]) -> str:
    """The comparison table as HTML: one row per scenario, its command under its name."""
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ["Scenario", *(v[0] for v in YARDSTICKS.values()), "P(best) on profit"]
    )
    body = []
    for row in table.to_dict("records"):
        pb = "–" if np.isnan(row["p_best"]) else f"{row['p_best']:.0%}"
        runs = f"{row['runs']} seeds" + (f", {row['failed']} failed" if row["failed"] else "")
        name = (
            f"<b>{html.escape(row['scenario'])}</b> <small>({runs})</small><br>"
            f"<code class='command'>{html.escape(commands.get(row['scenario'], ''))}</code>"
        )
        cells = "".join(f"<td>{html.escape(cell(row, c))}</td>" for c in YARDSTICKS)
        body.append(f"<tr class='scenario-row'><td>{name}</td>{cells}<td>{pb}</td></tr>")
    return f"<table class='whatif-table'><tr>{head}</tr>{''.join(body)}</table>"


NOTE = (
    "Each cell: median across seeds (10th – 90th percentile). Seed k is the same simulated "
    "brand in every scenario. P(best): the share of seeds in which the scenario had the highest "
    "profit, comparing scenarios seed by seed (ties share the credit) — a share of simulated "
    "brands, not a probability that the plan is best. Payback day: the first day a cohort's "
    "discounted margin covers its acquisition cost, over the seeds where that happened."
)


def figure(results: list[Result]):
    """Profit and LTV/CAC at 90 days by scenario: every seed, median and 10th–90th percentile."""
    done = runs_table(results)
    fig, (ax1, ax2) = plots.figure(11, 3.6, ncols=2, layout="constrained")
    plots.by_group(ax1, done, "profit", "profit (yuan)", 0.0, "break-even")
    plots.thousands(ax1.yaxis)
    if done["ltv_cac_90d"].notna().any():
        plots.by_group(ax2, done, "ltv_cac_90d", "LTV/CAC at 90 days", 1.0, "LTV = CAC")
    else:
        plots.empty(ax2, "no cohort 90 days old yet:\nLTV/CAC at 90 days not measurable")
    for ax in (ax1, ax2):
        ax.set_xlabel("scenario", fontsize=9)
    return fig


# ---------------------------------------------------------------------------- the page

CSS = """
.v-application { font-size: 15px; }
.whatif-table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.whatif-table th, .whatif-table td { border: 1px solid #ddd; padding: 4px 6px; text-align: left;
  vertical-align: top; }
.whatif-table th { background: #f3f3f3; }
.whatif-table code { font-size: 0.75rem; word-break: break-all; }
.note { font-size: 0.85rem; color: #444; }
"""


def _default_horizon() -> int | None:
    v = os.environ.get(HORIZON_ENV)
    return int(v) if v else None


def _default_seeds() -> int:
    return int(os.environ.get(SEEDS_ENV) or DEFAULT_SEEDS)


try:
    import solara
except ImportError:  # the plain functions above work without the page's extra
    solara = None

if solara is not None:

    @solara.component
    def ScenarioCard(i: int, scenarios: solara.Reactive, disabled: bool):
        s = scenarios.value[i]

        def set_(name):
            def f(v):
                new = list(scenarios.value)
                new[i] = replace(new[i], **{name: v})
                scenarios.set(new)

            return f

        def remove():
            scenarios.set([x for j, x in enumerate(scenarios.value) if j != i])

        with solara.Card(label(i, s), margin=0, classes=["scenario", f"scenario-{i + 1}"]):
            solara.Select("Strategy", value=s.strategy, values=group_options("strategy"),
                          on_value=set_("strategy"), disabled=disabled)  # fmt: skip
            solara.Select("Pool preset", value=s.pool, values=group_options("pool"),
                          on_value=set_("pool"), disabled=disabled)  # fmt: skip
            solara.Select("Business", value=s.business, values=group_options("business"),
                          on_value=set_("business"), disabled=disabled)  # fmt: skip
            solara.Select("Fixed team (operators.fixed, people)", value=s.operators,
                          values=list(OPERATORS), on_value=set_("operators"),
                          disabled=disabled)  # fmt: skip
            solara.Select("Paid-ads budget (yuan/day)", value=s.ad_budget,
                          values=list(AD_BUDGETS), on_value=set_("ad_budget"),
                          disabled=disabled)  # fmt: skip
            solara.Select("Fission share of acquisition", value=s.fission_share,
                          values=list(FISSION_SHARES), on_value=set_("fission_share"),
                          disabled=disabled)  # fmt: skip
            solara.Button("Remove", on_click=remove, text=True, disabled=disabled)

    @solara.component
    def Page():
        scenarios = solara.use_reactive([Scenario()])
        seeds = solara.use_reactive(_default_seeds())
        horizon = solara.use_reactive(_default_horizon())
        state = solara.use_reactive({"running": False, "progress": "", "error": ""})
        done = solara.use_reactive(None)  # (results, commands) of the last run
        request = solara.use_reactive(None)  # (bases, evaluations, commands) to run now

        def start():
            scs, n, h = list(scenarios.value), int(seeds.value), horizon.value
            try:
                bases, evs = evaluations(scs, n, h)
            except Exception as e:  # noqa: BLE001 - shown on the page
                state.set({"running": False, "progress": "", "error": str(e)})
                return
            commands = {label(i, s): command(s, n, h) for i, s in enumerate(scs)}
            state.set({"running": True, "progress": f"0/{len(evs)} runs done", "error": ""})
            request.set((bases, evs, commands))

        def work():
            if request.value is None:
                return
            bases, evs, commands = request.value

            class Stream:  # run_batch's progress lines, onto the page
                def write(self, text):
                    if text.strip():
                        state.set({**state.value, "progress": text.strip()})

                def flush(self):
                    pass

            try:
                results = run_batch(bases, evs, n_jobs=N_JOBS, progress=Stream())
                done.set((results, commands))
                state.set({"running": False, "progress": state.value["progress"], "error": ""})
            except Exception as e:  # noqa: BLE001 - shown on the page
                state.set({"running": False, "progress": "", "error": str(e)})
            request.set(None)

        solara.lab.use_task(work, dependencies=[request.value], prefer_threaded=True)
        fig = solara.use_memo(
            lambda: (
                figure(done.value[0]) if done.value and len(runs_table(done.value[0])) else None
            ),
            [id(done.value)],
        )

        running = state.value["running"]
        solara.Title("privsim what-if")
        solara.Style(CSS)
        with solara.AppBar():
            solara.AppBarTitle("privsim — what if: compare up to 4 plans across many brands")
        with solara.Sidebar(), solara.Column():
            with solara.Card("Run", margin=0):
                solara.Text(f"Seeds per scenario: {seeds.value}")
                solara.SliderInt("", value=seeds, min=SEEDS[0], max=SEEDS[1], disabled=running)
                with solara.Details("Advanced"):
                    h = horizon.value
                    solara.InputInt(
                        "Horizon (days; empty = the config's)",
                        value=h if h is not None else 0,
                        on_value=lambda v: horizon.set(int(v) if v else None),
                        classes=["horizon-input"],
                        disabled=running,
                    )
        with solara.Column(style={"padding": "0 8px"}):
            with solara.Row(style={"align-items": "center"}):
                solara.Button(
                    "Add scenario",
                    on_click=lambda: scenarios.set(
                        [*scenarios.value, (scenarios.value or [Scenario()])[-1]]
                    ),
                    disabled=running or len(scenarios.value) >= MAX_SCENARIOS,
                    classes=["add-scenario"],
                    color="primary",
                    outlined=True,
                )
                solara.Button(
                    "Run",
                    on_click=start,
                    disabled=running or not scenarios.value,
                    classes=["run-button"],
                    color="primary",
                )
                solara.Text(state.value["progress"], classes=["progress"])
            if state.value["error"]:
                solara.Error(state.value["error"], classes=["run-error"])
            if done.value is not None:
                results, commands = done.value
                table = comparison(results)
                solara.HTML(tag="div", unsafe_innerHTML=table_html(table, commands),
                            classes=["results"])  # fmt: skip
                solara.Text(NOTE, classes=["note"])
                if fig is not None:
                    with solara.Column(classes=["whatif-figure"]):
                        solara.FigureMatplotlib(fig, format="png", dependencies=[id(fig)])
            with solara.Columns([1] * max(1, len(scenarios.value))):
                for i in range(len(scenarios.value)):
                    ScenarioCard(i, scenarios, running)
            for s in scenarios.value:
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"<code>{html.escape(command(s, seeds.value, horizon.value))}"
                    "</code>",
                    classes=["note", "pending-command"],
                )

    page = Page


def main(argv: list[str] | None = None) -> int:
    """`privsim-whatif`: serve the page with Solara on localhost (offline, as privsim-app)."""
    from sim.viz.app import serve

    ap = argparse.ArgumentParser(prog="privsim-whatif", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--horizon", type=int, default=None, help="default horizon in days")
    ap.add_argument("--seeds", type=int, default=None, help="default seeds per scenario")
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    args = ap.parse_args(argv)
    check_run(args.seeds if args.seeds is not None else DEFAULT_SEEDS, args.horizon)
    env = {}
    if args.horizon is not None:
        env[HORIZON_ENV] = str(args.horizon)
    if args.seeds is not None:
        env[SEEDS_ENV] = str(args.seeds)
    return serve("privsim-whatif", "sim.viz.whatif", args.host, args.port, args.open, env)


if __name__ == "__main__" and "solara.server.app" not in sys.modules:
    sys.exit(main())
