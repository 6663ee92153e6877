"""The brand revealed: both arms face the same brand (seed and `fit` config); per dimension of
人货场 with more than one candidate, each candidate's true (latent) fit, the guess, the truly
best, and what each arm tested and runs (DOMAIN.md §3.1: what the 0-1 test buys). Read from
the models' `brand` summary."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.viz.pages.pair import Arm, LivePair

REVEAL_DIMENSIONS = (
    ("place", "place (场): pool"),
    ("goods", "goods (货): lead/star products"),
    ("people", "people (人): channel"),
)


@dataclass
class Reveal:
    """One dimension of the brand revealed: a row per candidate, sentences per arm."""

    dimension: str
    title: str
    table: pd.DataFrame  # candidate, true fit, guess, best, then per arm: tested, ran
    lines: list[str]


def reveal(pair: LivePair) -> list[Reveal]:
    """The brand both arms face, from each arm's model summary (`brand`): per dimension with
    more than one candidate, each candidate's true (latent) fit, the guess, the truly best, and
    per arm the users and measured metric of its test arm (if it tested that candidate), and
    whether it runs that candidate today (what its test committed, or the guess untested).
    Both arms share the seed and the `fit` config, so the fits agree; a pair whose arms saw
    different brands (e.g. different experiments) is refused. Needs a simulated day."""
    briefs = [(arm, arm.summary()["brand"]) for arm in pair.arms]
    if not briefs:
        return []
    first = briefs[0][1]
    out = []
    for dim, title in REVEAL_DIMENSIONS:
        names = [k.removeprefix(f"{dim}_fit_") for k in first if k.startswith(f"{dim}_fit_")]
        if len(names) < 2:
            continue
        for arm, b in briefs[1:]:
            if any(b.get(f"{dim}_fit_{n}") != first[f"{dim}_fit_{n}"] for n in names):
                raise ValueError(f"arms A and {arm.label} face different brands ({dim} fits)")
        rows = {
            "candidate": names,
            "true fit": [first[f"{dim}_fit_{n}"] for n in names],
            "guess": [n == first[f"{dim}_guess"] for n in names],
            "best": [
                first[f"{dim}_fit_{n}"] == first[f"{dim}_fit_{first[f'{dim}_best_fit']}"]
                for n in names
            ],
        }
        lines = []
        for arm, b in briefs:
            rows[f"{arm.label}: test users"] = [b.get(f"{dim}_arm_users_{n}") for n in names]
            rows[f"{arm.label}: measured"] = [b.get(f"{dim}_arm_metric_{n}") for n in names]
            rows[f"{arm.label}: runs"] = [n == b[f"{dim}_run"] for n in names]
            lines.append(_reveal_sentence(arm, b, dim))
        out.append(Reveal(dim, title, pd.DataFrame(rows), lines))
    return out


def _reveal_sentence(arm: Arm, b: dict, dim: str) -> str:
    run, best = b[f"{dim}_run"], b[f"{dim}_best_fit"]
    verdict = (
        "the best fit"
        if b[f"{dim}_run_is_best_fit"]
        else f"not the best ({best} was; fit {b[f'{dim}_fit_{run}']:.2f} vs "
        f"{b[f'{dim}_fit_{best}']:.2f})"
    )
    committed = b.get(f"{dim}_committed", "no test")
    if committed is None:
        how = "test under way, running"
    elif committed == "no test":
        how = "ran its guess untested,"
    else:
        metric = "30-day conversion" if b.get("test_metric") == "conversion_30d" else "margin/user"
        how = f"tested and committed the best measured {metric},"
    return f"{arm.name}: {how} {run} — {verdict}."
