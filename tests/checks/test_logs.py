"""Log scanning on real-looking logs: formats, folding, windows, last-N lines, rotated .gz, both engines."""

from __future__ import annotations

import calendar
import os
import shutil
import time
from pathlib import Path

import pytest

from medic.core.check import evaluate
from medic.kernel.errors import ProbeUnavailable
from medic.kernel.models import Status
from medic.plugins.targets.local import LocalTarget
from medic.probes import logscan, logsearch
from medic.probes.logs import log_scan

from . import logsamples


@pytest.fixture
def now() -> float:
    return time.time()


def test_timestamps_of_common_formats() -> None:
    iso = logscan.parse_time(b"2026-11-25T10:00:00Z app: x")
    assert iso == calendar.timegm((2026, 11, 25, 10, 0, 0))
    assert logscan.parse_time(b"2026-11-25T12:00:00+02:00 x") == iso
    assert logscan.parse_time(b'10.0.0.1 - - [25/Nov/2026:10:00:00 +0000] "GET /"') == iso
    local = time.mktime((2026, 11, 25, 10, 0, 0, 0, 0, -1))
    assert logscan.parse_time(b"2026/11/25 10:00:00 [error] 12#12: x") == local
    apache = b"[Wed Nov 25 10:00:00.123456 2026] [proxy:error] [pid 812] AH00957: connect to backend failed"
    assert logscan.parse_time(apache) == local
    assert logscan.fold(apache.decode()).startswith("[<ts>] [proxy:error] [pid <n>] AH<n>: connect")
    jan = time.mktime((2027, 1, 2, 0, 0, 0, 0, 0, -1))
    dec = logscan.parse_time(b"Dec 31 23:59:00 host x", now=jan)  # syslog has no year: last December
    assert dec == time.mktime((2026, 12, 31, 23, 59, 0, 0, 0, -1))
    assert logscan.parse_time(b'  File "x.py", line 3') is None


def test_fold_makes_repeated_messages_one() -> None:
    a = b"2026-11-25T10:00:01Z app[812]: ERROR job 17 failed id=3fa9b2c1 from 10.0.0.5:8080 after 3.5 ms"
    b = b"2026-11-25T10:07:44Z app[913]: ERROR job 4242 failed id=0a1b2c3d from 10.0.0.77:9090 after 12 ms"
    ka, kb = logscan.fold_key(a + b"\n" + b).split(b"\n")
    assert ka == kb
    assert logscan.fold(a.decode()) == "<ts> app[<n>]: ERROR job <n> failed id=<id> from <ip> after <n> ms"
    assert logscan.fold_key(b"ERROR disk full") != logscan.fold_key(b"ERROR disk slow")


def test_tally_stays_bounded() -> None:
    tally = logscan.Tally(limit=100)
    for i in range(50):
        tally.add_block(
            [f"distinct message {chr(65 + i % 26)}{chr(97 + i // 26)} x".encode() for _ in range(3)]
            + [f"unique {chr(65 + j % 26)}{chr(65 + i)}{chr(97 + j // 26)}".encode() for j in range(40)]
        )
    assert len(tally.counts) <= 100 and tally.pruned
    assert tally.top(1)[0]["count"] >= 3


@pytest.mark.parametrize("engine", ["grep", "python"])
def test_scan_last_lines_syslog_and_gz_agree(tmp_path: Path, now: float, engine: str) -> None:
    plain = logsamples.syslog(tmp_path / "syslog", now)
    gz = logsamples.gzip_copy(plain, tmp_path / "syslog.2.gz")
    total = len(plain.read_text().splitlines())
    for path in (plain, gz):
        whole = log_scan(str(path), lines=0, engine=engine)
        assert whole["lines_scanned"] == total and whole["engine"] == engine
        assert whole["matches"] == 3 + 6 + 1  # I/O errors, app ERRORs, the segfault line ("error 4")
        last = log_scan(str(path), lines=50, engine=engine)
        assert last["lines_scanned"] == 50
        assert last["matches"] == sum(
            1
            for line in plain.read_text().splitlines()[-50:]
            if any(w in line.lower() for w in ("error", "segfault"))
        )
    top = log_scan(str(plain), lines=0, engine=engine)["top"]
    assert top[0]["message"].endswith("ERROR database connection to <ip> lost after <n> ms (request id <id>)")
    assert top[0]["count"] == 6 and "request id" in str(top[0]["example"])


