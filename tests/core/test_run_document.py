"""The run document (schema medic.run/1) is serialised once: the history file and ``--json`` are the same text."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from medic.core import history
from medic.kernel.models import Category, Finding, Severity, Status


def test_json_output_and_history_file_are_the_same_text(tmp_path: Path) -> None:
    playbook = tmp_path / "two.yaml"
    playbook.write_text("name: two\nsteps:\n  - {id: a, check: system.os_info}\n  - {id: b, check: system.os_info}\n")
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", str(playbook), "--engine", "inline",
                          "--json"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MEDIC_STATE_DIR": str(tmp_path / "state")})
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    assert data["schema"] == "medic.run/1" and [s["step"] for s in data["steps"]["local"]] == ["a", "b"]
    saved = (tmp_path / "state" / "runs" / f"{data['run_id']}.json").read_text(encoding="utf-8")
    assert saved == out.stdout.rstrip("\n")
    assert out.stdout.startswith('{\n  "schema": "medic.run/1",')  # indented for a person reading it


def test_a_finding_as_a_dict_is_what_asdict_gives_with_copied_evidence() -> None:
    evidence = {"kernel": "6.1", "mounts": [{"path": "/", "opts": ("rw", "relatime")}], "n": 3}
    finding = Finding("system.os_info", "local", Status.WARN, Severity.HIGH, Category.SOFTWARE, "old", evidence,
                      "upgrade", "s1", "/")
    expected = asdict(finding) | {"status": "warn", "severity": "high", "category": "software"}
    as_dict = finding.to_dict()
    assert as_dict == expected and list(as_dict) == list(expected)
    as_dict["evidence"]["mounts"][0]["path"] = "/changed"
    assert evidence["mounts"][0]["path"] == "/"  # a copy: whoever reads the dict cannot change the finding


@dataclass
class _Point:
    x: int


def test_the_serialisation_matches_the_standard_library_for_odd_evidence() -> None:
    data = {"when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "point": _Point(1), 7: "int key",
            "text": "café", "nested": {"list": [1, 2.5, None, True]}}
    assert json.loads(history.dumps(data)) == json.loads(json.dumps(data, default=str))
    huge = {"bytes": 1 << 70}  # orjson refuses integers over 64 bits: the standard library writes them
    assert json.loads(history.dumps(huge)) == huge
    assert history.dumps({"a": [1]}) == json.dumps({"a": [1]}, indent=2)
