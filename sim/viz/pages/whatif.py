"""The strategist's what-if data: a few plans, many seeds each, compared in one table.

The trainer's page plays one pair of runs live; this page answers "which of these plans pays,
and how sure are we": up to `MAX_SCENARIOS` plans, each chosen with the what-if controls of the
one table (`controls.page("whatif")`, checked against the values offered), each run for the
same seeds 0 … N−1 (seed k is the same simulated brand in each: paired comparisons) by the batch
engine (`sim.experiment.batch.run_batch`). The table gives per plan the median and 10th–90th
percentile across seeds of profit over the horizon, LTV/CAC at 90 days, 30-day conversion and
the payback day (DOMAIN §2.7, §4), acquisition spend by channel in yuan/day (the runs' daily
`spend_<channel>` columns), and P(best) on profit (`sim.viz.report.ranking`, paired by seed); a
figure shows every seed's profit and LTV/CAC by plan (`sim.viz.plots.by_group`). Each plan is
titled by what sets it apart from the first (`titles`), shows its planned spend per channel
(`planned_spend`) and the `privsim -m …` command that reproduces it. The terms read on the page
are defined in `glossary()`. The page itself is `whatif_page`; the scenarios travel as a small
YAML (`sim.viz.pages.whatif_share`).
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.core.acquisition import unit_cost
from sim.core.params import candidates, guesses
from sim.experiment.batch import Evaluation, Result, results_frame, run_batch
from sim.experiment.config import CONFIG_DIR, build, compose, model_kwargs, override
from sim.viz import labels, plan_outcomes, plots, report
from sim.viz.pages import controls
from sim.viz.pages.controls import CONTROLS, RUN, WHATIF
from sim.viz.pages.figures import money_axis
from sim.viz.pages.story import yuan

MAX_SCENARIOS = 4
N_JOBS = 2  # local processes for the batch (the machine the page serves from)
HORIZON_ENV = "PRIVSIM_WHATIF_HORIZON"  # the page's default horizon (privsim-whatif --horizon)
SEEDS_ENV = "PRIVSIM_WHATIF_SEEDS"  # the page's default seeds per scenario (--seeds)

# the table's yardsticks: summary column -> (label, format, lower is better); money in the
# pages' one format (`story.yuan`: −¥87k), the workbook's numbers stay whole (`whatif_export`)
YARDSTICKS = {
    "profit": ("Profit over the horizon (yuan)", yuan, False),
    "ltv_cac_90d": ("LTV/CAC at 90 days", "{:.2f}".format, False),
    "conversion_30d": ("30-day conversion", "{:.1%}".format, False),
    "payback_day": ("Payback day", "{:.0f}".format, True),
}
RANK_ON = "profit"
# strategies a strategist reads about (the strategy map's presets and policies) beside the plans'
GLOSSARY_STRATEGIES = ("staged", "premature", "ten_to_n", "ten_to_n_stoploss",
                       "optimized_staged_policy", "optimized_tested_policy")  # fmt: skip


def _plan_overrides(self) -> list[str]:
    """The Hydra overrides of this plan (without seed and horizon), as on the CLI; a policy
    rule the strategy has not is refused (`controls.rule_overrides`). A plan that loads an
    experiment (`alternatives`) pins what that experiment sweeps (`swept_pins`), so `privsim -m`
    runs the page's one scenario, not the experiment's sweep."""
    out = controls.overrides(WHATIF, self.__dict__)
    rules = any(c.phase_key and not c.keeps(getattr(self, k)) for k, c in CONTROLS.items())
    if CONTROLS["fission"].keeps(self.fission) and not rules and not experiment_of(out):
        return out
    cfg = compose(out)
    return (
        out
        + swept_pins(out, cfg)
        + controls.phase_overrides(cfg, self.fission)
        + controls.rule_overrides(WHATIF, cfg, self.__dict__)
    )


def experiment_of(overrides: list[str]) -> str | None:
    """The experiment a plan's overrides load (`experiment=<name>`), or None."""
    return next((o.split("=", 1)[1] for o in overrides if o.startswith("experiment=")), None)


