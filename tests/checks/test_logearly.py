"""A whole-log scan started early is taken over by log_scan only when it is exactly its scan of the file as it is."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from medic.probes import logearly
from medic.probes.logs import DEFAULT_PATTERN, log_scan

LOG = b"".join(b"2026-12-07T03:00:%02dZ app svc: %s id=%d\n" % (i % 60, b"ERROR lost" if i % 7 == 0 else b"INFO ok", i)
               for i in range(5000))


@pytest.fixture(autouse=True)
def _no_leftovers() -> Any:
    yield
    logearly.stop_all()


def _scan(path: Path, **kwargs: Any) -> dict[str, Any]:
    out = log_scan(str(path), lines=0, **kwargs)
    out.pop("scan_s")
    return out


def test_an_early_scan_is_taken_and_gives_the_same_result(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LOG)
    expected = _scan(path)
    assert logearly.start(str(path), DEFAULT_PATTERN, True)
    assert logearly._STARTED  # grep and wc are running before the probe is called
    assert _scan(path) == expected
    assert not logearly._STARTED  # taken by the probe, not left to be killed at exit
    assert expected["matches"] == 715 and expected["lines_scanned"] == 5000


def test_a_log_appended_to_after_the_early_start_is_taken_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LOG)
    expected = _scan(path)
    assert logearly.start(str(path), DEFAULT_PATTERN, True)
    early = next(iter(logearly._STARTED.values()))
    early.grep.wait()
    early.wc.wait()
    with path.open("ab") as fh:  # a live log: lines keep coming while medic starts
        fh.write(b"2026-12-07T03:01:00Z app svc: FATAL appended\n")
    assert _scan(path) == expected and not logearly._STARTED  # the log as the scan read it, from its start
    assert _scan(path)["matches"] == 716  # the next scan sees the new line


@pytest.mark.parametrize("change", ["rewritten", "replaced", "cut"])
def test_a_file_rewritten_replaced_or_cut_after_the_early_start_is_scanned_again(tmp_path: Path,
                                                                                 change: str) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LOG)
    assert logearly.start(str(path), DEFAULT_PATTERN, True)
    early = next(iter(logearly._STARTED.values()))
    early.grep.wait()
    new = LOG.replace(b"INFO ok", b"FATAL x", 3)  # the same size, three more matches
    if change == "rewritten":
        with path.open("r+b") as fh:
            fh.write(new)
        os.utime(path, ns=(early.stamp[3] + 10**9, early.stamp[3] + 10**9))
    elif change == "replaced":
        (tmp_path / "new.log").write_bytes(new)
        os.replace(tmp_path / "new.log", path)
    else:
        path.write_bytes(new[: len(new) // 2])
    out = _scan(path)
    assert out["matches"] == len([x for x in path.read_bytes().splitlines() if b"ERROR" in x or b"FATAL" in x])
    assert out["lines_scanned"] == len(path.read_bytes().splitlines())
    assert not logearly._STARTED


@pytest.mark.parametrize(("kwargs", "matches"), [({"ignore_case": False}, 0), ({"pattern": "ERROR"}, 715),
                                                 ({"lines": 100}, 15)])
def test_a_scan_other_than_the_one_started_early_does_not_take_it(tmp_path: Path, kwargs: dict[str, Any],
                                                                  matches: int) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LOG)
    assert logearly.start(str(path), DEFAULT_PATTERN, True)
    out = log_scan(str(path), **{"lines": 0, **kwargs})
    assert out["matches"] == matches
    assert logearly._STARTED  # still there: killed at exit
    early = next(iter(logearly._STARTED.values()))
    logearly.stop_all()
    assert early.grep.returncode is not None and early.wc.returncode is not None


def test_only_small_plain_files_start_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LOG)
    assert not logearly.start(str(tmp_path / "missing.log"), DEFAULT_PATTERN, True)
    assert not logearly.start(str(tmp_path), DEFAULT_PATTERN, True)  # a directory
    (tmp_path / "empty.log").write_bytes(b"")
    assert not logearly.start(str(tmp_path / "empty.log"), DEFAULT_PATTERN, True)
    monkeypatch.setattr(logearly, "MAX_BYTES", len(LOG) - 1)
    assert not logearly.start(str(path), DEFAULT_PATTERN, True)
    assert not logearly._STARTED
    assert logearly.eligible({"path": "/var/log/syslog", "lines": 0, "window_min": 0.0, "include_rotated": False})
    for other in ({"lines": 10}, {"window_min": 5.0}, {"include_rotated": True}, {"engine": "python"},
                  {"path": "/var/log/syslog.2.gz"}):
        assert not logearly.eligible({"path": "/var/log/syslog", "lines": 0, **other})


def test_a_forked_child_does_not_take_its_parents_scan(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LOG)
    assert logearly.start(str(path), DEFAULT_PATTERN, True)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child scans by itself: its parent's grep is not its child to wait for
        try:
            os.write(write_fd, str(_scan(path)["matches"]).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        assert pipe.read() == b"715"
    os.waitpid(pid, 0)
    assert logearly._STARTED  # the parent's own scan is still there for the parent
    assert _scan(path)["matches"] == 715 and not logearly._STARTED
