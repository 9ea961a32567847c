"""The webhook channel against a real receiver that verifies signatures with the standardwebhooks package."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medic.core import notify
from medic.core.channel import Notification
from medic.core.outbox import MAX_ATTEMPTS, Outbox
from medic.kernel.errors import UsageError
from medic.plugins.channels.webhook import WebhookChannel
from tests.channels.receiver import Receiver, running


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    value = new_secret()
    monkeypatch.setenv("HOOK_SECRET", value)
    return value


def note(event: str = "run.finished") -> Notification:
    return Notification(event, "medic triage (r1)", "fail", "1 fail, 0 warn", {"run_id": "r1"})


def routes_for(rx: Receiver, monkeypatch: pytest.MonkeyPatch, **extra: object) -> list[notify.Route]:
    monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
    config = {"channels": {"hook": {"type": "webhook", "url": rx.url, "secret": "env:HOOK_SECRET", **extra}}}
    return notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)


def test_a_delivery_is_signed_and_verifies_with_an_independent_library(
        secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver(secret)) as rx:
        n = note()
        assert notify.deliver(routes_for(rx, monkeypatch), n, tmp_path / "o.sqlite") == []
        assert rx.delivered_ids() == [f"msg_{n.id}"]
        body = json.loads(rx.hits[0].body)
        assert body["type"] == "run.finished" and body["data"]["run_id"] == "r1"


def test_retries_keep_the_webhook_id_and_end_delivered(
        secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clock = [time.time()]
    with running(Receiver(secret)) as rx:
        rx.script += [(503, {}), (429, {"retry-after": "7"})]
        routes = routes_for(rx, monkeypatch)
        n = note()
        problems = notify.deliver(routes, n, tmp_path / "o.sqlite")
        assert len(problems) == 1 and "503" in problems[0] and "medic notify flush" in problems[0]
        box = Outbox(tmp_path / "o.sqlite", clock=lambda: clock[0])
        clock[0] += 3600
        channels = {"webhook": WebhookChannel()}
        assert [e for _, e in box.drain(channels)] == ["webhook 127.0.0.1 answered 429"]
        retry_at = box.messages("pending")[0].next_at
        assert retry_at == clock[0] + 7  # Retry-After honoured
        clock[0] = retry_at
        assert [e for _, e in box.drain(channels)] == [None]
        assert {h.webhook_id for h in rx.hits} == {f"msg_{n.id}"} and len(rx.hits) == 3
        assert rx.delivered_ids() == [f"msg_{n.id}"]
        assert box.messages("delivered")[0].attempts == 3


def test_gone_disables_the_endpoint_and_client_errors_are_permanent(
        secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver(secret)) as rx:
        rx.script += [(410, {}), (400, {})]
        routes = routes_for(rx, monkeypatch)
        assert "410" in notify.deliver(routes, note(), tmp_path / "o.sqlite")[0]
        box = Outbox(tmp_path / "o.sqlite")
        assert "hook" in box.disabled()
        assert notify.deliver(routes, note(), tmp_path / "o.sqlite") == []  # disabled: not even tried
        assert len(rx.hits) == 1
        box.enable("hook")
        assert "dead-letter" in notify.deliver(routes, note(), tmp_path / "o.sqlite")[0]
        assert [m.last_error for m in box.messages("dead")] == ["webhook 127.0.0.1 answered 410 Gone: endpoint "
                                                              "disabled", "webhook 127.0.0.1 answered 400"]


def test_a_redirect_fails_the_delivery(secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver(secret)) as rx:
        rx.script.append((307, {"location": rx.url}))
        problems = notify.deliver(routes_for(rx, monkeypatch), note(), tmp_path / "o.sqlite")
        assert "redirect" in problems[0] and len(rx.hits) == 1


def test_two_secrets_during_rotation_both_verify(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    old, new = new_secret(), new_secret()
    monkeypatch.setenv("OLD", old)
    monkeypatch.setenv("NEW", new)
    for receiver_secret in (old, new):
        with running(Receiver(receiver_secret)) as rx:
            monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
            config = {"channels": {"hook": {"type": "webhook", "url": rx.url, "secret": ["env:OLD", "env:NEW"]}}}
            routes = notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)
            assert notify.deliver(routes, note(), tmp_path / "o.sqlite") == []
            assert len(rx.delivered_ids()) == 1


_OPENED: list[str] = []  # files opened for reading while a test watches (an audit hook cannot be removed)
_WATCHING: list[bool] = []


def _note_opens(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _WATCHING and isinstance(args[0], str) and args[1] == "r":
        _OPENED.append(args[0])


sys.addaudithook(_note_opens)


def test_a_secret_file_is_read_once_and_a_rotated_one_at_the_next_send(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first, second, third = new_secret(), new_secret(), new_secret()
    secret_file = tmp_path / "hook-secret"
    secret_file.write_text(first + "\n")
    with running(Receiver(first)) as rx:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
        options = {"url": rx.url, "secret": f"file:{secret_file}"}
        hook = WebhookChannel()
        _WATCHING.append(True)
        try:
            for _ in range(3):
                hook.send(note(), options)
            assert _OPENED.count(str(secret_file)) == 1  # read at the first send, then one stat per send
            staged = tmp_path / "hook-secret.new"
            staged.write_text(second)
            staged.replace(secret_file)  # rotated the usual way: a new file renamed into place
            rx.secret = second
            hook.send(note(), options)
            secret_file.write_text(third + "\n")  # or rewritten in place
            rx.secret = third
            hook.send(note(), options)
        finally:
            _WATCHING.clear()
        assert [h.verified for h in rx.hits] == [True] * 5 and _OPENED.count(str(secret_file)) == 3


def test_events_filter_what_a_channel_receives(secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver(secret)) as rx:
        routes = routes_for(rx, monkeypatch, events=["run.finished"])
        assert notify.deliver(routes, note("case.opened"), tmp_path / "o.sqlite") == []
        assert rx.hits == []
        assert notify.deliver(routes, note("run.finished"), tmp_path / "o.sqlite") == []
        assert len(rx.delivered_ids()) == 1


@pytest.mark.parametrize(("options", "expected"), [
    ({"secret": "env:HOOK_SECRET"}, "option 'url' is required"),
    ({"url": "https://example.org/h", "secret": "env:NOT_SET_ANYWHERE"}, "NOT_SET_ANYWHERE"),
    ({"url": "https://example.org/h", "secret": "whsec_literal"}, "secret reference"),
    ({"url": "https://example.org/h", "secret": "file:/nonexistent/secret"}, "cannot read secret file"),
    ({"url": "ftp://example.org/h", "secret": "env:HOOK_SECRET"}, "expected https"),
    ({"url": "https://user:pw@example.org/h", "secret": "env:HOOK_SECRET"}, "credentials"),
])
def test_bad_options_are_refused_before_any_run(secret: str, options: dict[str, object], expected: str) -> None:
    config = {"channels": {"hook": {"type": "webhook", **options}}}
    with pytest.raises(UsageError, match=expected):
        notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)


def test_a_short_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", "whsec_" + base64.b64encode(b"short").decode())
    config = {"channels": {"hook": {"type": "webhook", "url": "https://example.org/h", "secret": "env:HOOK_SECRET"}}}
    with pytest.raises(UsageError, match="at least 24"):
        notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)


def test_secrets_never_reach_the_outbox_or_dead_letters(
        secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver(secret)) as rx:
        rx.script += [(500, {})] * MAX_ATTEMPTS
        routes = routes_for(rx, monkeypatch)
        clock = [time.time()]
        notify.deliver(routes, note(), tmp_path / "o.sqlite")
        box = Outbox(tmp_path / "o.sqlite", clock=lambda: clock[0])
        for _ in range(MAX_ATTEMPTS):
            clock[0] += 10 ** 6
            box.drain({"webhook": WebhookChannel()})
        assert len(box.messages("dead")) == 1 and len(rx.hits) == MAX_ATTEMPTS
        box.close()
    dump = "\n".join(sqlite3.connect(tmp_path / "o.sqlite").iterdump())
    assert secret not in dump and secret[6:] not in dump and "env:HOOK_SECRET" in dump
    assert secret not in repr(routes)


def test_medic_run_notifies_a_configured_webhook(secret: str, tmp_path: Path) -> None:
    with running(Receiver(secret)) as rx:
        config = tmp_path / "config.yaml"
        config.write_text(f"channels:\n  team:\n    type: webhook\n    url: {rx.url}\n    secret: env:HOOK_SECRET\n")
        env = {**os.environ, "MEDIC_CONFIG": str(config), "MEDIC_STATE_DIR": str(tmp_path / "state"),
               "MEDIC_CHANNEL_ALLOW": rx.allow, "HOOK_SECRET": secret}
        cmd = [sys.executable, "-m", "medic.cli.main", "run", "triage", "--engine", "inline", "--notify", "team"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 1), done.stderr
        assert len(rx.delivered_ids()) == 1
        assert json.loads(rx.hits[0].body)["data"]["playbook"] == "triage"


def test_medic_run_refuses_a_channel_with_a_missing_secret_before_running(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("channels:\n  team:\n    type: webhook\n    url: https://example.org/h\n"
                      "    secret: env:MEDIC_TEST_UNSET_SECRET\n")
    env = {**os.environ, "MEDIC_CONFIG": str(config), "MEDIC_STATE_DIR": str(tmp_path / "state")}
    cmd = [sys.executable, "-m", "medic.cli.main", "run", "triage", "--engine", "inline", "--notify", "team"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "MEDIC_TEST_UNSET_SECRET" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "state" / "runs").exists()
