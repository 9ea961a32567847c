"""Probe children forked from a small process (a zygote) instead of from the process that runs the flow.

A forked child shares its parent's pages, and the kernel counts every shared page in the child's resident set too:
a probe child forked from a flow's process (Prefect and medic loaded, about 100 MB) shows about 85 MB while it
runs, and a cold run's process tree peaks with one alive (bench/README.md, memory). The zygote is a fresh
interpreter that imports only this module and the probe modules it is asked for; its children show about 15 MB.
It is single-threaded, so its forks are also clean where forking a process with Prefect's threads is not.

The parent sends, per probe, the probe function's module and name, the call, its environment and working directory,
and the write end of a pipe (SCM_RIGHTS). The zygote imports the function (once; later children share it), forks a
child in a process group of its own that runs the probe and writes its pickled result to the pipe, and answers the
child's pid: the caller's deadline kills that group as it would a child of its own. The zygote keeps the child
unreaped until the caller releases it, so the pid (and group) cannot be reused while the caller may still kill it.
When the caller's end of the socket closes (it exited, even killed), the zygote kills its children's groups and
exits. A probe the zygote cannot import (a function defined in a test, a spec built by hand) gets pid 0: the caller
forks it itself.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec, run_probe

if TYPE_CHECKING:
    import socket

# pickle, select, socket and subprocess are imported where used: core/deadline.py imports this module on every
# run, inline ones included, and most never start a zygote (about 5 ms of start-up, bench/README-logs.md)

MAX_MESSAGE = 1 << 20  # a request (mostly the environment) larger than this is forked by the caller instead
_PID_SIZE = 8  # a pid on the socket: 8 bytes, big-endian, signed (0: not taken)
_BOOT = "import sys; sys.path[:] = sys.argv[2:]; from medic.kernel.zygote import serve; serve(int(sys.argv[1]))"


class Zygote:
    """The caller's side: the zygote process and the socket to it (one request at a time)."""

    def __init__(self) -> None:
        import socket
        import subprocess

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock, self._lock = ours, threading.Lock()
        with theirs:
            self.process = subprocess.Popen([sys.executable, "-c", _BOOT, str(theirs.fileno()), *sys.path],
                                            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)

    def spawn(self, spec: ProbeSpec, call: ProbeCall, write_fd: int) -> int:
        """Start ``spec`` on ``call`` in a child of the zygote writing to ``write_fd``: its pid, 0 if not taken."""
        import pickle
        import socket

        fn = spec.collect
        if getattr(fn, "spec", None) is not spec or "<locals>" in fn.__qualname__:
            return 0  # the zygote could not find this spec again by the function's name
        request = pickle.dumps(("run", fn.__module__, fn.__qualname__, call, dict(os.environ), os.getcwd()))
        if len(request) > MAX_MESSAGE:
            return 0
        with self._lock:
            try:
                socket.send_fds(self._sock, [request], [write_fd])
                answer = self._sock.recv(_PID_SIZE)
            except OSError:
                return 0
        return int.from_bytes(answer, "big", signed=True) if len(answer) == _PID_SIZE else 0

    def release(self, pid: int) -> None:
        """The caller is done with child ``pid`` (its group killed): the zygote may reap it."""
        import pickle

        with self._lock, contextlib.suppress(OSError):
            self._sock.send(pickle.dumps(("release", pid)))

    def close(self) -> None:
        import subprocess

        self._sock.close()  # the zygote sees the end, kills what is left of its children and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


_zygote: dict[str, Zygote] = {}
_START = threading.Lock()


def start() -> Zygote:
    """Start this process's zygote (idempotent); probes under a deadline then fork from it."""
    with _START:
        if "z" not in _zygote or _zygote["z"].process.poll() is not None:
            import atexit

            _zygote["z"] = Zygote()
            atexit.register(_zygote["z"].close)
        return _zygote["z"]


def stop() -> None:
    """End this process's zygote, if any (probes fork from this process again)."""
    with _START:
        zygote = _zygote.pop("z", None)
    if zygote is not None:
        zygote.close()


def current() -> Zygote | None:
    """The zygote probes fork from, if one was started in this process (not in a fork of it)."""
    zygote = _zygote.get("z")
    return zygote if zygote is not None and zygote.process.poll() is None else None


os.register_at_fork(after_in_child=_zygote.clear)  # a forked child's socket is its parent's, not its own


def serve(fd: int) -> None:
    """The zygote's loop: fork a child per request, reap released children, end when the caller goes away."""
    import pickle
    import select
    import socket

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle: it ends the probes itself
    sock = socket.socket(fileno=fd)
    children: set[int] = set()
    released: set[int] = set()
    while True:
        ready, _, _ = select.select([sock], [], [], 0.2 if released else None)
        for pid in list(released):
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue  # still ending (killed in uninterruptible I/O): reaped on a later turn
            released.discard(pid)
            children.discard(pid)
        if not ready:
            continue
        message, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE + 4096, 1)
        if not message:  # the caller exited: nothing may outlive it
            for pid in children:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            return
        request = pickle.loads(message)  # noqa: S301 - our own caller's bytes, over a socketpair
        if request[0] == "release":
            released.add(request[1])
            continue
        pid = _fork(sock, request[1:], fds[0]) if fds else 0
        if pid:
            children.add(pid)
        sock.send(pid.to_bytes(_PID_SIZE, "big", signed=True))


def _fork(sock: socket.socket, request: tuple[Any, ...], write_fd: int) -> int:
    module, qualname, call, environ, cwd = request
    try:
        spec = _find(module, qualname)
    except Exception:
        os.close(write_fd)
        return 0
    pid = os.fork()
    if pid == 0:  # the child: run the probe as the caller's own fork would, then leave without cleanup
        try:
            sock.close()
            os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.environ.clear()
            os.environ.update(environ)
            os.chdir(cwd)
            write_result(write_fd, spec, call)
        finally:
            os._exit(0)
    with contextlib.suppress(OSError):  # both sides set the group: the caller may kill it as soon as it has the pid
        os.setpgid(pid, pid)
    os.close(write_fd)
    return pid


def _find(module: str, qualname: str) -> ProbeSpec:
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    spec = found.spec
    if not isinstance(spec, ProbeSpec):
        raise TypeError(f"{module}.{qualname} is not a probe")
    return spec


def write_result(write_fd: int, spec: ProbeSpec, call: ProbeCall) -> None:
    """In a probe child: run the probe and write its pickled result to the pipe (the caller unpickles it)."""
    import pickle

    outcome = run_probe(spec, call)
    try:
        payload = pickle.dumps(outcome)
    except Exception as exc:  # data that cannot travel: say so
        payload = pickle.dumps(ProbeResult(spec.name, call.params, False, None, f"unpicklable data: {exc}"))
    with os.fdopen(write_fd, "wb") as out:
        out.write(payload)
