"""The process pool of a build (`datagen build --workers N`): one for the whole build.

with Workers(4) as workers:
    rows = list(workers.map(make_chunk, jobs))   # in order; in-process when N == 1
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor


class Workers:
    """One process pool for a whole build, so that solver caches stay warm in the workers.

    Workers start from a fork server (spawned where there is none), never by forking this
    process: a fork copies an import that another thread (matplotlib's preload) is in the middle
    of, and the worker that imports the same module (numpy, for the compiled solver) waits
    forever on its lock.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        if self.count > 1:
            import multiprocessing

            method = (
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            )
            context = multiprocessing.get_context(method)
            self.pool = ProcessPoolExecutor(max_workers=self.count, mp_context=context)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def map(self, fn: Callable, jobs: list) -> Iterator:
        """Results of fn over jobs, in order."""
        if self.pool is None or len(jobs) <= 1:
            return map(fn, jobs)
        return self.pool.map(fn, jobs)
