"""``medic logs scan FILE``: the log_scan probe as a command, its output, exit codes and one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medic.cli import logs as logs_command
from medic.probes import logsearch


def medic(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", "logs", "scan", *argv], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    lines = []
    for i in range(3000):
        stamp = f"2026-12-06T10:{i // 60 % 60:02d}:{i % 60:02d}Z"
        if i % 10 == 0:
            lines.append(f"{stamp} api[{100 + i % 7}]: ERROR upstream timed out after {i} ms calling 10.0.{i % 9}.7")
        elif i % 25 == 1:
            lines.append(f"{stamp} api[{100 + i % 7}]: CRITICAL disk write failed errno={i % 5} block={i * 3}")
        else:
            lines.append(f"{stamp} api[{100 + i % 7}]: INFO served /items/{i} in {i % 50} ms")
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_scan_counts_matches_and_folds_the_top_messages(log: Path) -> None:
    out = medic(str(log))
    assert out.returncode == 0, out.stderr
    assert f"{log}: 420 matching line(s) in 3000 lines (14.00 %), 8.40 per minute (" in out.stdout  # 50 min span
    assert "300x <ts> api[<n>]: ERROR upstream timed out after <n> ms calling <ip>" in out.stdout
    assert "120x <ts> api[<n>]: CRITICAL disk write failed errno=<n> block=<n>" in out.stdout
    assert "last matching lines:" in out.stdout and out.stderr == ""


def test_json_options_and_fail_count(log: Path, tmp_path: Path) -> None:
    out = medic(str(log), "--json", "--pattern", "critical", "--case-sensitive")
    assert out.returncode == 0 and json.loads(out.stdout)["matches"] == 0  # CRITICAL, not critical
    out = medic(str(log), "--json", "-e", "CRITICAL", "--extract", r"api\[(\d+)\]", "--top", "2", "--lines", "500")
    result = json.loads(out.stdout)
    assert (result["lines_scanned"], result["matches"], result["mode"]) == (500, 20, "lines")
    assert len(result["top_values"]) == 2 and result["failed"] is False
    out = medic(str(log), "--fail-count", "420")
    assert out.returncode == 1 and "420 matching lines reach --fail-count 420" in out.stderr
    assert medic(str(log), "--fail-count", "421").returncode == 0
    packed = tmp_path / "app.log.2.gz"
    packed.write_bytes(gzip.compress(log.read_bytes()))
    assert json.loads(medic(str(packed), "--json").stdout)["matches"] == 420


@pytest.mark.parametrize(("argv", "message"), [
    (["/nonexistent/app.log"], "medic: error: /nonexistent/app.log: no such file"),
    (["{tmp}"], "is a directory; expected a log file"),
    (["{tmp}/fifo"], "not a regular file (a pipe or a device)"),
    (["{log}", "-e", "(unclosed"], "is not a valid regular expression"),
    (["{log}", "--since", "10"], None),
    (["{log}", "--lines", "many"], "expected a whole number >= 0, got 'many'"),
    (["{log}", "--since", "-5"], "expected minutes > 0"),
])
def test_bad_input_is_one_line_and_exit_2(log: Path, tmp_path: Path, argv: list[str], message: str | None) -> None:
    os.mkfifo(tmp_path / "fifo")
    out = medic(*(a.format(tmp=tmp_path, log=log) for a in argv))
    if message is None:  # a window on a log whose times are far in the past: nothing in it, not an error
        assert out.returncode == 0 and "0 matching line(s) in the last 10 min" in out.stdout
        return
    assert out.returncode == 2 and message in out.stderr
    assert "Traceback" not in out.stderr


def test_the_default_pattern_is_the_probes() -> None:
    assert logs_command.DEFAULT_PATTERN == logsearch.DEFAULT_PATTERN


def test_control_characters_of_the_log_do_not_reach_the_terminal(tmp_path: Path) -> None:
    """A log is untrusted: an escape sequence in a matching line is shown as \\x1b, never sent to the terminal."""
    path = tmp_path / "hostile.log"
    path.write_bytes(b"2026-12-06T10:00:00Z \x1b]0;owned\x07\x1b[31mERROR\x1b[0m in \xc2\x9b2J module\tx\n")
    out = medic(str(path))
    assert out.returncode == 0
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout and "\x9b" not in out.stdout
    assert "\\x1b[31mERROR\\x1b[0m in \\x9b2J module\tx" in out.stdout
    assert json.loads(medic(str(path), "--json").stdout)["samples"][0].startswith("2026-12-06T10:00:00Z \x1b]0;")
