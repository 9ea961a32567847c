"""approval.requested and change.rolled_back reach the channels that ask for them, while the run goes on: a real
webhook receiver (signatures verified with the standardwebhooks package) and a real terminal (a pty) to answer on."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from change_helpers import APPROVE_PLAYBOOK

from tests.channels.receiver import Hit, Receiver, running

from .conftest import medic

INI = "[main]\nworkers = 2\nport = 80\n"


@pytest.fixture
def hook(tmp_path: Path, env: dict[str, str]) -> Iterator[Receiver]:
    """A verifying receiver; the channel `hook` gets the change events and run.finished, `final` run.finished only."""
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with running(Receiver(secret)) as rx:
        config = tmp_path / "config.yaml"
        config.write_text(
            "channels:\n"
            f"  hook: {{type: webhook, url: '{rx.url}', secret: 'env:HOOK_SECRET',"
            " events: [approval.requested, change.rolled_back, run.finished]}\n"
            f"  final: {{type: file, path: '{tmp_path / 'final.jsonl'}'}}\n")
        env.update(MEDIC_CONFIG=str(config), HOOK_SECRET=secret, MEDIC_CHANNEL_ALLOW=rx.allow)
        yield rx


def events(rx: Receiver) -> list[dict[str, Any]]:
    assert all(h.verified for h in rx.hits), "a notification failed signature verification"
    return [json.loads(h.body) for h in rx.hits]


def wait_for(rx: Receiver, event: str, timeout_s: float = 90.0) -> Hit:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for hit in list(rx.hits):
            if json.loads(hit.body)["type"] == event:
                return hit
        time.sleep(0.1)
    raise AssertionError(f"no {event} within {timeout_s:g} s; got {[json.loads(h.body)['type'] for h in rx.hits]}")


@pytest.mark.parametrize("engine", ["inline", pytest.param("prefect", marks=pytest.mark.slow)])
def test_a_failed_verification_sends_change_rolled_back(tmp_path: Path, env: dict[str, str], hook: Receiver,
                                                        engine: str) -> None:
    conf = tmp_path / "app.ini"
    conf.write_text(INI)
    proc = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", "config-change", "-i", f"config_file={conf}",
                           "-i", "key=workers", "-i", "value=8", "-i", "section=main", "-i", "verify_command=false",
                           "--json", "--notify", "hook", "--notify", "final"], capture_output=True, text=True,
                          env={**env, "MEDIC_ENGINE": engine}, timeout=600)
    assert proc.returncode == 1, proc.stderr
    assert conf.read_text() == INI
    got = events(hook)
    assert [e["type"] for e in got] == ["change.rolled_back", "run.finished"]
    rolled = got[0]["data"]
    assert rolled["run_id"] == json.loads(proc.stdout)["run_id"] and rolled["target"] == "local"
    assert rolled["rollback"] == "rolled back" and "verification" in rolled["why"] and rolled["problems"] == 0
    assert str(conf) in rolled["summary"]  # what was checked against its backup
    final = [json.loads(line)["event"] for line in (tmp_path / "final.jsonl").read_text().splitlines()]
    assert final == ["run.finished"]  # a channel that did not ask gets no change event


def test_a_run_that_commits_sends_no_rollback(tmp_path: Path, env: dict[str, str], hook: Receiver) -> None:
    conf = tmp_path / "app.ini"
    conf.write_text(INI)
    proc = medic("run", "config-change", "-i", f"config_file={conf}", "-i", "key=workers", "-i", "value=8",
                 "-i", "section=main", "--notify", "hook", env=env)
    assert proc.returncode == 0, proc.stderr
    assert [e["type"] for e in events(hook)] == ["run.finished"]


def test_approval_requested_reaches_the_channel_while_the_step_waits(
        tmp_path: Path, env: dict[str, str], hook: Receiver) -> None:
    target = tmp_path / "app.conf"
    target.write_text("old\n")
    pb = tmp_path / "approve.yaml"
    pb.write_text(APPROVE_PLAYBOOK)
    master, slave = os.openpty()  # the terminal the step asks on
    try:
        proc = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "run", str(pb), "-i", f"path={target}",
                                 "-i", "wait=240", "--json", "--notify", "hook"], stdin=slave,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            hit = wait_for(hook, "approval.requested")  # the question is out before anyone has answered
            assert target.read_text() == "old\n" and proc.poll() is None
            os.write(master, b"y\n")
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == 0, err
    assert target.read_text() == "new\n"
    asked = json.loads(hit.body)["data"]
    assert asked["question"] == f"Replace {target}?" and asked["step"] == "ok" and asked["timeout_s"] == 240
    assert asked["run_id"] == json.loads(out)["run_id"] and "the terminal running medic" in asked["summary"]
    assert [e["type"] for e in events(hook)] == ["approval.requested", "run.finished"]


def test_medic_rollback_and_recover_send_change_rolled_back(tmp_path: Path, env: dict[str, str],
                                                            hook: Receiver) -> None:
    conf = tmp_path / "app.ini"
    conf.write_text(INI)
    change = ("run", "config-change", "-i", f"config_file={conf}", "-i", "key=workers", "-i", "value=8",
              "-i", "section=main", "--json")
    run_id = json.loads(medic(*change, env=env, check=True).stdout)["run_id"]
    refused = medic("rollback", run_id, "--notify", "no-such-channel", env=env)
    assert refused.returncode == 2 and "no-such-channel" in refused.stderr and conf.read_text() != INI
    medic("rollback", run_id, "--notify", "hook", "--notify", "final", env=env, check=True)
    assert conf.read_text() == INI
    (rolled,) = [e for e in events(hook) if e["type"] == "change.rolled_back"]
    assert rolled["data"]["run_id"] == run_id and rolled["data"]["target"] == "local"
    assert rolled["data"]["playbook"] == "config-change" and rolled["data"]["why"] == "medic rollback"
    assert rolled["data"]["undone"] >= 1 and rolled["data"]["problems"] == 0
    named = [json.loads(line) for line in (tmp_path / "final.jsonl").read_text().splitlines()]
    assert [n["event"] for n in named] == ["change.rolled_back"]  # named with --notify: it gets the event
    assert "already rolled back" in medic("rollback", run_id, "--notify", "hook", env=env, check=True).stdout
    assert len(events(hook)) == 1  # already rolled back: nothing undone, nothing announced

    crashed = subprocess.run([sys.executable, "-m", "medic.cli.main", *change], capture_output=True, text=True,
                             env={**env, "MEDIC_FAULT": "after_action"}, timeout=600)
    assert crashed.returncode < 0 and conf.read_text() != INI  # killed after changing the file
    config = Path(env["MEDIC_CONFIG"])
    config.write_text(config.read_text() + "notify: [hook, final]\n")  # the configuration's channels this time
    medic("recover", env=env, check=True)
    assert conf.read_text() == INI
    recovered = [e["data"] for e in events(hook) if e["type"] == "change.rolled_back"][1:]
    assert len(recovered) == 1 and recovered[0]["why"] == "medic recover: the run was interrupted"
    assert recovered[0]["playbook"] == "run" and recovered[0]["target"] == "local"  # a crashed run has no document
    named = [json.loads(line) for line in (tmp_path / "final.jsonl").read_text().splitlines()]
    assert len(named) == 1  # final does not ask for change.rolled_back: from notify: it only gets what it asks for
    assert medic("recover", env=env, check=True).stdout.strip() == "nothing to recover"
    assert len(events(hook)) == 2
