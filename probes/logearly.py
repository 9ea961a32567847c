"""A whole-log scan started before its probe is called: grep and ``wc -l`` run while medic is still starting.

``medic run`` spends about 0.1 s importing and setting up before its first probe runs, with the second core idle;
on a small log that is longer than the scan itself. :func:`start` begins the scan's programs at once (the CLI
calls it first thing, from the previous run's plan, :mod:`medic.cli.earlyscan`): grep writes its matching lines to
an anonymous in-memory file (a pipe would fill and stop it while nobody reads), wc counts the lines. When the probe
reaches the file, :func:`take` hands them over only if they are exactly the scan it would start (the same grep
argv, the file from its start, in this process, not a forked child) and the file is still the one they read (same
inode; the same size and time, or only longer: a live log appended to meanwhile); otherwise the probe scans as
usual and what was started early is killed at exit.
Linux only (``memfd_create``); stdlib only, like the other log probes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any, BinaryIO

MAX_BYTES = 64 << 20  # larger logs: the scan is long beside the start-up, and grep's output is held in memory
_STARTED: dict[tuple[str, tuple[str, ...]], EarlyScan] = {}


class EarlyScan:
    """grep (output in an anonymous file) and ``wc -l`` over one file, started by this process."""

    def __init__(self, path: str, argv: list[str], wc: str) -> None:
        self.pid = os.getpid()
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            self.stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            self.out = os.memfd_create("medic-grep", os.MFD_CLOEXEC)
            try:
                self.grep = subprocess.Popen(argv, stdin=fh, stdout=self.out, stderr=subprocess.DEVNULL,
                                             env={**os.environ, "LC_ALL": "C"})
            except OSError:
                os.close(self.out)
                raise
        try:
            with open(path, "rb") as counted:  # a description of its own: its own file offset
                self.wc = subprocess.Popen([wc, "-l"], stdin=counted, stdout=subprocess.PIPE)
        except OSError:
            self.grep.kill()
            self.grep.wait()
            os.close(self.out)
            raise

    @property
    def size(self) -> int:
        return self.stamp[2]

    def usable(self, path: str) -> bool:
        """The file is the one the scan read: the same, or only longer (a live log appended to since: the scan is
        of the file as it was when it started, as a scan always is of the file as it was when grep read it)."""
        try:
            st = os.stat(path)
        except OSError:
            return False
        dev, ino, size, mtime = self.stamp
        return (st.st_dev, st.st_ino) == (dev, ino) and (st.st_size > size or (st.st_size, st.st_mtime_ns)
                                                         == (size, mtime))

    def output(self) -> BinaryIO | None:
        """grep's whole output as a binary file at its start, once grep is done; None when it failed (the probe's
        own scan then reports why)."""
        if self.grep.wait() > 1:
            return None
        reader = os.fdopen(os.dup(self.out), "rb")
        reader.seek(0)
        return reader

    def stop(self) -> None:
        for proc in (self.grep, self.wc):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self.wc.stdout is not None:
            self.wc.stdout.close()
        os.close(self.out)


def argv_for(grep: str, pattern: str, ignore_case: bool) -> list[str]:
    """The grep argv of a portable (``-E``) pattern: the same list :func:`logengines.grep_engine` builds."""
    return [grep, "-a", "-E", *(["-i"] if ignore_case else []), "-e", pattern]


def eligible(params: Mapping[str, Any]) -> bool:
    """Whether a ``log_scan`` call (its parameters bound) scans one whole plain file that can start early."""
    path = params.get("path")
    return (isinstance(path, str) and not path.endswith(".gz") and params.get("lines") == 0
            and not params.get("window_min") and not params.get("include_rotated")
            and params.get("engine", "auto") in ("auto", "grep"))


def start(path: str, pattern: str, ignore_case: bool) -> bool:
    """Start grep and wc over ``path`` (a plain file of at most MAX_BYTES); False when nothing was started."""
    grep, wc = shutil.which("grep"), shutil.which("wc")
    if grep is None or wc is None or not hasattr(os, "memfd_create"):
        return False
    try:
        if not 0 < os.path.getsize(path) <= MAX_BYTES or not os.path.isfile(path):
            return False
        argv = argv_for(grep, pattern, ignore_case)
        key = (path, tuple(argv))
        if key in _STARTED:
            return False
        _STARTED[key] = EarlyScan(path, argv, wc)
    except OSError:
        return False
    if len(_STARTED) == 1:
        atexit.register(stop_all)
    return True


def take(path: str, start: int, argv: list[str]) -> EarlyScan | None:
    """The scan started early for exactly this grep over ``path`` from ``start``, or None (then none is)."""
    if start != 0 or not _STARTED:
        return None
    early = _STARTED.pop((path, tuple(argv)), None)
    if early is not None and early.pid != os.getpid():  # a forked child: the programs are its parent's
        return None
    return early


def stop_all() -> None:
    """Kill what was started early and never taken (a plan that no longer matches the run)."""
    while _STARTED:
        _STARTED.popitem()[1].stop()
