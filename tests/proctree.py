"""Process trees of the service tests' workers: what runs under one, and killing all of it.

A Prefect process worker starts each flow run in a session (and process group) of its own (prefect#16746), so
killing the worker's group alone leaves its runs alive: these helpers reach every group under the worker.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil


def descendants(pid: int) -> list[int]:
    """The process ids under ``pid`` (children, their children...); none when it is gone."""
    with contextlib.suppress(psutil.Error):
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    return []


def kill_everything_under(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group of ``pid`` and to the group of every process under it."""
    groups = set()
    for p in [pid, *descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(p))
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)
