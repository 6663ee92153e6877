"""`privsim-goal`: say and draw what a goal seek found (`sim.experiment.goal`).

Writes into `--out` (default `results/goal/<name>/`), each file atomically:

- `report.md`: the question, the answer in one paragraph (the same one the command prints),
  every value probed with its mean ± standard error over brands, definitions, notes;
- `probes.csv`: one row per value probed (`sim.experiment.goal.probes_frame`), each brand's
  metric included;
- `goal.png`: the metric's mean ± one standard error against the value, the constraint's line
  (or, for `best`, a second panel with the loss probability and its cap) and the answer marked;
- `evaluations/` (the run cache) is the search's own: re-running reads it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.experiment.brands import mean_se
from sim.experiment.goal import GoalResult, Probe, probes_frame
from sim.experiment.jobs import atomic_write, write_text
from sim.viz import plots

WORDS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
PLAIN = "mean ± standard error over brands"


def amount(result: GoalResult, v) -> str:
    """A value of the searched key (or a text) with its unit."""
    text = v if isinstance(v, str) else f"{v:,g}"
    return f"{text} {result.spec.parameter.unit}".strip()


def constraint(result: GoalResult) -> str:
    spec = result.spec
    if spec.keep is not None:
        k = spec.keep
        return f"mean {k.metric.label} {WORDS[k.op]} {k.metric.show(k.threshold)}"
    return "" if spec.loss_cap is None else f"loss probability ≤ {spec.loss_cap:.0%}"


def shown(result: GoalResult, q: Probe) -> str:
    m = result.spec.metric
    return f"{m.show(q.mean)} ± {m.show(q.se)}"


def difference(result: GoalResult, a: Probe, b: Probe) -> str:
    """a − b on the same brands, mean ± standard error."""
    m = result.spec.metric
    d, se = mean_se(a.brands - b.brands)
    sign = "+" if d >= 0 else "−"
    return f"{sign}{m.show(abs(d))} ± {m.show(se)}"


def answer_text(result: GoalResult) -> str:
    """The answer in one paragraph, every number defined."""
    spec, a, p = result.spec, result.answer, result.spec.parameter
    m, n = spec.metric, spec.brands
    where = f"{p.key} in {amount(result, f'[{p.low:,g}, {p.high:,g}]')}"
    if result.outcome == "nowhere":
        end = max(result.probes, key=lambda q: q.index if spec.search == "smallest" else -q.index)
        lead = (f"No value of {where} keeps {constraint(result)} over {n} brands: at "
                f"{amount(result, end.value)}, the range's most favourable end, "
                f"{shown(result, end)}.")  # fmt: skip
    elif result.outcome == "infeasible":
        least = min(q.loss for q in result.probes)
        safest = [q for q in result.probes if q.loss == least]
        top = max(safest, key=lambda q: (q.mean, -q.index))
        at = ", ".join(amount(result, q.value) for q in sorted(safest, key=lambda q: q.index))
        lead = (f"No value of {where} keeps the {constraint(result)} over {n} brands: the "
                f"lowest probed is {least:.0%}, at {at}; of those, {amount(result, top.value)} "
                f"has the highest mean {m.label}, {shown(result, top)}.")  # fmt: skip
    elif spec.search == "best":
        cap = f" among values with {constraint(result)}" if spec.loss_cap is not None else ""
        lead = (f"The value of {where} with the highest mean {m.label} over {n} brands{cap}: "
                f"**{amount(result, a.value)}**, {shown(result, a)}, loss probability "
                f"{a.loss:.0%} ({int(round(a.loss * n))} of {n} brands lose).")  # fmt: skip
        for q in result.neighbours:
            lead += (f" At {amount(result, q.value)}, the next value probed: {shown(result, q)} "
                     f"(loss probability {q.loss:.0%}); paired by brand, "
                     f"{amount(result, a.value)} minus it: "
                     f"{difference(result, a, q)}.")  # fmt: skip
    else:
        word = spec.search.capitalize()
        lead = f"{word} {where} that keeps {constraint(result)} over {n} brands: "
        lead += f"**{amount(result, a.value)}**, {shown(result, a)}."
        for q in result.neighbours:
            side = "below" if spec.search == "smallest" else "above"
            lead += (f" At {amount(result, q.value)}, the next value probed {side}: "
                     f"{shown(result, q)} (fails); paired by brand, the difference "
                     f"{difference(result, a, q)}.")  # fmt: skip
    probes = len(result.probes)
    tail = (f" ({PLAIN}.) {m.label}: {m.definition}. Brands: seeds 0–{n - 1} of "
            f"{scenario(result)}. {probes} values probed, {probes * n} runs "
            f"({result.computed} simulated, the rest read from the cache).")  # fmt: skip
    return lead + tail + "".join(f" Note: {x}." for x in result.notes)


def scenario(result: GoalResult) -> str:
    spec = result.spec
    parts = [f"{k}={v}" for k, v in spec.scenario.items()]
    if spec.uncertainty.keys():
        parts.append(f"brands' uncertainty: {spec.uncertainty.words()}")
    return ", ".join(parts) if parts else "the default scenario"


def report_md(result: GoalResult, command: str = "") -> str:
    spec, m, n = result.spec, result.spec.metric, result.spec.brands
    p = spec.parameter
    lines = [f"# Goal seek: {spec.name}", ""]
    if spec.question:
        lines += [spec.question, ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += ["## Answer", "", answer_text(result), "", "![the probes](goal.png)", "",
              "## Values probed", "",
              f"| order | phase | {p.key} | mean {m.label} | standard error "
              + ("| loss probability " if m.money else "") + "| meets | answer |",
              "|---|---|---|---|---|" + ("---|" if m.money else "") + "---|---|"]  # fmt: skip
    for q in sorted(result.probes, key=lambda q: q.index):
        loss = f"{q.loss:.0%} | " if m.money else ""
        lines.append(f"| {q.order} | {q.phase} | {amount(result, q.value)} | {m.show(q.mean)} | "
                     f"{m.show(q.se)} | {loss}{'yes' if q.meets else 'no'} | "
                     f"{'**yes**' if q is result.answer else ''} |")  # fmt: skip
    how = ("bisection between the last value failing and the first meeting it"
           if spec.search != "best" else f"{spec.refine} rounds of refinement between the best "
           "feasible value's neighbours")  # fmt: skip
    lines += [
        "", "## Method", "",
        f"{p.key} ({p.unit or 'no unit'}) on a grid of {spec.steps} equal intervals of "
        f"[{p.low:g}, {p.high:g}]{' (log scale)' if p.scale == 'log' else ''}"
        f"{', whole numbers' if p.integer else ''}: {spec.grid} values evenly first, then "
        f"{how} (sim/experiment/goal.py). Each value runs the same {n} brands (seeds 0–{n - 1}: "
        "common random numbers), so differences between values are paired by brand. "
        f"{result.computed} runs simulated, the rest read from the cache; "
        f"{result.seconds:,.0f} s.",
        "", "## Definitions", "",
        f"- *{m.label}* (`{m.key}`, {m.unit}): {m.definition}.",
        f"- *Mean*, *standard error*: over the {n} brands, sd (divisor n − 1) / √n; a brand is "
        "one seed of the scenario (its latent fits, DOMAIN §3.1).",
        f"- *Scenario*: {scenario(result)}.",
    ]
    if m.money:
        lines.append(f"- *Loss probability*: the share of the {n} brands with {m.key} < 0; it "
                     f"moves in steps of 1/{n}, and a share p has standard error "
                     f"√(p(1 − p)/{n}).")  # fmt: skip
    return "\n".join(lines) + "\n"


def draw(result: GoalResult):
    """The metric's mean ± one standard error against the value, constraint and answer marked;
    for `best`, a second panel with the loss probability and its cap."""
    from matplotlib.ticker import PercentFormatter

    spec, m, p = result.spec, result.spec.metric, result.spec.parameter
    two = spec.search == "best"
    fig, axes = plots.figure(7.5, 6.0 if two else 4.2, nrows=2 if two else 1, ncols=1,
                             layout="constrained", sharey=False)  # fmt: skip
    probes = sorted(result.probes, key=lambda q: q.index)
    x = np.array([q.value for q in probes], dtype=float)
    share = m.unit.startswith("share")
    scale = 1e6 if m.unit == "yuan" else 1.0
    y = np.array([q.mean for q in probes]) / scale
    e = np.array([q.se for q in probes]) / scale
    ok = np.array([q.meets for q in probes])
    ax = axes[0]
    ax.plot(x, y, color=plots.GREY, lw=0.8, zorder=1)
    words = ("meets the constraint", "fails it")
    if spec.keep is None:
        words = ("loss within the cap", "loss above the cap")
    for mask, colour, label in ((ok, plots.BLUE, words[0]), (~ok, plots.VERMILLION, words[1])):
        if mask.any():
            ax.errorbar(x[mask], y[mask], yerr=e[mask], fmt="o", ms=4, capsize=3, color=colour,
                        label=f"{label} ({PLAIN}, {spec.brands} brands)")  # fmt: skip
    if spec.keep is not None:
        ax.axhline(spec.keep.threshold / scale, color=plots.BLACK, ls="--", lw=1,
                   label=f"constraint: {constraint(result)}")  # fmt: skip
    if result.answer is not None:
        for a in axes:
            a.axvline(result.answer.value, color=plots.GREEN, lw=2, alpha=0.5, zorder=0,
                      label=f"answer: {amount(result, result.answer.value)}")  # fmt: skip
    unit = "million yuan" if m.unit == "yuan" else m.unit
    ax.set_ylabel(f"mean {m.label} ({unit})")
    if share:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    title = {"smallest": "Smallest", "largest": "Largest", "best": "Best"}[spec.search]
    goal = constraint(result) if spec.keep else f"highest mean {m.label}" + (
        f", {constraint(result)}" if spec.loss_cap is not None else "")  # fmt: skip
    none = "" if result.answer is not None else " (no value meets it)"
    ax.set_title(f"{title} {p.key}: {goal}{none}", fontsize=10)
    ax.legend(fontsize=7, framealpha=0.8)
    if two:
        lp = np.array([q.loss for q in probes])
        axes[1].plot(x, lp, "o-", ms=4, color=plots.PURPLE,
                     label=f"loss probability (share of {spec.brands} brands with {m.key} < 0)")
        if spec.loss_cap is not None:
            axes[1].axhline(spec.loss_cap, color=plots.BLACK, ls="--", lw=1,
                            label=f"cap: {spec.loss_cap:.0%}")  # fmt: skip
        axes[1].set_ylim(-0.05, 1.05)
        axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
        axes[1].set_ylabel("loss probability (share of brands)")
        axes[1].legend(fontsize=7, framealpha=0.8)
    for a in axes:
        if p.scale == "log":
            a.set_xscale("log")
    axes[-1].set_xlabel(f"{p.key} ({p.unit or 'value'})")
    return fig


def write(result: GoalResult, out_dir, command: str = "") -> Path:
    """Write report.md, probes.csv and goal.png; returns the report's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = probes_frame(result)
    atomic_write(out / "probes.csv", lambda t: frame.to_csv(t, index=False))
    plots.save(draw(result), out / "goal.png", dpi=120)
    write_text(out / "report.md", report_md(result, command))
    return out / "report.md"
