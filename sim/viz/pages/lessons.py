"""The live page's prepared lessons (`configs/lesson/<name>.yaml`): each a pair of arms on one
brand, the question it asks in one sentence, its conditions in words, and the page's controls
that set it up (`controls.page("live")`; the others at their default).

A lesson's `point` states the question and its conditions, never the answer: the answer is what
the model does at the lesson's seed, shown by the preview, the cards and "What happened" (and,
where scaling early wins, `lesson.why_early_wins` says which conditions hold: DOMAIN.md §3,
§3.1, §3.2). A lesson on a brand with candidates (the testing_value experiment, §3.1) may name
`brands`: how many of that experiment's brands (seeds 0 … brands−1) `guess_record` reads, so the
room sees where the guess was the best fit as well as where it was not.

Composed by Hydra like the study specs (`study_spec.compose_spec`); every problem is a
`ConfigError` naming the lesson and the key: an unknown field, a missing one, a control the page
has not, a value a control does not take.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sim.core.params import ConfigError
from sim.experiment.config import compose, group_options, model_kwargs
from sim.experiment.study_spec import compose_spec
from sim.viz.pages import controls
from sim.viz.pages.controls import LIVE, NO_LESSON

GROUP = "lesson"
REQUIRED = ("title", "point", "conditions", "controls")
OPTIONAL = ("brands",)
DIMENSIONS = ("place", "goods", "people")  # 人货场 (DOMAIN §3.1)


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    point: str  # the question, one sentence
    conditions: tuple[str, ...]  # in words
    controls: dict  # the live page's controls it sets (checked)
    brands: int | None = None  # seeds 0 … brands−1 whose guess `guess_record` reads

    def values(self) -> dict:
        """Every control of the live page: the lesson's, the others at their default."""
        return {**controls.defaults(LIVE), **self.controls, "lesson": self.name}

    def holds(self, values: dict) -> bool:
        """Whether `values` (the page's controls) are this lesson's."""
        return all(values.get(k) == v for k, v in self.controls.items())


def names() -> list[str]:
    return group_options(GROUP)


NONE_TEXT = "none: set the controls yourself"


def select_items() -> list[dict]:
    """The Lesson select's items: each lesson shown by its title, its value still its name
    (`{"text", "value"}`, as Vuetify's select reads them); `NO_LESSON` first."""
    return [{"text": NONE_TEXT, "value": NO_LESSON}] + [
        {"text": load(n).title, "value": n} for n in names()
    ]


def from_dict(name: str, d: dict) -> Lesson:
    """A lesson from its composed mapping; `ConfigError` naming what is wrong."""
    unknown = sorted(set(d) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ConfigError(f"lesson {name}: unknown field {unknown[0]!r}; allowed: "
                          f"{', '.join(REQUIRED + OPTIONAL)}")  # fmt: skip
    missing = [k for k in REQUIRED if d.get(k) in (None, "", [], {})]
    if missing:
        raise ConfigError(f"lesson {name}: {missing[0]} is required")
    if not isinstance(d["controls"], dict) or not isinstance(d["conditions"], list):
        raise ConfigError(f"lesson {name}: controls is a mapping, conditions a list of words")
    if "lesson" in d["controls"]:
        raise ConfigError(f"lesson {name}: controls.lesson: a lesson does not set the lesson")
    try:
        checked = controls.check(LIVE, {**d["controls"], "lesson": NO_LESSON})
    except ValueError as e:
        raise ConfigError(f"lesson {name}: controls: {e}") from None
    brands = d.get("brands")
    if brands is not None and not (type(brands) is int and brands >= 1):
        raise ConfigError(f"lesson {name}: brands = {brands!r}; allowed: a whole number >= 1")
    return Lesson(
        name=name,
        title=str(d["title"]),
        point=" ".join(str(d["point"]).split()),
        conditions=tuple(map(str, d["conditions"])),
        controls={k: checked[k] for k in d["controls"]},
        brands=brands,
    )


@functools.cache
def load(name: str) -> Lesson:
    """`configs/lesson/<name>.yaml`, checked; an unknown name is refused, listing the known."""
    return from_dict(name, compose_spec(GROUP, name, None, "lesson"))


def active(values: dict) -> Lesson | None:
    """The lesson the page's control `values` name, if its controls all still hold."""
    name = values.get("lesson", NO_LESSON)
    if name == NO_LESSON:
        return None
    found = load(name)
    return found if found.holds(values) else None


def choose(values: dict, name: str) -> dict:
    """The page's control values after choosing lesson `name` in the select: the lesson's (the
    others at default); `NO_LESSON` keeps the controls as they are."""
    return {**values, "lesson": name} if name == NO_LESSON else {**values, **load(name).values()}


def change(values: dict, name: str, value) -> dict:
    """The values after one control changed: the lesson is dropped once its controls no longer
    hold (the page then shows a pair of the user's own)."""
    out = {**values, name: value}
    if active(values) is not None and active(out) is None:
        out["lesson"] = NO_LESSON
    return out


# --- the guess on the lesson's brands --------------------------------------------------------


@functools.lru_cache(maxsize=8)
def guess_record(c, brands: int) -> dict[int, list[str]]:
    """For seeds 0 … brands−1 of arm B's config (the controls `c`, seed replaced): the
    dimensions of 人货场 with candidates whose guess is not the best fit (DOMAIN §3.1), per seed
    ([] where the guess was the best everywhere). Read from the brand's latent fits after one
    day (the brand is drawn at the start; no evaluation replicates)."""
    from sim.core.model import PrivateDomainModel
    from sim.viz.pages.pair import arm_config

    _, ov = arm_config(c, c.strategy_b)
    out = {}
    for seed in range(brands):
        cfg = compose([*ov, f"seed={seed}", "fit.truth.replicates=0"])
        m = PrivateDomainModel(**model_kwargs(cfg))
        m.step()
        b = m.summary()["brand"]
        fit = {d: (b[f"{d}_fit_{b[f'{d}_guess']}"], b[f"{d}_fit_{b[f'{d}_best_fit']}"])
               for d in DIMENSIONS if f"{d}_guess" in b}  # fmt: skip
        out[seed] = [d for d, (guess, best) in fit.items() if guess < best]
    return out


def guess_line(record: dict[int, list[str]], seed: int) -> str:
    """`guess_record` in a sentence: this brand's guess, and the seeds where it was the best."""
    good = [s for s, missed in record.items() if not missed]
    here = record.get(seed)
    if here is None:  # a seed beyond the brands read
        this = f"Seed {seed} is not among them"
    elif here:
        this = f"On this brand (seed {seed}) the guess was not the best fit on {', '.join(here)}"
    else:
        this = f"On this brand (seed {seed}) the guess was the best fit"
    others = (
        f"the guess was the best fit on every dimension for seed{'s' * (len(good) > 1)} "
        f"{', '.join(map(str, good))} (set the seed to play one)"
        if good
        else "the guess missed on at least one dimension for every one of them"
    )
    return f"{this}. Of this experiment's brands (seeds 0–{len(record) - 1}), {others}."
