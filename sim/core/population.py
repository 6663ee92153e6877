"""All user state, as one struct of numpy arrays (the Starsim/Covasim `People` pattern).

Why not one Mesa `Agent` per user: creating an agent costs 3.6–5 µs and ~250 bytes (FACTS.md),
i.e. 4–5 s and ~250 MB at a million users before a single day is simulated, and stepping them
with `shuffle_do` costs ~2.3 µs per user-day (≈15 min per simulated year at 1e6). The 10-N target
is ≤ 80 ns per user-day, which only bulk numpy updates reach. So users live here as rows; the
model's Mesa API sees them through `User` views created on demand, and a user promoted to the
core circle becomes a full Mesa agent (`sim.core.circle.KOC`).

Rows are append-only: a user's id is its row, and rows are in joining order, so `join_day` is
sorted and a cohort is a contiguous slice.
"""

from __future__ import annotations

import numpy as np

from sim.core import kernels
from sim.core.stage import Stage

# name -> (dtype, fill value for new rows)
FIELDS: dict[str, tuple[type, object]] = {
    "stage": (np.int8, 0),
    "trust": (np.float32, 0.0),
    "intent": (np.float32, 0.0),
    "channel": (np.int8, 0),
    "layer": (np.int8, 0),  # 0 periphery, 1 influence, 2 core (DOMAIN §2.3)
    "operator": (np.int32, -1),  # index into the model's operator list
    "koc": (np.int32, -1),  # index into the model's KOC list, -1 if none
    "touchpoints": (np.uint8, 0),  # bit k set: member of the pool's k-th touchpoint
    "pyramid_layer": (np.int8, 0),  # seed 004's layer: 0 new, 1 pool, 2 core (sim.core.pyramid)
    "pool_day": (np.int16, -1),  # day the user entered the pyramid's pool layer, -1: never
    "core_day": (np.int16, -1),  # day the user entered the pyramid's core layer, -1: never
    "pool": (np.int8, 0),  # index of the user's pool among the brand's candidates (sim.core.fit)
    "goods": (np.int8, 0),  # index of the user's lead/star variant among the candidates
    "tested": (np.int8, 0),  # bit per dimension (place 1, goods 2, people 4) randomised in a test
    "join_day": (np.int32, 0),
    "first_buy_day": (np.int32, -1),
    "last_buy_day": (np.int32, -1),
    "churn_day": (np.int32, -1),  # the day the user churned, -1 while a member
    "orders": (np.int32, 0),
    "spend": (np.float64, 0.0),
    "margin": (np.float64, 0.0),
    "ltv_margin": (np.float64, 0.0),  # margin discounted to the joining day
    "cac": (np.float32, 0.0),
    "repeat_rate": (np.float32, 1.0),  # repeat-purchase rate multiplier (0: lapsed for good)
    "dropout": (np.float32, 0.0),  # chance of stopping buying after each repeat order (BG/NBD)
}


# Bytes of one user row across FIELDS (84 today, 80 before the pyramid's entry days), and the
# peak a run needs per user: measured peak RSS at 1e6 and 4e6 imported users was 142-158 bytes
# per user, ≈ 2.3 rows (capacity slack, the copy while growing, per-day working arrays of masks
# and float32 temporaries).
ROW_BYTES = sum(np.dtype(dt).itemsize for dt, _ in FIELDS.values())
PEAK_BYTES_PER_USER = round(ROW_BYTES * 2.3)


def available_memory() -> int | None:
    """Bytes this process may still allocate: the machine's available memory, or the
    container's (cgroup v2) limit less its use where that is smaller. None if unknown."""
    avail = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        limit = open("/sys/fs/cgroup/memory.max").read().strip()
        used = int(open("/sys/fs/cgroup/memory.current").read())
        if limit != "max":
            room = int(limit) - used
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return avail


def gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def memory_shortfall(users: float) -> str | None:
    """Why `users` user rows cannot fit in this machine's memory (None: they can)."""
    need, avail = users * PEAK_BYTES_PER_USER, available_memory()
    if avail is None or need <= avail:
        return None
    return (
        f"{users:,.0f} users need ≈ {gib(need)} (≈ {PEAK_BYTES_PER_USER} bytes per user), "
        f"this machine has {gib(avail)} available"
    )


