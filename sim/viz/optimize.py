"""`privsim-optimize`: write what a policy search found (`sim.experiment.optimize`).

Writes into `--out` (default `results/optimize/<name>/`), each file atomically:

- `policy.yaml`: the chosen policy as a strategy YAML: the scenario's whole strategy with the
  chosen values of its `strategy.*` parameters applied (`name: optimized_<spec>`). Run it by
  copying it into the strategy group, `cp <out>/policy.yaml configs/strategy/optimized_<spec>.yaml`,
  then `privsim strategy=optimized_<spec> $(cat <out>/policy.args)`; `policy.args` holds the
  scenario's other overrides, the brands' uncertainty and any chosen value outside `strategy.`
  (e.g. a channel budget), one per line;
- `trials.csv`: one row per optuna trial (state, values, mean objective, downside, on the
  Pareto front, chosen);
- `report.md`: the chosen parameters in words, the in-sample and fresh-brand results of the
  chosen policy and the starting point, every number defined;
- `study.db` (the optuna study; re-running resumes it) and `evaluations/` (run cache) are the
  search's own.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.experiment.batch import apply_values
from sim.experiment.config import override
from sim.experiment.jobs import atomic_write, write_text
from sim.experiment.optimize import OptimizeResult
from sim.experiment.optimize_spec import CVAR_SHARE

STRATEGY = "strategy."


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
    rest = {**spec.scenario, **spec.uncertainty}
    rest.update({k: v for k, v in result.chosen.items() if not k.startswith(STRATEGY)})
    return [override(k, v) for k, v in rest.items() if k != "strategy"
            and not k.startswith(STRATEGY)]  # fmt: skip


def money(v: float) -> str:
    return "n/a" if v != v else f"{v / 1e6:,.2f} M"


def _row(name: str, o, downside: str | None) -> str:
    cells = [name, money(o.mean), money(o.se), str(o.npv.size)]
    if downside:
        d = o.downside
        cells.append(f"{d:.0%}" if downside == "loss_probability" else money(d))
    return "| " + " | ".join(cells) + " |"


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
    unc = ", ".join(f"{k}={v}" for k, v in spec.uncertainty.items()) or "none"
    lines += [
        f"Scenario: {', '.join(f'{k}={v}' for k, v in spec.scenario.items()) or 'the default'}; "
        f"brands' uncertainty: {unc}. Search: {len(result.trials)} optuna trials "
        f"({'NSGA-II, mean NPV and ' + spec.downside if spec.downside else 'TPE, mean NPV'}) on "
        f"{spec.brands} brands ({brands}, the same for every trial); validation on "
        f"{spec.fresh_brands} fresh brands ({fresh}). Runs simulated: "
        f"{result.computed['search']} (search) + {result.computed['validation']} (validation), "
        f"the rest read from the cache; {result.seconds:,.0f} s.",
        "",
        "## The chosen policy",
        "",
        f"Trial {result.chosen_trial}. "
        + (
            "Rule: the completed trial with the highest mean NPV (ties: the earlier trial)."
            if not spec.downside
            else f"Rule: among completed trials whose {spec.downside} is no worse than the "
            "starting point's, the highest mean NPV (ties: the earlier trial)."
        ),
        "",
        "| parameter | starting point | chosen | searched range | why |",
        "|---|---|---|---|---|",
    ]
    for p in result.parameters:
        rng = f"{p.low:g}-{p.high:g} ({p.scale}{', whole numbers' if p.integer else ''})"
        lines.append(f"| {p.key} | {result.start[p.key]:g} | {result.chosen[p.key]:g} | {rng} "
                     f"| {p.why} |")  # fmt: skip
    head = ["policy", f"mean NPV at {h} days", "standard error", "brands"]
    if spec.downside:
        head.append(spec.downside)
    for title, outcomes in (("In-sample (the search's brands)", result.in_sample),
                            ("Out-of-sample (fresh brands)", result.fresh)):  # fmt: skip
        lines += ["", f"## {title}", "", "| " + " | ".join(head) + " |",
                  "|" + "---|" * len(head)]  # fmt: skip
        for name in ("chosen", "start"):
            if name in outcomes:
                lines.append(_row({"chosen": "chosen", "start": "starting point"}[name],
                                  outcomes[name], spec.downside))  # fmt: skip
        if {"chosen", "start"} <= set(outcomes):
            d = outcomes["chosen"].npv - outcomes["start"].npv
            se = d.std(ddof=1) / d.size**0.5 if d.size > 1 else float("nan")
            lines += ["", f"Chosen − starting point, paired by brand: {money(d.mean())} "
                      f"(standard error {money(se)})."]  # fmt: skip
    lines += [
        "",
        "## Definitions",
        "",
        f"- *NPV at {h} days* (`{spec.metric}`): the brand's daily profit (margin − acquisition "
        f"spend − team, KOC and systems cost) of days 0 … {h - 1}, each day discounted to day 0 "
        "at economics.discount_rate_annual (DOMAIN §4); in yuan, M = million.",
        "- *Mean NPV*: the mean over the brands; *standard error*: their standard deviation "
        "(divisor n − 1) / √n; a brand is one seed of the scenario (its latent fits, DOMAIN "
        "§3.1).",
        "- *Paired difference*: chosen − starting point on the same brand, averaged.",
        "- *In-sample* numbers are on the brands the search chose on: the best of many trials "
        "is biased upward there; the fresh brands' numbers are the estimate to read.",
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
    lines += [""] + [f"Note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def write(result: OptimizeResult, out_dir, command: str = "") -> Path:
    """Write policy.yaml/.args, trials.csv and report.md; returns the report's path."""
    out = Path(out_dir)
    header = (
        f"# The policy privsim-optimize {result.spec.name} chose (see report.md). Run:\n"
        f"#   cp {out}/policy.yaml configs/strategy/{policy_name(result)}.yaml\n"
        f"#   privsim strategy={policy_name(result)} $(cat {out}/policy.args)\n"
    )
    write_text(out / "policy.yaml", header + yaml.safe_dump(policy(result), sort_keys=False))
    write_text(out / "policy.args", "".join(f"{a}\n" for a in policy_args(result)))
    atomic_write(out / "trials.csv", lambda t: result.trials.to_csv(t, index=False))
    write_text(out / "report.md", report_md(result, out, command))
    return out / "report.md"
