"""Rules a phase applies to what it measures (`strategy.phases.*.rules`, issue #23): a mechanism.

Sources. DOMAIN §3.2: staging is conditional, not a calendar. Paid ads are 10-N's first choice
"if the first order or the renewal pays the cost back" (001 ~600): a *spend rule*. "3 people
serving 5,000 users ... at 50,000 you can't serve them" (001, §2.2) and 10-N adds operators as
traffic grows (001 ~600): a *pace rule*. A kill switch that stops buying when the cohorts are
hopeless (issue #23's review): a *stop-loss*. Every rule reads only the model's own matured
cohorts (never a latent fit), and only cohorts that joined under the setting it judges.

- Spend (per channel): the channel's volume is multiplied by a scale, 1 when the phase starts.
  Every `review_days`, once a full `window_days` of the channel's joiners since the last change
  has reached `horizon_days` of age, their discounted margin booked by then ÷ their CAC is
  compared with `min_ltv_cac`: below it the scale is cut (x `cut`, not below `floor`); at or
  above it the scale grows (x `grow`, up to `max_scale`; `grow` 1 keeps it). A change waits for
  the evidence of the setting it made: the next review needs a new window after it.
- Pace: today's bought volume is cut so that live users stay within `users_per_operator` x the
  arrived operators (yesterday's live users, today's team; referrals are not bought and are not
  cut). With `hire`, the phase hires ahead by the lead time: headcount for yesterday's live
  users plus lead time x the phase's planned daily volume, up to `max_team`.
- Stop-loss: from `after_days` into the phase, daily, the metric of the latest window of the
  phase's joiners matured for it (30-day conversion, or LTV/CAC at `horizon_days`); below
  `below`, buying stops for good from tomorrow, as a gate's `stop` does (`PhaseClock.stop`).

Outputs: daily `spend_scale_<channel>`, `pace_factor`, `buying_stopped`; the summary's `rules`
lists each time a rule fired (day, rule, channel, what it measured, threshold, new scale) and,
per rule kind, how often. Built only when a phase has rules (runs without them are unchanged).
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.mechanism import Day, Mechanism
from sim.core.metrics import CONVERSION_WINDOW
from sim.core.params import Strategy


class _ChannelValue:
    """Per joining day: users, CAC and discounted margin by age `horizon` of one channel's
    acquired users, recorded on the day the joining day's users reach that age (their
    `ltv_margin` then holds exactly ages 0 … horizon-1)."""

    def __init__(self, code: int, horizon: int):
        self.code, self.horizon = code, horizon
        self.sums = np.zeros((64, 2))  # cac, margin by joining day

    def record(self, pop, day: int) -> None:
        j = day - self.horizon + 1
        if j < 0:
            return
        rows = pop.slice_joined(j, j)
        mine = pop.channel[rows] == self.code
        if j >= len(self.sums):  # a phase that starts late records from its first day on
            grown = np.zeros((max(2 * len(self.sums), j + 1), 2))
            grown[: len(self.sums)] = self.sums
            self.sums = grown
        self.sums[j] = pop.cac[rows][mine].sum(), pop.ltv_margin[rows][mine].sum()

    def ratio(self, first: int, last: int) -> float:
        cac, margin = self.sums[first : last + 1].sum(axis=0)
        return margin / cac if cac > 0 else math.nan


class Rules(Mechanism):
    """Hooks: strategy (reset on entry, pace hiring), acquire (volume), account (measure,
    review, stop, columns)."""

    name = "rules"
    features = ("rules",)

    def __init__(self, strategy: Strategy, channels: dict, codes: dict[str, int], staffing):
        self.phases = strategy.phases
        self.channels, self.codes, self.staffing = channels, codes, staffing
        self.scale = dict.fromkeys(channels, 1.0)
        self.since: dict[str, int] = {}  # first day the channel's current scale applied
        self.next_review: dict[str, int] = {}
        self.values: dict[str, _ChannelValue] = {}
        self.started = 0  # first day of the current phase
        self.pace_factor = 1.0
        self.events: list[dict] = []

    @staticmethod
    def wanted(strategy: Strategy) -> bool:
        return any(p.rules.any() for p in strategy.phases)

    # --- hooks -------------------------------------------------------------------------------

    def strategy(self, model, day: Day) -> None:
        rules = day.phase.rules
        self.pace_factor = 1.0
        if day.entered:  # a new phase, a new plan: every channel at the phase's volume
            self.started = day.d
            self.scale = dict.fromkeys(self.channels, 1.0)
            self.since = dict.fromkeys(rules.spend, day.d)
            self.next_review = dict.fromkeys(rules.spend, day.d)
            self.values = {
                c: _ChannelValue(self.codes[c], r.horizon_days) for c, r in rules.spend.items()
            }
        pace = rules.pace
        if pace is not None and pace.hire and not model.clock.stopped:
            o = self.staffing
            lead = o.prepared_lead_days if model.prepared() else o.lead_days
            users = model.today.get("live_users", 0) + lead * self._planned(model, day)
            need = math.ceil(users / pace.users_per_operator)
            if pace.max_team is not None:
                need = min(need, pace.max_team)
            if (n := model.hire(need, day.d)) > 0:
                self._fired(day.d, "pace_hire", None, users, pace.users_per_operator, n)

    def acquire(self, model, day: Day) -> None:
        pace = day.phase.rules.pace
        if pace is not None:
            arrived = int(model.team.arrived(day.d).sum())
            room = pace.users_per_operator * arrived - model.today.get("live_users", 0)
            planned = self._planned(model, day)
            if planned > 0:
                self.pace_factor = min(1.0, max(room, 0.0) / planned)
        for c, s in self.scale.items():
            day.volume[c] = day.volume.get(c, 1.0) * s * self.pace_factor

    def account(self, model, day: Day) -> None:
        rules, d = day.phase.rules, day.d
        for c, rule in rules.spend.items():
            self.values[c].record(model.population, d)
            if d >= self.next_review[c]:
                self._review(c, rule, d)
        stop = rules.stop_loss
        if stop is not None and not model.clock.stopped and d - self.started >= stop.after_days:
            h = CONVERSION_WINDOW if stop.metric == "conversion_30d" else stop.horizon_days
            last = d - h + 1 if stop.metric == "ltv_cac" else d - CONVERSION_WINDOW
            first = last - stop.window_days + 1
            if first >= self.started:
                got = (
                    model.window_conversion(first, last)
                    if stop.metric == "conversion_30d"
                    else model.window_ltv_cac(first, last, h)
                )
                if got < stop.below:
                    model.clock.stop()
                    self._fired(d, "stop_loss", None, got, stop.below, 0.0, stop.metric)
        t = model.today
        t.update({f"spend_scale_{c}": s for c, s in self.scale.items()})
        t["pace_factor"] = self.pace_factor
        t["buying_stopped"] = int(model.clock.stopped)

    # --- the rules ---------------------------------------------------------------------------

    def _review(self, channel: str, rule, d: int) -> None:
        last = d - rule.horizon_days + 1
        first = last - rule.window_days + 1
        if first < self.since[channel]:
            return  # no full window of joiners under the current scale has matured yet
        ratio = self.values[channel].ratio(first, last)
        if math.isnan(ratio):
            return
        self.next_review[channel] = d + rule.review_days
        old = self.scale[channel]
        if ratio < rule.min_ltv_cac:
            new = max(rule.floor, old * rule.cut)
        else:
            new = min(rule.max_scale, old * rule.grow)
        if new != old:
            self.scale[channel] = new
            self.since[channel] = d + 1
            kind = "spend_cut" if new < old else "spend_grow"
            self._fired(d, kind, channel, ratio, rule.min_ltv_cac, new, "ltv_cac")

    def _planned(self, model, day: Day) -> float:
        """Users the phase means to buy today at the current spend scales (stated budgets and
        the market's room aside)."""
        mix = model.brand.channel_mix(day.phase.channel_mix)
        return model.brand.daily_users(day.phase) * sum(
            share * self.channels[c].volume_scale * self.scale.get(c, 1.0)
            for c, share in mix.items()
        )

    def _fired(self, d, rule, channel, measured, threshold, value, metric=None) -> None:
        self.events.append(
            {
                "day": d,
                "rule": rule,
                "channel": channel,
                "metric": metric,
                "measured": float(measured),
                "threshold": float(threshold),
                "value": float(value),
            }
        )

    def report(self, model) -> dict:
        counts: dict[str, int] = {}
        for e in self.events:
            counts[e["rule"]] = counts.get(e["rule"], 0) + 1
        stops = [e["day"] for e in self.events if e["rule"] == "stop_loss"]
        cuts: dict[str, int] = {}
        for e in self.events:
            if e["rule"] == "spend_cut":
                cuts.setdefault(e["channel"], e["day"])
        return {
            "fired": counts,
            "stop_loss_day": stops[0] if stops else None,
            "first_cut_day": cuts,
            "final_spend_scale": dict(self.scale),
            "events": list(self.events),
        }
