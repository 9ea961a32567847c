"""How log_scan finds matching lines: GNU grep reading the file (or a pipe), or Python's re over chunks.

Both engines hand blocks of matching lines to a :class:`Matches` sink (counts, folded tallies, samples,
extracted
values) and let the caller count every line with its ``counted`` wrapper.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import shutil
import subprocess
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

from medic.probes import logparts, logscan

SAMPLE_LEN = 300


class Matches:
    """Receives blocks of matching lines: counts, folds into a tally, keeps the last few and extracted
    values."""

    def __init__(self, top_limit: int, samples: int, extract: str) -> None:
        self.count = 0
        self.tally = logscan.Tally()
        self.last: deque[str] = deque(maxlen=samples)
        self.extract = re.compile(extract) if extract else None
        self.values: Counter[str] = Counter()
        self.top_limit = top_limit

    def sibling(self) -> Matches:
        """An empty sink like this one, for another part of the same file read side by side."""
        return Matches(self.top_limit, self.last.maxlen or 0, self.extract.pattern if self.extract else "")

    def merge(self, later: Matches) -> None:
        """Add what a sibling saw in the part of the file after this one's: the same result as one sink that
        read both parts in order (unless a tally had to be pruned: then both are approximate anyway)."""
        self.count += later.count
        self.tally.merge(later.tally)
        self.last.extend(later.last)
        self.values.update(later.values)
        if len(self.values) > 5000:
            self.values = Counter(dict(self.values.most_common(2500)))

    def block(self, raw: list[bytes]) -> None:
        if not raw:
            return
        self.count += len(raw)
        self.tally.add_block(raw)
        tail = raw[-self.last.maxlen :] if self.last.maxlen else []
        self.last.extend(logscan.scrub(b.decode("utf-8", "replace").rstrip("\r"))[:SAMPLE_LEN] for b in tail)
        if self.extract is not None:
            for b in raw:
                line = b.decode("utf-8", "replace")
                m = self.extract.search(line)
                if m:
                    self.values[m.group(1) if m.groups() else m.group(0)] += 1
            if len(self.values) > 5000:
                self.values = Counter(dict(self.values.most_common(2500)))


class GrepRefused(Exception):
    """grep ended with an error before printing anything: not GNU grep (``-a`` refused, BusyBox's); the caller
    scans with Python instead, as when no grep is found."""


def grep_for(pattern: str) -> str | None:
    """The grep to scan with: for a portable pattern (``-E``), the one on PATH, tried as it is (a grep that
    refuses the options raises :class:`GrepRefused`), so no process is started only to ask it (1-20 ms before
    every scan, more on a busy machine); for a PCRE one, a grep whose ``-P`` works (:func:`grep_pcre`)."""
    return shutil.which("grep") if grep_dialect(pattern) == "-E" else grep_pcre()


@functools.lru_cache(maxsize=1)
def grep_pcre() -> str | None:
    """Path of a grep that supports -P (GNU grep built with PCRE), or None."""
    grep = shutil.which("grep")
    if grep is None:
        return None
    try:
        proc = subprocess.run(
            [grep, "-qP", r"a\d"], input=b"a1\n", capture_output=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return grep if proc.returncode == 0 else None


class Segment(NamedTuple):
    """A part of one file to scan: plain files from the exact byte ``start``; gz files (start None)
    streamed."""

    path: str
    start: int | None
    chunks: Iterator[bytes]


class LineCount:
    """Bytes and lines a scan covered and the first/last timestamps seen. Called on a segment's blocks
    (line-aligned or not) it counts them as they pass; :meth:`plain_file` counts a whole plain file from an
    offset with ``wc -l`` (C, memchr) on the other core while grep reads it."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0
        self.first: float | None = None
        self.last: float | None = None

    def __call__(self, source: Iterator[bytes]) -> Iterator[bytes]:
        ends_nl = True
        for chunk in source:
            self.bytes += len(chunk)
            self.lines += chunk.count(b"\n")
            ends_nl = chunk.endswith(b"\n")
            self._times(chunk)
            yield chunk
        self.lines += not ends_nl  # a last line without its newline

    def _times(self, chunk: bytes) -> None:
        if self.first is None:
            self.first = logscan.parse_time(chunk[:256])
        self.last = logscan.parse_time(chunk[chunk.rfind(b"\n", 0, len(chunk) - 1) + 1 :]) or self.last

    def plain_file(self, path: str, start: int) -> Callable[[], None]:
        """Start counting ``path`` from ``start``; the returned function waits for the count and adds it."""
        wc = shutil.which("wc")
        if wc is None:
            for _ in self(_raw(path, start)):
                pass
            return lambda: None
        with open(path, "rb") as counted, open(path, "rb") as fh:  # two descriptions: two file offsets
            counted.seek(start)
            proc = subprocess.Popen([wc, "-l"], stdin=counted, stdout=subprocess.PIPE)
            size = os.fstat(fh.fileno()).st_size
            fh.seek(start)
            head = fh.read(256)
            fh.seek(max(start, size - TAIL))
            tail = fh.read()

        def done() -> None:
            out, _ = proc.communicate()
            if proc.returncode != 0 or not out.strip().isdigit():  # a broken wc: count here, as without one
                for _ in self(_raw(path, start)):
                    pass
                return
            self.bytes += size - start
            self.lines += int(out) + (bool(tail) and not tail.endswith(b"\n"))
            if head:
                self._times(head)
                self._times(tail)

        return done


TAIL = 64 * 1024  # the last line's timestamp is read from this much of the file's end
Engine = Callable[[list[Segment], LineCount, Matches], None]


_LOWER = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))