def test_window_auth_log_counts_recent_failures_and_sources(tmp_path: Path, now: float) -> None:
    path = logsamples.auth_log(tmp_path / "auth.log", now)
    out = log_scan(str(path), pattern="Failed password", window_min=60, lines=0, extract=r"from (\S+)")
    assert out["mode"] == "window" and out["matches"] == 43  # the failure 3 h ago is outside the window
    assert out["top_values"][0] == {"value": "203.0.113.9", "count": 40}


def test_window_reads_rotated_files(tmp_path: Path, now: float) -> None:
    logsamples.app_log(tmp_path / "old", now - 1500)
    logsamples.gzip_copy(tmp_path / "old", tmp_path / "app.log.2.gz")
    logsamples.app_log(
        tmp_path / "app.log.1", now - 1000
    )  # lines from 1000 s before the current file's start
    logsamples.app_log(tmp_path / "app.log", now)
    for name, age in (("app.log.2.gz", 1500), ("app.log.1", 1000)):
        stamp = now - age
        (tmp_path / name).touch()
        import os

        os.utime(tmp_path / name, (stamp, stamp))
    alone = log_scan(str(tmp_path / "app.log"), pattern="Traceback", window_min=60, lines=0)
    rotated = log_scan(
        str(tmp_path / "app.log"), pattern="Traceback", window_min=60, lines=0, include_rotated=True
    )
    assert alone["matches"] == 2
    assert rotated["matches"] == 6


def test_nginx_logs(tmp_path: Path, now: float) -> None:
    access = logsamples.nginx_access(tmp_path / "access.log", now)
    out = log_scan(str(access), pattern=r'" 5\d\d ', lines=0)
    assert out["matches"] == 10 and out["first_time"] is not None
    error = logsamples.nginx_error(tmp_path / "error.log", now)
    out = log_scan(str(error), window_min=10, lines=0)
    assert 9 <= out["matches"] <= 11
    assert out["top"][0]["count"] == out["matches"]  # connection ids, clients, counters folded into one


def test_bad_pattern_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("a\n")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        log_scan(str(path), pattern="(")
    from medic.kernel.errors import ProbeUnavailable

    with pytest.raises(ProbeUnavailable):
        log_scan(str(tmp_path / "nope.log"))


def test_log_checks_on_this_machine(tmp_path: Path, now: float, registry) -> None:  # type: ignore[no-untyped-def]
    target = LocalTarget(registry.probes)
    app = logsamples.app_log(tmp_path / "app.log", now)
    syslog = logsamples.syslog(tmp_path / "syslog", now)
    auth = logsamples.auth_log(tmp_path / "auth.log", now)

    def run(check_id: str, **params):  # type: ignore[no-untyped-def]
        spec = registry.checks[check_id]
        bound = spec.bind(params)
        calls = spec.needs(bound)
        got = target.collect(calls.values())
        return evaluate(spec, bound, {a: got[c] for a, c in calls.items()}, target="local", target_live=True)

    [err] = run("logs.error_rate", path=str(app), lines=0)
    assert (
        err.status is Status.WARN and err.evidence["matches"] == 14
    )  # 8 job failures + 2 x (ERROR, Traceback, ZeroDivisionError)
    assert any(
        "failed: KeyError('customer_<n>') trace=<" in t and t.startswith("8x") for t in err.evidence["top"]
    )
    [crash] = run("logs.crash_markers", path=str(app), lines=0)
    assert crash.status is Status.WARN and crash.evidence["matches"] == 2
    [seg] = run("logs.crash_markers", path=str(syslog), lines=0)
    assert seg.status is Status.WARN and "segfault at 0" in seg.summary
    [auth_f] = run("logs.auth_failures", path=str(auth))
    assert auth_f.status is Status.WARN and auth_f.evidence["sources"][0] == "203.0.113.9 (40)"
    assert auth_f.evidence["matches"] == 43
    [gone] = run("logs.error_rate", path=str(tmp_path / "missing.log"))
    assert gone.status is Status.SKIPPED


@pytest.mark.parametrize(
    ("pattern", "dialect"),
    [
        ("error|exception|fatal", "-E"),
        (r"Traceback \(most recent call last\)", "-E"),
        (r"\d+ ms", "-P"),
        ("(?i)x", "-P"),
        ("a.*?b", "-P"),
    ],
)
def test_grep_dialect_only_for_portable_patterns(pattern: str, dialect: str) -> None:
    from medic.probes.logs import grep_dialect

    assert grep_dialect(pattern) == dialect


