"""The example's HTTP channel passes medic's channel contract (medic.testing, loaded by pytest as a plugin)."""

from __future__ import annotations

from typing import Any

from medic_example.plugin import TeamHookChannel

from medic.testing import ChannelContract


class TestTeamHook(ChannelContract):
    channel = TeamHookChannel()

    def options(self, url: str) -> dict[str, Any]:
        return {"url": url, "token": f"env:{self.secret_env}"}


def test_the_sink_fixture_records_what_the_channel_sent(medic_http_sink: Any, monkeypatch: Any) -> None:
    from medic.core.channel import Notification

    monkeypatch.setenv("TEAM_TOKEN", "t0ken")
    note = Notification("run.finished", "medic triage (r1)", "pass", "all good", {})
    TeamHookChannel().send(note, {"url": medic_http_sink.url, "token": "env:TEAM_TOKEN"})
    (request,) = medic_http_sink.received
    assert request.headers["authorization"] == "Bearer t0ken" and b"all good" in request.body
