"""`privsim-optimize`: write what a policy search found (`sim.experiment.optimize`).

Writes into `--out` (default `results/optimize/<name>/`), each file atomically:

- `policy.yaml`: the chosen policy as a strategy YAML: the scenario's whole strategy with the
  chosen values of its `strategy.*` parameters applied (`name: optimized_<spec>`). Run it by
  copying it into the strategy group, `cp <out>/policy.yaml configs/strategy/optimized_<spec>.yaml`,
  then `privsim strategy=optimized_<spec> $(cat <out>/policy.args)`; `policy.args` holds the
  scenario's other overrides, the brands' uncertainty and any chosen value outside `strategy.`
  (e.g. a channel budget), one per line;
- `trials.csv`: one row per optuna trial (state: completed, pruned or failed; values, mean
  objective over the brands it ran, downside, on the Pareto front, chosen);
- `fresh.png`: each fresh brand's NPV under the chosen policy, the starting points and the
  presets, joined brand by brand; `front.png` (with a downside): mean NPV against the downside
  for every completed trial, the Pareto front, the starting points and the chosen one;
- `report.md`: the chosen parameters in words, every policy's in-sample and fresh-brand results
  with its paired difference to the chosen one, the parameters that matter, every number
  defined; `report.html`: the same as one self-contained page, figures embedded, to forward
  or print (`sim.viz.export`, issue #25);
- `workbook.xlsx`: the trials (as `trials.csv`), each policy's NPV brand by brand (search and
  fresh brands) and an About sheet defining every column;
- `study.db` (the optuna study; re-running resumes it) and `evaluations/` (run cache) are the
  search's own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.experiment.batch import apply_values
from sim.experiment.config import override
from sim.experiment.goal_spec import metric
from sim.experiment.jobs import atomic_write, write_text
from sim.experiment.optimize import OptimizeResult, standard_error
from sim.experiment.optimize_spec import CHOSEN, CVAR_SHARE, START
from sim.viz import export, plots

STRATEGY = "strategy."
FRESH, FRONT = "fresh.png", "front.png"
DOWNSIDE_AXIS = {
    "loss_probability": "probability of a loss: share of brands with NPV < 0 (%)",
    "cvar10": f"mean NPV of the worst {CVAR_SHARE:.0%} of brands (M yuan)",
}


def policy_name(result: OptimizeResult) -> str:
    return f"optimized_{result.spec.name}"


def policy(result: OptimizeResult) -> dict:
    """The chosen policy's strategy (the composed strategy with the chosen `strategy.*` values)."""
    mine = {k: v for k, v in result.chosen.items() if k.startswith(STRATEGY)}
    strategy = apply_values(result.base, mine)["strategy"]
    return {**strategy, "name": policy_name(result)}


def policy_args(result: OptimizeResult) -> list[str]:
    """What `privsim strategy=<policy>` needs besides the strategy, one override each."""
    spec = result.spec
    rest = {**spec.scenario, **spec.uncertainty.fixed}  # a drawn key: the user's brand's own
    rest.update({k: v for k, v in result.chosen.items() if not k.startswith(STRATEGY)})
    return [override(k, v) for k, v in rest.items() if k != "strategy"
            and not k.startswith(STRATEGY)]  # fmt: skip


def money(v: float) -> str:
    return "n/a" if v != v else f"{v / 1e6:,.2f} M"


def label(result: OptimizeResult, name: str) -> str:
    """How the report and the figures name a policy."""
    if name in (CHOSEN, START):
        return {CHOSEN: "chosen", START: "starting point"}[name]
    return f"start {name}" if name in result.spec.starts else f"preset {name}"


def number(v, unit: str = "") -> str:
    text = f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:.3g}"
    return f"{text} {unit}".strip()


