"""The relationship chain (DOMAIN §1): aware → familiar → trust → buy → rebuy, or churned."""

from enum import IntEnum


class Stage(IntEnum):
    """A user's stage; stored as int8 in `Population.stage`.

    Stages only move forward; `CHURNED` (blocked, deleted, left: 003) is terminal. Trust is a
    separate continuous state: a buyer whose trust decays is still a buyer, but buys less and
    is likelier to churn.
    """

    AWARE = 0
    FAMILIAR = 1
    TRUST = 2
    BUY = 3
    REBUY = 4
    CHURNED = 5

    @classmethod
    def parse(cls, name: str) -> "Stage":
        return cls[name.upper()]


LIVE_STAGES = [s for s in Stage if s is not Stage.CHURNED]
