"""``ChannelContract``: the tests every HTTP channel must pass, for channel authors to subclass.

    from medic.testing import ChannelContract

    class TestMyChannel(ChannelContract):
        channel = MyChannel()

        def options(self, url: str) -> dict[str, object]:
            return {"url": url, "token": "env:" + self.secret_env}

The contract runs the channel against a real loopback HTTP sink and checks: one delivery per send; a resent
notification carries the same idempotency key (the header named by ``idempotency_header``: ``webhook-id``,
``Idempotency-Key``...; a channel whose service takes none declares None and the test is skipped); 429 and 5xx
are retryable failures, other 4xx permanent; a slow receiver is a retryable failure within the channel's
timeout; the destination goes through medic's guarded client (an address not allowed is never reached); the
secret named by ``secret_env`` appears in no error, repr, log line or dead letter; hostile collected text does
not stop delivery and, for a channel that renders markup (``renders_markup = True``), arrives escaped.
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
from medic.testing.sink import Answer, HttpSink, serving

HOSTILE = "<script>alert(1)</script> <!channel> @here [x](http://evil.example)"


def outbox_bytes(path: Path) -> bytes:
    """Everything the outbox has written: the database and its write-ahead log (a connection kept open leaves
    recent rows in the log only)."""
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


class ChannelContract:
    channel: ClassVar[Channel]
    # a canary, not a credential: the tests look for it where it must never appear
    secret_env: ClassVar[str] = "MEDIC_CONTRACT_SECRET"  # noqa: S105
    secret_value: ClassVar[str] = "medic-contract-canary-7f3a9c1e5b"  # noqa: S105 (a webhook sets a whsec_ value)
    timeout_option: ClassVar[str | None] = "timeout"  # the option bounding one attempt (seconds); None: none
    renders_markup: ClassVar[bool] = False
    idempotency_header: ClassVar[str | None] = None  # the header carrying the notification's stable id, if any
    reply: ClassVar[Answer] = Answer()  # what the sink answers a delivery (a ticket system: 201 and the new id)

    def options(self, url: str) -> dict[str, Any]:
        """Options that make ``channel`` deliver to ``url``, referencing the secret as ``env:`` + secret_env."""
        raise NotImplementedError(f"{type(self).__name__} must define options(url) for the channel contract")

    @pytest.fixture
    def sink(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpSink]:
        monkeypatch.setenv(self.secret_env, self.secret_value)
        with serving(HttpSink(default=self.reply)) as running:
            monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", running.allow)
            yield running

    def note(self, body: str = "1 fail, 0 warn") -> Notification:
        return Notification("run.finished", f"contract {uuid.uuid4().hex[:8]}", "fail", body, {"run_id": "r1"})

    def _send(self, sink: HttpSink, note: Notification, **extra: Any) -> None:
        options = {**self.options(sink.url), **extra}
        self.channel.check_options(options)
        self.channel.send(note, options)

    def _failure(self, sink: HttpSink, answer: Answer, **extra: Any) -> DeliveryError:
        sink.script.append(answer)
        with pytest.raises(DeliveryError) as info:
            self._send(sink, self.note(), **extra)
        return info.value

    def test_one_send_is_one_delivery_naming_the_notification(self, sink: HttpSink) -> None:
        note = self.note()
        self._send(sink, note)
        assert len(sink.received) == 1
        assert note.title.split()[-1].encode() in sink.received[0].body

    def test_a_resent_notification_keeps_its_idempotency_key(self, sink: HttpSink) -> None:
        """A retry after a lost reply reaches the receiver again: the same key lets it drop the duplicate."""
        if self.idempotency_header is None:
            pytest.skip("the channel declares no idempotency_header (its service takes no idempotency key)")
        note = self.note()
        for sent in (note, note, self.note()):
            self._send(sink, sent)
        keys = [r.headers.get(self.idempotency_header.lower()) for r in sink.received]
        assert keys[0] and keys[0] == keys[1] and keys[2] and keys[2] != keys[0], keys

    @pytest.mark.parametrize("status", [429, 500, 502, 503])
    def test_overload_and_server_errors_are_retryable(self, sink: HttpSink, status: int) -> None:
        assert self._failure(sink, Answer(status)).retryable

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
    def test_other_client_errors_are_permanent(self, sink: HttpSink, status: int) -> None:
        assert not self._failure(sink, Answer(status)).retryable

    def test_a_slow_receiver_is_a_retryable_failure_within_the_timeout(self, sink: HttpSink) -> None:
        if self.timeout_option is None:
            pytest.skip("the channel declares no timeout option")
        started = time.monotonic()
        error = self._failure(sink, Answer(delay_s=3.0), **{self.timeout_option: 0.5})
        assert error.retryable and time.monotonic() - started < 2.5

    def test_destinations_go_through_the_guard(self, sink: HttpSink, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("MEDIC_CHANNEL_ALLOW")
        with pytest.raises(MedicError):
            self._send(sink, self.note())
        assert sink.received == [], "the channel reached a loopback address the guard refuses"

    def test_the_secret_appears_in_no_error_repr_log_or_dead_letter(
            self, sink: HttpSink, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
        caplog.set_level(logging.DEBUG)
        error = self._failure(sink, Answer(500))
        sink.script.append(Answer(400))
        route = notify.Route("contract", self.channel, self.options(sink.url))
        problems = notify.deliver([route], self.note(), tmp_path / "outbox.sqlite")
        shown = " ".join([str(error), repr(error), repr(self.channel), caplog.text, *problems])
        assert self.secret_value not in shown
        assert self.secret_value.encode() not in outbox_bytes(tmp_path / "outbox.sqlite")

    def test_hostile_text_is_delivered_and_inert(self, sink: HttpSink) -> None:
        self._send(sink, self.note(HOSTILE))
        assert len(sink.received) == 1
        if self.renders_markup:
            assert b"<script>" not in sink.received[0].body and b"<!channel>" not in sink.received[0].body
