"""The example's HTTP channel passes medic's channel contract (medic.testing, loaded by pytest as a plugin)."""

from __future__ import annotations

from typing import Any

import pytest
from medic_example.plugin import TeamHookChannel

from medic.testing import ChannelContract


class TestTeamHook(ChannelContract):
    channel = TeamHookChannel()
    idempotency_header = "Idempotency-Key"

    def options(self, url: str) -> dict[str, Any]:
        return {"url": url, "token": f"env:{self.secret_env}"}


def test_the_sink_fixture_records_what_the_channel_sent(medic_http_sink: Any, monkeypatch: Any) -> None:
    from medic.core.channel import Notification

    monkeypatch.setenv("TEAM_TOKEN", "t0ken")
    note = Notification("run.finished", "medic triage (r1)", "pass", "all good", {})
    TeamHookChannel().send(note, {"url": medic_http_sink.url, "token": "env:TEAM_TOKEN"})
    (request,) = medic_http_sink.received
    assert request.headers["authorization"] == "Bearer t0ken" and b"all good" in request.body


def test_the_smtp_fixture_is_a_real_server_requiring_starttls(medic_smtp_sink: Any) -> None:
    """For an email-style channel: medic.testing.MailChannelContract runs against this same server."""
    import smtplib
    import ssl

    with smtplib.SMTP(medic_smtp_sink.host, medic_smtp_sink.port, timeout=10) as smtp:
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPSenderRefused):  # 530: MAIL before STARTTLS is refused
            smtp.sendmail("medic@example.org", ["ops@example.org"], "Subject: x\r\n\r\nbody\r\n")
        smtp.starttls(context=ssl.create_default_context(cafile=medic_smtp_sink.ca_file))
        smtp.sendmail("medic@example.org", ["ops@example.org"], "Subject: hello\r\n\r\nbody\r\n")
    (received,) = medic_smtp_sink.received
    assert received["Subject"] == "hello" and medic_smtp_sink.over_tls == [True]
