"""Reputation from bad experiences (`reputation`, issue #22 item 2): a mechanism.

Sources. DOMAIN §2.1 (001): once the potential gap turns negative users unfollow, delete and
mute; 003: "how many such messages before the user deletes you?"; 001 (~393, DOMAIN §3.1,
§3.2): "a good 1 is amplified into a good 10, a bad 1 into a bad 10", and what the users who
left say "reaches the people the brand has yet to acquire" (§3.2).

Rule. Each user who churns today (the churn hazard's leavers; bait takers who got what they came
for and drop after the first order are not counted) becomes a detractor with the weight of the
share of their churn hazard a bad experience explains: low trust (neglect, or a poor lead
product's letdown, `fit.goods.letdown_trust`) and asks above the tolerated share
(`dynamics.churn_hazard`): 1 - 1 / ((1 + trust_coef (1 - trust)) (1 + promo_coef excess)).
A user who leaves with full trust and no excess asks (a ban, the base rate) tells nobody. The
detractors' voice (`voice`, in units of a fully trusting talker's referral weight) decays with
`half_life_days`. The brand's word of mouth is then the detractors' voice beside the promoters'
(the referral phase's weight, yesterday's), and every channel's arrivals draw their intent with
mean x (1 - strength x negative share). Referred users (who come through a friend's positive
word) are not touched.

Strength. An assumption: 0.3 of intent at a wholly negative word of mouth. Anchor (read, not
fitted): East, Hammond & Lomax (2008, IJRM 25: 215-224) find that for familiar brands the impact
of negative word of mouth on purchase probability is generally *smaller* than that of positive
word of mouth; in this model a referred user's intent (0.6) is ~1.7x a paid user's (0.35), so a
loss of at most 0.3 stays below that gain. East and colleagues' later work reports that negative
word of mouth acts on acquisition several times more than on retention, which is why it acts
here on arrivals, not on members. On by default; `enabled: false` does not build it.
"""

from __future__ import annotations

import numpy as np

from sim.core.mechanism import Day, Mechanism
from sim.core.params import Churn
from sim.core.params import Reputation as ReputationParams


class Reputation(Mechanism):
    """Hooks: acquire (arrivals' intent), churn (today's detractors), account (columns)."""

    name = "reputation"
    features = ("reputation",)

    def __init__(self, params: ReputationParams, churn: Churn):
        self.params = params
        self.churn_params = churn
        self.decay = 0.5 ** (1.0 / params.half_life_days)
        self.detractors = 0.0  # their voice, decayed, in talker-referral weights
        self.promoters = 0.0  # yesterday's positive word of mouth (the referral weight)

    def negative_share(self) -> float:
        """Share of the brand's word of mouth that is negative (0 when nobody talks)."""
        total = self.detractors + self.promoters
        return self.detractors / total if total > 0 else 0.0

    def acquire(self, model, day: Day) -> None:
        factor = 1.0 - self.params.strength * self.negative_share()
        for name in model.channels:
            day.intent_factor[name] = day.intent_factor.get(name, 1.0) * factor

    def churn(self, model, day: Day) -> None:
        left, c = day.left, self.churn_params
        trust = model.population.trust[left].astype(np.float64)
        excess = day.excess if np.ndim(day.excess) == 0 else day.excess[left]
        hazard = (1.0 + c.trust_coef * (1.0 - trust)) * (1.0 + c.promo_coef * excess)
        bad = float(np.sum(1.0 - 1.0 / hazard))
        self.detractors = self.detractors * self.decay + self.params.voice * bad

    def account(self, model, day: Day) -> None:
        self.promoters = day.word
        model.today["detractors"] = self.detractors
        model.today["negative_word_share"] = self.negative_share()
