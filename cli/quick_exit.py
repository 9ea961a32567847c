"""Leave at once when ``medic run``'s fast path is done, without tearing the interpreter down.

After the findings are printed, a normal exit finalizes the interpreter: every module (httpx, rich, websockets,
medic's own: about 400) is torn down and collected, 0.13-0.34 s at load 21 where leaving with ``os._exit`` after
the same work takes 0.004-0.035 s (bench/README-fast.md). The fast path asks for this exit when its run is
followed to the end; the console script then runs the ``atexit`` functions (logging's flush, any pending history
writes), flushes stdout and stderr and leaves with the command's exit code. Daemon threads (the event stream, the
last fetches) end with the process as they would anyway; the fast path starts no other thread. In-process callers
of ``medic.cli.main.main`` (tests) never get this exit: only ``entry()`` acts on it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

_requested = False


def request() -> None:
    global _requested
    _requested = True


def leave_if_requested(code: int) -> None:
    """``os._exit(code)`` after the ``atexit`` functions and the flushes, when asked for; else return."""
    if not _requested:
        return
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can reach the reader anyway
            stream.flush()
    os._exit(code)
