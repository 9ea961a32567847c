"""Slack, Mattermost and Teams channels against a real loopback receiver: payload shape, escaping (no markup, no
mention from collected text), truncation, redirects followed only through vetted hops, the URL kept secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medic.core import notify
from medic.core.channel import Channel, Notification
from medic.kernel.errors import UsageError
from medic.plugins.channels.chat import MAX_TEXT, MattermostChannel, SlackChannel, TeamsChannel
from medic.testing.contract import outbox_bytes
from tests.channels.receiver import Receiver, running

HOSTILE = "<!channel> @here @all <script>x</script> [click](http://evil.example) *bold*"
CHANNELS: dict[str, Channel] = {"slack": SlackChannel(), "mattermost": MattermostChannel(), "teams": TeamsChannel()}


def note(body: str = HOSTILE) -> Notification:
    return Notification("run.finished", "medic triage (r1)", "fail", body, {"run_id": "r1"})


def deliver(kind: str, rx: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, n: Notification,
            url: str | None = None) -> list[str]:
    monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
    monkeypatch.setenv("CHAT_URL", url or rx.url)
    routes = notify.resolve(["chat"], CHANNELS, {"channels": {"chat": {"type": kind, "url": "env:CHAT_URL"}}})
    return notify.deliver(routes, n, tmp_path / "o.sqlite")


def texts(kind: str, body: dict[str, object]) -> str:
    if kind == "teams":
        card = body["attachments"][0]["content"]  # type: ignore[index]
        return "\n".join(block["text"] for block in card["body"])  # type: ignore[index]
    return str(body["text"])


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_collected_text_is_escaped_and_mentions_nobody(
        kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver()) as rx:
        assert deliver(kind, rx, monkeypatch, tmp_path, note()) == []
    (hit,) = rx.hits
    shown = texts(kind, json.loads(hit.body))
    assert "<!channel>" not in shown and "<script>" not in shown
    if kind == "slack":
        assert "&lt;!channel&gt;" in shown and "*medic" not in shown.split("\n", 1)[1]
    else:
        assert "@here" not in shown and "@all" not in shown and "[click](" not in shown
        assert "\\[click\\]" in shown


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_long_text_is_cut_with_a_pointer_to_the_run(
        kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver()) as rx:
        assert deliver(kind, rx, monkeypatch, tmp_path, note("x" * (MAX_TEXT * 3))) == []
    shown = texts(kind, json.loads(rx.hits[0].body))
    assert len(shown) < MAX_TEXT + 300 and "medic runs show r1" in shown


def test_teams_gets_an_adaptive_card(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver()) as rx:
        assert deliver("teams", rx, monkeypatch, tmp_path, note("all good")) == []
    body = json.loads(rx.hits[0].body)
    attachment = body["attachments"][0]
    assert body["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard" and attachment["content"]["body"][1]["text"] == "all good"


def test_redirects_are_followed_through_vetted_hops_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with running(Receiver()) as rx:
        rx.script.append((307, {"location": rx.url}))
        assert deliver("slack", rx, monkeypatch, tmp_path, note("hop")) == []
        assert len(rx.hits) == 2
        rx.script.append((307, {"location": "http://169.254.169.254/latest/meta-data/"}))
        problems = deliver("slack", rx, monkeypatch, tmp_path, note("metadata"))
        assert len(problems) == 1 and "169.254.169.254" in problems[0] and len(rx.hits) == 3
        rx.script += [(307, {"location": rx.url})] * 4
        problems = deliver("slack", rx, monkeypatch, tmp_path, note("loop"))
        assert "redirect" in problems[0] and len(rx.hits) == 7


def test_the_webhook_url_is_a_secret_reference_never_shown(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="secret reference"):
        notify.resolve(["chat"], CHANNELS, {"channels": {"chat": {"type": "slack",
                                                                  "url": "https://hooks.slack.com/T/B/x"}}})
    with running(Receiver()) as rx:
        rx.script.append((500, {}))
        secret_url = rx.url + "?token=T0PSECRET"
        problems = deliver("mattermost", rx, monkeypatch, tmp_path, note(), url=secret_url)
        assert "500" in problems[0] and "T0PSECRET" not in problems[0]
    assert b"T0PSECRET" not in outbox_bytes(tmp_path / "o.sqlite")
