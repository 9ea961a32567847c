"""Issue 16 items 10 and 15: a run where no check gave a verdict is not a success, and the run header shows the
engine's time and the command's wall time apart. The real ``medic`` command in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path


def medic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MEDIC_ENGINE": "inline", "COLUMNS": "200",
                                            **(env or {})})


def book(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pb.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_a_run_whose_only_findings_are_errors_exits_3_and_says_nothing_was_checked(tmp_path: Path) -> None:
    pb = book(tmp_path, """
        name: only-errors
        steps:
          - {id: slow, check: change.command_succeeds, timeout: 0.5, with: {argv: [sleep, "5"]}}
    """)
    out = medic("run", pb)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "nothing was checked" in out.stdout
    assert "every check passed" not in out.stdout
    assert "Traceback" not in out.stderr
    doc = json.loads(medic("run", pb, "--json").stdout)
    assert doc["exit_code"] == 3 and doc["summary"]["counts"]["pass"] == 0


def test_a_run_that_evaluated_no_check_exits_3(tmp_path: Path) -> None:
    pb = book(tmp_path, """
        name: nothing
        inputs: {go: {type: bool, default: false}}
        steps:
          - {id: up, check: system.uptime, when: inputs.go}
    """)
    out = medic("run", pb)
    assert out.returncode == 3, out.stdout + out.stderr
    summary = [line for line in out.stdout.splitlines() if "fail," in line]
    assert summary and "nothing was checked (no check ran)" in summary[0]
    assert medic("run", pb, "-i", "go=true").returncode == 0  # the same step with a verdict: a success


def test_the_header_shows_engine_time_and_wall_time_apart(tmp_path: Path) -> None:
    pb = book(tmp_path, """
        name: tiny
        steps:
          - {id: up, check: system.uptime}
    """)
    out = medic("run", pb)
    assert out.returncode == 0, out.stderr
    found = re.search(r"\(engine (\d+\.\d) s, wall (\d+\.\d) s, run ", out.stdout)
    assert found, out.stdout
    engine, wall = float(found[1]), float(found[2])
    assert wall > engine  # the wall time includes Python's start and loading plugins, the engine's does not


def test_json_and_report_carry_the_wall_time_and_say_when_nothing_was_checked(tmp_path: Path) -> None:
    pb = book(tmp_path, """
        name: nothing
        inputs: {go: {type: bool, default: false}}
        steps:
          - {id: up, check: system.uptime, when: inputs.go}
    """)
    report = tmp_path / "r.md"
    out = medic("run", pb, "--json", "--report", str(report))
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    assert doc["wall_s"] > doc["duration_s"] and doc["status"] == "skipped"
    text = report.read_text()
    assert "wall time" in text and "nothing was checked" in text and "all checks passed" not in text
