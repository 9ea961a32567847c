"""The last module a warm worker's forkserver imports (``flows.warm_worker.PRELOAD``): what a deployed run would
import after the fork, imported here once so the runs share it, then everything alive frozen for the collector.

Sharing: a page the forkserver holds is shared by every run forked from it until one of them writes to it, so a
module imported here is in memory once per worker; one a run imports itself is there once per run. Runs import
medic's plugins and probe modules as they first use them (a triage over SSH: about 270 modules, paramiko and
cryptography among them, beside the ~1260 the preload already held), so they are imported here: every module of
the medic plugins a run uses and of its probes (those a ``medic run ssh-triage --engine inline`` imported, seen
with ``python -X importtime``), except CLI commands and web servers. Plugins that serve requests (collector,
cases page) and third-party plugins are not preloaded: a third party's import-time code runs in the run, where a
failure is reported with its name.

Freezing: CPython's cyclic garbage collector writes to the header of every object it examines, and a run collects
many times; each write to an inherited object copies its whole page into the run, so without a freeze the pages
shared with the forkserver turn private one collection after another. ``gc.freeze()`` moves every object alive
now into a permanent generation the collector never examines (the Python docs recommend it before forking for
this reason); a run still writes to the objects it uses (reference counts), not to the rest.

Malloc arenas: glibc gives each thread that allocates its own arena, up to 8 per core, and a run has many threads
(Prefect's task runner, event and log clients, one per SSH session); each arena keeps freed memory of its own, so a
run's resident memory grows with its thread count. The forkserver sets at most ``ARENAS`` (inherited by the runs
forked from it), unless the user set ``MALLOC_ARENA_MAX``, which glibc then reads itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import os
import pkgutil

ROOTS = (*(f"medic.plugins.{p}" for p in ("checks", "change", "channels", "ssh", "targets", "steps", "kb")),
         "medic.probes")
NOT_IN_RUNS = (".app", ".command", ".commands", ".serve")  # web servers, ``medic PLUGIN ...`` commands
RUN_LIBRARIES = ("paramiko",)  # imported by an SSH target's first connection
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def run_modules() -> list[str]:
    """The names of the modules preloaded for runs: those of ``ROOTS``, except ``NOT_IN_RUNS``."""
    names: list[str] = []
    for root in ROOTS:
        with contextlib.suppress(Exception):  # in the forkserver, anything but ImportError would end it
            package = importlib.import_module(root)
            names += [m.name for m in pkgutil.walk_packages(package.__path__, f"{root}.")
                      if not m.name.endswith(NOT_IN_RUNS) and not any(f"{s}." in m.name for s in NOT_IN_RUNS)]
    return names


def limit_malloc_arenas() -> bool:
    """At most ``ARENAS`` malloc arenas in this process and those forked from it; False when not set (the user set
    ``MALLOC_ARENA_MAX``, or the C library is not glibc)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):
        return False


def preload() -> int:
    """Limit the malloc arenas, import what runs import, then freeze every object alive; the number of modules
    imported."""
    limit_malloc_arenas()
    count = 0
    for name in (*RUN_LIBRARIES, *run_modules()):
        try:
            importlib.import_module(name)
            count += 1
        except Exception:  # noqa: S112 # a run that needs it imports it again and reports the error with its name
            continue
    freeze()
    return count


def freeze() -> None:
    """Collect the garbage of the imports (so it is not frozen with the rest), then freeze what is alive."""
    gc.collect()
    gc.freeze()


preload()
