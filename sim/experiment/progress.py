"""Progress of many runs, one way for sweeps and studies: the line
`[privsim] 130/520 runs done (12 cached, 1 failed), elapsed 0:01:10, ETA 0:04:30`.

A sweep (Hydra job folders, `sim.experiment.sweep`) counts its jobs from marker files, since its
workers are other processes; a study (in memory, `sim.experiment.batch`) counts results as they
come back. Both feed a `Progress` and print its `line()`: the ETA extrapolates from the runs
actually computed (cached or skipped ones took no time), so a resumed study does not promise
the rest in no time.
"""

from __future__ import annotations

import time
from collections import Counter


def clock(seconds: float) -> str:
    """`H:MM:SS`, rounded to the second."""
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """How many of `total` runs are done, by kind (`cached`, `skipped`, `failed`: named in the
    line when non-zero), since `start`; `stream=None` keeps count silently. `total=None` (a
    sweep without a recorded plan) prints `?` and no ETA.

    `kinds` are the counted kinds, in the order the line names them; `free` those that took no
    computing (the ETA leaves them out)."""

    def __init__(
        self,
        total: int | None,
        stream=None,
        every: float = 2.0,
        *,
        kinds: tuple[str, ...] = ("cached", "failed"),
        free: tuple[str, ...] = ("cached",),
        start: float | None = None,
    ):
        self.total, self.stream, self.every = total, stream, every
        self.kinds, self.free = kinds, free
        self.done = 0
        self.counts: Counter[str] = Counter()
        self.start = time.time() if start is None else start
        self._last = 0.0

    def count(self, *kinds: str) -> None:
        """One run done, of these kinds (none: computed and fine); prints the line at most every
        `every` seconds, and at the last run."""
        self.done += 1
        self.counts.update(kinds)
        now = time.time()
        if self.stream is not None and (now - self._last >= self.every or self.done == self.total):
            print(self.line(), file=self.stream, flush=True)
            self._last = now

    def line(self) -> str:
        elapsed = time.time() - self.start
        line = f"[privsim] {self.done}/{self.total or '?'} runs done"
        extra = [f"{n} {k}" for k in self.kinds if (n := self.counts[k])]
        if extra:
            line += f" ({', '.join(extra)})"
        line += f", elapsed {clock(elapsed)}"
        computed = self.done - sum(self.counts[k] for k in self.free)
        if self.total and computed and self.done < self.total:
            line += f", ETA {clock(elapsed / computed * (self.total - self.done))}"
        return line
