"""Warm workers' fork server: one single-threaded process that imported Prefect and medic once, forking runs, shared
by the warm workers of one machine that run the same medic in the same cgroup.

Why one, shared: a page a process maps counts in its resident set (RSS) however many processes share it, so each
process that holds Prefect and medic adds about 107 MB to the summed RSS of a fleet (bench/README-fleet.md). Four
workers with a forkserver each held four copies of the same preloaded modules, and multiprocessing's forkserver also
started a resource tracker beside each (13 MB). Here the first warm worker starts the server, the others connect to
it, and it ends when the last of them has gone.

Where: a socket ``$TMPDIR/medic-forkserver-UID/KEY`` in a directory only this user can enter (checked, and each
connecting process's uid checked again). KEY digests the interpreter, ``sys.path``, the preload, the caller's role
(``medic worker`` and ``medic serve`` never share), its cgroups (workers of another systemd unit, whose stop must end
its own runs only, get a server of their own) and ``MEDIC_FORKSERVER_GROUP`` (workers with different values never
share: a test that kills one worker "with its machine" gives each its own). A lock file beside it orders starting and
ending: two workers starting together start one server, and a server never ends with a worker connecting.

Each run: the worker sends the target's module and name, its arguments, its resource limits, environment and umask
of the moment, with the write end of a status pipe and its own standard output and error (SCM_RIGHTS); the server
forks a child, answers its pid, and once it reaps the child writes its exit code (negative: the signal that ended
it, as multiprocessing reports it) to that pipe. The worker's ``ForkedProcess.join()`` reads it; if the server died
first, the exit code is 255, as multiprocessing's. The child takes the worker's output, environment, umask and limits
before anything else, so a run is the same whichever worker started the server; the target starts its own session
(``run_engine``: ``os.setsid``), so the worker's kill and cancellation paths (a signal to the run's pid, or its
group) reach the run alone. The server has a session of its own too: a signal to the group of the worker that
started it does not end the others' server. Runs outlive the server and their worker, as cold runs do. The server's
process is a child of the worker that started it: a tree walk from another worker does not find its runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import os
import pickle
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from medic.flows.run_limits import apply_limits

MAX_MESSAGE = 1 << 20
_SIGNED = 8  # a pid or exit code on the wire: 8 bytes, big-endian, signed
DIED = 255  # the exit code of a run whose server vanished before reporting it (multiprocessing's figure)
GROUP_ENV = "MEDIC_FORKSERVER_GROUP"
_IDLE_CHECK_S = 1.0  # with no worker connected, how often the server looks whether it may end
_BOOT = ("import sys; sys.path[:] = sys.argv[4:]; from medic.flows.fork_server import serve; "
         "serve(int(sys.argv[1]), sys.argv[2], sys.argv[3])")


class ForkedProcess:
    """A run forked by the server: its ``pid``, and ``exitcode`` once ``join()`` returned (multiprocessing's
    names, which Prefect's ``ProcessHandle`` reads)."""

    exitcode: int | None

    def __init__(self, pid: int, status_fd: int) -> None:
        self.pid, self.exitcode, self._status = pid, None, status_fd
        self._joined = threading.Lock()

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


def address(preload: list[str], role: str) -> Path:
    """The server's socket for this interpreter, path, preload, role, cgroups and group, in this user's private
    directory."""
    cgroups = ""
    with contextlib.suppress(OSError):
        cgroups = Path("/proc/self/cgroup").read_text()
    key = "\0".join([sys.executable, *sys.path, ",".join(preload), role, cgroups, os.environ.get(GROUP_ENV, "")])
    home = Path(tempfile.gettempdir()) / f"medic-forkserver-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        home.mkdir(mode=0o700)
    st = home.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise RuntimeError(f"{home} is not a directory of this user's alone (mode 0700): remove it, then start the "
                           f"worker again")
    return home / hashlib.sha256(key.encode()).hexdigest()[:20]


class ForkServer:
    """A worker's connection to the shared server (one request at a time), starting the server if none runs."""

    def __init__(self, preload: list[str], role: str) -> None:
        self.address, self.role = address(preload, role), role
        self.process: subprocess.Popen[bytes] | None = None  # set when this worker started the server
        self._lock = threading.Lock()
        with _locked(self.address):
            try:
                self._sock = _connect(self.address)
            except OSError:  # none running (or a stale socket): start one, listening before it starts
                with contextlib.suppress(FileNotFoundError):
                    self.address.unlink()
                with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener:
                    listener.bind(str(self.address))
                    listener.listen(64)
                    fd = listener.fileno()
                    self.process = subprocess.Popen([sys.executable, "-c", _BOOT, str(fd), ",".join(preload),
                                                     str(self.address), *sys.path], pass_fds=[fd],
                                                    stdin=subprocess.DEVNULL, start_new_session=True)
                self._sock = _connect(self.address)  # queued: answered once the server has imported its preload

    def alive(self) -> bool:
        """The server still holds the other end (it never writes unasked: readable means it closed)."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def start(self, target: Callable[..., Any], args: tuple[Any, ...], limits: dict[int, tuple[int, int]]
              ) -> ForkedProcess:
        """Fork ``target(*args)`` from the server with this process's environment, umask, output and ``limits``;
        ``target`` must be a module-level function."""
        request = pickle.dumps((target.__module__, target.__qualname__, args, limits, dict(os.environ), _umask()))
        if len(request) > MAX_MESSAGE:
            raise RuntimeError(f"a run's request of {len(request)} bytes is over {MAX_MESSAGE}: its environment?")
        status_r, status_w = os.pipe()
        try:
            with self._lock:
                socket.send_fds(self._sock, [request], [status_w, sys.stdout.fileno(), sys.stderr.fileno()])
                answer = self._sock.recv(_SIGNED)
        except OSError as exc:
            os.close(status_r)
            raise RuntimeError(f"the warm fork server is gone ({exc}): the next run starts a new one") from exc
        finally:
            os.close(status_w)
        pid = int.from_bytes(answer, "big", signed=True) if len(answer) == _SIGNED else 0
        if pid <= 0:
            os.close(status_r)
            raise RuntimeError("the warm fork server could not start the run (see the worker's log above)")
        return ForkedProcess(pid, status_r)


def _umask() -> int:
    """This process's umask, read without setting it (``os.umask`` would change it for the worker's threads)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


