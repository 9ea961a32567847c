"""The medic command line as a user runs it: a subprocess, its output and its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def base_env() -> dict[str, str]:
    # read at call time: the autouse fixture has pointed XDG_* at a temporary home by then
    return {**os.environ, "MEDIC_ENGINE": "inline", "COLUMNS": "200"}


def medic(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          env={**base_env(), **(env or {})}, cwd=cwd, timeout=120)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("argv", [
    ["--help"], ["playbooks", "list"], ["playbooks", "schema"], ["playbooks", "show", "triage"],
    ["playbooks", "validate", "triage"], ["plugins", "list"], ["checks", "list"], ["runs", "list"],
    ["backups", "list"],
])
def test_commands_that_run_no_flow_do_not_import_prefect(argv: list[str]) -> None:
    code = (f"import sys\nfrom medic.cli.main import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n"
            "    pass\nbad = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'paramiko', 'pydantic'))\n"
            "print('HEAVY', bad)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=base_env(),
                         timeout=60)
    assert "HEAVY []" in out.stdout, out.stdout[-500:] + out.stderr[-500:]


def test_run_triage_json_document(tmp_path: Path) -> None:
    out = medic("run", "triage", "--json", "--report", str(tmp_path / "r.md"))
    assert out.returncode in (0, 1), out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == "medic.run/1" and doc["playbook"] == "triage"
    assert doc["exit_code"] == out.returncode
    checks = {f["check"] for f in doc["findings"]}
    assert {"network.dns_resolve", "system.disk_space", "system.memory", "software.command_version"} <= checks
    assert set(doc["summary"]["counts"]) == {"pass", "warn", "fail", "error", "skipped"}
    report = (tmp_path / "r.md").read_text()
    for heading in ("## Problem", "## Probable cause", "## Findings by severity", "## Recommended next steps",
                    "## Timings"):
        assert heading in report


def test_failing_check_gives_exit_1_with_probable_cause_and_next_steps(tmp_path: Path) -> None:
    pb = write(tmp_path / "pb.yaml", """
        name: must-fail
        steps:
          - id: g
            group: Checklist
            steps:
              - {id: mem, check: system.memory}
              - {id: proc, check: services.process_running, with: {names: [no-such-process-xyz]}}
    """)
    out = medic("run", str(pb))
    assert out.returncode == 1
    assert "Probable cause: services.process_running on local" in out.stdout
    assert "Next steps:" in out.stdout and "Traceback" not in out.stderr


def test_inputs_from_the_command_line_are_typed(tmp_path: Path) -> None:
    out = medic("run", "triage", "--json", "-i", "minimum_version=999.0", "-i", "dns_name=localhost")
    doc = json.loads(out.stdout)
    version = next(f for f in doc["findings"] if f["check"] == "software.command_version")
    assert version["status"] == "fail" and out.returncode == 1
    bad = medic("run", "triage", "-i", "service_port=http")
    assert bad.returncode == 2 and "service_port: got str 'http', expected an integer" in bad.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["run", "no-such-playbook"], "no playbook named 'no-such-playbook'"),
    (["run", "triage", "-i", "nonsense"], "expected KEY=VALUE"),
    (["run", "triage", "-i", "colour=red"], "unknown input 'colour'"),
    (["run", "triage", "--target", "web01"], "needs an inventory"),
    (["run", "triage", "--target", "gopher://x"], "unknown target kind 'gopher'"),
    (["checks", "show", "no.such"], "no check 'no.such'"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    out = medic(*args)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr


def test_invalid_playbook_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    pb = write(tmp_path / "bad.yaml", """
        name: bad
        steps:
          - {id: a, check: system.nope}
          - {id: b, check: system.memory, with: {warn_pct: high}}
    """)
    for cmd in (["playbooks", "validate", str(pb)], ["run", str(pb)]):
        out = medic(*cmd)
        assert out.returncode == 2
        assert f"{pb}:4:" in out.stderr and "unknown check 'system.nope'" in out.stderr
        assert f"{pb}:5:" in out.stderr and "warn_pct" in out.stderr
        assert "Traceback" not in out.stderr


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    pb = tmp_path / "broken.yaml"
    pb.write_text("name: x\nsteps:\n  - {id: a, check: system.memory\n")
    out = medic("playbooks", "validate", str(pb))
    assert out.returncode == 2 and f"{pb}:" in out.stderr and "Traceback" not in out.stderr


def test_playbook_path_from_environment(tmp_path: Path) -> None:
    write(tmp_path / "site.yaml", """
        name: site-check
        description: a site-specific runbook
        steps: [{id: m, check: system.memory}]
    """)
    listed = medic("playbooks", "list", env={"MEDIC_PLAYBOOK_PATH": str(tmp_path)})
    assert "site-check" in listed.stdout and "triage" in listed.stdout
    ran = medic("run", "site-check", "--json", env={"MEDIC_PLAYBOOK_PATH": str(tmp_path)})
    assert json.loads(ran.stdout)["playbook"] == "site-check"


def test_file_channel_appends_json_lines(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    for _ in range(2):
        medic("run", "slow-system", "--json", "--notify", f"file:{events}")
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert len(lines) == 2 and lines[0]["event"] == "run.finished" and lines[0]["data"]["playbook"] == "slow-system"


def test_a_channel_that_fails_to_deliver_is_a_warning_not_a_lost_result(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = medic("run", "slow-system", "--json", "--notify", f"file:{blocker}/events.jsonl")
    assert "channel file failed" in out.stderr
    assert json.loads(out.stdout)["playbook"] == "slow-system"


def test_schema_and_show(tmp_path: Path) -> None:
    schema = json.loads(medic("playbooks", "schema").stdout)
    assert schema["$schema"].endswith("2020-12/schema") and "step" in schema["$defs"]
    show = medic("playbooks", "show", "triage").stdout
    assert "dns_name (string, default 'localhost')" in show and "- dns: check network.dns_resolve" in show
    checks = medic("checks", "show", "system.disk_space").stdout
    assert "warn_pct" in checks and "check: system.disk_space" in checks


def test_runs_are_kept_in_the_state_directory(tmp_path: Path) -> None:
    out = medic("run", "slow-system", "--json", env={"MEDIC_STATE_DIR": str(tmp_path)})
    run_id = json.loads(out.stdout)["run_id"]
    assert json.loads((tmp_path / "runs" / f"{run_id}.json").read_text())["run_id"] == run_id
