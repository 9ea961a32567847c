"""Collection: run a profile's probes, commands and log tails under budgets, cheap items first.

Nothing here raises for a single item: what cannot be read is recorded in ``skipped`` with the reason, and when
a budget runs out the remaining items are skipped with that reason, so a bundle is always written.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import os
import shlex
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medic.agent.logpaths import expand, has_wildcard
from medic.agent.profile import Profile
from medic.kernel.bundle.manifest import unsafe_member_path
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec, run_probe

Progress = Callable[[str], None]
MAX_FILES_PER_ENTRY = 1000  # files one log entry (a glob or a directory) may bring; the rest are skipped, noted


@dataclass
class CollectedFile:
    arcname: str  # path inside the bundle, e.g. logs/var/log/syslog
    source: str
    text: str
    truncated: bool = False


@dataclass
class Collected:
    results: list[ProbeResult] = field(default_factory=list)
    files: list[CollectedFile] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    # --app-logs paths and patterns, and profile globs, that named no file (a profile's plain paths name the logs
    # of several distributions: a missing one is normal and not listed)
    unmatched: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append({"item": item, "reason": reason})


def lower_priority() -> None:
    """Run at low CPU and I/O priority: the user keeps working while we collect."""
    with contextlib.suppress(OSError):
        os.nice(10)
    try:
        import psutil

        psutil.Process().ionice(psutil.IOPRIO_CLASS_IDLE)
    except (ImportError, AttributeError, OSError, ValueError):  # not Linux, or not allowed
        pass


class Collector:
    def __init__(self, profile: Profile, probes: Mapping[str, ProbeSpec], progress: Progress | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.profile = profile
        self.probes = probes
        self.progress = progress or (lambda _msg: None)
        self.clock = clock
        self.bytes_used = 0

    def run(self, app_logs: list[str] | None = None) -> Collected:
        out = Collected(started=time.time())
        self.deadline = self.clock() + self.profile.budgets.total_seconds
        calls = sorted(self.profile.probes, key=lambda c: getattr(self.probes.get(c.probe), "cost", 9))
        for i, call in enumerate(calls, 1):
            self.progress(f"probe {i}/{len(calls)}: {call.key}")
            self._probe(call, out)
        for argv in self.profile.commands:
            self.progress(f"command: {shlex.join(argv)}")
            self._command(argv, out)
        out.environment = {k: v for k, v in os.environ.items() if k in set(self.profile.env_allow)}
        specs = [(spec.path, spec.lines, not spec.is_glob, False) for spec in self.profile.logs]
        specs += [(p, self.profile.app_log_lines, False, True) for p in app_logs or []]
        seen: set[str] = set()
        for pattern, lines, literal, requested in specs:
            paths = self._expand(pattern, literal, out)
            if not paths and (requested or not literal):
                out.skip(f"log:{pattern}", "matched nothing" if has_wildcard(pattern) and not literal
                         else "no such file or directory")
                out.unmatched.append(pattern)
            for path in paths:
                if os.path.realpath(path) in seen:
                    continue
                seen.add(os.path.realpath(path))
                self.progress(f"log: {path}")
                self._log(path, lines, out)
        out.finished = time.time()
        return out

    def _time_left(self) -> float:
        return self.deadline - self.clock()

    def _out_of_time(self, item: str, out: Collected) -> bool:
        if self._time_left() <= 0:
            out.skip(item, f"time budget of {self.profile.budgets.total_seconds:g} s used up")
            return True
        return False

    def _probe(self, call: ProbeCall, out: Collected) -> None:
        if self._out_of_time(f"probe:{call.key}", out):
            return
        spec = self.probes.get(call.probe)
        if spec is None:
            out.skip(f"probe:{call.key}", "no such probe in this agent")
            return
        timeout = min(self.profile.budgets.probe_seconds, max(self._time_left(), 0.1))
        box: list[ProbeResult] = []
        worker = threading.Thread(target=lambda: box.append(run_probe(spec, call)), daemon=True)
        worker.start()
        worker.join(timeout)
        if not box:  # a stuck probe is abandoned (daemon thread); the bundle says so
            out.skip(f"probe:{call.key}", f"timed out after {round(timeout, 2):g} s")
            return
        out.results.append(box[0])

    def _command(self, argv: list[str], out: Collected) -> None:
        item = f"command:{shlex.join(argv)}"
        if self._out_of_time(item, out):
            return
        started = self.clock()
        timeout = min(self.profile.budgets.probe_seconds, max(self._time_left(), 0.1))
        record: dict[str, Any] = {"argv": argv, "exit_code": None, "stdout": "", "stderr": "", "error": None}
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout, check=False,
                                  stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"})
            cap = self.profile.budgets.file_bytes
            record.update(exit_code=proc.returncode, stdout=proc.stdout[:cap].decode(errors="replace"),
                          stderr=proc.stderr[:cap].decode(errors="replace"))
        except FileNotFoundError:
            record["error"] = "command not found"
        except subprocess.TimeoutExpired:
            record["error"] = f"timed out after {round(timeout, 2):g} s"
        except OSError as exc:
            record["error"] = str(exc)
        record["duration_s"] = round(self.clock() - started, 3)
        self.bytes_used += len(record["stdout"]) + len(record["stderr"])
        out.commands.append(record)

    def _expand(self, pattern: str, literal: bool, out: Collected) -> list[str]:
        """The files a log entry names; a profile's plain path also brings its newest rotated siblings."""
        found = expand(pattern, literal=literal, limit=MAX_FILES_PER_ENTRY, stop=lambda: self._time_left() <= 0)
        if found.capped:
            out.skip(f"log:{pattern}", f"stopped after {len(found.files)} files (at most {MAX_FILES_PER_ENTRY} "
                                       "per entry, within the time budget)")
        expanded = []
        for p in found.files:
            expanded.append(p)
            if literal and p == pattern:  # rotated siblings: syslog.1, syslog.2.gz ..., newest first
                rotated = glob.glob(f"{glob.escape(p)}.[0-9]*")
                expanded += sorted(rotated, key=_mtime, reverse=True)[:3]
        return expanded

    def _log(self, path: str, lines: int, out: Collected) -> None:
        item = f"log:{path}"
        if self._out_of_time(item, out):
            return
        arcname = member_name(path)
        if why := unsafe_member_path(arcname) or _not_utf8(arcname):
            out.skip(item, f"cannot name it in the bundle: {why}")
            return
        left = self.profile.budgets.total_bytes - self.bytes_used
        if left <= 0:
            out.skip(item, f"total size budget of {self.profile.budgets.total_bytes} bytes used up")
            return
        cap = min(self.profile.budgets.file_bytes, left)
        try:
            text, truncated = tail_text(Path(path), lines, cap)
        except PermissionError:
            out.skip(item, "permission denied (the agent runs unprivileged)")
            return
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            out.skip(item, f"cannot read: {exc}")
            return
        self.bytes_used += len(text.encode())
        out.files.append(CollectedFile(arcname, path, text, truncated))


