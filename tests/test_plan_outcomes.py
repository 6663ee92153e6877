"""The sweep report's "What the strategies' gates and rules did" (`sim.viz.plan_outcomes`): the
decisions each group's runs made, counted over runs, with a rule that never fired said so."""

import json

import numpy as np
import pandas as pd

from sim.experiment import jobs
from sim.experiment.config import compose
from sim.viz.plan_outcomes import plan_lines


def _sweep(tmp_path, groups: dict[str, tuple[str, list[dict]]]) -> pd.DataFrame:
    """A sweep folder with each group's first config.json and its runs' summary rows."""
    rows, job = [], 0
    for group, (strategy, runs) in groups.items():
        cfg = compose([f"strategy={strategy}"])
        for r in runs:
            (tmp_path / str(job)).mkdir()
            (tmp_path / str(job) / jobs.CONFIG).write_text(json.dumps(cfg))
            rows.append({"job": job, "group": group, **r})
            job += 1
    return pd.DataFrame(rows)


def test_gates_rules_and_a_stop_loss_that_never_fired_are_said_per_group(tmp_path):
    staged = [
        {"gates.zero_to_one.outcome": "passed", "gates.zero_to_one.day": 59.0,
         "gates.one_to_ten.outcome": "failed", "gates.one_to_ten.day": 239.0,
         "phase_starts.ten_to_n": 240.0, "rules.first_cut_day.paid_ads": np.nan},
        {"gates.zero_to_one.outcome": "failed", "gates.zero_to_one.day": 179.0,
         "gates.one_to_ten.outcome": "not_reached", "gates.one_to_ten.day": np.nan,
         "rules.first_cut_day.paid_ads": np.nan},
    ]  # fmt: skip
    stoploss = [
        {"rules.stop_loss_day": np.nan, "rules.first_cut_day.paid_ads": 116.0,
         "rules.final_spend_scale.paid_ads": 0.1, "phase_starts.ten_to_n": 0.0},
        {"rules.stop_loss_day": 60.0, "rules.first_cut_day.paid_ads": np.nan,
         "rules.final_spend_scale.paid_ads": 1.0, "phase_starts.ten_to_n": 0.0},
    ]  # fmt: skip
    done = _sweep(tmp_path, {"staged": ("staged", staged), "kill": ("ten_to_n_stoploss", stoploss),
                             "calendar": ("zero_to_one", [{}])})  # fmt: skip
    text = "\n".join(plan_lines(tmp_path, done))
    assert (
        "- **staged** (2 runs): 0-1 gate (30-day conversion ≥ 0.08): passed in 1 of 2 (day 59); "
        "failed in 1 of 2 (day 179, then held the phase); 1-10 gate (30-day conversion ≥ 0.06, "
        "conversion drop ≤ 25%, LTV/CAC at 90 days ≥ 1): failed in 1 of 2 (day 239, then held "
        "the phase); not reached in 1 of 2; paid ads spend rule in 10-N: never cut in 1 of 2; its "
        "phase not reached in 1 of 2." in text
    )
    assert (
        "- **kill** (2 runs): 10-N stop-loss (30-day conversion below 0.08, checked from day 60 "
        "of the phase): fired in 1 of 2 (day 60); paid ads spend rule in 10-N: cut in 1 of 2 "
        "(first cut day 116), ending at ×0.1 of the plan (median)." in text
    )
    assert "- **calendar** (1 run): no gates or rules: the plan ran as a calendar." in text


def test_a_group_whose_config_cannot_be_read_is_named_not_skipped(tmp_path):
    done = _sweep(tmp_path, {"staged": ("staged", [{}])})
    (tmp_path / "0" / jobs.CONFIG).write_text("{not json")
    assert "- **staged**: its `config.json` could not be read." in plan_lines(tmp_path, done)
