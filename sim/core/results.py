"""The daily table (DOMAIN §4, §6 step 10), declared once.

`DAILY` names every column with its unit and definition; the model's accounting fills exactly
these columns, Mesa's DataCollector records them in this order, `daily()` casts them to these
dtypes, and `markdown()` renders the declaration for docs/outputs.md. A `{stage}` or `{channel}`
column stands for one column per stage or per configured channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim.core.stage import Stage

INT, FLOAT, TEXT = "int64", "float64", "string"
SPEND_BY_CHANNEL = "spend_by_channel"  # the feature of `outputs.spend_by_channel`


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    definition: str
    dtype: str
    nan_allowed: bool = False  # may hold NaN (where undefined, e.g. no operator); never ±inf
    when: str = ""  # only in runs with this feature (`OPTIONAL`), so other tables are unchanged


DAILY: tuple[Column, ...] = (
    Column("day", "day", "simulated day, from 0", INT),
    Column("phase", "index", "index of the strategy phase active today (DOMAIN §3)", INT),
    Column("phase_name", "name", "name of that phase (`strategy.phases.<index>.name`, §3)", TEXT),
    Column("{stage}", "users", "users in each stage at the end of the day (DOMAIN §1)", INT),
    Column("live_users", "users", "users not churned at the end of the day", INT),
    Column("new_{channel}", "users", "users acquired today through each channel (§2.5)", INT),
    Column(
        "new_referral",
        "users",
        "users referred today by members and KOCs (§2.3); new_referral ÷ new_users is the share "
        "of new users arriving by referral",
        INT,
    ),
    Column(
        "new_referral_koc",
        "users",
        "of new_referral, users referred by KOCs (their whole word of mouth, §2.3); "
        "new_referral_koc ÷ new_users is the share of new users the circle brings",
        INT,
    ),
    Column(
        "new_{arm}",
        "users",
        "users who joined today into each place/goods candidate, where a brand has several "
        "(`new_place_<pool>`, `new_goods_<variant>`; a 0-1 test's arms, §3.1)",
        INT,
    ),
    Column("new_users", "users", "all users who joined today", INT),
    Column("first_purchases", "orders", "first orders today (lead product, §2.6)", INT),
    Column("orders", "orders", "all orders today", INT),
    Column("revenue", "yuan", "order value today", FLOAT),
    Column("margin", "yuan", "gross margin of today's orders", FLOAT),
    Column("acquisition_spend", "yuan", "channel spend plus referral rewards today", FLOAT),
    Column(
        "spend_{channel}",
        "yuan",
        "of acquisition_spend, what each channel's users cost today (users × today's unit cost, "
        "§2.5); with `outputs.spend_by_channel` (on by default)",
        FLOAT,
        when=SPEND_BY_CHANNEL,
    ),
    Column("team_cost", "yuan", "operators, KOC rewards, systems and touchpoints today", FLOAT),
    Column("profit", "yuan", "margin − acquisition spend − team cost", FLOAT),
    Column("operators", "people", "operators who have arrived (§2.2)", INT),
    Column("operators_hired", "people", "operators hired, arrived or not", INT),
    Column(
        "operator_capacity",
        "touches",
        "1:1 touches the arrived team can give today (ramp included), net of the share spent "
        "building capability (§2.2, §3) and of running conversion camps (§2.3)",
        FLOAT,
    ),
    Column("mean_operator_load", "users", "live users per arrived operator, mean", FLOAT),
    Column(
        "users_per_operator", "users", "live users ÷ arrived operators (NaN if none)", FLOAT, True
    ),
    Column("koc_count", "users", "KOCs in the core circle (§2.3)", INT),
    Column(
        "koc_maintained",
        "users",
        "live users assigned to a KOC to maintain (§2.3: users managing users), at the end of "
        "the day",
        INT,
    ),
    Column("mean_trust", "trust", "mean trust of live users, in [0, 1] (§2.1)", FLOAT),
    Column("churned_today", "users", "users who churned today (§1)", INT),
    Column(
        "layer_{layer}",
        "users",
        "live users in each layer of seed 004's pyramid (`layer_new`, `layer_pool`, "
        "`layer_core`; §2.3) at the end of the day; only with `pool.layers`",
        INT,
        when="layers",
    ),
    Column(
        "entered_{layer}",
        "users",
        "users who moved into the pool or core layer today (§2.3); only with `pool.layers`",
        INT,
        when="moves",
    ),
    Column(
        "camps_running",
        "camps",
        "conversion camps running at the end of the day (004, §2.3); only with "
        "`pool.layers.camps.enabled`",
        INT,
        when="camps",
    ),
    Column(
        "camp_members",
        "users",
        "live new-layer users in running camps at the end of the day (§2.3); only with camps",
        INT,
        when="camps",
    ),
    Column(
        "camp_graduates",
        "users",
        "members of the camps that ended today, churned included: they join the pool, bought "
        "or not (004, §2.3); only with camps",
        INT,
        when="camps",
    ),
    Column(
        "camp_buyers",
        "users",
        "of `camp_graduates`, those who have bought (camp conversion = camp_buyers / "
        "camp_graduates; §2.3); only with camps",
        INT,
        when="camps",
    ),
    Column(
        "wash_running",
        "0/1",
        "1 on a day a marketing wash runs over the pool layer (004, §2.3); only with "
        "`pool.layers.washes.enabled`",
        INT,
        when="washes",
    ),
    Column(
        "users_washed",
        "users",
        "live pool-layer users the running wash reaches today, asked at the wash's promo share "
        "(§2.1, §2.3); only with washes",
        INT,
        when="washes",
    ),
    Column(
        "unassigned_users",
        "users",
        "live users at the end of the day waiting for an operator whose account has room "
        "(`operators.friend_cap`, §2.2; referred users wait to the next day); only with a cap",
        INT,
        when="friend_cap",
    ),
    Column(
        "team_capability",
        "worth",
        "worth of an arrived operator's 1:1 touch, capacity-weighted mean (1: fully capable; "
        "built, learned, diluted by hires, 001); only with `capability.enabled`",
        FLOAT,
        when="capability",
    ),
    Column(
        "market_reached_share",
        "share",
        "of the listed channels' addressable people, the share they have brought in, churned "
        "included (§5, §3.2); only with `market.enabled`",
        FLOAT,
        when="market",
    ),
    Column(
        "detractors",
        "weight",
        "voice of users who left after a bad experience, decayed, in talker-referral weights "
        "(§2.1, §3.2); only with `reputation.enabled`",
        FLOAT,
        when="reputation",
    ),
    Column(
        "negative_word_share",
        "share",
        "detractors ÷ (detractors + today's referral weight): the negative share of the brand's "
        "word of mouth, which lowers arrivals' intent; only with `reputation.enabled`",
        FLOAT,
        when="reputation",
    ),
    Column(
        "spend_scale_{channel}",
        "x",
        "each channel's volume multiplier set by its spend rule (1: the phase's volume; "
        "`strategy.phases.*.rules.spend`, §3.2); only with phase rules",
        FLOAT,
        when="rules",
    ),
    Column(
        "pace_factor",
        "x",
        "share of the phase's planned volume the pace rule let the team buy today (1: not "
        "limited; `rules.pace`, §2.2); only with phase rules",
        FLOAT,
        when="rules",
    ),
    Column(
        "buying_stopped",
        "0/1",
        "1 once a stop-loss or a failed gate's `stop` has stopped buying; only with phase rules",
        INT,
        when="rules",
    ),
)
LAYERS = ("new", "pool", "core")  # sim.core.pyramid.LAYERS (results may not import the model)
MOVES = ("pool", "core")  # layers users move into


def expand(
    channels: Iterable[str], arms: Iterable[str] = (), features: Iterable[str] = ()
) -> list[Column]:
    """The declaration with one column per stage, channel and brand candidate (`arms`: names
    like `place_conversion`; none unless a brand lists candidates), and the columns of the run's
    optional `features` (`Column.when`), in table order."""
    stages = [s.name.lower() for s in Stage]
    features = set(features) | ({"moves"} if "layers" in set(features) else set())
    out = []
    for c in DAILY:
        if c.when and c.when not in features:
            continue
        names = (
            [c.name.format(layer=x) for x in (MOVES if c.when == "moves" else LAYERS)]
            if "{layer}" in c.name
            else stages
            if c.name == "{stage}"
            else [c.name.format(channel=ch) for ch in channels]
            if "{channel}" in c.name
            else [c.name.format(arm=a) for a in arms]
            if "{arm}" in c.name
            else [c.name]
        )
        out += [Column(n, c.unit, c.definition, c.dtype, c.nan_allowed, c.when) for n in names]
    return out


def daily_columns(channels: Iterable[str], arms: Iterable[str] = (), features=()) -> list[str]:
    return [c.name for c in expand(channels, arms, features)]


def reporters(row: dict, channels: Iterable[str], arms: Iterable[str] = (), features=()) -> dict:
    """DataCollector model reporters reading today's `row`: a column left unfilled is an error."""
    return {c: [row.__getitem__, [c]] for c in daily_columns(channels, arms, features)}


