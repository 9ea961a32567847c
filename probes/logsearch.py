"""Scanning a log (plain or rotated ``.gz``) for lines matching a pattern, streaming, bounded memory.

This module decides *what* to scan (the time window by binary search on timestamps, the last N lines by
reading
backwards, rotated files by mtime) as :class:`~medic.probes.logengines.Segment` s; the engines in
logengines.py find the matching lines (GNU grep reading the file, or Python's ``re`` over chunks) while Python
counts every line. Nothing holds more than a chunk and the bounded tallies.

This module holds the scan itself and imports nothing of medic's probe registry (parameters, dataclasses), so
``medic logs scan`` starts fast; probes/logs.py declares it as the ``log_scan`` probe.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.probes import logscan
from medic.probes.logengines import (
    GrepRefused,
    LineCount,
    Matches,
    Segment,
    grep_dialect,
    grep_engine,
    grep_for,
    python_engine,
)

DEFAULT_PATTERN = r"error|exception|fatal|critical|traceback|panic|segfault"
__all__ = ["DEFAULT_PATTERN", "SMALL", "grep_dialect", "per_minute", "scan_log", "scope"]


def _from(path: str, start: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        yield from logscan.chunks(fh)


def _exact_window_start(path: str, since: float) -> int:
    """Byte offset of the first line timestamped >= since (file size when there is none)."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if size and logscan.first_time_after(fh, max(0, size - 8192), 8192) is None:
            raise ValueError(
                f"{path}: no timestamp recognised at the end of the file; scan the last lines "
                "instead of a time window"
            )
        pos = logscan.window_offset(fh, size, since)
        fh.seek(pos)
        for chunk in logscan.chunks(fh):
            kept, inside = logscan.drop_before(chunk, since)
            if inside:
                return pos + len(chunk) - len(kept)
            pos += len(chunk)
    return size


def _since(source: Iterator[bytes], since: float) -> Iterator[bytes]:
    inside = False
    for chunk in source:
        if not inside:
            chunk, inside = logscan.drop_before(chunk, since)
            if not inside:
                continue
        yield chunk


def _skip_lines(source: Iterator[bytes], skip: int) -> Iterator[bytes]:
    for chunk in source:
        if skip:
            n = chunk.count(b"\n")
            if n <= skip:
                skip -= n
                continue
            pos = 0
            for _ in range(skip):
                pos = chunk.index(b"\n", pos) + 1
            chunk, skip = chunk[pos:], 0
        yield chunk


def _gz(path: str, lines: int, since: float | None) -> Iterator[bytes]:
    with logscan.open_binary(path) as fh:
        if since is not None:
            yield from _since(logscan.chunks(fh), since)
        elif lines:
            total = sum(c.count(b"\n") for c in logscan.chunks(fh))
            fh.seek(0)
            yield from _skip_lines(logscan.chunks(fh), max(0, total - lines))
        else:
            yield from logscan.chunks(fh)


SMALL = 256 * 1024  # a plain file up to this size is scanned by Python: starting grep and wc costs more (~2.5 ms)


def _small(path: str, include_rotated: bool) -> bool:
    """A plain file small enough that ``engine: auto`` scans it in Python (bench/README-logs.md, session 14)."""
    return not include_rotated and not path.endswith(".gz") and os.path.getsize(path) <= SMALL


def _plan(path: str, lines: int, since: float | None, include_rotated: bool) -> list[Segment]:
    """What to scan, in file order, already cut to the time window or the last ``lines`` lines."""
    files = logscan.rotated_files(path) if include_rotated and (since is not None or not lines) else [path]
    if since is not None:
        files = [f for f in files if os.path.getmtime(f) >= since] or files[-1:]
    segments = []
    for name in files:
        if name.endswith(".gz"):
            segments.append(Segment(name, None, _gz(name, lines, since)))
            continue
        if since is not None:
            start = _exact_window_start(name, since)
        elif lines:
            with open(name, "rb") as fh:
                start = logscan.tail_offset(fh, os.path.getsize(name), lines)
        else:
            start = 0
        segments.append(Segment(name, start, _from(name, start)))
    return segments


def scan_log(
    path: str,
    pattern: str = DEFAULT_PATTERN,
    ignore_case: bool = True,
    lines: int = 10000,
    window_min: float = 0.0,
    include_rotated: bool = False,
    top: int = 10,
    extract: str = "",
    engine: str = "auto",
) -> dict[str, Any]:
    """The ``log_scan`` probe's result (probes/logs.py documents the parameters)."""
    if not os.path.exists(path):
        raise ProbeUnavailable(f"{path}: no such file")
    try:
        re.compile(pattern.encode(), re.IGNORECASE if ignore_case else 0)  # validate before any I/O
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    grep = grep_for(pattern) if engine == "grep" or (engine == "auto" and not _small(path, include_rotated)) else None
    if engine == "grep" and grep is None:
        raise ProbeUnavailable(f"no grep that runs {grep_dialect(pattern)} on this machine (GNU grep; -P: PCRE)")
    since = time.time() - 60 * window_min if window_min > 0 else None
    started = time.monotonic()
    sink, counted = Matches(top, 5, extract), LineCount()
    try:
        run = grep_engine(grep, pattern, ignore_case) if grep else python_engine(pattern, ignore_case)
        run(_plan(path, lines, since, include_rotated), counted, sink)
    except GrepRefused as exc:  # not GNU grep: Python scans it all again, as without a grep
        if engine == "grep":
            raise ProbeUnavailable(f"grep refused GNU grep's options: {exc}") from None
        grep, sink, counted = None, Matches(top, 5, extract), LineCount()
        python_engine(pattern, ignore_case)(_plan(path, lines, since, include_rotated), counted, sink)
    return {
        "path": path,
        "pattern": pattern,
        "engine": "grep" if grep else "python",
        "mode": "window" if since is not None else "lines" if lines else "all",
        "window_min": window_min,
        "lines_requested": lines,
        "bytes_scanned": counted.bytes,
        "lines_scanned": counted.lines,
        "matches": sink.count,
        "first_time": counted.first,
        "last_time": counted.last,
        "scan_s": round(time.monotonic() - started, 3),
        "top": sink.tally.top(top),
        "approximate": sink.tally.pruned,
        "samples": list(sink.last),
        "top_values": [{"value": v, "count": c} for v, c in sink.values.most_common(top)],
    }


def scope(result: dict[str, Any]) -> str:
    """What a scan's result covered, in words: "the last 15 min", "the last 10000 lines" or "5120 lines"."""
    if result["mode"] == "window":
        return f"the last {result['window_min']:g} min"
    lines = f"{result['lines_scanned']} lines"
    return f"the last {lines}" if result["mode"] == "lines" else lines


def per_minute(result: dict[str, Any]) -> float | None:
    """Matching lines per minute between the first and last timestamps seen, None without two of them."""
    first, last = result["first_time"], result["last_time"]
    return 60.0 * result["matches"] / (last - first) if first and last and last > first else None