def swept_pins(overrides: list[str], cfg: dict) -> list[str]:
    """`key=value` for each key the loaded experiment's sweep varies (`hydra.sweeper.params`,
    seed aside: the command gives the seeds) that `overrides` leave unset, at its value in the
    composed `cfg`: a multirun of the plan's command then runs this one plan (a key on the
    command line replaces the sweep's) and `compose` runs the same."""
    name = experiment_of(overrides)
    if name is None:
        return []
    params = OmegaConf.select(
        OmegaConf.load(Path(CONFIG_DIR) / "experiment" / f"{name}.yaml"), "hydra.sweeper.params"
    )
    given = {o.split("=", 1)[0].lstrip("+~") for o in overrides}
    return [
        override(k, OmegaConf.select(OmegaConf.create(cfg), k))
        for k in (params or {})
        if k != "seed" and k not in given
    ]


Plan = controls.values_class(
    WHATIF,
    "Plan",
    "One plan's control values (fields, defaults and checks from `controls.CONTROLS`).",
    overrides=_plan_overrides,
)


def horizon_of(horizon: int | None) -> int:
    """The horizon in days: `horizon`, or the config's (`horizon_days`' default) for None."""
    return controls.page(RUN)["horizon_days"].default if horizon is None else horizon


def check_run(seeds: int, horizon: int | None) -> None:
    """Refuse a seed count or horizon outside the page's ranges (the table's run settings)."""
    run = controls.page(RUN)
    run["seeds"].check(seeds)
    run["horizon_days"].check(horizon_of(horizon))


def run_overrides(s: Plan, horizon: int | None = None) -> list[str]:
    """A plan's overrides and the horizon, when not the config's; always when the plan loads an
    experiment (which may set its own: testing_value runs three years)."""
    out = s.overrides()
    days = horizon_of(horizon)
    if experiment_of(out):
        return [*out, override("horizon_days", days)]
    return [*out, *CONTROLS["horizon_days"].override(days)]


def command(s: Plan, seeds: int, horizon: int | None = None) -> str:
    """The `privsim -m …` multirun that reproduces a scenario's runs (seeds 0 … N−1)."""
    return " ".join(["privsim -m", *run_overrides(s, horizon), f"'seed=range(0,{int(seeds)})'"])


def phrase(name: str, value) -> str:
    """One control's value in words, for a title: `3 operators`, `paid ads 2,000 yuan/day`."""
    c = CONTROLS[name]
    if c.sets == "strategy":
        return str(value)
    if c.sets == "experiment":
        v = c.means[value]
        return f"alternatives to test ({v})" if v else "no alternatives to test"
    if c.means is not None:
        return f"{value} of fit (spread {c.means[value]:g})"
    shown = f"{value:,.0f}" if isinstance(value, (int, float)) and value >= 1000 else c.shown(value)
    if c.phase_key is not None:
        return f"{c.label.split(' (')[0]} {shown}"
    if c.name == "ad_volume":
        return f"{labels.words(c.sets.split('.')[-2])} volume ×{shown}"
    if c.sets == "operators.fixed":
        return f"{shown} operators"
    if c.name == "fission":
        return f"fission share {shown}"
    return labels.level_label(c.sets, shown)


def titles(scenarios: list[Plan]) -> list[str]:
    """Each scenario's name: its number, its strategy and what sets it apart — from the
    defaults for the first, from the first for the others (`S2 · staged · 3 operators · paid
    ads 2,000 yuan/day`). Unique: the number leads."""
    first = scenarios[0].__dict__ if scenarios else {}
    out = []
    for i, s in enumerate(scenarios):
        ref = controls.defaults(WHATIF) if i == 0 else first
        parts = [s.strategy] + [
            phrase(k, v) for k, v in s.__dict__.items() if k != "strategy" and v != ref[k]
        ]
        out.append(" · ".join([f"S{i + 1}", *parts]))
    return out