class DailyCollector(mesa.DataCollector):
    """Mesa's DataCollector over `reporters(row, ...)`, whose `collect` appends today's `row`
    to the columns directly: the row holds Python numbers and strings only, which Mesa's
    per-value type checks and `deepcopy` (a quarter of a millisecond a day, issue #24) return
    unchanged."""

    def __init__(self, row: dict, channels: Iterable[str], arms: Iterable[str] = (), features=()):
        super().__init__(model_reporters=reporters(row, channels, arms, features))
        self._row = row

    def collect(self, model) -> None:
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        row = self._row
        for name, column in self.model_vars.items():
            column.append(row[name])


def typed(
    df: pd.DataFrame, channels: Iterable[str], arms: Iterable[str] = (), features=()
) -> pd.DataFrame:
    """The collected table with the declared dtypes."""
    return df.astype({c.name: c.dtype for c in expand(channels, arms, features)})


def not_finite(df: pd.DataFrame, channels: Iterable[str]) -> list[str]:
    """`column (first day d: value)` for each declared column holding a value it may not:
    ±inf anywhere, NaN where the declaration does not allow it. Empty: the table is sound."""
    bad = []
    for c in expand(channels):
        if c.dtype != FLOAT or c.name not in df:
            continue
        col = df[c.name].to_numpy(dtype=float)
        wrong = np.isinf(col) if c.nan_allowed else ~np.isfinite(col)
        if wrong.any():
            i = int(np.argmax(wrong))
            day = df["day"].iloc[i] if "day" in df else i
            bad.append(f"{c.name} (first on day {day}: {col[i]})")
    return bad


def markdown() -> str:
    """The declaration as a markdown table (docs/outputs.md includes it)."""
    rows = [f"| `{c.name}` | {c.unit} | {c.definition} |" for c in DAILY]
    return "\n".join(["| column | unit | definition |", "|---|---|---|", *rows])
