"""Capability as effectiveness, not only delay (`capability`, issue #22 item 1): a mechanism.

Sources. 001 ~545-595 (DOMAIN §2.2, §3.2): the capability modules to build in 1-10 are "team
model, job skills, performance review, team management" — capability, "not people"; "if you wait
until 10-N to build it, it takes at least a quarter"; "hire directly? with no veterans to hand
over, how do newcomers quickly learn the business? how do they get going? the time is wasted in
insufficient preparation"; at scale content must be planned and standardised and customer
service needs a system. DOMAIN §3.2: "model it as effectiveness that is built and diluted, not
only as a hiring delay".

Rule. Each operator has a skill in [0, 1]; the worth of their 1:1 touch (value given and asks
made alike: trust gained and asks converted) is `unprepared + (1 - unprepared) x skill`. The
team's codified capability (its SOPs and team model) rises by 1/`build_days` on each day of a
phase that builds capability (`strategy.phases.*.build_capability`), and the arrived operators'
skill rises with it; a hire starts at the codified level (what the team can hand over: nothing
before it was built), so unprepared hires dilute the team's mean. Every working day an
arrived operator also learns by doing, closing 1/`learn_days` of their gap: slowly.

The hiring delay (`operators.lead_days`, `prepared_lead_days`, `capability_days`) is kept as it
is; this acts on top of it. Defaults are assumptions (`build_days`: 001's quarter). On by
default; `enabled: false` does not build it and a touch is worth 1. Not modelled
here: service failures that cost trust, systems that take time to set up, camps' touches.
"""

from __future__ import annotations

import numpy as np

from sim.core.mechanism import Day, Mechanism
from sim.core.params import Capability as CapabilityParams


class Capability(Mechanism):
    """Hooks: strategy (build, hires' starting skill), touch (worth), account (learning)."""

    name = "capability"
    features = ("capability",)

    def __init__(self, params: CapabilityParams):
        self.params = params
        self.codified = 0.0  # the team's SOPs and team model, 0..1
        self.skill = np.zeros(0, dtype=np.float64)  # per operator, hired order

    def worth(self) -> np.ndarray:
        u = self.params.unprepared
        return u + (1.0 - u) * self.skill

    def strategy(self, model, day: Day) -> None:
        n = len(model.team)
        if self.skill.size < n:  # today's hires start at what the team can hand over
            self.skill = np.concatenate((self.skill, np.full(n - self.skill.size, self.codified)))
        if day.phase.build_capability:
            self.codified = min(1.0, self.codified + 1.0 / self.params.build_days)
            arrived = model.team.arrived(day.d)
            self.skill[arrived] = np.maximum(self.skill[arrived], self.codified)

    def touch(self, model, day: Day) -> None:
        day.worth = self.worth()

    def account(self, model, day: Day) -> None:
        arrived = day.arrived
        w = self.worth()[arrived]
        caps = model.team.capacities(day.d)[arrived]
        total = caps.sum()  # `np.average(w, weights=caps)`, its float64 steps without its checks
        model.today["team_capability"] = float((w * caps).sum() / total) if total else 0.0
        self.skill[arrived] += (1.0 - self.skill[arrived]) / self.params.learn_days
