"""``MailChannelContract``: the tests every email-style channel must pass, against a real SMTP server (aiosmtpd).

    from medic.testing import MailChannelContract, SmtpSink

    class TestMyMail(MailChannelContract):
        channel = MyMailChannel()

        def options(self, smtp: SmtpSink) -> dict[str, object]:
            return {"host": smtp.host, "port": smtp.port, "ca_file": smtp.ca_file, "from": "medic@example.org",
                    "to": "ops@example.org", "username": smtp.username, "password": "env:" + self.secret_env}

The server requires STARTTLS and AUTH over TLS, with a certificate the channel trusts only through ``ca_file``.
The contract checks: one send is one message, over TLS, carrying the notification; the same notification sent
again keeps its Message-ID (receivers drop the duplicate); 4xx replies are retryable, 5xx permanent; a slow
server is a retryable failure within the channel's timeout; a server offering no STARTTLS and a certificate the
channel does not trust are refused with nothing sent; the password appears in no error, repr, log line or dead
letter; hostile collected text arrives escaped in an HTML part.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from medic.core import notify
from medic.core.channel import Channel, DeliveryError, Notification
from medic.kernel.errors import MedicError
from medic.testing.contract import HOSTILE, outbox_bytes
from medic.testing.smtp import SmtpSink, serving_smtp


class MailChannelContract:
    channel: ClassVar[Channel]
    secret_env: ClassVar[str] = "MEDIC_CONTRACT_SMTP_PASSWORD"  # noqa: S105 (the name of a variable)
    secret_value: ClassVar[str] = "medic-smtp-canary-4d1e8b"  # noqa: S105 (a canary the tests look for)
    timeout_option: ClassVar[str | None] = "timeout"

    def options(self, smtp: SmtpSink) -> dict[str, Any]:
        """Options that make ``channel`` deliver to ``smtp`` (host, port, ca_file, username, password reference)."""
        raise NotImplementedError(f"{type(self).__name__} must define options(smtp) for the mail contract")

    @pytest.fixture
    def smtp(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
        monkeypatch.setenv(self.secret_env, self.secret_value)
        with serving_smtp(SmtpSink(password=self.secret_value)) as running:
            yield running

    def note(self, body: str = "1 fail, 0 warn") -> Notification:
        return Notification("run.finished", f"contract {uuid.uuid4().hex[:8]}", "fail", body, {"run_id": "r1"})

    def _send(self, smtp: SmtpSink, note: Notification, **extra: Any) -> None:
        options = {**self.options(smtp), **extra}
        self.channel.check_options(options)
        self.channel.send(note, options)

    def _failure(self, smtp: SmtpSink, **extra: Any) -> DeliveryError:
        with pytest.raises(DeliveryError) as info:
            self._send(smtp, self.note(), **extra)
        return info.value

    def test_one_send_is_one_message_over_tls(self, smtp: SmtpSink) -> None:
        note = self.note()
        self._send(smtp, note)
        assert len(smtp.received) == 1 and smtp.over_tls == [True]
        assert note.title in str(smtp.received[0]["Subject"])

    def test_a_resent_notification_keeps_its_message_id(self, smtp: SmtpSink) -> None:
        note = self.note()
        self._send(smtp, note)
        self._send(smtp, note)
        first, again = (m["Message-ID"] for m in smtp.received)
        assert first and first == again

    @pytest.mark.parametrize("reply", ["421 closing", "451 try later", "452 no room"])
    def test_temporary_replies_are_retryable(self, smtp: SmtpSink, reply: str) -> None:
        smtp.script.append(reply)
        assert self._failure(smtp).retryable

    @pytest.mark.parametrize("reply", ["550 no such user", "554 rejected"])
    def test_permanent_replies_are_permanent(self, smtp: SmtpSink, reply: str) -> None:
        smtp.script.append(reply)
        assert not self._failure(smtp).retryable

    def test_a_slow_server_is_a_retryable_failure_within_the_timeout(self, smtp: SmtpSink) -> None:
        if self.timeout_option is None:
            pytest.skip("the channel declares no timeout option")
        smtp.delay_s = 3.0
        started = time.monotonic()
        assert self._failure(smtp, **{self.timeout_option: 0.5}).retryable
        assert time.monotonic() - started < 2.5

    def test_an_untrusted_certificate_is_refused_and_nothing_sent(self, smtp: SmtpSink,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SSL_CERT_FILE", smtp.ca_file + ".absent")  # the system store only, never this CA
        options = {k: v for k, v in self.options(smtp).items() if smtp.ca_file not in str(v)}
        with pytest.raises(MedicError):
            self.channel.send(self.note(), options)
        assert smtp.received == []

    def test_a_server_without_starttls_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(self.secret_env, self.secret_value)
        with serving_smtp(SmtpSink(starttls=False)) as plain:
            with pytest.raises(MedicError):
                self._send(plain, self.note())
            assert plain.received == []

    def test_the_password_appears_in_no_error_repr_log_or_dead_letter(
            self, smtp: SmtpSink, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
        caplog.set_level(logging.DEBUG)
        smtp.script += ["451 try later", "554 rejected"]
        error = self._failure(smtp)
        route = notify.Route("contract", self.channel, self.options(smtp))
        problems = notify.deliver([route], self.note(), tmp_path / "outbox.sqlite")
        shown = " ".join([str(error), repr(error), repr(self.channel), caplog.text, *problems])
        assert problems and self.secret_value not in shown
        assert self.secret_value.encode() not in outbox_bytes(tmp_path / "outbox.sqlite")

    def test_hostile_text_arrives_escaped_in_html(self, smtp: SmtpSink) -> None:
        self._send(smtp, self.note(HOSTILE))
        (msg,) = smtp.received
        html = [p.get_payload(decode=True) for p in msg.walk() if p.get_content_type() == "text/html"]
        assert html, "an email channel sends an HTML part beside the text"
        assert all(b"<script>" not in part for part in html)
