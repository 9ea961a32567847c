"""Prefect's temporary API server inside medic's own process: uvicorn on a loopback port, in a thread of its own.

A cold run used to start the server as a second Python process, which imported Prefect (79 MB) a second time on
top of its server code. Served from a thread here, Prefect is imported once for the client and the server: a cold
run's tree is about 80 MB smaller (bench/README.md, memory of a cold run). It is the app the uvicorn command
served (``create_app(ephemeral=True, final=True)``: the services of Prefect's own temporary server only, no UI),
over HTTP on 127.0.0.1 as before, so Prefect's flow engine and its synchronous client talk to it unchanged. It runs
its own event loop in a daemon thread; its log records go to its log file, never to medic's terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from medic.flows import server_db
from medic.kernel.errors import MedicError

STOP_S = 5
POLL_S = 0.05
LOGGER = "medic.temporary_server"  # this module's own records: the server's start, stop and loop errors
# what the server logs to: in a process of its own all of it went to its log file, so here too
SERVER_LOGGERS = ("uvicorn", "prefect.server", "docket", "sqlalchemy", "aiosqlite")


def bound_socket() -> socket.socket:
    """A socket bound to a free loopback port, served as it is: no other program can take the port between
    choosing and serving it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def file_handler(stream: BinaryIO) -> logging.Handler:
    handler = logging.StreamHandler(io.TextIOWrapper(stream, encoding="utf-8", errors="replace", line_buffering=True))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


@contextlib.contextmanager
def routed(names: tuple[str, ...], handler: logging.Handler) -> Iterator[None]:
    """Send these loggers' records to ``handler`` only, for as long as the server runs. Entered once Prefect is
    imported: its logging set-up gives uvicorn's logger a console handler of its own."""
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers, logger.propagate = [handler], False
    try:
        yield
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers, logger.propagate = handlers, propagate


class ThreadServer:
    """Prefect's API server served by uvicorn in a daemon thread of this process, for this process's runs."""

    def __init__(self, log: Path, open_log: Callable[[Path], BinaryIO]) -> None:
        """``open_log`` opens the log file for appending (bounded: medic.flows.prefect_env)."""
        self.log = log
        self._open_log = open_log
        self.port = 0
        self.error: MedicError | None = None  # why it could not start: every later call says the same
        self._thread: threading.Thread | None = None
        self._uvicorn: Any = None  # uvicorn.Server, once the thread has built it

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def spawn(self) -> None:
        """Start the thread (returns at once; :meth:`wait_ready` waits for the server to serve)."""
        stream = self._open_log(self.log)  # here, so that a log that cannot be written is the caller's error
        sock = bound_socket()
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, args=(sock, stream), name="prefect-temporary-server",
                                        daemon=True)
        self._thread.start()

    def _serve(self, sock: socket.socket, stream: BinaryIO) -> None:
        handler = file_handler(stream)
        with stream, sock, routed((LOGGER,), handler):
            try:
                asyncio.run(self._main(sock, handler))
            except SystemExit:
                pass  # uvicorn's way out when the app cannot start: it logged why; wait_ready says it stopped
            except BaseException:  # the same for anything else, with its traceback in the log
                logging.getLogger(LOGGER).exception("Prefect's temporary server stopped")

    async def _main(self, sock: socket.socket, handler: logging.Handler) -> None:
        import uvicorn
        from prefect.server.api.server import create_app
        from prefect.settings import PREFECT_API_DATABASE_MIGRATE_ON_START, temporary_settings

        asyncio.get_running_loop().set_exception_handler(_log_loop_error)  # not on medic's stderr
        # a database already at this Prefect's newest migration needs no check (8 MB less): server_db.py. The
        # setting is this thread's (its tasks copy its context), not the client's.
        skip = {PREFECT_API_DATABASE_MIGRATE_ON_START: False} if server_db.migrated() else {}
        with temporary_settings(updates=skip):
            app = create_app(ephemeral=True, final=True)
        with temporary_settings(updates=skip), routed(SERVER_LOGGERS, handler):
            config = uvicorn.Config(app, log_config=None, log_level="error", access_log=False, lifespan="on",
                                    timeout_graceful_shutdown=STOP_S)
            self._uvicorn = uvicorn.Server(config)
            await self._uvicorn.serve(sockets=[sock])

    def wait_ready(self, timeout: float) -> None:
        """Wait until the server has started (its lifespan done, the port served); a MedicError naming the log
        file if it stops first or does not start in time. As in Prefect, ``timeout`` counts the time slept."""
        waited = 0.0
        while self.error is None and waited < timeout:
            if self._uvicorn is not None and self._uvicorn.started:
                return
            if not self.running:
                raise self.failed("it stopped while starting")
            time.sleep(POLL_S)
            waited += POLL_S
        raise self.error or self.failed(f"it did not answer within {timeout:g} s")

    def failed(self, why: str) -> MedicError:
        self.stop()
        self.error = MedicError(f"Prefect's temporary server could not be started ({why}); its output is in "
                                f"{self.log}. Start a server (medic server start) and set PREFECT_API_URL, or run "
                                f"with --engine inline")
        return self.error

    def stop(self) -> None:
        """Ask uvicorn to shut down (its lifespan stops Prefect's services) and wait for it, 5 s at most: the
        thread is a daemon, so a server that does not stop in time cannot keep medic from exiting."""
        thread, self._thread = self._thread, None
        if thread is None or not thread.is_alive():
            return
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        thread.join(STOP_S)
        if thread.is_alive() and self._uvicorn is not None:
            self._uvicorn.force_exit = True
            thread.join(1.0)


def stop_when_main_thread_ends(server: ThreadServer) -> None:
    """Stop the server once the main thread has finished, before the interpreter's exit: the server's shutdown
    hands work to thread pools (docket's listener: ``asyncio.to_thread``), which refuse it once ``atexit`` runs;
    a server waiting on them held medic's exit for 6 s.

    Prefect stops its own queue services (events, logs) the same way (``threading._register_atexit``); those hooks
    run newest first, so the services that send the run's last events and logs, started after this, are drained
    before the server stops, and the thread pools' hook (registered on their import, below) runs after it.
    """
    import concurrent.futures.thread  # noqa: F401 - registers its hook before this one, so it runs after

    def stop() -> None:
        server.stop()
        # The interpreter's exit then runs full garbage collections over every object left, the server's code
        # included: seconds on a loaded machine (gdb: Py_FinalizeEx > finalize_modules > gc). Nothing left needs
        # them (the server, its files and database are closed), so they are moved out of the collector's sight.
        gc.freeze()

    register = getattr(threading, "_register_atexit", None)
    if register is None:  # not CPython's threading: at exit, late as it is (the daemon thread cannot hold medic)
        import atexit

        atexit.register(stop)
    else:
        register(stop)


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """What the server's event loop would print on stderr (a task never awaited, a connection reset)."""
    logging.getLogger(LOGGER).error("%s", context.get("message"), exc_info=context.get("exception"))
