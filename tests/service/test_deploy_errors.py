"""``medic deploy``, ``serve`` and ``worker`` refuse bad input in one line with a documented exit code."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prefectsvc import PrefectService


def medic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return {**env, "MEDIC_CONFIG": str(path)}


@pytest.mark.parametrize("entry, wanted", [
    ('{playbook: triage, cron: "0 25 * * *"}', "bad cron '0 25 * * *'"),
    ('{playbook: triage, cron: "0 2 * * *", timezone: Mars/Olympus}', "timezone 'Mars/Olympus'"),
    ('{playbook: triage, cron: "0 2 * * *", inputs: {nope: 1}}', "schedules.nightly.inputs: unknown input 'nope'"),
    ('{playbook: triage, cron: "0 2 * * *", every: day}', "unknown key 'every'"),
    ('{playbook: no-such-book, cron: "0 2 * * *"}', "schedules: unknown playbook in nightly (no-such-book)"),
])
def test_a_bad_schedule_is_exit_2_naming_the_entry(tmp_path: Path, entry: str, wanted: str) -> None:
    env = config(tmp_path, f"schedules:\n  nightly: {entry}\n")
    out = medic(env, "deploy", "--dry-run")
    assert out.returncode == 2 and wanted in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    if "unknown playbook" not in wanted:
        assert f"{tmp_path / 'config.yaml'}:2:" in out.stderr


def test_dry_run_prints_the_plan_and_needs_no_server(tmp_path: Path) -> None:
    env = config(tmp_path, """\
        schedules:
          nightly-health: {playbook: triage, cron: "0 2 * * *", timezone: Europe/Paris, targets: [local]}
        deploy: {sla_interval_s: 300}
        """)
    out = medic(env, "deploy", "--dry-run", "--playbook", "triage")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "work pool medic (process): create if missing"
    assert lines[1].startswith("deployment medic-playbook/triage: create or update (parameters: dns_name")
    assert lines[2] == "  schedule nightly-health: cron '0 2 * * *' (Europe/Paris) {'targets': ['local']}"
    assert lines[3].startswith("deployment medic-sla/clocks: create or update (the SLA clocks, every 300 s")
    assert "medic: crash silent runs" in lines[4] and "90 s" in lines[4]
    quiet = medic({**env, "MEDIC_DISABLE_PLUGINS": "builtin_cases"}, "deploy", "--dry-run", "--playbook", "triage")
    assert quiet.returncode == 0 and "medic-sla" not in quiet.stdout, quiet.stderr  # no cases: no SLA clocks


def test_without_a_server_or_with_a_dead_one(tmp_path: Path) -> None:
    env = config(tmp_path, "{}\n")
    out = medic(env, "deploy")
    assert out.returncode == 2 and "needs a Prefect server: set PREFECT_API_URL" in out.stderr
    out = medic({**env, "PREFECT_API_URL": "http://127.0.0.1:9/api"}, "worker")
    assert out.returncode == 3 and "http://127.0.0.1:9/api cannot be reached" in out.stderr
    assert "Traceback" not in out.stderr


def test_wrong_credentials_and_unknown_pool(tmp_path: Path, prefect_service: PrefectService) -> None:
    env = {**config(tmp_path, "{}\n"), "PREFECT_API_URL": prefect_service.api_url}
    out = medic({**env, "PREFECT_API_AUTH_STRING": "medic-test:wrong"}, "deploy", "--playbook", "verify")
    assert out.returncode == 3, out.stderr
    assert f"the Prefect server at {prefect_service.api_url} refused medic's credentials" in out.stderr
    assert "wrong" not in out.stderr and "Traceback" not in out.stderr
    out = medic({**env, "PREFECT_API_AUTH_STRING": prefect_service.auth_string}, "worker", "--pool", "no-pool")
    assert out.returncode == 2 and "work pool 'no-pool' not found" in out.stderr, out.stderr


@pytest.mark.parametrize("deploy, wanted", [
    ("{heartbeat_s: 10}", "deploy.heartbeat_s: 10 is below Prefect's minimum of 30 s"),
    ("{heartbeat_s: 30, crashed_after_s: 30}", "deploy.crashed_after_s: 30 s must be longer than deploy.heartbeat_s"),
    ("{poll_s: 0.5}", "deploy.poll_s: expected a positive whole number, got 0.5"),
])
def test_a_zombie_window_shorter_than_a_heartbeat_is_refused(tmp_path: Path, deploy: str, wanted: str) -> None:
    out = medic(config(tmp_path, f"deploy: {deploy}\n"), "deploy", "--dry-run")
    assert out.returncode == 2 and wanted in out.stderr, out.stderr


@pytest.mark.parametrize("exported, config_text, wanted", [
    (None, "{}", "1"),  # medic's default: a submitted run waits 0.5 s on average, not Prefect's 5 s
    (None, "deploy: {poll_s: 3}", "3"),
    ("7", "deploy: {poll_s: 3}", "7"),  # what the user exported wins
])
def test_workers_and_serve_poll_every_deploy_poll_s(monkeypatch: pytest.MonkeyPatch, exported: str | None,
                                                     config_text: str, wanted: str) -> None:
    import yaml

    from medic.cli.service import _service_env

    for key in ("PREFECT_WORKER_QUERY_SECONDS", "PREFECT_RUNNER_POLL_FREQUENCY", "PREFECT_API_URL"):
        monkeypatch.delenv(key, raising=False)
        if exported and key != "PREFECT_API_URL":
            monkeypatch.setenv(key, exported)
    _service_env(yaml.safe_load(config_text))
    assert os.environ["PREFECT_WORKER_QUERY_SECONDS"] == wanted
    assert os.environ["PREFECT_RUNNER_POLL_FREQUENCY"] == wanted


TRIGGERED = """\
    name: trig
    inputs:
      bundle: {type: string, description: a path}
      size: {type: int, default: 0}
    targets: [local]
    triggers: [TRIGGER]
    steps:
      - id: there
        verify: change.file_contains
        with: {path: "{{ inputs.bundle }}", pattern: "x"}
