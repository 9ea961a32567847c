"""A warm worker's fork server: one single-threaded process that imported Prefect and medic once, forking runs.

It replaces multiprocessing's forkserver, which did the same job with a process more per worker: its resource
tracker (a Python interpreter of about 13 MB, kept for semaphores and shared memory that medic's runs do not use;
four of them took 51 MB at the 4-worker fleet's peak, bench/README-fleet.md). Like kernel/zygote.py (which does
this for probes), it is a fresh interpreter started with ``subprocess`` and talking over a socketpair: the worker
sends, per run, the target's module and name, its arguments and the worker's resource limits of the moment, with
the write end of a status pipe (SCM_RIGHTS); the server forks a child, answers its pid, and once it reaps the
child writes its exit code (negative: the signal that ended it, as multiprocessing reports it) to that pipe. The
worker's ``ForkedProcess.join()`` reads it; if the server died first, the exit code is 255, as multiprocessing's.

Safety as before: the server imports only modules (no threads: the test checks it has one), so its forks are clean;
the child applies the worker's limits (flows.run_limits) before anything else; the target starts its own session
(``run_engine``: ``os.setsid``), so the worker's kill and cancellation paths (a signal to the run's pid, or its
group) reach the run alone. When the worker goes away (its end of the socket closes, even on SIGKILL), the server
exits and its runs go on to their end, as a cold run outlives its worker.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from medic.flows.run_limits import apply_limits

MAX_MESSAGE = 1 << 20
_SIGNED = 8  # a pid or exit code on the wire: 8 bytes, big-endian, signed
DIED = 255  # the exit code of a run whose server vanished before reporting it (multiprocessing's figure)
_BOOT = ("import sys; sys.path[:] = sys.argv[3:]; from medic.flows.fork_server import serve; "
         "serve(int(sys.argv[1]), sys.argv[2])")


class ForkedProcess:
    """A run forked by the server: its ``pid``, and ``exitcode`` once ``join()`` returned (multiprocessing's
    names, which Prefect's ``ProcessHandle`` reads)."""

    def __init__(self, pid: int, status_fd: int) -> None:
        self.pid, self.exitcode, self._status = pid, None, status_fd
        self._joined = threading.Lock()

    exitcode: int | None

    def join(self) -> None:
        """Wait for the run to end (its exit code comes from the server, which reaps it)."""
        with self._joined:
            if self.exitcode is not None:
                return
            data = b""
            with contextlib.suppress(OSError):
                while len(data) < _SIGNED:
                    chunk = os.read(self._status, _SIGNED - len(data))
                    if not chunk:
                        break
                    data += chunk
            os.close(self._status)
            self.exitcode = int.from_bytes(data, "big", signed=True) if len(data) == _SIGNED else DIED


class ForkServer:
    """The worker's side: the server process, and the socket to it (one request at a time)."""

    def __init__(self, preload: list[str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock, self._lock = ours, threading.Lock()
        with theirs:
            self.process = subprocess.Popen([sys.executable, "-c", _BOOT, str(theirs.fileno()), ",".join(preload),
                                             *sys.path], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)

    def alive(self) -> bool:
        return self.process.poll() is None

    def start(self, target: Callable[..., Any], args: tuple[Any, ...], limits: dict[int, tuple[int, int]]
              ) -> ForkedProcess:
        """Fork ``target(*args)`` under ``limits`` from the server; ``target`` must be a module-level function."""
        request = pickle.dumps((target.__module__, target.__qualname__, args, limits))
        if len(request) > MAX_MESSAGE:
            raise RuntimeError(f"a run's request of {len(request)} bytes is over {MAX_MESSAGE}: its environment?")
        status_r, status_w = os.pipe()
        try:
            with self._lock:
                socket.send_fds(self._sock, [request], [status_w])
                answer = self._sock.recv(_SIGNED)
        except OSError as exc:
            os.close(status_r)
            raise RuntimeError(f"the warm fork server is gone ({exc}): restart the worker") from exc
        finally:
            os.close(status_w)
        pid = int.from_bytes(answer, "big", signed=True) if len(answer) == _SIGNED else 0
        if pid <= 0:
            os.close(status_r)
            raise RuntimeError("the warm fork server could not start the run (see the worker's log above)")
        return ForkedProcess(pid, status_r)


_servers: dict[str, ForkServer] = {}
_START = threading.Lock()


def running(preload: list[str]) -> ForkServer:
    """This process's fork server, started now if it is not running (it imports ``preload`` as the caller goes on)."""
    with _START:
        server = _servers.get("s")
        if server is None or not server.alive():
            server = _servers["s"] = ForkServer(preload)
        return server


os.register_at_fork(after_in_child=_servers.clear)  # a forked child's socket is its parent's, not its own


def serve(fd: int, preload: str) -> None:
    """The server's loop: import ``preload`` (comma-separated), then fork a child per request and report each exit,
    until the worker's end of the socket closes."""
    for name in filter(None, preload.split(",")):
        with contextlib.suppress(ImportError):  # a run that needs it imports it and reports the error with its name
            importlib.import_module(name)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler (not SIG_DFL), so the wakeup fd hears of each exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's: it ends its runs itself
    signal.set_wakeup_fd(wake_w)
    sock = socket.socket(fileno=fd)
    status: dict[int, int] = {}  # child pid -> the write end of its status pipe
    while True:
        ready, _, _ = select.select([sock.fileno(), wake_r], [], [])
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _reap(status)
        if sock.fileno() in ready:
            message, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE + 4096, 1)
            if not message:  # the worker went away: its runs go on (their sessions are their own), the server ends
                return
            pid = _fork(message, fds[0], [sock.fileno(), wake_r, wake_w, *status.values()]) if fds else 0
            if pid > 0:
                status[pid] = fds[0]
            elif fds:
                os.close(fds[0])
            sock.send(pid.to_bytes(_SIGNED, "big", signed=True))


def _reap(status: dict[int, int]) -> None:
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = status.pop(pid, None)
        if fd is not None:
            with contextlib.suppress(OSError):  # the worker stopped waiting (it ended): nothing to tell
                os.write(fd, os.waitstatus_to_exitcode(code).to_bytes(_SIGNED, "big", signed=True))
            os.close(fd)


def _fork(message: bytes, status_fd: int, close: list[int]) -> int:
    try:
        module, qualname, args, limits = pickle.loads(message)  # noqa: S301 - our own worker's bytes, over a socketpair
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except Exception:
        traceback.print_exc()
        return 0
    pid = os.fork()
    if pid == 0:  # the child: the server's descriptors and handlers gone, the worker's limits, then the target
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for fd in (*close, status_fd):
                os.close(fd)
            code = run_target(target, args, limits)
        finally:
            os._exit(code)
    return pid


def run_target(target: Callable[..., Any], args: tuple[Any, ...], limits: dict[int, tuple[int, int]]) -> int:
    """In the forked child: ``limits``, then ``target(*args)``; the exit code as multiprocessing's child gives it."""
    try:
        apply_limits(limits)
        target(*args)
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    except BaseException:
        code = 1
        traceback.print_exc()
    finally:
        threading._shutdown()  # type: ignore[attr-defined] # non-daemon threads end first, as in multiprocessing
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    return code
