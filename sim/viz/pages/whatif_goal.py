"""The what-if page's goal-seek panel (issue #24): `privsim-goal`'s two everyday questions,
asked with a few numbers and answered by the same engine (`sim.experiment.goal.seek`).

- "the smallest team that keeps 30-day conversion ≥ x at y users": configs/goal/
  team_for_conversion.yaml with `keep` = x and `scenario.initial_users` = y (DOMAIN §2.2);
- "the daily budget that maximises 2-year NPV with at most z % chance of a loss": configs/goal/
  budget_for_npv.yaml with `loss_probability` = z (DOMAIN §3.2, §4).

The numbers are the goal controls of the one table (`controls.page("goal")`: their defaults are
the presets' own, but fewer brands and refinement rounds, so an answer comes in a minute or two
on the page's two processes); `question(...)` gives the preset and its Hydra overrides, and
`command(...)` the `privsim-goal …` line that reproduces the answer (with the same cache folder
it reads the page's runs).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from sim.experiment.goal import seek
from sim.experiment.goal_spec import load_spec
from sim.viz.goal import answer_text
from sim.viz.pages import controls
from sim.viz.pages.controls import GOAL

TEAM, BUDGET = "team_for_conversion", "budget_for_npv"
QUESTIONS = {
    TEAM: "The smallest fixed team that keeps 30-day conversion at least x with y existing "
    "customers (100 new users a day)",
    BUDGET: "The paid-ads budget per day that maximises 2-year NPV with at most z of brands "
    "losing money",
}
TITLES = {  # the question select's words (its value stays the preset's name)
    TEAM: "How many operators do I need?",
    BUDGET: "Which paid-ads budget pays best?",
}


def overrides(name: str, values: dict) -> list[str]:
    """The preset's Hydra overrides for the goal controls' `values` (checked here)."""
    v = controls.check(GOAL, values)
    brands = f"brands.count={v['goal_brands']}"
    if name == TEAM:
        return [f"keep='conversion_30d>={v['goal_conversion']:g}'",
                f"scenario.initial_users={v['goal_users']}", brands]  # fmt: skip
    if name == BUDGET:
        return [f"loss_probability='<={v['goal_loss']:g}'", brands, f"refine={v['goal_refine']}"]
    raise ValueError(f"{name}: not a question of the page; allowed: {', '.join(QUESTIONS)}")


def command(name: str, values: dict, out_dir: str | Path | None = None) -> str:
    """The `privsim-goal …` command that asks the same question (and reads the same runs)."""
    parts = ["privsim-goal", name, *overrides(name, values)]
    if out_dir is not None:
        parts += ["--out", str(out_dir)]
    return " ".join(f'"{p}"' if "'" in p else shlex.quote(p) for p in parts)


def ask(name: str, values: dict, out_dir: str | Path, progress=False, n_jobs: int = 2) -> str:
    """The answer in words (`sim.viz.goal.answer_text`), run in `out_dir`'s cache."""
    spec = load_spec(name, overrides(name, values))
    return answer_text(seek(spec, out_dir, n_jobs=n_jobs, progress=progress))