def python_engine(pattern: str, ignore_case: bool) -> Engine:
    """Python's re over each chunk. A portable pattern is matched case-sensitively on an ASCII-lowercased copy
    of the chunk (same offsets), several times faster than re.IGNORECASE."""
    fold = ignore_case and grep_dialect(pattern) == "-E"
    flags = re.IGNORECASE if ignore_case and not fold else 0
    rx = re.compile((pattern.lower() if fold else pattern).encode(), flags)

    def run(
        segments: list[Segment], counted: LineCount, sink: Matches
    ) -> None:
        for seg in segments:
            for chunk in counted(seg.chunks):
                text = chunk.translate(_LOWER) if fold else chunk
                found: list[bytes] = []
                pos = 0
                while (m := rx.search(text, pos)) is not None:
                    start = text.rfind(b"\n", 0, m.start()) + 1
                    end = text.find(b"\n", m.end())
                    end = len(text) if end < 0 else end
                    found.append(chunk[start:end])
                    pos = end + 1
                sink.block(found)

    return run


def _drain(stream: IO[bytes], sink: Matches) -> threading.Thread:
    """Fold what grep prints in blocks of up to a chunk: one ``Matches.block`` per chunk, not per pipe read (each
    call has a fixed cost); the pipe is widened to a chunk so grep does not wait while a block is folded."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(stream.fileno(), _SETPIPE_SZ, logscan.CHUNK)

    def read() -> None:
        rest = b""
        while block := stream.read(logscan.CHUNK):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            sink.block(lines)
        if rest:
            sink.block([rest])

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


# Patterns that mean the same to Python's re and POSIX ERE: literals, alternation, groups, . * + ? ^ $ and
# escaped
# punctuation. grep -E (a DFA) runs about twice as fast as grep -P on them; anything else goes to PCRE.
_PORTABLE = re.compile(r"(?:[A-Za-z0-9 _|().*+?^$:;'\"/=,<>!@#%&~-]|\\[().\[\]*+?|{}^$\\/])*")


def grep_dialect(pattern: str) -> str:
    lazy = re.search(r"[*+?]\?", pattern)  # lazy quantifiers exist only in Python/PCRE
    return "-E" if _PORTABLE.fullmatch(pattern) and "(?" not in pattern and not lazy else "-P"


def grep_engine(grep: str, pattern: str, ignore_case: bool) -> Engine:
    """grep reads plain files itself from the start offset; gz content is piped. Python only counts lines."""
    argv = [grep, "-a", grep_dialect(pattern), *(["-i"] if ignore_case else []), "-e", pattern]
    env = {**os.environ, "LC_ALL": "C"}

    def plain(seg: Segment, counted: LineCount, sink: Matches) -> None:
        """grep reads the file from the start offset (as parts side by side when it is large); wc counts its
        lines meanwhile."""
        assert seg.start is not None
        parts = logparts.ranges(seg.path, seg.start, os.path.getsize(seg.path))
        sinks = [sink, *(sink.sibling() for _ in parts[1:])]
        with contextlib.ExitStack() as stack:
            procs = [_grep_part(stack, argv, env, seg.path, at, None if i == len(parts) - 1 else end)
                     for i, (at, end) in enumerate(parts)]
            readers = [_drain(proc.stdout, part_sink) for proc, part_sink in zip(procs, sinks)]  # type: ignore[arg-type]
            counted.plain_file(seg.path, seg.start)()
            for reader in readers:
                reader.join()
            for proc, part_sink in zip(procs, sinks):
                _check(proc, part_sink)
        for later in sinks[1:]:
            sink.merge(later)

    def piped(seg: Segment, counted: LineCount, sink: Matches) -> None:
        """gz content, decompressed here, piped to grep; counted as it passes."""
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        assert proc.stdin is not None and proc.stdout is not None
        reader = _drain(proc.stdout, sink)
        with contextlib.suppress(OSError):
            fcntl.fcntl(proc.stdin.fileno(), _SETPIPE_SZ, logscan.CHUNK)
        try:
            for chunk in counted(seg.chunks):
                proc.stdin.write(chunk)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        reader.join()
        _check(proc, sink)

    def one(seg: Segment, counted: LineCount, sink: Matches) -> None:
        (piped if seg.start is None else plain)(seg, counted, sink)

    def run(
        segments: list[Segment], counted: LineCount, sink: Matches
    ) -> None:
        for seg in segments:
            one(seg, counted, sink)

    return run


def _grep_part(stack: contextlib.ExitStack, argv: list[str], env: dict[str, str], path: str, at: int,
               end: int | None) -> subprocess.Popen[bytes]:
    """A grep over ``path`` from ``at``: to the end of the file (it reads the file itself), or to ``end`` (through
    a pipe that :func:`logparts.feed` fills from the file)."""
    fh = stack.enter_context(open(path, "rb"))  # noqa: SIM115 - the caller's ExitStack closes it
    fh.seek(at)
    if end is None:
        return subprocess.Popen(argv, stdin=fh, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    read_end, feeder = logparts.feed(fh, at, end)
    stack.callback(feeder.finish)  # before the file closes (the ExitStack unwinds in reverse)
    try:
        return subprocess.Popen(argv, stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    finally:
        os.close(read_end)  # grep holds its own copy: if grep stops, the feeder's next write fails and it stops


def _check(proc: subprocess.Popen[bytes], sink: Matches) -> None:
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace").strip()
    if proc.wait() > 1 and sink.count == 0:
        raise GrepRefused(err[:300])
    if proc.returncode > 1:
        raise ValueError(f"grep failed: {err[:300]}")


def _raw(path: str, start: int) -> Iterator[bytes]:
    """Blocks of a file from ``start``, not cut at line ends (for counting only)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        while block := fh.read(4 * logscan.CHUNK):
            yield block