"""


@pytest.mark.parametrize("trigger, wanted", [
    ("{event: medic.bundle.received, inputs: {bundle: payload.bundle_path, nope: payload.x}}",
     "trigger 1: inputs.nope: not an input of the playbook (bundle, size)"),
    ('{event: medic.bundle.received, inputs: {bundle: "{{ event.payload.path }}"}}',
     "inputs.bundle: expected payload.KEY[.KEY...], resource.LABEL, id, occurred, event; got '{{ event.payload"),
    ("{event: medic.bundle.received, inputs: {size: payload.bundle_size}}",
     "trigger 1: required input(s) bundle not mapped from the event"),
    ("{event: medic.bundle.received, when: always, inputs: {bundle: payload.p}}", "unknown key 'when'"),
])
def test_a_bad_trigger_is_exit_2_naming_the_playbook_and_entry(tmp_path: Path, trigger: str, wanted: str) -> None:
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "trig.yaml").write_text(textwrap.dedent(TRIGGERED).replace("TRIGGER", trigger))
    env = config(tmp_path, f"playbook_paths: [{tmp_path / 'books'}]\n")
    out = medic(env, "deploy", "--dry-run", "--playbook", "trig")
    assert out.returncode == 2 and wanted in out.stderr and "playbook trig (" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_dry_run_shows_the_compiled_trigger(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    trigger = "{event: medic.bundle.*, match: {medic.host: [a, b]}, inputs: {bundle: payload.bundle_path}}"
    (tmp_path / "books" / "trig.yaml").write_text(textwrap.dedent(TRIGGERED).replace("TRIGGER", trigger))
    out = medic(config(tmp_path, f"playbook_paths: [{tmp_path / 'books'}]\n"), "deploy", "--dry-run",
                "--playbook", "trig")
    assert out.returncode == 0, out.stderr
    assert "  trigger on medic.bundle.* where {'medic.host': ['a', 'b']}: bundle <- payload.bundle_path" in out.stdout
