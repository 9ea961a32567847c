"""The email channel against a real SMTP server (aiosmtpd) with STARTTLS required, AUTH and a private CA."""

from __future__ import annotations

import email
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from medic.core import notify
from medic.core.channel import Notification
from medic.core.outbox import Outbox
from medic.kernel.errors import UsageError
from medic.plugins.channels.email import EmailChannel
from medic.testing.contract import outbox_bytes
from tests.checks.servers import self_signed

HOSTILE = "<script>alert(1)</script> & <b>bold</b>"


@dataclass
class Mailbox:
    received: list[Message] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    script: list[str] = field(default_factory=list)  # replies to DATA before accepting, e.g. "451 try later"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.script:
            return self.script.pop(0)
        self.received.append(email.message_from_bytes(envelope.original_content))
        # session.ssl: after STARTTLS; the transport's ssl_object: SMTPS (TLS from the first byte)
        self.tls.append(session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"medic" and data.password == b"s3cret-pw"
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@contextmanager
def smtp_server(tls_files: tuple[Path, Path] | None, box: Mailbox, implicit: bool = False) -> Iterator[int]:
    """``implicit``: TLS from the first byte (SMTPS), else STARTTLS required (when ``tls_files`` are given)."""
    import ssl

    context = None
    if tls_files:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    for _ in range(5):  # a port found free may be taken before the server binds it: try another
        port = _free_port()
        kwargs: dict[str, Any] = {"tls_context": context, "require_starttls": True} if context else {}
        kwargs = {"ssl_context": context} if implicit else kwargs
        controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=_login,
                                auth_require_tls=bool(context) and not implicit, **kwargs)  # SMTPS: all TLS
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        try:
            yield port
        finally:
            controller.stop()
        return
    raise RuntimeError("no free port for the SMTP server")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("smtp-ca"), 2)


def note() -> Notification:
    return Notification("run.finished", "medic triage (r1)", "fail", f"1 fail: {HOSTILE}", {"run_id": "r1"})


def routes(port: int, monkeypatch: pytest.MonkeyPatch, **extra: object) -> list[notify.Route]:
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret-pw")
    options = {"type": "email", "host": "127.0.0.1", "port": port, "from": "medic@example.org",
               "to": ["ops@example.org"], "username": "medic", "password": "env:SMTP_PASSWORD", **extra}
    options = {k: v for k, v in options.items() if v is not None}  # None: leave the option out
    return notify.resolve(["mail"], {"email": EmailChannel()}, {"channels": {"mail": options}})


def test_mail_goes_over_verified_starttls_with_text_and_escaped_html(
        cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    box = Mailbox()
    with smtp_server(cert, box) as port:
        n = note()
        assert notify.deliver(routes(port, monkeypatch, ca_file=str(cert[0])), n, tmp_path / "o.sqlite") == []
    (msg,) = box.received
    assert box.tls == [True]
    assert msg["Message-ID"] == f"<{n.id}@medic>" and msg["To"] == "ops@example.org"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
    assert HOSTILE in parts["text/plain"]
    assert "<script>" not in parts["text/html"] and "&lt;script&gt;alert(1)&lt;/script&gt;" in parts["text/html"]
    assert "s3cret-pw" not in outbox_bytes(tmp_path / "o.sqlite").decode("latin-1")


def test_an_untrusted_certificate_is_refused_and_nothing_is_sent(
        cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    box = Mailbox()
    with smtp_server(cert, box) as port:
        problems = notify.deliver(routes(port, monkeypatch), note(), tmp_path / "o.sqlite")
    assert len(problems) == 1 and "certificate not trusted" in problems[0] and "dead-letter" in problems[0]
    assert box.received == []


def test_no_starttls_is_refused_unless_plaintext_is_allowed_for_a_loopback_relay(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    box = Mailbox()
    with smtp_server(None, box) as port:
        no_auth = {"username": None, "password": None}
        refused = notify.deliver(routes(port, monkeypatch, **no_auth), note(), tmp_path / "o.sqlite")
        assert "offers no STARTTLS" in refused[0] and box.received == []
        plain = routes(port, monkeypatch, insecure_plaintext=True, **no_auth)
        assert notify.deliver(plain, note(), tmp_path / "o.sqlite") == []
    assert box.tls == [False]


def test_implicit_tls_verifies_the_certificate_before_anything_is_sent(
        cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``tls: implicit`` (SMTPS): TLS from the first byte, the certificate verified as with STARTTLS."""
    box = Mailbox()
    with smtp_server(cert, box, implicit=True) as port:
        untrusted = notify.deliver(routes(port, monkeypatch, tls="implicit"), note(), tmp_path / "o.sqlite")
        assert len(untrusted) == 1 and "certificate not trusted" in untrusted[0] and box.received == []
        trusted = routes(port, monkeypatch, tls="implicit", ca_file=str(cert[0]))
        assert notify.deliver(trusted, note(), tmp_path / "o.sqlite") == []
        starttls = notify.deliver(routes(port, monkeypatch, ca_file=str(cert[0]), timeout=3), note(),
                                  tmp_path / "o.sqlite")  # the default, STARTTLS, cannot talk to an SMTPS port
        assert len(starttls) == 1
    (msg,) = box.received
    assert msg["To"] == "ops@example.org" and box.tls == [True]


def test_a_temporary_refusal_is_retried_with_the_same_message_id(
        cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    box = Mailbox(script=["451 4.3.0 try again later"])
    clock = [time.time()]
    with smtp_server(cert, box) as port:
        n = note()
        problems = notify.deliver(routes(port, monkeypatch, ca_file=str(cert[0])), n, tmp_path / "o.sqlite")
        assert "451" in problems[0] and "medic notify flush" in problems[0]
        outbox = Outbox(tmp_path / "o.sqlite", clock=lambda: clock[0])
        clock[0] += 3600
        assert [e for _, e in outbox.drain({"email": EmailChannel()})] == [None]
    assert [m["Message-ID"] for m in box.received] == [f"<{n.id}@medic>"]


def test_a_wrong_password_is_a_permanent_failure(
        cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    box = Mailbox()
    with smtp_server(cert, box) as port:
        r = routes(port, monkeypatch, ca_file=str(cert[0]))
        monkeypatch.setenv("SMTP_PASSWORD", "wrong")
        problems = notify.deliver(r, note(), tmp_path / "o.sqlite")
    assert "535" in problems[0] and "dead-letter" in problems[0] and "wrong" not in problems[0]
    assert box.received == []


@pytest.mark.parametrize(("options", "expected"), [
    ({"to": "ops@example.org"}, "option 'host'"),
    ({"host": "mail.example.org", "to": "ops@example.org"}, "option 'from'"),
    ({"host": "mail.example.org", "from": "m@example.org"}, "option 'to'"),
    ({"host": "mail.example.org", "from": "m@example.org", "to": "x", "tls": "none"}, "option 'to'"),
    ({"host": "mail.example.org", "from": "m@example.org", "to": "o@example.org", "tls": "none"}, "option 'tls'"),
    ({"host": "mail.example.org", "from": "m@example.org", "to": "o@example.org", "insecure_plaintext": True},
     "only for a loopback relay"),
    ({"host": "mail.example.org", "from": "m@example.org", "to": "o@example.org", "username": "u",
      "password": "literal"}, "secret reference"),
    ({"host": "mail.example.org", "from": "m@example.org", "to": "o@example.org", "colour": "red"},
     "unknown option 'colour'"),
])
def test_bad_options_are_refused_before_any_run(options: dict[str, object], expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        notify.resolve(["mail"], {"email": EmailChannel()}, {"channels": {"mail": {"type": "email", **options}}})
