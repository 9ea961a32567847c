"""Run a command that dies with the process that started it.

A change's command (a ``command`` action, an undo command) must not outlive a runner killed with ``kill -9``:
``medic recover`` would restore the files while the orphan is still writing them. The command runs under
``setpriv --pdeathsig KILL`` (util-linux), so the kernel kills it when its parent dies, and in its own session,
so a terminal's Ctrl-C reaches medic, which decides, rather than the command alone. Where ``setpriv`` is missing
the command runs as is (and may outlive a killed runner; docs/change-safety.md says so).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from functools import cache


@cache
def _setpriv() -> str | None:
    path = shutil.which("setpriv")
    if path is None:
        return None
    probe = subprocess.run([path, "--pdeathsig", "KILL", "--", "true"], capture_output=True, check=False)
    return path if probe.returncode == 0 else None  # old util-linux without --pdeathsig


def tied(argv: Sequence[str]) -> list[str]:
    setpriv = _setpriv()
    return [setpriv, "--pdeathsig", "KILL", "--", *argv] if setpriv else list(argv)


def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Like ``subprocess.run(argv, capture_output=True)``; raises FileNotFoundError for a missing program."""
    if shutil.which(argv[0]) is None and "/" not in argv[0]:
        raise FileNotFoundError(2, "command not found", argv[0])
    return subprocess.run(tied(argv), capture_output=True, check=False, timeout=timeout,
                          stdin=subprocess.DEVNULL, start_new_session=True)