def planned_spend(s: Plan) -> dict[str, list[tuple[str, float]]]:
    """Per channel of the composed plan: [(phase, yuan/day)] it plans to spend, at day 0's unit
    cost (the cost rises with time and volume bought: DOMAIN §2.5, `acquisition.unit_cost`): a
    stated budget as stated, else the phase's users per day × the channel's share × its
    volume_scale × that cost. Channels a plan never buys are left out."""
    sc = build(compose(s.overrides()))
    out: dict[str, list[tuple[str, float]]] = {}
    for name, ch in sorted(sc.channels.items()):
        for ph in sc.strategy.phases:
            if ch.budget_per_day is not None:
                per_day = ch.budget_per_day
            else:
                users = (ph.daily_users or 0) * ph.channel_mix.get(name, 0.0) * ch.volume_scale
                per_day = users * unit_cost(ch, 0, 0.0)
            if per_day > 0:
                out.setdefault(name, []).append((ph.name, per_day))
    return out


def budget_note(s: Plan, channel: str) -> str:
    """The card's note under a channel's budget: the plan's spend per phase (`planned_spend`
    with the budget left as planned) and, once a budget is typed, what it is against that plan
    in each phase. One budget replaces every phase's plan, so twice the first phase's can be a
    cut in the later ones, which the runs' spend then shows (issue #25)."""
    key = f"budget_{channel}"
    budget = getattr(s, key)
    plan = planned_spend(replace(s, **{key: None})).get(channel, [])
    text = "planned: " + (", ".join(f"{v:,.0f} yuan/day ({ph})" for ph, v in plan) or "none")
    if budget is None:
        return text
    vs = ", ".join(f"×{budget / v:.2f} in {ph}" for ph, v in plan)
    scale = CONTROLS["ad_volume"]
    hint = (f" (to scale the plan in every phase instead: \"{scale.label.split(' (')[0]}\")"
            if scale.sets.split(".")[-2] == channel else "")  # fmt: skip
    return f"{text}. {budget:,.0f} yuan/day replaces the plan in every phase" + (
        f": {vs}" if vs else ""
    ) + hint


def fit_note(s: Plan) -> str:
    """The card's note under "how sure are you that … fits": the spread each answer maps to,
    that this assumption decides "test first or launch big?", and which case the plan's brand
    is (`alternatives`): with alternatives to test (its candidates per dimension, named), a 0-1
    test can commit a better fit than the guess; with none (`fit.place.pools`,
    `fit.goods.variants`, `fit.people.channels` empty, as in the configs' default), it cannot
    pick a better fit, only hold scaling at its gate (DOMAIN §3.1)."""
    words = CONTROLS["fit"].means
    text = (", ".join(f"{w} = fit.spread {v:g}" for w, v in words.items())
            + " (sd of log fit, DOMAIN §3.1). This assumption decides \"test first or launch "
            "big?\": at 0 everything fits as configured, so a test can only "
            "cost time.")  # fmt: skip
    sc = build(compose(s.overrides()))
    guess = guesses(sc)
    named = {d: c for d, c in candidates(sc).items() if len(c) > 1}
    if named:
        listed = "; ".join(f"{d}: {', '.join(c)} (guess: {guess[d]})" for d, c in named.items())
        return text + (
            f" This brand has alternatives to test ({listed}; a big launch runs the guess "
            "untested): a 0-1 test can commit a better fit than the guess. On the strategy "
            "map's brands the more unsure, the more that paid from two or three years on, and "
            "within one year testing first never won: compare at a horizon of 730 or 1,095 "
            "days (experiments/strategy_map.md)."
        )
    return text + (
        " This brand has no alternative pool, product or channel to test, so a 0-1 test cannot "
        "pick a better fit: it only holds scaling until measured conversion passes its gate. "
        "\"The more unsure, the more a test pays\" was measured on brands with alternatives: "
        f"answer yes to \"{controls.ALTERNATIVES_QUESTION}\" to give the test some "
        "(experiments/strategy_map.md; the trainer's page's lesson \"An untested launch\")."
    )


