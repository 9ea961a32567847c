"""Issue 16 item 6: ``medic playbooks probes`` without names lists what it can and names what it skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def medic(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())


def test_without_names_it_lists_what_it_can_and_names_the_playbooks_it_skipped() -> None:
    out = medic("playbooks", "probes")
    assert out.returncode == 0, out.stderr
    assert "triage:" in out.stdout and "config-change:" not in out.stdout
    skipped = [line for line in out.stderr.splitlines() if line.startswith("medic: skipped playbook ")]
    assert any("config-change" in line and "input 'config_file' is required" in line for line in skipped)
    assert len(skipped) == len(out.stderr.splitlines())  # one line each, nothing else


def test_json_holds_the_playbooks_it_could_read() -> None:
    out = medic("playbooks", "probes", "--json")
    assert out.returncode == 0, out.stderr
    table = json.loads(out.stdout)
    assert "triage" in table and "config-change" not in table
    assert "config-change" in out.stderr


def test_a_named_playbook_with_a_required_input_is_still_an_error() -> None:
    out = medic("playbooks", "probes", "config-change")
    assert out.returncode == 2 and "config_file" in out.stderr and "Traceback" not in out.stderr
