"""The build's process pool: results in order, in-process for one worker, workers that do not
start as forks of the build."""

from __future__ import annotations

from datagen.build_workers import Workers


def _square(x: int) -> int:
    return x * x


def test_results_in_order_with_and_without_a_pool() -> None:
    for count in (1, 2):
        with Workers(count) as workers:
            assert list(workers.map(_square, list(range(7)))) == [x * x for x in range(7)]
            assert (workers.pool is None) == (count == 1)


def test_workers_do_not_start_as_forks_of_this_process() -> None:
    # A fork would copy an import that another thread (matplotlib's preload) is inside: the
    # worker importing the same module would wait forever on its lock.
    with Workers(2) as workers:
        assert workers.pool._mp_context.get_start_method() in ("forkserver", "spawn")
        assert list(workers.map(_square, [3, 4])) == [9, 16]
