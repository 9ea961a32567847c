"""A result one thread sets and others wait for, and a map over threads, for the engine and its targets.

What ``concurrent.futures`` gives, without importing it on every run: its import brings ``logging`` and
``traceback`` (about 3 ms of a one-step ``medic run``'s start-up, bench/README-logs.md). The thread pool is
imported only when several targets run at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Future(Generic[T]):
    """Set once (a result or an exception); ``result`` waits for it and returns it or raises it."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    def set_running_or_notify_cancel(self) -> bool:
        """True: this future cannot be cancelled, so it always runs (the ``concurrent.futures`` protocol)."""
        return True

    def set_result(self, value: T) -> None:
        self._value = value
        self._done.set()

    def set_exception(self, error: BaseException) -> None:
        self._error = error
        self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> T:
        if not self._done.wait(timeout):
            raise TimeoutError(f"no result within {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set by set_result (T may include None)


def in_thread(fn: Callable[..., T], *args: object, name: str = "medic-future") -> Future[T]:
    """``fn(*args)`` in a daemon thread of its own; its result (or its exception) through the future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to whoever asks for the result
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True, name=name).start()
    return future


def wait(futures: Iterable[Future[T]], timeout: float | None = None) -> tuple[set[Future[T]], set[Future[T]]]:
    """The futures done and not done once all are done or ``timeout`` seconds have passed."""
    pending = list(futures)
    until = None if timeout is None else time.monotonic() + timeout
    for future in pending:
        future._done.wait(None if until is None else max(0.0, until - time.monotonic()))
    done = {f for f in pending if f.done()}
    return done, set(pending) - done


def map_threads(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[fn(item) for item in items]``, in up to ``workers`` threads; the first exception raised is re-raised."""
    if len(items) == 1:
        return [fn(items[0])]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(fn, items))
