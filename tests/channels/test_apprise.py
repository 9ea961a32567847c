"""The opt-in apprise channel, delivering through Apprise's json:// service to a real loopback receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medic.core import notify
from medic.core.channel import Notification
from medic.core.outbox import Outbox
from medic.kernel.errors import UsageError
from medic.plugins.channels.apprise_channel import AppriseChannel
from medic.testing.contract import outbox_bytes
from tests.channels.receiver import Receiver, running


def note() -> Notification:
    return Notification("run.finished", "medic triage (r1)", "fail", "1 fail, 0 warn", {"run_id": "r1"})


def routes(url: str, monkeypatch: pytest.MonkeyPatch) -> list[notify.Route]:
    monkeypatch.setenv("APPRISE_URL", url)
    config = {"channels": {"long-tail": {"type": "apprise", "url": "env:APPRISE_URL"}}}
    return notify.resolve(["long-tail"], {"apprise": AppriseChannel()}, config)


def test_a_notification_reaches_the_service_apprise_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver()) as rx:
        url = f"json://127.0.0.1:{rx.port}/hook"
        assert notify.deliver(routes(url, monkeypatch), note(), tmp_path / "o.sqlite") == []
    body = json.loads(rx.hits[0].body)
    assert body["title"] == "[FAIL] medic triage (r1)" and body["message"] == "1 fail, 0 warn"


def test_a_refused_delivery_stays_in_the_outbox_without_the_url(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver()) as rx:
        rx.script.append((500, {}))
        url = f"json://user:T0PSECRET@127.0.0.1:{rx.port}/hook"
        problems = notify.deliver(routes(url, monkeypatch), note(), tmp_path / "o.sqlite")
    assert len(problems) == 1 and "did not accept" in problems[0] and "T0PSECRET" not in problems[0]
    assert [m.state for m in Outbox(tmp_path / "o.sqlite").messages()] == ["pending"]
    assert b"T0PSECRET" not in outbox_bytes(tmp_path / "o.sqlite")


@pytest.mark.parametrize(("url", "expected"), [
    ("nosuchservice://x/y", "does not recognise"),
    (None, "option 'url' is required"),
])
def test_bad_urls_are_refused_before_any_run(url: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.setenv("APPRISE_URL", url or "")
    options = {"type": "apprise", **({"url": "env:APPRISE_URL"} if url else {})}
    with pytest.raises(UsageError, match=expected):
        notify.resolve(["a"], {"apprise": AppriseChannel()}, {"channels": {"a": options}})
