"""Streaming log scanning: timestamps, message normalisation, chunked sources (stdlib only, shippable).

Helpers for the ``log_scan`` probe (probes/logs.py). Files are read in large byte chunks that end on a
line boundary, so memory stays bounded whatever the file size; ``.gz`` files are streamed, plain files are
seeked (the tail for "last N lines", a binary search for "since a time").
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO, cast

CHUNK = 1 << 20
MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}

# a timestamp near the start of a line: ISO 8601, nginx error log, syslog (no year), apache/nginx access log
_TS = re.compile(
    rb"(?P<iso>(?P<y>\d{4})[-/](?P<mo>\d\d)[-/](?P<d>\d\d)[T ](?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
    rb"(?:[.,]\d+)?(?P<tz>Z|[+-]\d\d:?\d\d)?)"
    rb"|(?P<sys>^(?P<smo>[A-Z][a-z]{2}) +(?P<sd>\d{1,2}) (?P<sh>\d\d):(?P<smi>\d\d):(?P<ss>\d\d))"
    rb"|(?P<clf>\[(?P<cd>\d\d)/(?P<cmo>[A-Z][a-z]{2})/(?P<cy>\d{4}):(?P<ch>\d\d):(?P<cmi>\d\d):(?P<cs>\d\d)"
    rb" (?P<ctz>[+-]\d{4})\])"
    rb"|(?P<apache>^\[[A-Z][a-z]{2} (?P<amo>[A-Z][a-z]{2}) +(?P<ad>\d{1,2}) "
    rb"(?P<ah>\d\d):(?P<ami>\d\d):(?P<as>\d\d)"
    rb"(?:\.\d+)? (?P<ay>\d{4})\])"
)


def _tz_seconds(tz: bytes | None) -> int | None:
    if not tz:
        return None
    if tz == b"Z":
        return 0
    text = tz.replace(b":", b"")
    sign = -1 if text[:1] == b"-" else 1
    return sign * (int(text[1:3]) * 3600 + int(text[3:5]) * 60)


def _epoch(y: int, mo: int, d: int, h: int, mi: int, s: int, tz: int | None) -> float:
    fields = (y, mo, d, h, mi, s, 0, 0, -1)
    if tz is None:  # no zone written: the machine's local time, as syslog and most apps write it
        return time.mktime(fields)
    import datetime  # what calendar.timegm computes with, without importing calendar (medic run's start-up)

    days = datetime.date(y, mo, 1).toordinal() - _EPOCH_DAY + d - 1
    return float(((days * 24 + h) * 60 + mi) * 60 + s - tz)


_EPOCH_DAY = 719163  # datetime.date(1970, 1, 1).toordinal()


def parse_time(line: bytes, now: float | None = None) -> float | None:
    """Epoch seconds of the timestamp in the first 64 bytes of a log line, or None."""
    m = _TS.search(line, 0, 64)
    if m is None:
        return None
    try:
        if m.group("iso"):
            return _epoch(
                int(m["y"]),
                int(m["mo"]),
                int(m["d"]),
                int(m["h"]),
                int(m["mi"]),
                int(m["s"]),
                _tz_seconds(m["tz"]),
            )
        if m.group("apache"):  # Apache error log: [Wed Nov 25 16:00:00.123456 2026], local time
            return _epoch(
                int(m["ay"]),
                MONTHS[m["amo"].decode().lower()],
                int(m["ad"]),
                int(m["ah"]),
                int(m["ami"]),
                int(m["as"]),
                None,
            )
        if m.group("clf"):
            return _epoch(
                int(m["cy"]),
                MONTHS[m["cmo"].decode().lower()],
                int(m["cd"]),
                int(m["ch"]),
                int(m["cmi"]),
                int(m["cs"]),
                _tz_seconds(m["ctz"]),
            )
        now = time.time() if now is None else now
        year = time.localtime(now).tm_year
        fields = (MONTHS[m["smo"].decode().lower()], int(m["sd"]), int(m["sh"]), int(m["smi"]), int(m["ss"]))
        stamp = _epoch(year, *fields, None)
        return (
            _epoch(year - 1, *fields, None) if stamp > now + 86400 else stamp
        )  # December lines read in January
    except (KeyError, ValueError, OverflowError):
        return None


# Folding variable parts so repeated messages count as one: order matters (timestamps before numbers).
_FOLD = [
    (re.compile(r"\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<ts>"),
    (re.compile(r"\[[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)? \d{4}\]"), "[<ts>]"),
    (re.compile(r"\b[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d\b"), "<ts>"),
    (re.compile(r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]"), "<ts>"),
    (
        re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
        "<uuid>",
    ),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]{6})[a-fA-F]*\d[0-9a-fA-F]*\b"), "<id>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
]
_FOLDED = b"0123456789abcdefABCDEF."  # hex digits and dots: numbers, ids, addresses, versions, times


_SECRET = re.compile(
    r"(?i)\b(pass(?:word|wd)?|secret|token|api[_-]?key|authorization|auth|session(?:id)?)(\s*[=:]\s*|\s+)"
    r"(?:bearer\s+|basic\s+)?[^\s&,;\"']+"
)


def scrub(text: str) -> str:
    """Mask values that look like credentials (password=..., token: ..., Authorization: Bearer ...)."""
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def fold(text: str) -> str:
    """Readable form of a message: timestamps, UUIDs, addresses, hex ids and numbers replaced by
    placeholders."""
    for rx, repl in _FOLD:
        text = rx.sub(repl, text)
    return text


def fold_key(block: bytes) -> bytes:
    """A fast grouping key for many lines at once: every hex digit (0-9, a-f, A-F) and dot deleted.

    Numbers, hex ids, addresses, versions and timestamps of any length fold alike in one C pass (``translate``
    with a delete set, 15x faster than collapsing runs of zeros with ``replace`` passes: bench/README-logs.md);
    a number still leaves its separators, so "job 7 failed" and "job failed" keep apart. The price is that
    lines differing only in hex digits (letters a-f included) or dots share a key: "bad"/"dead", "make"/"cmake"
    (on this machine's dpkg and apt logs 30 of 5,680 and 27 of 4,049 groups of the earlier run-collapsing keys
    merged: bench/README-logs.md).
    :func:`fold` makes the readable text of the few keys that are reported.
    """
    return block.translate(None, _FOLDED)


class Tally:
    """Counts normalised messages with bounded memory (prunes rare keys when it grows past ``limit``)."""

    def __init__(self, limit: int = 5000, example_len: int = 300) -> None:
        self.counts: Counter[bytes] = Counter()
        self.examples: dict[bytes, bytes] = {}
        self.limit = limit
        self.example_len = example_len
        self.pruned = False

    def add_block(self, lines: list[bytes]) -> None:
        if not lines:
            return
        keys = fold_key(b"\n".join(lines)).split(b"\n")
        self.counts.update(keys)
        firsts = dict(zip(reversed(keys), reversed(lines)))  # each key's first line in this block (at C speed)
        examples = self.examples
        for key in firsts.keys() - examples.keys():
            examples[key] = firsts[key][: self.example_len]
        if len(self.counts) > self.limit:
            self.counts = Counter(dict(self.counts.most_common(self.limit // 2)))
            self.examples = {k: examples[k] for k in self.counts if k in examples}
            self.pruned = True

    def merge(self, later: Tally) -> None:
        """Add the tally of the lines that follow this one's in the file (a later part of it): counts add up, the
        first example of a key stays, ties keep file order, as if one tally had seen both parts in turn."""
        self.counts.update(later.counts)
        for key, line in later.examples.items():
            self.examples.setdefault(key, line)
        self.pruned = self.pruned or later.pruned
        if len(self.counts) > self.limit:
            self.counts = Counter(dict(self.counts.most_common(self.limit // 2)))
            self.examples = {k: self.examples[k] for k in self.counts if k in self.examples}
            self.pruned = True

    def top(self, n: int) -> list[dict[str, object]]:
        merged: dict[str, dict[str, object]] = {}
        for key, count in self.counts.most_common(4 * n):
            example = scrub(self.examples.get(key, key).decode("utf-8", "replace").rstrip("\r"))
            message = fold(example)
            entry = merged.setdefault(message, {"message": message, "count": 0, "example": example})
            entry["count"] = int(entry["count"]) + count  # type: ignore[call-overload]
        return sorted(merged.values(), key=lambda e: -int(e["count"]))[:n]  # type: ignore[call-overload]


def open_binary(path: str) -> BinaryIO:
    if path.endswith(".gz"):
        import gzip

        return cast(BinaryIO, gzip.open(path, "rb"))
    return open(path, "rb")


def chunks(fh: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    """Chunks of whole lines (the last one may lack its newline); memory bounded by ``size`` + longest
    line."""
    rest = b""
    while True:
        block = fh.read(size)
        if not block:
            if rest:
                yield rest
            return
        block = rest + block
        cut = block.rfind(b"\n") + 1
        if cut == 0 and len(block) < 16 * size:
            rest = block
            continue
        if cut == 0:
            cut = len(block)  # one absurdly long line: hand it over rather than grow without bound
        rest = block[cut:]
        yield block[:cut]


def tail_offset(fh: BinaryIO, size: int, lines: int) -> int:
    """Offset where the last ``lines`` lines of a seekable file start (reads backwards, bounded memory)."""
    pos, seen = size, 0
    fh.seek(max(0, size - 1))
    if size and fh.read(1) == b"\n":
        pos -= 1  # the final newline ends the last line, it does not start a new one
    while pos > 0:
        step = min(CHUNK, pos)
        fh.seek(pos - step)
        block = fh.read(step)
        end = len(block)
        while True:
            i = block.rfind(b"\n", 0, end)
            if i < 0:
                break
            seen += 1
            if seen == lines:
                return pos - step + i + 1
            end = i
        pos -= step
    return 0


def first_time_after(fh: BinaryIO, start: int, probe_len: int = 4096) -> float | None:
    """Timestamp of the first complete, timestamped line at or after byte ``start`` (None if there is
    none)."""
    fh.seek(start)
    block = fh.read(probe_len)
    if start:
        nl = block.find(b"\n")
        if nl < 0:
            return None
        block = block[nl + 1 :]
    for line in block.split(b"\n")[:-1] or [block]:
        ts = parse_time(line)
        if ts is not None:
            return ts
    return None


def window_offset(fh: BinaryIO, size: int, since: float) -> int:
    """Binary search for a line-aligned offset at or before the first line timestamped >= ``since``."""
    lo, hi = 0, size
    while hi - lo > CHUNK:
        mid = (lo + hi) // 2
        ts = first_time_after(fh, mid)
        if ts is not None and ts < since:
            lo = mid
        else:
            hi = mid
    if lo == 0:
        return 0
    fh.seek(lo)
    head = fh.read(CHUNK)
    nl = head.find(b"\n")
    return lo + nl + 1 if nl >= 0 else lo


def drop_before(chunk: bytes, since: float) -> tuple[bytes, bool]:
    """The part of ``chunk`` from its first line timestamped >= ``since``; (b"", False) if none is."""
    last_nl = chunk.rstrip(b"\n").rfind(b"\n")
    last_ts = parse_time(chunk[last_nl + 1 :])
    if last_ts is not None and last_ts < since:
        return b"", False  # the whole chunk is older: one timestamp parsed, chunk skipped
    pos = 0
    while pos < len(chunk):
        end = chunk.find(b"\n", pos)
        end = len(chunk) if end < 0 else end + 1
        ts = parse_time(chunk[pos:end])
        if ts is not None and ts >= since:
            return chunk[pos:], True
        pos = end
    return b"", False


def rotated_files(path: str, limit: int = 9) -> list[str]:
    """Rotations of ``path`` that exist, oldest first: path.9.gz ... path.2.gz, path.1, then path itself."""
    found = []
    for n in range(limit, 0, -1):
        for candidate in (f"{path}.{n}.gz", f"{path}.{n}"):
            if os.path.isfile(candidate):
                found.append(candidate)
                break
    return [*found, path] if os.path.isfile(path) else found