_servers: dict[str, ForkServer] = {}
_START = threading.Lock()


def running(preload: list[str], role: str) -> ForkServer:
    """This process's connection to the fork server for ``role``, started now if none runs (it imports ``preload``
    as the caller goes on)."""
    with _START:
        server = _servers.get(role)
        if server is None or not server.alive():
            server = _servers[role] = ForkServer(preload, role)
        return server


os.register_at_fork(after_in_child=_servers.clear)  # a forked child's socket is its parent's, not its own


def serve(fd: int, preload: str, path: str) -> None:
    """The server's loop: import ``preload`` (comma-separated), then serve the workers that connect, forking a child
    per request and reporting each exit, until the last worker has gone."""
    for name in filter(None, preload.split(",")):
        with contextlib.suppress(ImportError):  # a run that needs it imports it and reports the error with its name
            importlib.import_module(name)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler (not SIG_DFL), so the wakeup fd hears of each exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the workers': they end their runs themselves
    signal.set_wakeup_fd(wake_w)
    listener = socket.socket(fileno=fd)
    workers: dict[int, socket.socket] = {}
    status: dict[int, int] = {}  # child pid -> the write end of its status pipe
    while True:
        ready, _, _ = select.select([listener.fileno(), wake_r, *workers], [], [],
                                    None if workers else _IDLE_CHECK_S)
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _reap(status)
        if listener.fileno() in ready:
            _accept(listener, workers)
        for worker in [workers[f] for f in ready if f in workers]:
            if not _answer(worker, [listener.fileno(), wake_r, wake_w, *workers, *status.values()], status):
                del workers[worker.fileno()]
                worker.close()
        if not workers and _ending(listener, Path(path)):
            return


def _accept(listener: socket.socket, workers: dict[int, socket.socket]) -> None:
    conn, _ = listener.accept()
    _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    if uid != os.getuid():  # the directory is this user's alone; a process of another user is refused anyway
        conn.close()
        return
    workers[conn.fileno()] = conn


def _answer(worker: socket.socket, close: list[int], status: dict[int, int]) -> bool:
    """One request from ``worker``: False when it has gone."""
    try:
        message, fds, _, _ = socket.recv_fds(worker, MAX_MESSAGE + 4096, 3)
    except OSError:
        return False
    if not message:
        for fd in fds:
            os.close(fd)
        return False
    pid = _fork(message, fds, close) if len(fds) == 3 else 0
    for extra in fds[1:]:
        os.close(extra)  # the worker's output: the child has its own copies
    if pid > 0:
        status[pid] = fds[0]
    elif fds:
        os.close(fds[0])
    with contextlib.suppress(OSError):
        worker.send(pid.to_bytes(_SIGNED, "big", signed=True))
    return True


def _ending(listener: socket.socket, path: Path) -> bool:
    """No worker left: end, unless one is connecting now (under the lock, no worker can start another server)."""
    with _locked(path):
        waiting, _, _ = select.select([listener], [], [], 0)
        if waiting:
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener.close()
        return True


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


def _fork(message: bytes, fds: list[int], close: list[int]) -> int:
    status_fd, out, err = fds
    try:
        module, qualname, args, limits, environ, umask = pickle.loads(message)  # noqa: S301 - same user's worker
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except Exception:
        traceback.print_exc()
        return 0
    pid = os.fork()
    if pid == 0:  # the child: the worker's output, environment and umask, the server's descriptors gone, the target
        code = 1
        try:
            os.dup2(out, 1)
            os.dup2(err, 2)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for fd in {*close, status_fd, out, err}:
                os.close(fd)
            os.environ.clear()
            os.environ.update(environ)
            os.umask(umask)
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
