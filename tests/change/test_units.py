"""Pure parts: file edits per format, resource coverage, the terminal prompt."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from medic.plugins.change.approve import ask
from medic.plugins.change.fileedit import EditError, find_replace, set_key
from medic.plugins.change.state import covers


def test_set_key_ini_keeps_comments_and_other_sections() -> None:
    text = "# top\n[a]\nx = 1\n\n[b]\nx = 2 ; inline\n"
    assert set_key(text, "ini", "x", 5, "b") == "# top\n[a]\nx = 1\n\n[b]\nx = 5 ; inline\n"
    assert set_key(text, "ini", "y", "on", "a") == "# top\n[a]\nx = 1\ny = on\n\n[b]\nx = 2 ; inline\n"
    assert set_key(text, "ini", "z", True, "c").endswith("\n[c]\nz = true\n")


def test_set_key_keyvalue_json_yaml() -> None:
    assert set_key("A=1\nB = 2\n", "keyvalue", "B", 3) == "A=1\nB = 3\n"
    assert set_key("A=1", "keyvalue", "C", "x") == "A=1\nC=x\n"
    assert json.loads(set_key('{"a": {"b": 1}}', "json", "a.c", [1])) == {"a": {"b": 1, "c": [1]}}
    assert set_key("a:\n  b: 1\n", "yaml", "a.b", 2) == "a:\n  b: 2\n"
    assert set_key("", "auto", "k", "v", path="x.json") == '{\n  "k": "v"\n}\n'
    with pytest.raises(EditError):
        set_key("[1]", "json", "a", 1)


def test_find_replace_requires_the_text() -> None:
    assert find_replace("listen 80;", [{"find": "80", "replace": "8080"}]) == "listen 8080;"
    with pytest.raises(EditError, match="not found"):
        find_replace("listen 80;", [{"find": "443", "replace": "8443"}], "/etc/x")


def test_coverage_of_resources() -> None:
    assert covers("file:/etc/app", "file:/etc/app/app.ini")
    assert not covers("file:/etc/app", "file:/etc/apps/x")
    assert covers("postgres:db", "postgres:db") and not covers("postgres:db", "postgres:db2")


def test_prompt_yes_no_and_timeout() -> None:
    for answer, expected in ((b"y\n", True), (b"no\n", False), (b"\n", False)):
        r, w = os.pipe()
        os.write(w, answer)
        with os.fdopen(r) as tty_in:
            assert ask("go?", 2, tty_in, io.StringIO()) is expected
        os.close(w)
    r, w = os.pipe()
    out = io.StringIO()
    with os.fdopen(r) as tty_in:
        assert ask("go?", 0.05, tty_in, out) is False  # nobody answered: not approved
    os.close(w)
    assert "[y/N]" in out.getvalue()


def test_collected_data_cannot_be_changed(tmp_path: Path) -> None:
    """A bundle (or any target that is not a machine) gets a clear fail finding, not a traceback."""
    from medic.core import playbook
    from medic.core.engine import Engine
    from medic.core.session import Session
    from medic.core.target import Target

    class Collected(Target):
        kind = "bundle"
        live = False

        def _collect(self, calls):  # type: ignore[no-untyped-def]
            return {}

    session = Session(config={})
    pb_file = tmp_path / "pb.yaml"
    pb_file.write_text(f"name: b\nsteps:\n  - {{id: b, backup: files, with: {{path: {tmp_path}}}}}\n")
    pb = playbook.load(pb_file, session.registry)
    run = Engine(session.registry, session.hooks).run(pb, [Collected("laptop-42")], {},
                                                      {"state_dir": str(tmp_path / "state")})
    (finding,) = run.findings()
    assert finding.status.value == "fail" and "not a machine" in finding.summary and "laptop-42" in finding.summary
    assert not (tmp_path / "state" / "journal").exists()
