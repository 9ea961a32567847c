"""Fault injection for crash tests: ``MEDIC_FAULT=POINT`` kills this process (SIGKILL) when it reaches
``POINT``.

``MEDIC_FAULT=@N`` kills it at the N-th instrumented point reached, whatever its name, so a test can walk
every moment of a change. Instrumented points are cheap no-ops when the variable is unset.

Points: ``after_begin``, ``after_backup_tmp``, ``after_intent``, ``before_rename`` (a file written, not yet
renamed into place), ``after_action``, ``after_done``, ``after_undo``,
``before_commit``, ``after_commit``.
"""

from __future__ import annotations

import os
import signal

_hits = {"n": 0}


def fault(point: str) -> None:
    wanted = os.environ.get("MEDIC_FAULT")
    if not wanted:
        return
    _hits["n"] += 1
    trace = os.environ.get("MEDIC_FAULT_TRACE")
    if trace:
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(f"{_hits['n']} {point}\n")
    if wanted == point or (wanted.startswith("@") and wanted[1:].isdigit() and int(wanted[1:]) == _hits["n"]):
        os.kill(os.getpid(), signal.SIGKILL)
