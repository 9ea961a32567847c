"""A large log read by several greps side by side gives exactly the result of one grep over the whole file."""

from __future__ import annotations

import errno
import itertools
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medic.probes import logparts
from medic.probes.logs import DEFAULT_PATTERN, log_scan

WORDS = ["ERROR", "error", "Error", "eRRoR", "Exception", "FATAL", "panic", "segfault", "Ärger", "ÄRGER", "ärger",
         "info", "served", "0xdeadbeef", "10.0.0.7:8080", "2026-12-07T03:00:00Z", "é", "\t", "日本", "crit"]
# a few message shapes, each with varying numbers: lines that differ and fold into the same top message
SHAPES = st.lists(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join), min_size=1, max_size=4)
LINES = SHAPES.flatmap(lambda shapes: st.lists(
    st.tuples(st.sampled_from(shapes), st.integers(0, 10**6)).map(lambda t: f"{t[0]} id={t[1]}"),
    min_size=1, max_size=40))
PATTERNS = [DEFAULT_PATTERN, "ärger|crit", r"\d+\.\d+", "^ERROR", "fatal$"]


def _scan(path: Path, cores: int, **kwargs: Any) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(logparts, "PART_MIN", 1)  # cut even a small file, so every cut position is tried
        mp.setattr(logparts, "free_cores", lambda: cores)
        out = log_scan(str(path), lines=0, top=10, engine="grep", **kwargs)  # small files: grep all the same
    out.pop("scan_s")
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=LINES, final_newline=st.booleans(),
       pattern=st.sampled_from(PATTERNS), ignore_case=st.booleans(), cores=st.integers(2, 4))
def test_parts_give_the_result_of_one_grep(lines: list[str], final_newline: bool, pattern: str,
                                           ignore_case: bool, cores: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "app.log"
        path.write_text("\n".join(lines) + ("\n" if final_newline else ""), encoding="utf-8")
        whole = _scan(path, 1, pattern=pattern, ignore_case=ignore_case)
        parts = _scan(path, cores, pattern=pattern, ignore_case=ignore_case, extract=r"(\d+)")
        assert parts == {**whole, "top_values": parts["top_values"]}
        assert parts["top_values"] == _scan(path, 1, pattern=pattern, ignore_case=ignore_case,
                                            extract=r"(\d+)")["top_values"]
        flags = ["-i"] if ignore_case else []
        grep = subprocess.run(["grep", "-ac", *flags, "-P" if "\\d" in pattern else "-E", "-e", pattern, str(path)],
                              capture_output=True, text=True, env={"LC_ALL": "C"})
        assert whole["matches"] == int(grep.stdout)


def test_cuts_fall_after_newlines_and_cover_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logparts, "PART_MIN", 100_000)
    path = tmp_path / "app.log"
    path.write_bytes(b"".join(b"line %d %s\n" % (i, b"x" * (i % 97)) for i in range(20000)))
    size = path.stat().st_size
    data = path.read_bytes()
    for start in (0, 12345):
        start = data.index(b"\n", start) + 1 if start else 0
        cuts = logparts.ranges(str(path), start, size, cores=4)
        assert len(cuts) == 4
        assert cuts[0][0] == start and cuts[-1][1] == size
        assert all(a[1] == b[0] and data[b[0] - 1:b[0]] == b"\n" for a, b in itertools.pairwise(cuts))


def test_a_line_longer_than_the_search_is_not_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logparts, "PART_MIN", 1)
    path = tmp_path / "one-line.log"
    path.write_bytes(b"x" * (2 << 20) + b" ERROR\n")
    assert logparts.ranges(str(path), 0, path.stat().st_size, cores=2) == [(0, path.stat().st_size)]
    assert log_scan(str(path), lines=0)["matches"] == 1


def test_small_files_and_single_cores_are_one_part(tmp_path: Path) -> None:
    path = tmp_path / "small.log"
    path.write_bytes(b"ERROR one\n" * 1000)
    assert logparts.ranges(str(path), 0, path.stat().st_size, cores=8) == [(0, path.stat().st_size)]
    assert logparts.ranges(str(path), 0, 10 * logparts.PART_MIN, cores=1) == [(0, 10 * logparts.PART_MIN)]


def test_a_busy_machine_gets_one_grep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logparts, "usable_cores", lambda: 2)
    monkeypatch.setattr(logparts.os, "getloadavg", lambda: (2.5, 1.0, 1.0))
    assert logparts.free_cores() == 1
    monkeypatch.setattr(logparts.os, "getloadavg", lambda: (0.7, 1.0, 1.0))
    assert logparts.free_cores() == 2


def test_parts_are_fed_without_sendfile_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where sendfile cannot write into a pipe (not Linux), a read/write loop feeds the part: same result."""
    path = tmp_path / "app.log"
    path.write_bytes(b"".join(b"2026-12-07T03:00:%02dZ app: %s %d\n" % (i % 60, b"ERROR" if i % 7 else b"info", i)
                              for i in range(5000)))
    whole = _scan(path, 1)

    def no_sendfile(*_args: Any) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(logparts.os, "sendfile", no_sendfile)
    assert _scan(path, 3) == whole
    with path.open("rb") as fh:
        read_end, feeder = logparts.feed(fh, 0, path.stat().st_size)
        with open(read_end, "rb") as pipe:
            assert pipe.read() == path.read_bytes()
        feeder.finish()
    read_end, write_end = os.pipe()
    feeder = logparts.Feeder(-1, write_end, 0, 10)  # no file behind it: the read fails, and finish says so
    feeder.start()
    os.close(read_end)
    with pytest.raises(OSError, match="reading the log from byte 0"):
        feeder.finish()
