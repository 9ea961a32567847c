"""A step's deadline: what the step's work started, stopped when its timeout passes.

A timed-out step must end its work, not leave it running in an abandoned thread (issue 16 item 5). The engine
runs a step that has a ``timeout`` under a :class:`Deadline` (a context variable, so the threads the step's
target starts see it too); the local target then runs each probe the step needs in a forked child in its own
process group, and the deadline kills that group, the probe's programs with it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import threading
from collections.abc import Callable

from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec, run_probe
from medic.kernel.zygote import current as current_zygote
from medic.kernel.zygote import write_result

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("medic_deadline", default=None)
# Process groups of probe children alive now, so an interrupted medic can end them too (kill_children).
_CHILDREN: set[int] = set()
_CHILDREN_LOCK = threading.Lock()
_PIPES: set[int] = set()  # pipe ends open in this process for probe children (a new child closes them)


class Deadline:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []
        self.expired = False

    def on_expiry(self, stop: Callable[[], None]) -> None:
        with self._lock:
            if not self.expired:
                self._stops.append(stop)
                return
        stop()

    def expire(self) -> None:
        with self._lock:
            self.expired, stops, self._stops = True, self._stops, []
        for stop in stops:
            with contextlib.suppress(Exception):
                stop()

    def activate(self) -> contextvars.Token[Deadline | None]:
        return _CURRENT.set(self)


def current() -> Deadline | None:
    return _CURRENT.get()


def expired() -> bool:
    """True in the work of a step whose timeout has passed (its result no longer counts)."""
    deadline = _CURRENT.get()
    return deadline is not None and deadline.expired


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def kill_children() -> None:
    """Kill every probe child still running (an interrupted run)."""
    with _CHILDREN_LOCK:
        pids = list(_CHILDREN)
    for pid in pids:
        _kill_group(pid)


def run_probe_bounded(spec: ProbeSpec, call: ProbeCall) -> ProbeResult:
    """``run_probe`` here, or, under a step's deadline, in a forked child whose process group the deadline kills."""
    deadline = _CURRENT.get()
    if deadline is None or not hasattr(os, "fork"):
        return run_probe(spec, call)
    import pickle  # here: medic's start-up does not pay for it before a probe runs
    with _CHILDREN_LOCK:  # no other fork between the pipe and its parent end closing: only the child writes
        read_fd, write_fd = os.pipe()
        _PIPES.update((read_fd, write_fd))
        zygote = current_zygote()  # a small process to fork from, if the caller started one (kernel/zygote.py)
        spawned = zygote.spawn(spec, call, write_fd) if zygote else 0  # 0: not taken, fork here
        pid = spawned or os.fork()
        if pid != 0:
            os.close(write_fd)
            _PIPES.discard(write_fd)
            _CHILDREN.add(pid)
    if pid == 0:  # the child: run the probe, send the result, leave without running the parent's exit code
        try:
            for fd in _PIPES - {write_fd}:  # other probes' pipes: their readers must see their EOF, not wait
                with contextlib.suppress(OSError):
                    os.close(fd)
            os.setpgid(0, 0)
            write_result(write_fd, spec, call)
        finally:
            os._exit(0)
    with contextlib.suppress(OSError):  # both sides set the group: no race with an early kill
        os.setpgid(pid, pid)
    deadline.on_expiry(lambda: _kill_group(pid))
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            payload = pipe.read()
            with _CHILDREN_LOCK:
                _PIPES.discard(read_fd)
    finally:
        _kill_group(pid)  # the probe's own programs left behind in its group go too
        if spawned and zygote:
            zygote.release(pid)  # the zygote's child: the zygote reaps it
        else:
            os.waitpid(pid, 0)
        with _CHILDREN_LOCK:
            _CHILDREN.discard(pid)
    try:
        result: ProbeResult = pickle.loads(payload)  # noqa: S301 - our own child's bytes
    except Exception:
        why = "stopped: its step timed out" if deadline.expired else "its process ended without a result"
        return ProbeResult(spec.name, call.params, False, None, why)
    return result
