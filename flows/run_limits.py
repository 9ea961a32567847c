"""A forked run's resource limits: the worker's of the moment, not those of the process it was forked from.

A cold run (``python -m prefect.engine``) inherits the worker's limits when it starts. A warm run is forked from
the worker's forkserver and would inherit the forkserver's, frozen when that started. A CPU limit in force then
and lifted since (a harness that limits its children's CPU, as mutmut's runner does with ``RLIMIT_CPU``, or a
``prlimit`` on the worker) kills a long warm run with SIGXCPU (signal 24) that a cold run survives. Standard
library only: the forked child imports this module before anything else runs in it.
"""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Callable
from typing import Any

LIMITS = tuple(getattr(resource, n) for n in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_NOFILE",
                                               "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CORE") if hasattr(resource, n))


def run_limits() -> dict[int, tuple[int, int]]:
    """This process's resource limits now: what a run started cold from it would inherit."""
    return {limit: resource.getrlimit(limit) for limit in LIMITS}


def apply_limits(limits: dict[int, tuple[int, int]]) -> None:
    """Set ``limits`` here. A hard limit lower here than in ``limits`` can only be raised by root: then the soft
    limit goes as far as this process's hard one allows."""
    for limit, (soft, hard) in limits.items():
        try:
            resource.setrlimit(limit, (soft, hard))
        except (ValueError, OSError):
            here = resource.getrlimit(limit)[1]
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(limit, (_smaller(soft, here), here))


def _smaller(a: int, b: int) -> int:
    if a == resource.RLIM_INFINITY:
        return b
    return a if b == resource.RLIM_INFINITY else min(a, b)


def with_limits(limits: dict[int, tuple[int, int]], target: Callable[..., Any], *args: Any) -> Any:
    """The forked process's entry: ``limits`` first, then ``target(*args)``."""
    apply_limits(limits)
    return target(*args)