@pytest.mark.parametrize("wc", ["exit 1", "echo not-a-number"])
def test_a_broken_wc_leaves_the_count_to_python(tmp_path: Path, now: float, wc: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    plain = logsamples.syslog(tmp_path / "syslog", now)
    expected = log_scan(str(plain), lines=0, engine="grep")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "wc").write_text(f"#!/bin/sh\n{wc}\n")
    (tools / "wc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    broken = log_scan(str(plain), lines=0, engine="grep")
    assert broken["lines_scanned"] == expected["lines_scanned"] == len(plain.read_text().splitlines())
    assert broken["matches"] == expected["matches"] and broken["top"] == expected["top"]


@pytest.mark.parametrize("pattern", [r'" 5\d\d ', r'" 50[0-9] |" 502 '])
def test_engines_agree_on_any_pattern(tmp_path: Path, now: float, pattern: str) -> None:
    access = logsamples.nginx_access(tmp_path / "access.log", now)
    grep = log_scan(str(access), pattern=pattern, lines=0, engine="grep")
    python = log_scan(str(access), pattern=pattern, lines=0, engine="python")
    assert grep["matches"] == python["matches"] == 10
    assert grep["top"] == python["top"]


def test_window_on_a_log_without_timestamps_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.log"
    path.write_text("ERROR one\nERROR two\n")
    with pytest.raises(ValueError, match="no timestamp recognised"):
        log_scan(str(path), window_min=10)
    assert log_scan(str(path), lines=10)["matches"] == 2


def test_a_portable_pattern_runs_grep_once_without_asking_it_about_pcre(tmp_path: Path, now: float,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``grep -qP`` process before the scan (1-20 ms on the critical path of every run, more when busy)."""
    plain = logsamples.syslog(tmp_path / "syslog", now)
    real, calls = shutil.which("grep"), tmp_path / "calls"
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "grep").write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    (tools / "grep").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    monkeypatch.setattr(logsearch, "SMALL", 0)  # the sample is small: make auto pick grep all the same
    result = log_scan(str(plain), lines=0)
    assert result["engine"] == "grep" and result["matches"] > 0
    assert [line.split()[:2] for line in calls.read_text().splitlines()] == [["-a", "-E"]]


def test_a_grep_that_refuses_the_options_leaves_the_scan_to_python(tmp_path: Path, now: float,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    plain = logsamples.syslog(tmp_path / "syslog", now)
    expected = log_scan(str(plain), lines=0, engine="python")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "grep").write_text("#!/bin/sh\necho \"grep: unrecognized option: a\" >&2\nexit 2\n")
    (tools / "grep").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    monkeypatch.setattr(logsearch, "SMALL", 0)
    fallback = log_scan(str(plain), lines=0)
    assert fallback["engine"] == "python"
    assert {k: fallback[k] for k in ("matches", "lines_scanned", "top")} == \
        {k: expected[k] for k in ("matches", "lines_scanned", "top")}
    with pytest.raises(ProbeUnavailable, match="grep refused GNU grep's options: grep: unrecognized option"):
        log_scan(str(plain), lines=0, engine="grep")


def test_auto_scans_a_small_plain_file_in_python_and_a_larger_one_with_grep(tmp_path: Path, now: float) -> None:
    """Starting grep and wc costs about 2.5 ms of CPU: more than Python's scan of up to 256 KiB."""
    small = logsamples.syslog(tmp_path / "syslog", now)
    assert small.stat().st_size <= logsearch.SMALL
    by_python = log_scan(str(small), lines=0)
    by_grep = log_scan(str(small), lines=0, engine="grep")
    assert by_python["engine"] == "python" and by_grep["engine"] == "grep"
    same = ("matches", "lines_scanned", "top", "samples", "first_time", "last_time", "bytes_scanned")
    assert {k: by_python[k] for k in same} == {k: by_grep[k] for k in same}
    large = logsamples.syslog(tmp_path / "syslog.big", now, minutes=4000)
    assert large.stat().st_size > logsearch.SMALL
    assert log_scan(str(large), lines=0)["engine"] == "grep"
    assert log_scan(str(large), lines=100)["engine"] == "grep"  # the file's size decides, not the tail's
    gz = logsamples.gzip_copy(small, tmp_path / "syslog.2.gz")
    assert log_scan(str(gz), lines=0)["engine"] == "grep"  # compressed: its size says little