def volume_note(s: Plan) -> str:
    """The card's note under the paid-ads volume: the plan's paid-ads spend per phase at this
    volume and at ×1, yuan/day at day 0's unit cost (`planned_spend`). The volume scales the
    users bought in every phase alike (`channels.paid_ads.volume_scale`); the unit cost climbs
    with the volume bought (DOMAIN §2.5), so the runs spend more than the volume's multiple,
    which the table's spend column shows. A typed paid-ads budget replaces the plan, volume
    included (`model._acquire`)."""
    c = CONTROLS["ad_volume"]
    channel = c.sets.split(".")[-2]
    if getattr(s, f"budget_{channel}") is not None:
        return f"A {labels.words(channel)} budget is typed: it replaces the plan, so this volume "\
            "changes nothing."  # fmt: skip
    plan = dict(planned_spend(replace(s, ad_volume=c.keep)).get(channel, []))
    now = dict(planned_spend(s).get(channel, []))
    at = ", ".join(f"{now.get(ph, 0.0):,.0f} ({ph})" for ph in plan) or "none"
    text = f"{labels.words(channel)} spend at ×{s.ad_volume:g}: {at} yuan/day"
    if s.ad_volume != c.keep:
        text += "; the plan's (×1): " + ", ".join(f"{v:,.0f}" for v in plan.values())
    return text + (
        ", at day 0's unit cost. The unit cost climbs with the volume bought (DOMAIN §2.5), so "
        "the runs' spend (the table) grows faster than the volume."
    )


def evaluations(scenarios: list[Plan], seeds: int, horizon: int | None = None):
    """(bases, evaluations) for `run_batch`: one composed base per scenario, seeds 0 … N−1."""
    if not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise ValueError(f"scenarios: {len(scenarios)}; allowed: 1 to {MAX_SCENARIOS}")
    check_run(seeds, horizon)
    names = titles(scenarios)
    bases = {n: compose(run_overrides(s, horizon)) for n, s in zip(names, scenarios, strict=True)}
    for cfg in bases.values():  # the one config build: refused here as the CLI refuses it
        model_kwargs(cfg)
    evs = [Evaluation({}, seed, base=name) for name in bases for seed in range(seeds)]
    return bases, evs


def run(scenarios, seeds, horizon=None, progress=False, n_jobs=N_JOBS) -> list[Result]:
    """Run every scenario's seeds through the batch engine."""
    bases, evs = evaluations(scenarios, seeds, horizon)
    return run_batch(bases, evs, n_jobs=n_jobs, progress=progress)


def runs_table(results: list[Result]) -> pd.DataFrame:
    """The finished runs, one row per run: `group` (the scenario's label), `seed`, summary
    (with `spend_<channel>`: yuan over the horizon)."""
    frame = results_frame(results)
    frame = frame[frame["status"] == "finished"].rename(columns={"base": "group"})
    for col in YARDSTICKS:
        if col not in frame:
            frame[col] = np.nan
    return frame.reset_index(drop=True)


def decided(scenarios: list[Plan], results: list[Result], horizon: int | None = None) -> dict:
    """Per scenario title, what its strategy's gates and rules did over its finished runs
    (`sim.viz.plan_outcomes.decisions`): why two plans can end with the same numbers."""
    done = runs_table(results)
    return {
        name: plan_outcomes.decisions(
            build(compose(run_overrides(s, horizon))).strategy, done[done["group"] == name]
        )
        for name, s in zip(titles(scenarios), scenarios, strict=True)
    }


def spend_channels(done: pd.DataFrame, spent: bool = False) -> list[str]:
    """The channels whose spend the runs carry (`spend_<channel>`), in the config's order; with
    `spent`, only those that spend in some run (a column of zeros says nothing a reader needs)."""
    cols = [c for c in sorted(controls.base()["channels"]) if f"spend_{c}" in done]
    return [c for c in cols if not spent or (done[f"spend_{c}"].astype(float) > 0).any()]


