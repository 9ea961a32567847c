"""``medic playbooks validate`` checks a playbook's ``triggers:`` with the checker ``medic deploy`` uses.

One line per bad entry, naming the file and the line of the bad key, exit 2, no traceback; no Prefect import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLAYBOOK = """\
name: trig
inputs:
  bundle: {type: string, description: a path}
  size: {type: int, default: 0}
targets: [local]
triggers:
  - event: medic.bundle.received
    inputs:
      bundle: payload.bundle_path
TRIGGER
steps:
  - id: mem
    check: system.memory
"""


def validate(tmp_path: Path, trigger: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    path = tmp_path / "trig.yaml"
    path.write_text(PLAYBOOK.replace("TRIGGER", textwrap.indent(trigger, "  ")))
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "playbooks", "validate", str(path)],
                         capture_output=True, text=True, env={**os.environ, "MEDIC_ENGINE": "inline"}, timeout=120)
    return path, out


@pytest.mark.parametrize("trigger, line, wanted", [
    ("- event: medic.bundle.received\n  inputs:\n    bundle: payload.p\n    nope: payload.x\n", 13,
     "at triggers[2].inputs.nope: not an input of the playbook (bundle, size)"),
    ("- event: 'medic bundle!'\n  inputs: {bundle: payload.p}\n", 10,
     "at triggers[2]: event 'medic bundle!': expected a name like medic.bundle.received"),
    ("- event: medic.bundle.received\n  when: always\n  inputs: {bundle: payload.p}\n", 11,
     "at triggers[2]: unknown key 'when'; expected one of event, match, inputs, targets"),
    ("- event: medic.bundle.received\n  inputs: {size: payload.size}\n", 11,
     "at triggers[2]: required input(s) bundle not mapped from the event"),
    ("- event: medic.bundle.received\n  inputs: {bundle: '{{ event.payload.p }}'}\n", 11,
     "at triggers[2].inputs.bundle: expected payload.KEY[.KEY...]"),
])
def test_a_bad_trigger_is_one_line_with_file_and_line_exit_2(tmp_path: Path, trigger: str, line: int,
                                                              wanted: str) -> None:
    path, out = validate(tmp_path, trigger)
    assert out.returncode == 2, (out.stdout, out.stderr)
    [message] = out.stderr.strip().splitlines()
    assert message.startswith(f"{path}:{line}:") and wanted in message, message
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_good_triggers_validate(tmp_path: Path) -> None:
    _, out = validate(tmp_path, "- event: medic.bundle.*\n  match: {medic.agent.name: web-*}\n"
                                "  inputs: {bundle: payload.p, size: payload.n}\n")
    assert out.returncode == 0 and "ok (trig, 1 steps)" in out.stdout, out.stderr


def test_every_bad_entry_is_reported(tmp_path: Path) -> None:
    path, out = validate(tmp_path, "- event: medic.x\n  inputs: {bundle: payload.p, nope: id}\n"
                                   "- {event: medic.y, inputs: {bundle: payload.p}, targets: local}\n")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2 and "triggers[2].inputs.nope" in lines[0] and "triggers[3].targets" in lines[1], lines
    assert all(line.startswith(f"{path}:") for line in lines)
