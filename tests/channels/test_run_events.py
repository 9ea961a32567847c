"""run.started and step.failed reach the channels that ask for them while the run goes on; a channel that does
not ask gets run.finished only; both engines fire them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLAYBOOK = """\
name: events-demo
targets: [local]
steps:
  - id: ok
    check: software.command_version
    with: {command: [python3, --version], minimum: "3.0"}
  - id: too_old
    check: software.command_version
    with: {command: [python3, --version], minimum: "99.0"}
"""


@pytest.mark.parametrize("engine", ["inline", pytest.param("prefect", marks=pytest.mark.slow)])
def test_live_events_go_only_where_asked_and_in_order(tmp_path: Path, engine: str) -> None:
    live, final = tmp_path / "live.jsonl", tmp_path / "final.jsonl"
    config = tmp_path / "config.yaml"
    config.write_text(f"channels:\n  live: {{type: file, path: '{live}', "
                      f"events: [run.started, step.failed, run.finished]}}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(PLAYBOOK)
    env = {**os.environ, "MEDIC_CONFIG": str(config), "MEDIC_STATE_DIR": str(tmp_path / "state"),
           "MEDIC_ENGINE": engine}
    out = subprocess.run([str(Path(sys.executable).with_name("medic")), "run", str(pb), "--json", "--notify",
                          "live", "--notify", f"file:{final}"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stderr
    events = [json.loads(line) for line in live.read_text().splitlines()]
    assert [e["event"] for e in events] == ["run.started", "step.failed", "run.finished"]
    run_id = json.loads(out.stdout)["run_id"]
    assert all(e["data"]["run_id"] == run_id for e in events)
    failed = events[1]
    assert failed["data"]["step"] == "too_old" and failed["data"]["target"] == "local"
    assert "older than" in failed["body"]
    assert [json.loads(line)["event"] for line in final.read_text().splitlines()] == ["run.finished"]


def test_the_command_line_chooses_a_channels_events_after_an_at_sign(tmp_path: Path) -> None:
    chosen, at_in_path, configured = tmp_path / "chosen.jsonl", tmp_path / "a@run.finished.x", tmp_path / "c.jsonl"
    pb, config = tmp_path / "pb.yaml", tmp_path / "config.yaml"
    pb.write_text(PLAYBOOK)
    config.write_text(f"notify: ['file:{configured}@step.failed']\n")  # the configuration's list: the same
    env = {**os.environ, "MEDIC_STATE_DIR": str(tmp_path / "state"), "MEDIC_ENGINE": "inline",
           "MEDIC_CONFIG": str(config)}
    out = subprocess.run([str(Path(sys.executable).with_name("medic")), "run", str(pb), "--json",
                          "--notify", f"file:{chosen}@run.started,step.failed", "--notify", f"file:{at_in_path}"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stderr
    assert [json.loads(line)["event"] for line in chosen.read_text().splitlines()] == ["run.started", "step.failed"]
    # a suffix that is not all event names stays part of the argument: here a file name holding "@"
    assert [json.loads(line)["event"] for line in at_in_path.read_text().splitlines()] == ["run.finished"]
    assert [json.loads(line)["event"] for line in configured.read_text().splitlines()] == ["step.failed"]


def test_an_unknown_event_name_is_refused_before_the_run(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("channels:\n  live: {type: file, path: /tmp/x.jsonl, events: [run.exploded]}\n")
    env = {**os.environ, "MEDIC_CONFIG": str(config)}
    out = subprocess.run([str(Path(sys.executable).with_name("medic")), "run", "triage", "--notify", "live"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 2 and "at channels.live.events.0: 'run.exploded' is not one of" in out.stderr
    assert f"{config}:2:" in out.stderr  # the file and the line, from the channels: schema


def test_a_playbook_chooses_its_channels_and_their_events(tmp_path: Path) -> None:
    from_playbook, from_config = tmp_path / "pb.jsonl", tmp_path / "conf.jsonl"
    pb, config = tmp_path / "pb.yaml", tmp_path / "config.yaml"
    pb.write_text(PLAYBOOK.replace("targets: [local]\n", f"targets: [local]\nnotify:\n  - team@step.failed\n"
                                                         f"  - 'file:{from_playbook}'\n"))
    config.write_text(f"channels:\n  team: {{type: file, path: '{from_config}'}}\n")
    env = {**os.environ, "MEDIC_STATE_DIR": str(tmp_path / "state"), "MEDIC_ENGINE": "inline",
           "MEDIC_CONFIG": str(config)}
    medic = str(Path(sys.executable).with_name("medic"))
    out = subprocess.run([medic, "run", str(pb), "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stderr
    assert [json.loads(line)["event"] for line in from_config.read_text().splitlines()] == ["step.failed"]
    assert [json.loads(line)["event"] for line in from_playbook.read_text().splitlines()] == ["run.finished"]
    assert subprocess.run([medic, "playbooks", "validate", str(pb)], capture_output=True, text=True, env=env,
                          timeout=120).returncode == 0


@pytest.mark.parametrize("notify, wanted", [
    ("notify: oncall\n", "pb.yaml:3): notify: expected a list of channels, each NAME[:ARG][@EVENT,...]"),
    ("notify:\n  - ok@run.finished\n  - 7\n", "pb.yaml:5): notify[1]: expected a channel NAME[:ARG][@EVENT"),
    ("notify:\n  - nowhere@run.finished\n", "pb.yaml:4): notify[0]: unknown channel 'nowhere@run.finished'"),
])
def test_a_bad_notify_in_a_playbook_is_refused_before_the_run_naming_its_line(
        tmp_path: Path, notify: str, wanted: str) -> None:
    pb, config, marker = tmp_path / "pb.yaml", tmp_path / "config.yaml", tmp_path / "ran"
    pb.write_text(f"name: bad-notify\ntargets: [local]\n{notify}steps:\n  - id: mark\n    check: "
                  f"software.command_version\n    with: {{command: [touch, '{marker}'], minimum: '0'}}\n")
    config.write_text("channels:\n  ok: {type: console}\n")
    env = {**os.environ, "MEDIC_STATE_DIR": str(tmp_path / "state"), "MEDIC_ENGINE": "inline",
           "MEDIC_CONFIG": str(config)}
    medic = str(Path(sys.executable).with_name("medic"))
    for argv in (["run", str(pb)], ["playbooks", "validate", str(pb)]):
        out = subprocess.run([medic, *argv], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 2 and wanted in out.stderr and "Traceback" not in out.stderr, (argv, out.stderr)
    assert not marker.exists()  # refused before anything ran