def comparison(results: list[Result], horizon: int | None = None) -> pd.DataFrame:
    """The comparison table, one row per scenario in the order run: `scenario`, `runs`,
    `failed`, for each yardstick `<col>_p10`, `<col>_p50`, `<col>_p90` (percentiles across the
    seeds with a value) and `<col>_n` (those seeds), `spend_<channel>_per_day_p50` (median
    across seeds of the channel's spend ÷ the horizon's days, yuan/day) and `p_best` on profit
    (the share of seeds in which the scenario had the highest profit, paired by seed, ties
    sharing: `sim.viz.report.ranking`)."""
    names = list(dict.fromkeys(r.evaluation.base for r in results))
    done = runs_table(results)
    days = horizon_of(horizon)
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
        for ch in spend_channels(done):
            v = sub[f"spend_{ch}"].astype(float).dropna().to_numpy()
            row[f"spend_{ch}_per_day_p50"] = float(np.median(v)) / days if v.size else np.nan
        row["p_best"] = float(best.get(name, np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def cell(row: dict | pd.Series, col: str) -> str:
    """ "median (10th–90th)" of a yardstick, with the seeds that had no value said."""
    _, fmt, _ = YARDSTICKS[col]
    if row[f"{col}_n"] == 0:
        return "not within the horizon" if col == "payback_day" else "not measurable in the horizon"
    lo, med, hi = (fmt(row[f"{col}_p{q}"]) for q in report.PERCENTILES)
    text = f"{med} ({lo} – {hi})"
    if row[f"{col}_n"] < row["runs"]:
        text += f" [{row[f'{col}_n']} of {row['runs']} seeds]"
    return text


def spend_cell(row: dict | pd.Series) -> str:
    """Acquisition spend by channel, yuan/day (median across seeds) as money (`story.yuan`), one
    channel a line: only the channels that spend (a median above 0; under 1 yuan/day shown as
    `< ¥1`), `none` when none does, `–` when no seed has a value."""
    medians = {
        k[len("spend_") : -len("_per_day_p50")]: v
        for k, v in dict(row).items()
        if k.endswith("_per_day_p50") and not np.isnan(v)
    }
    lines = [
        f"{labels.words(c)}: {'< ¥1' if v < 0.5 else yuan(v)}"
        for c, v in medians.items()
        if v > 0
    ]
    return "\n".join(lines) or ("none" if medians else "–")


MONEY = re.compile(r"−?¥[\d,.]+[kM]?")  # a `story.yuan` value in a cell's text


def _cell_html(text: str) -> str:
    """A cell's text as HTML, each money value on one line: a browser breaks a narrow column
    between a minus sign and the ¥ (`−` / `¥87k`)."""
    return MONEY.sub(lambda m: f"<span class='nb'>{m[0]}</span>", html.escape(text))


def table_html(
    table: pd.DataFrame,
    commands: dict[str, str],
    horizon: int | None = None,
    decisions: dict[str, str] | None = None,
) -> str:
    """The comparison table as HTML: one row per scenario, then its command in a row of its own
    across the table (wrapping at spaces, never inside an override, so it reads and copies
    whole) and, given `decisions` (`decided`), what its gates and rules did in another; the
    headings name the horizon."""
    days = horizon_of(horizon)
    heads = [
        "Scenario",
        *(v[0].replace("horizon", f"{days}-day horizon") for v in YARDSTICKS.values()),
        "Acquisition spend by channel (yuan/day over the horizon)",
        "P(best) on profit",
    ]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    body = []
    for row in table.to_dict("records"):
        pb = "–" if np.isnan(row["p_best"]) else f"{row['p_best']:.0%}"
        runs = f"{row['runs']} seeds" + (f", {row['failed']} failed" if row["failed"] else "")
        name = f"<b>{html.escape(row['scenario'])}</b> <small>({runs})</small>"
        cells = "".join(f"<td>{_cell_html(cell(row, c))}</td>" for c in YARDSTICKS)
        spend = _cell_html(spend_cell(row)).replace("\n", "<br>")
        command = html.escape(commands.get(row["scenario"], ""))
        body.append(
            f"<tr class='scenario-row'><td>{name}</td>{cells}<td class='spend'>{spend}</td>"
            f"<td>{pb}</td></tr><tr class='command-row'><td colspan='{len(heads)}'>Reproduce: "
            f"<code class='command'>{command}</code></td></tr>"
        )
        if decisions and row["scenario"] in decisions:
            body.append(
                f"<tr class='decisions-row'><td colspan='{len(heads)}'>{DECISIONS}: "
                f"{html.escape(decisions[row['scenario']])}</td></tr>"
            )
    return f"<table class='whatif-table'><tr>{head}</tr>{''.join(body)}</table>"


DECISIONS = "What its gates and rules did"
DECISIONS_TERM = (
    "per phase gate, how many of the scenario's runs passed it, failed it (and what the "
    "strategy then did) or never reached it, on which days; per spend rule, the runs in which "
    "it cut the channel; whether a pace rule hired or a stop-loss fired"
)
NOTE = (
    "Each cell: median across seeds (10th – 90th percentile). Seed k is the same simulated "
    "brand in every scenario. The terms are defined in the glossary below the table."
)


def glossary(scenarios: list[Plan], horizon: int | None = None) -> list[tuple[str, str]]:
    """(term, definition) of every term the page shows: the yardsticks and money as their
    declarations define them (`labels.summary_term`, `labels.daily_term`), the strategies,
    pools and businesses the scenarios name as their configs say (`labels.config_definition`),
    and the page's own words (`labels.TERMS`)."""
    days = horizon_of(horizon)
    out = []
    for col, (label, _, _) in YARDSTICKS.items():
        _, unit, text = labels.summary_term(col)
        out.append((label, f"{text} (unit: {unit}; here over {days} days)"
                    if col == "profit" else f"{text} (unit: {unit})"))  # fmt: skip
    spend = labels.daily_term("spend_{channel}")[1].split("; only with")[0]
    out.append(("Acquisition spend by channel", f"{spend}; the table shows the run's total "
                f"÷ its {days} days (yuan/day), median across seeds, for the channels that "
                "spend (none: no channel spends)"))  # fmt: skip
    named = {
        "strategy": [*(s.strategy for s in scenarios), *GLOSSARY_STRATEGIES],
        "pool": [s.pool for s in scenarios],
        "business": [s.business for s in scenarios],
    }
    for group, names in named.items():
        out += [(n, labels.config_definition(group, n)) for n in dict.fromkeys(names)]
    out.append((DECISIONS, DECISIONS_TERM))
    out += list(labels.TERMS.items())
    return list(dict(out).items())  # one definition per term, in first-seen order


def glossary_html(terms: list[tuple[str, str]]) -> str:
    items = "".join(
        f"<dt>{html.escape(t)}</dt><dd>{html.escape(d)}</dd>" for t, d in terms
    )
    return f"<dl class='glossary'>{items}</dl>"


def figure(results: list[Result]):
    """Profit and LTV/CAC at 90 days by scenario: every seed, median and 10th–90th percentile."""
    done = runs_table(results)
    fig, (ax1, ax2) = plots.figure(11, 3.6, ncols=2, layout="constrained")
    plots.by_group(ax1, done, "profit", "profit over the horizon (yuan)", 0.0, "break-even")
    money_axis(ax1.yaxis)
    if done["ltv_cac_90d"].notna().any():
        plots.by_group(ax2, done, "ltv_cac_90d", "LTV/CAC at 90 days", 1.0, "LTV = CAC")
    else:
        plots.empty(ax2, "no cohort 90 days old yet:\nLTV/CAC at 90 days not measurable")
    for ax in (ax1, ax2):
        ax.set_xlabel("scenario", fontsize=9)
    return fig
