"""Work spread over forked processes: the stages whose per-page work outweighs sending its result
between processes (parse, images, render, compression) map it through `fork_map`; a stage that
can run beside the next one (the compliance gate, beside the render) goes through `fork_call`."""
from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_THRESHOLD = 48


_FORKED: Callable | None = None  # the function the forked workers run, inherited when they fork


def _call_forked(item: object) -> object:
    assert _FORKED is not None
    return _FORKED(item)


@contextmanager
def _inheriting(fn: Callable[[T], object]) -> Iterator[None]:
    """While open, processes forked from this one run `fn` (through `_call_forked`)."""
    global _FORKED
    _FORKED = fn
    gc.freeze()  # the workers' garbage collector leaves inherited objects alone: no copy-on-write storm
    try:
        yield
    finally:
        gc.unfreeze()
        _FORKED = None


def fork_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`map` over processes when there is enough work to pay for them. The workers fork when
    the first result is asked for and inherit this process's state (a campaign's assets,
    images, templates), so only the items and results cross between processes. Results arrive
    in order as they are ready, so the caller can use each (write it, say) while the workers go
    on. Where processes cannot fork, one process does it all."""
    items = list(items)
    if len(items) < PARALLEL_THRESHOLD or not _can_fork(workers):
        yield from (fn(item) for item in items)
        return
    with _inheriting(fn), ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(_call_forked, items, chunksize=max(1, len(items) // (workers * 8)))  # type: ignore[misc]


def _can_fork(workers: int) -> bool:
    return workers > 1 and "fork" in multiprocessing.get_all_start_methods()


def fork_call(fn: Callable[[], R], workers: int) -> Callable[[], R]:
    """Start `fn` in a forked process and return at once; calling the result waits for its value
    (or raises its exception). With one worker, or where processes cannot fork, `fn` runs when
    its value is asked for. The process inherits this one's state as it is now."""
    if not _can_fork(workers):
        return fn
    with _inheriting(lambda _: fn()):
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        future: Future[R] = pool.submit(_call_forked, None)  # type: ignore[arg-type]  # forks here

    def result() -> R:
        try:
            return future.result()
        finally:
            pool.shutdown()
    return result
