"""Where the batch engine's runs go: any `concurrent.futures.Executor`.

The engine (`sim.experiment.batch.run_batch`) only submits tasks and waits on futures, so the
same study runs on this machine's cores, a Ray cluster, a Dask cluster
(`distributed.Client(...).get_executor()`) or an MPI pool (`mpi4py.futures.MPIPoolExecutor`).
Two are built here: loky's reusable local processes (fresh interpreters, kept warm between
batches: a calibration calls the engine once per trial) and `RayExecutor`, a thin adapter over
`ray.remote` (Ray has no `Executor` of its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager

from sim.core.params import ConfigError


class RayExecutor(Executor):
    """`submit` as a Ray task on the cluster at `address` (`"auto"`, `"ray://host:10001"`, or
    `"local"` for a Ray started on this machine); connects on creation if Ray is not yet
    connected, and disconnects on `shutdown` only then."""

    def __init__(self, address: str = "auto"):
        try:
            import ray
        except ImportError as e:
            raise ConfigError(
                "ray_address given but Ray is not installed: pip install -e '.[ray]'"
            ) from e
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            ray.init(address=None if address == "local" else address, ignore_reinit_error=True)
        self._remote = {}

    @property
    def workers(self) -> int:
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def submit(self, fn, /, *args, **kwargs) -> Future:
        remote = self._remote.get(fn) or self._remote.setdefault(fn, self._ray.remote(fn))
        return remote.remote(*args, **kwargs).future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


@contextmanager
def executor_for(
    executor: Executor | None, n_jobs: int, ray_address: str | None
) -> Iterator[tuple[Executor, int]]:
    """The executor to use and its number of workers: the caller's (left running), else Ray's
    at `ray_address` (shut down after), else `n_jobs` of loky's reusable local processes."""
    if executor is not None:
        yield executor, int(getattr(executor, "_max_workers", None) or n_jobs or 1)
    elif ray_address is not None:
        ray = RayExecutor(ray_address)
        try:
            yield ray, ray.workers
        finally:
            ray.shutdown()
    else:
        from joblib.externals.loky import get_reusable_executor

        yield get_reusable_executor(max_workers=n_jobs), n_jobs