class Population:
    """Owns every user's state. Rules read and write the arrays through the properties.

    Each property returns a view of the first `n` rows, so rules never see unused capacity.
    """

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cap = max(int(capacity), 16)
        if why := memory_shortfall(self._cap):
            raise MemoryError(f"population: {why}")
        self._data = {k: np.full(self._cap, fill, dtype=dt) for k, (dt, fill) in FIELDS.items()}

    def __len__(self) -> int:
        return self.n

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        if why := memory_shortfall(cap + self._cap):  # both copies live while growing
            raise MemoryError(f"population: growing to {need:,} users: {why}")
        for k, (dt, fill) in FIELDS.items():
            new = np.full(cap, fill, dtype=dt)
            new[: self.n] = self._data[k][: self.n]
            self._data[k] = new
        self._cap = cap

    def add(self, count: int, **columns) -> slice:
        """Append `count` users; `columns` give scalars or arrays for the new rows."""
        start, stop = self.n, self.n + count
        if stop > self._cap:
            self._grow(stop)
        for k, v in columns.items():
            self._data[k][start:stop] = v
        self.n = stop
        return slice(start, stop)

    def live(self) -> np.ndarray:
        """Boolean mask of users not churned."""
        return self.stage != Stage.CHURNED

    def stage_counts_by(
        self, group: np.ndarray, groups: int, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Users per (group, stage) for a group index in [0, groups): one bulk count that serves
        several tallies (users per stage, live users per operator or per touchpoint mask).
        `rows`: count only these users (ids; e.g. the live ones: most rows of a long run are
        churned), `group` then being theirs."""
        if rows is not None:  # one compiled pass, no keys array (issue #24)
            return kernels.stage_counts(group, self.stage, rows, groups, len(Stage))
        size = groups * len(Stage)
        # int32 keys: one pass makes them, and `bincount` reads them at half the bytes of intp
        key = np.multiply(group, len(Stage), dtype=np.int32 if size < 2**31 else np.intp)
        key += self.stage
        return np.bincount(key, minlength=size).reshape(groups, len(Stage))

    def stage_counts_of(
        self, column: np.ndarray, groups: int, rows: np.ndarray, offset: int = 0
    ) -> np.ndarray:
        """`stage_counts_by` of the users `rows`, each in group `column[id] + offset` (a column
        over all users, e.g. `operator`: no gathered copy)."""
        return kernels.stage_counts_of(column, offset, self.stage, rows, groups, len(Stage))

    def slice_joined(self, first_day: int, last_day: int) -> slice:
        """Rows of users who joined in [first_day, last_day] (rows are in joining order)."""
        jd = self.join_day
        # keys of the array's dtype: a Python int would make numpy copy `jd` to int64 first
        first, last = (
            jd.dtype.type(max(first_day, -(2**31))),
            jd.dtype.type(min(last_day, 2**31 - 1)),
        )
        return slice(
            int(np.searchsorted(jd, first, "left")), int(np.searchsorted(jd, last, "right"))
        )


def _column(name: str) -> property:
    """`Population.<name>`: a view of the first `n` rows (a property: rules read columns some
    25,000 times a simulated year, and a property is found faster than `__getattr__`)."""
    return property(lambda self: self._data[name][: self.n])


for _name in FIELDS:
    setattr(Population, _name, _column(_name))


class User:
    """A light, on-demand view of one user row: the Mesa-facing face of a user.

    Reading an attribute reads the array; nothing is copied, so a view is always current.
    """

    __slots__ = ("population", "uid")

    def __init__(self, population: Population, uid: int):
        if not 0 <= uid < population.n:
            raise IndexError(f"no user {uid}; the population has {population.n}")
        self.population = population
        self.uid = uid

    def __getattr__(self, name: str):
        if name in FIELDS:
            return getattr(self.population, name)[self.uid].item()
        raise AttributeError(name)

    @property
    def stage_name(self) -> str:
        return Stage(self.stage).name.lower()

    def __repr__(self) -> str:
        return f"User({self.uid}, {self.stage_name}, trust={self.trust:.2f})"
