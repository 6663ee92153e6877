"""Runs a study knows it will need later, made now on the workers its batch at hand leaves idle.

A sequential study (the policy search, `sim.experiment.optimize`) sends small batches: one
trial's next brands, then a decision (prune or go on) before the next batch. With two workers
and a batch of two runs of unequal length, one worker waits for the other at every such
barrier: the timed reference search left ~6 % of its worker time idle so
(benchmarks/search_schedule.py). Some of its runs depend on no decision (the presets and the
starting point on the fresh brands, the presets on the search's brands): `run_batch(...,
backfill=)` hands one of them to each worker its own runs leave free, and stores it in the
run cache as it comes back; the later batch that asks for it reads it there (or waits for it,
if it is still running). The study's results cannot change (each run's numbers depend on its
config and seed alone); only when each run is made. Local processes only: they outlive a
batch, so a run handed out in one batch may come back in the next.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, wait
from pathlib import Path

from sim.experiment.batch import Result, _cache_path, _write_cache, evaluate_chunk
from sim.experiment.config import config_hash
from sim.experiment.keys import Variants


class Backfill:
    """A queue of `Evaluation`s on `bases` (the batch's names) to run on idle workers, cached
    under `cache_dir`; `progress` (a `Progress`) counts each as it comes back."""

    def __init__(self, bases: dict, evaluations, cache_dir, progress=None):
        variants = {name: Variants(cfg) for name, cfg in bases.items()}
        self.cache, self.progress = Path(cache_dir), progress
        self.queue = deque()
        for ev in evaluations:
            cfg = {**variants[ev.base].of(ev.values), "seed": int(ev.seed)}
            self.queue.append((ev, cfg, config_hash(cfg)))
        self.running: dict[Future, tuple] = {}
        self.done: set[str] = set()  # config hashes run here and cached (counted here)
        self.computed = 0

    def top_up(self, pool, free: int) -> None:
        """Hand a queued run to each of `free` workers (skipping runs already cached)."""
        while free > 0 and self.queue:
            ev, cfg, h = self.queue.popleft()
            if h in self.done or _cache_path(self.cache, h).exists():
                continue
            self.running[pool.submit(evaluate_chunk, [(0, cfg)])] = (ev, h)
            free -= 1

    def collect(self, future: Future) -> None:
        """Store a finished run in the cache (a failed one is not stored: its batch retries it
        and reports the error)."""
        ev, h = self.running.pop(future)
        [(_, summary, _, _, error, seconds)] = future.result()
        if error:
            return
        _write_cache(self.cache, Result(ev, h, summary, seconds=seconds))
        self.done.add(h)
        self.computed += 1
        if self.progress is not None:
            self.progress.count()

    def settle(self, hashes) -> None:
        """Before a batch asks for `hashes`: wait for those still running here and collect
        them, and take those still queued off the queue (the batch runs them itself)."""
        hashes = set(hashes)
        mine = [f for f, (_, h) in self.running.items() if h in hashes]
        wait(mine)
        for f in mine:
            self.collect(f)
        self.queue = deque(q for q in self.queue if q[2] not in hashes)
