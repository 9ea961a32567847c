"""The engine's small futures (kernel/futures.py): what the targets rely on from concurrent.futures."""

from __future__ import annotations

import threading
import time

import pytest

from medic.kernel.futures import Future, in_thread, map_threads, wait


def test_result_waits_for_the_value_or_raises_the_error() -> None:
    ok, bad = Future[int](), Future[int]()
    threading.Timer(0.05, ok.set_result, (7,)).start()
    bad.set_exception(ValueError("broken probe"))
    assert ok.result(timeout=5) == 7 and ok.done()
    with pytest.raises(ValueError, match="broken probe"):
        bad.result()
    with pytest.raises(TimeoutError):
        Future[int]().result(timeout=0.01)


def test_wait_returns_at_the_timeout_with_what_is_not_done() -> None:
    done, late = Future[int](), Future[int]()
    done.set_result(1)
    started = time.monotonic()
    finished, pending = wait([done, late], timeout=0.1)
    assert finished == {done} and pending == {late}
    assert 0.09 <= time.monotonic() - started < 5


def test_map_threads_keeps_the_order_and_raises_the_first_error() -> None:
    assert map_threads(lambda n: n * 2, [1, 2, 3], 3) == [2, 4, 6]
    assert map_threads(lambda n: threading.current_thread().name, ["x"], 4) == [threading.current_thread().name]

    def fail(n: int) -> int:
        raise KeyError(n)

    with pytest.raises(KeyError):
        map_threads(fail, [1, 2], 2)


def test_in_thread_runs_apart_and_hands_back_its_result_or_its_error() -> None:
    caller = threading.current_thread().name
    assert in_thread(lambda: threading.current_thread().name, name="medic-test-fetch").result(5) == \
        "medic-test-fetch" != caller

    def fail() -> None:
        raise KeyError("gone")

    with pytest.raises(KeyError, match="gone"):
        in_thread(fail).result(5)