def sentence(text: str) -> str:
    """`text` as a sentence: a capital first, a full stop last."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if not text or text[-1] in ".!?" else ".")


# ---------------------------------------------------------------------------- figures


def draw_fresh(result: OptimizeResult):
    """Each fresh brand's NPV by policy (`plots.by_brand`)."""
    spec = result.spec
    fig, (ax,) = plots.figure(max(6.0, 1.3 * len(result.fresh) + 2), 4.2, layout="constrained")
    plots.by_brand(ax, {label(result, n): o.npv for n, o in result.fresh.items()},
                   f"NPV at {spec.horizon()} days (M yuan)", scale=1e6)  # fmt: skip
    first, last = spec.brands, spec.brands + spec.fresh_brands - 1
    ax.set_title(f"Brands the search never saw: NPV at {spec.horizon()} days on "
                 f"{spec.fresh_brands} fresh brands (seeds {first}-{last})",
                 fontsize=10)  # fmt: skip
    return fig


def draw_front(result: OptimizeResult):
    """Mean NPV against the downside over the completed trials (`plots.front`)."""
    spec, df = result.spec, result.trials
    done = df[df["state"] == "COMPLETE"]
    mean, down = f"mean_{spec.metric}", spec.downside
    scale = 100.0 if down == "loss_probability" else 1e-6  # % or M yuan

    def xy(row):
        return float(row[down]) * scale, float(row[mean]) / 1e6

    marks = {f"{label(result, r['start'])} (trial {r['trial']})": xy(r)
             for _, r in done[done["start"] != ""].iterrows()}  # fmt: skip
    chosen = done[done["chosen"]].iloc[0]
    marks = {f"chosen (trial {chosen['trial']})": xy(chosen), **marks}
    fig, (ax,) = plots.figure(6.5, 4.5, layout="constrained")
    plots.front(ax, done[down] * scale, done[mean] / 1e6, done["pareto"], marks,
                DOWNSIDE_AXIS[down], f"mean NPV at {spec.horizon()} days over "
                f"{spec.brands} brands (M yuan)")  # fmt: skip
    better = "left" if down == "loss_probability" else "right"
    ax.set_title(f"Value against risk: {len(done)} completed trials (better: up and {better})",
                 fontsize=10)  # fmt: skip
    return fig


# ---------------------------------------------------------------------------- report


def _in_words(result: OptimizeResult) -> list[str]:
    """One sentence per parameter: the chosen value, against the starting point, and why."""
    lines = []
    for p in result.parameters:
        v, s = result.chosen[p.key], result.start[p.key]
        move = "as" if v == s else ("up from" if v > s else "down from")
        whole = ", whole numbers" if p.integer else ""
        edge = (" At the edge of the searched range: the best value may lie beyond it; widen "
                "the range to find out." if v in (p.low, p.high) else "")  # fmt: skip
        lines.append(
            f"- `{p.key}`: **{number(v, p.unit)}**, {move} {number(s, p.unit)} at the starting "
            f"point (searched {p.low:g}-{p.high:g}, {p.scale}{whole}). {sentence(p.why)}{edge}"
        )
    return lines


def _cell(x: np.ndarray) -> str:
    return f"{money(float(np.mean(x)))} ({money(standard_error(x))})"


