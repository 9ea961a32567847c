"""Run a command that dies with the process that started it.

A change's command (a ``command`` action, an undo command) must not outlive a runner killed with ``kill -9``:
``medic recover`` would restore the files while the orphan is still writing them. The command is started
through a few lines of Python that ask the kernel to SIGKILL it when its parent dies (``PR_SET_PDEATHSIG``),
then check that the parent is still the runner (it may have died before the request) and only then ``exec``
the command. It runs in its own session, so a terminal's Ctrl-C reaches medic, which decides, not the command
alone. Where ``prctl`` is unavailable (not Linux) the command runs as is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

# argv: PARENT_PID PROGRAM ARGS...; exit 137 (as if killed) when the parent is already gone
_EXEC = (
    "import os,sys\n"
    "try:\n"
    " import ctypes;ctypes.CDLL(None).prctl(1,9,0,0,0)\n"  # PR_SET_PDEATHSIG, SIGKILL
    "except Exception:\n"
    " pass\n"
    "if os.getppid()!=int(sys.argv[1]):os._exit(137)\n"
    "os.execvp(sys.argv[2],sys.argv[2:])\n"
)


def tied(argv: Sequence[str]) -> list[str]:
    """``argv`` wrapped so that it dies with this process."""
    return [sys.executable, "-I", "-S", "-c", _EXEC, str(os.getpid()), *argv]


def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Like ``subprocess.run(argv, capture_output=True)``; raises FileNotFoundError for a missing program."""
    program = argv[0]
    if shutil.which(program) is None:
        raise FileNotFoundError(2, "command not found", program)
    return subprocess.run(tied(argv), capture_output=True, check=False, timeout=timeout,
                          stdin=subprocess.DEVNULL, start_new_session=True)
