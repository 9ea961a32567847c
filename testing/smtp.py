"""A real SMTP server on a loopback socket for email-style channel tests: aiosmtpd with STARTTLS required (MAIL
before TLS gets 530), AUTH LOGIN/PLAIN only after TLS, a certificate for 127.0.0.1 from a throw-away CA (written
to ``ca_file`` for the channel to trust), and replies scripted per message (``451 ...`` before the default 250)."""

from __future__ import annotations

import asyncio
import datetime
import email
import ipaddress
import socket
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class SmtpSink:
    username: str = "medic"
    password: str = ""  # "": no AUTH required; else LOGIN/PLAIN with these credentials, after STARTTLS only
    starttls: bool = True  # False: a server offering no STARTTLS (a channel must refuse it)
    port: int = 0
    ca_file: str = ""  # the certificate to trust (self-signed for 127.0.0.1)
    script: list[str] = field(default_factory=list)  # replies to DATA before the default "250 OK"
    delay_s: float = 0.0  # answer DATA this late (a timeout test)
    received: list[Message] = field(default_factory=list)
    over_tls: list[bool] = field(default_factory=list)

    host = "127.0.0.1"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.script:
            return self.script.pop(0)
        self.received.append(email.message_from_bytes(envelope.original_content))
        self.over_tls.append(session.ssl is not None)
        return "250 OK"

    def _login(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login == self.username.encode()
              and data.password == self.password.encode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    crt_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return crt_path, key_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving_smtp(sink: SmtpSink) -> Iterator[SmtpSink]:
    """Run ``sink`` on 127.0.0.1 until the block ends; sets ``port`` and ``ca_file``."""
    with tempfile.TemporaryDirectory(prefix="medic-smtp-") as tmp:
        crt, key = self_signed(Path(tmp))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(crt), str(key))
        tls: dict[str, Any] = {"tls_context": context, "require_starttls": True} if sink.starttls else {}
        auth: dict[str, Any] = {"authenticator": sink._login, "auth_require_tls": sink.starttls} if sink.password \
            else {}
        for _ in range(5):  # a port found free may be taken before the server binds it: try another
            controller = Controller(sink, hostname="127.0.0.1", port=sink.port or _free_port(), **tls, **auth)
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            sink.port, sink.ca_file = controller.port, str(crt)
            try:
                yield sink
            finally:
                controller.stop()
            return
        raise RuntimeError("no free port for the SMTP server")