def _table(result: OptimizeResult) -> list[str]:
    """Every policy in-sample beside out-of-sample, with its paired difference to the chosen."""
    spec = result.spec
    head = ["policy", "search brands: mean (SE)", "fresh brands: mean (SE)",
            "chosen − policy, search brands (SE)",
            "chosen − policy, fresh brands (SE)"]  # fmt: skip
    if spec.downside:
        head += [f"{spec.downside}: search brands", "fresh brands"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in (CHOSEN, *result.starts, *spec.presets):  # a failed one too, saying so
        cells = [label(result, name)]
        for got in (result.in_sample, result.fresh):
            cells.append(_cell(got[name].npv) if name in got else "failed")
        for got in (result.in_sample, result.fresh):
            pair = CHOSEN in got and name in got and name != CHOSEN
            cells.append(_cell(got[CHOSEN].npv - got[name].npv) if pair else "")
        if spec.downside:
            for got in (result.in_sample, result.fresh):
                d = got[name].downside if name in got else None
                cells.append("" if d is None else f"{d:.0%}" if spec.downside ==
                             "loss_probability" else money(d))  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _importances(result: OptimizeResult) -> list[str]:
    if result.importances is None:
        return ["Not computed: see the notes below."]
    why = {p.key: p.why for p in result.parameters}
    return [f"- `{k}`: {v:.0%}. {sentence(why.get(k, ''))}"
            for k, v in result.importances.items()] + [
        "", f"Each parameter's main effect on {result.importance_basis}: the variance across "
        "those trials that it explains alone, as a share of all the parameters' main effects "
        "(optuna's fANOVA, Hutter et al. 2014: a random forest fitted to the trials; "
        "interactions left out, the shares sum to 100 %). It rests on the trials the search "
        "chose to run, which crowd where it looked best.",
    ]  # fmt: skip


def _pruning(result: OptimizeResult) -> str:
    spec, df = result.spec, result.trials
    if not spec.rungs():
        return "no pruning: every trial ran on every brand."
    pruned = int((df["state"] == "PRUNED").sum())
    finished = int(df["state"].isin(["COMPLETE", "PRUNED"]).sum())
    rungs = ", then ".join(map(str, spec.rungs()))
    futility = ""
    if checks := spec.checks():
        by = df.get("pruned_by", pd.Series(dtype=str))
        futility = (
            f" Futility rule (α = {spec.futility:g}): at those points a trial is also stopped "
            f"where the chance that its mean over all {spec.brands} "
            f"brands ends above the best completed trial's, predicted from its paired "
            f"differences to that trial so far, is below α/{len(checks)}; "
            f"{int((by == 'futility').sum())} trials stopped so, "
            f"{int((by == 'halving').sum())} by halving."
        )
    return (
        f"pruning by optuna's successive halving (factor {spec.prune[1]}): a trial is scored on "
        f"its first {rungs} brands, and at each of those points stopped unless its mean ranks "
        f"among the best n/{spec.prune[1]} (at least the best one) of the n trials scored on "
        f"the same brands; starting points are never stopped.{futility} {pruned} of "
        f"{finished} trials pruned, saving {result.computed['saved']} runs of the "
        f"{finished * spec.brands} the trials would have made in full."
    )


def _answer(result: OptimizeResult) -> list[str]:
    """The fresh brands' verdict in words: the chosen policy's mean, and its paired difference
    to every other policy, flagged where it is within two standard errors of zero (about a 95 %
    interval: these brands cannot tell the two apart)."""
    fresh, n = result.fresh, result.spec.fresh_brands
    if CHOSEN not in fresh:
        return ["The chosen policy failed on the fresh brands: no out-of-sample result."]
    c = fresh[CHOSEN]
    text = (f"On {n} fresh brands (never seen by the search) the chosen policy's mean NPV at "
            f"{result.spec.horizon()} days is {money(c.mean)} (SE {money(c.se)}). Paired by brand, "
            "chosen − policy:")  # fmt: skip
    lines, close = [text, ""], []
    for name, o in fresh.items():
        if name == CHOSEN:
            continue
        d = c.npv - o.npv
        mean, se = float(d.mean()), standard_error(d)
        lines.append(f"- {label(result, name)}: {money(mean)} (SE {money(se)})")
        if not abs(mean) > 2 * se:
            close.append(label(result, name))
    if close:
        lines += ["", f"Within two standard errors of zero, so not told apart from the chosen "
                  f"policy by these {n} brands: {', '.join(close)}. Add fresh brands "
                  "(`fresh_brands`) before acting on such a difference."]  # fmt: skip
    return lines


def report_md(result: OptimizeResult, out: Path, command: str = "") -> str:
    spec = result.spec
    h = spec.horizon()
    lines = [f"# Policy search: {spec.name}", ""]
    if spec.question:
        lines += [spec.question, ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    brands = f"seeds 0-{spec.brands - 1}"
    fresh = f"seeds {spec.brands}-{spec.brands + spec.fresh_brands - 1}"
    unc = spec.uncertainty.words()
    presets = ", ".join(f"{n} ({', '.join(f'{k}={v}' for k, v in o.items())})"
                        for n, o in spec.presets.items()) or "none"  # fmt: skip
    method = f"NSGA-II, mean NPV and {spec.downside}" if spec.downside else "TPE, mean NPV"
    lines += [
        "## Answer",
        "",
        *_answer(result),
        "",
        "## Set-up",
        "",
        f"- Scenario: {', '.join(f'{k}={v}' for k, v in spec.scenario.items()) or 'the default'};"
        f" brands' uncertainty: {unc}.",
        f"- Search: {len(result.trials)} optuna trials ({method}) on {spec.brands} brands "
        f"({brands}, the same in the same order for every trial); {_pruning(result)}",
        f"- Validation: {spec.fresh_brands} fresh brands ({fresh}); presets measured beside the "
        f"chosen policy: {presets}.",
        f"- Cost: {result.computed['search']} runs simulated for the search and "
        f"{result.computed['validation']} for the validation ({result.computed['ahead']} of "
        f"them during the search, on workers its own runs left idle), the rest read from the "
        f"cache; {result.seconds:,.0f} s.",
        "",
        "## The chosen policy",
        "",
        f"Trial {result.chosen_trial}. "
        + (
            "Rule: the completed trial with the highest mean NPV over the search's brands (ties: "
            "the earlier trial), so no starting point beats it there."
            if not spec.downside
            else f"Rule: among completed trials whose {spec.downside} is no worse than the best "
            "starting point's, the highest mean NPV (ties: the earlier trial), so no starting "
            "point beats it on both."
        ),
        "",
        *_in_words(result),
    ]
    if spec.starts:
        lines += ["", "Starting points offered besides the scenario's values (trials run on "
                  "every brand):", ""]  # fmt: skip
        lines += [f"- {n}: " + ", ".join(f"`{k}` = {v:g}" for k, v in values.items())
                  for n, values in spec.starts.items()]  # fmt: skip
    lines += ["", f"## NPV at {h} days: search brands beside fresh brands", "", *_table(result)]
    if result.fresh:
        lines += ["", f"![Each fresh brand's NPV by policy]({FRESH})"]
    if spec.downside:
        lines += ["", f"![Mean NPV against {spec.downside}, every completed trial]({FRONT})"]
    lines += ["", "## The parameters the objective is most sensitive to", "",
              *_importances(result)]  # fmt: skip
    lines += [
        "",
        "## Definitions",
        "",
        f"- *NPV at {h} days* (`{spec.metric}`): the brand's daily profit (margin − acquisition "
        f"spend − team, KOC and systems cost) of days 0 … {h - 1}, each day discounted to day 0 "
        "at economics.discount_rate_annual (DOMAIN §4); in yuan, M = million.",
        "- *Mean*: over the brands; *SE* (standard error): their standard deviation (divisor "
        "n − 1) / √n; a brand is one seed of the scenario (its latent fits, DOMAIN §3.1).",
        "- *Chosen − policy*: the chosen policy's NPV minus the other's on the same brand, "
        "averaged over the brands, with the standard error of those differences (paired: the "
        "brand's own luck cancels).",
        "- *Search brands* are those the search chose on: the best of many trials is biased "
        "upward there; the *fresh brands*' numbers are the estimate to read.",
        "- *Starting point*: the scenario's own values (trial 0); *start <name>*: another "
        "starting point of the spec's `starts`; *preset <name>*: a policy the search does not "
        "vary (the spec's `presets`), run as it is.",
    ]
    if spec.downside == "loss_probability":
        lines.append("- *loss_probability*: the share of brands with NPV < 0.")
    elif spec.downside == "cvar10":
        lines.append(f"- *cvar10*: the mean NPV of the worst ⌈{CVAR_SHARE:.0%} of brands⌉ "
                     "(at least one).")  # fmt: skip
    lines += [
        "",
        "## Running the chosen policy",
        "",
        "```",
        f"cp {out}/policy.yaml configs/strategy/{policy_name(result)}.yaml",
        f"privsim strategy={policy_name(result)} $(cat {out}/policy.args)",
        "```",
    ]
    lines += [""] + [f"Failed: {f}" for f in result.failed] + [f"Note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- workbook

TRIAL_TERMS = {
    "trial": "optuna's trial number (trial 0: the scenario's own values, the starting point)",
    "state": "COMPLETE (ran on every search brand), PRUNED (stopped early: see report.md) or "
    "FAIL",
    "pruned_by": "what stopped a pruned trial: halving (successive halving's rank) or futility "
    "(unlikely to end above the best completed trial); empty otherwise",
    "start": "the starting point the trial ran (`start`, or a name of the spec's `starts`); "
    "empty for a trial the search proposed",
    "pareto": "on the Pareto front: no completed trial has both a higher mean NPV and a better "
    "downside",
    "brands": "search brands the trial ran (seeds 0 …; fewer when pruned)",
    "error": "why the trial failed (empty otherwise)",
    "chosen": "the trial the choice rule picked (report.md, 'The chosen policy')",
}


def brands_frame(result: OptimizeResult) -> pd.DataFrame:
    """Each policy's NPV brand by brand: on the search brands and on the fresh ones."""
    spec, rows = result.spec, []
    for sample, got, first in (("search", result.in_sample, 0),
                               ("fresh", result.fresh, spec.brands)):  # fmt: skip
        for name, o in got.items():
            rows += [dict(policy=label(result, name), brands=sample, seed=first + i,
                          **spec.uncertainty.values(first + i), npv=v)
                     for i, v in enumerate(o.npv)]  # fmt: skip
    drawn = [d.key for d in spec.uncertainty.drawn]  # each brand's draws, beside its NPV
    frame = pd.DataFrame(rows, columns=["policy", "brands", "seed", *drawn, "npv"])
    return frame.rename(columns={"npv": spec.metric})


def workbook_about(result: OptimizeResult) -> dict[str, str]:
    """Every column of the workbook's sheets, defined with its unit and horizon."""
    spec = result.spec
    m = metric(spec.metric, "objective.metric")
    npv = f"{m.label}: {m.definition}. Unit: {m.unit}."
    out = {f"trials: {k}": v for k, v in TRIAL_TERMS.items() if k in result.trials}
    for p in result.parameters:
        out[f"trials: {p.key}"] = (f"the value the trial ran: {p.why} ({p.unit or 'no unit'}; "
                                   f"searched {p.low:g}-{p.high:g}, {p.scale} scale)")  # fmt: skip
    out[f"trials: mean_{spec.metric}"] = f"mean over the brands the trial ran of the {npv}"
    if spec.downside:
        out[f"trials: {spec.downside}"] = DOWNSIDE_AXIS[spec.downside] + ", over the same brands"
    out.update({
        "NPV by brand: policy": "chosen, starting point, start <name> or preset <name> (report.md)",
        "NPV by brand: brands": "search: the brands the search chose on (seeds 0 … "
        f"{spec.brands - 1}); fresh: brands it never saw (seeds {spec.brands} …)",
        "NPV by brand: seed": "the brand (one seed of the scenario: its latent fits, DOMAIN §3.1)",
        **{f"NPV by brand: {d.key}": f"the brand's own value, {d.words()}"
           + (f": {d.why}" if d.why else "") for d in spec.uncertainty.drawn},
        f"NPV by brand: {spec.metric}": f"the policy's {npv}",
    })  # fmt: skip
    return out


def workbook(result: OptimizeResult) -> bytes:
    sheets = {"trials": result.trials, "NPV by brand": brands_frame(result)}
    return export.workbook(sheets, workbook_about(result))


def write(result: OptimizeResult, out_dir, command: str = "") -> Path:
    """Write policy.yaml/.args, trials.csv, the figures, workbook.xlsx, report.html and
    report.md (last); returns the report's path."""
    out = Path(out_dir)
    header = (
        f"# The policy privsim-optimize {result.spec.name} chose (see report.md). Run:\n"
        f"#   cp {out}/policy.yaml configs/strategy/{policy_name(result)}.yaml\n"
        f"#   privsim strategy={policy_name(result)} $(cat {out}/policy.args)\n"
    )
    write_text(out / "policy.yaml", header + yaml.safe_dump(policy(result), sort_keys=False))
    write_text(out / "policy.args", "".join(f"{a}\n" for a in policy_args(result)))
    atomic_write(out / "trials.csv", lambda t: result.trials.to_csv(t, index=False))
    if result.fresh:
        plots.save(draw_fresh(result), out / FRESH, dpi=120)
    if result.spec.downside:
        plots.save(draw_front(result), out / FRONT, dpi=120)
    text = report_md(result, out, command)
    export.write_atomic(out / "workbook.xlsx", workbook(result))
    export.write_atomic(out / "report.html", export.markdown_report(text, out))
    write_text(out / "report.md", text)
    return out / "report.md"