def member_name(path: str) -> str:
    """The bundle member for a collected file: ``logs/`` + its absolute path, unchanged, so that names stay
    unique and say where the file came from (``x.2.gz`` keeps its suffix; its text is stored decompressed)."""
    return "logs/" + os.path.abspath(path).lstrip("/")


def _not_utf8(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not UTF-8"
    return None


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def tail_text(path: Path, lines: int, max_bytes: int) -> tuple[str, bool]:
    """The last ``lines`` lines of a plain or gzip file, never more than ``max_bytes`` (bounded memory)."""
    if path.suffix == ".gz":
        window: deque[str] = deque(maxlen=lines)
        size = 0
        with gzip.open(path, "rt", errors="replace") as fh:
            for line in fh:
                window.append(line)
                size += len(line)
        text = "".join(window)
        truncated = len(window) == lines
    else:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fh.seek(max(0, size - max_bytes))
            data = fh.read(max_bytes)
        text = data.decode(errors="replace")
        if size > max_bytes:
            text = text.split("\n", 1)[-1]  # drop the partial first line
        kept = text.splitlines(keepends=True)
        truncated = size > max_bytes or len(kept) > lines
        text = "".join(kept[-lines:])
    encoded = text.encode()
    if len(encoded) > max_bytes:
        text = encoded[-max_bytes:].decode(errors="replace").split("\n", 1)[-1]
        truncated = True
    return text, truncated
