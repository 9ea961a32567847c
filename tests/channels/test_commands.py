"""``medic channels`` and ``medic notify`` as a user runs them, against a real receiver."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.channels.receiver import Receiver, running


def medic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def setup_env(tmp_path: Path, rx: Receiver, secret: str) -> dict[str, str]:
    config = tmp_path / "config.yaml"
    config.write_text(f"channels:\n  team:\n    type: webhook\n    url: {rx.url}\n    secret: env:HOOK_SECRET\n"
                      f"    events: [run.finished]\n")
    return {**os.environ, "MEDIC_CONFIG": str(config), "MEDIC_STATE_DIR": str(tmp_path / "state"),
            "MEDIC_CHANNEL_ALLOW": rx.allow, "HOOK_SECRET": secret}


def test_channels_list_and_test_show_the_allow_list_and_deliver(tmp_path: Path) -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with running(Receiver(secret)) as rx:
        env = setup_env(tmp_path, rx, secret)
        listed = medic(env, "channels", "list", "--json")
        data = json.loads(listed.stdout)
        assert data["instances"][0]["name"] == "team" and data["allowed_lab_addresses"] == rx.allow
        tested = medic(env, "channels", "test", "team")
        assert tested.returncode == 0 and "delivered" in tested.stdout and rx.allow in tested.stdout
        assert len(rx.delivered_ids()) == 1 and secret not in tested.stdout + tested.stderr
        rx.script.append((404, {}))
        failed = medic(env, "channels", "test", "team")
        assert failed.returncode == 3 and "404" in failed.stderr and "Traceback" not in failed.stderr


def test_a_run_during_an_outage_is_delivered_by_flush_and_dead_letters_replay(tmp_path: Path) -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with running(Receiver(secret)) as rx:
        env = setup_env(tmp_path, rx, secret)
        rx.script.append((503, {"Retry-After": "600"}))  # not due again during the test, however slow the machine
        run = medic(env, "run", "triage", "--engine", "inline", "--notify", "team")
        assert run.returncode in (0, 1), run.stderr
        assert "medic notify flush" in run.stderr
        waiting = json.loads(medic(env, "notify", "outbox", "--json").stdout)
        assert len(waiting) == 1 and waiting[0]["last_error"] == "webhook 127.0.0.1 answered 503"
        rx.script.append((400, {}))
        # the backoff has not elapsed: flush sends nothing yet; replay makes it due now
        assert medic(env, "notify", "flush").stdout.startswith("0 delivered, 0 failed, 1 waiting")
        assert medic(env, "notify", "replay", waiting[0]["id"]).returncode == 0
        flushed = medic(env, "notify", "flush")
        assert flushed.returncode == 3 and "400" in flushed.stderr
        dead = json.loads(medic(env, "notify", "dead-letter", "--json").stdout)
        assert [d["id"] for d in dead] == [waiting[0]["id"]]
        assert medic(env, "notify", "replay", dead[0]["id"]).returncode == 0
        assert medic(env, "notify", "flush").returncode == 0
        assert rx.delivered_ids() == [f"msg_{waiting[0]['id']}"]
        assert json.loads(medic(env, "notify", "outbox", "--json").stdout) == []
