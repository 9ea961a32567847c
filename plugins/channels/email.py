"""``email``: the notification as a text and an HTML part, over SMTP with the server's certificate verified.

``smtplib.starttls()`` without a context verifies nothing, so every TLS connection here uses a default SSL context
(system CAs, or ``ca_file`` for a private CA) with host-name checking. A server that offers no STARTTLS is refused
unless ``tls: implicit`` (SMTPS, port 465) or, for a loopback relay only, ``insecure_plaintext: true``.
"""

from __future__ import annotations

import html
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from medic.core.channel import Channel, DeliveryError, Notification
from medic.kernel.addresses import is_loopback_host
from medic.kernel.errors import UsageError
from medic.plugins.channels import secrets

TLS_MODES = ("starttls", "implicit")
_KNOWN = {"host", "port", "from", "to", "tls", "insecure_plaintext", "username", "password", "ca_file", "timeout"}


def _recipients(options: dict[str, Any]) -> list[str]:
    to = options.get("to")
    given = [to] if isinstance(to, str) else to if isinstance(to, list) else []
    found = [a for a in given if isinstance(a, str) and "@" in a]
    if not found or len(found) != len(given):
        raise UsageError("email channel: option 'to' is one address or a list of addresses (name@example.org)")
    return found


_is_loopback = is_loopback_host


def check(options: dict[str, Any]) -> None:
    """Every problem a configuration can have, before any run starts."""
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise UsageError(f"email channel: unknown option {unknown[0]!r}; known: {', '.join(sorted(_KNOWN))}")
    if not isinstance(options.get("host"), str) or not options["host"]:
        raise UsageError("email channel: option 'host' (the SMTP server) is required")
    if not isinstance(options.get("from"), str) or "@" not in options["from"]:
        raise UsageError("email channel: option 'from' (the sender address) is required")
    _recipients(options)
    if options.get("tls", "starttls") not in TLS_MODES:
        raise UsageError(f"email channel: option 'tls' is one of {', '.join(TLS_MODES)}")
    if options.get("insecure_plaintext") and not _is_loopback(options["host"]):
        raise UsageError(f"email channel: insecure_plaintext is allowed only for a loopback relay, not "
                         f"{options['host']!r}")
    port = options.get("port", 0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise UsageError(f"email channel: option 'port' is a port number, got {port!r}")
    if "password" in options:
        if not options.get("username"):
            raise UsageError("email channel: option 'password' needs 'username'")
        secrets.resolve(options["password"], "email channel password")


def message(note: Notification, sender: str, to: list[str]) -> EmailMessage:
    """Text and HTML parts of the same content; collected text is escaped for HTML, never interpreted."""
    msg = EmailMessage()
    msg["Subject"] = f"[{note.status.upper()}] {note.title}"[:200]
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{note.id}@medic>"  # stable across retries: a receiver can drop a duplicate
    details = {k: v for k, v in note.data.items() if isinstance(v, (str, int, float))}
    text = [note.body, ""] + [f"{k}: {v}" for k, v in details.items()]
    msg.set_content("\n".join(text) + "\n")
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in details.items())
    msg.add_alternative(f"<html><body><h1>{html.escape(note.title)}</h1><p>Status: {html.escape(note.status)}</p>"
                        f"<pre>{html.escape(note.body)}</pre><table>{rows}</table></body></html>", subtype="html")
    return msg


def _context(options: dict[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=options.get("ca_file") or None)


def _connect(options: dict[str, Any], timeout: float) -> smtplib.SMTP:
    host, tls = options["host"], options.get("tls", "starttls")
    if tls == "implicit":
        return smtplib.SMTP_SSL(host, options.get("port") or 465, timeout=timeout, context=_context(options))
    smtp = smtplib.SMTP(host, options.get("port") or 587, timeout=timeout)
    smtp.ehlo()
    if smtp.has_extn("starttls"):
        smtp.starttls(context=_context(options))
        smtp.ehlo()
    elif not options.get("insecure_plaintext"):
        smtp.close()
        raise DeliveryError(f"SMTP server {host} offers no STARTTLS: refusing to send in clear text (set "
                            f"tls: implicit for SMTPS)", retryable=False)
    return smtp


def deliver(msg: EmailMessage, options: dict[str, Any]) -> None:
    host = options["host"]
    try:
        smtp = _connect(options, float(options.get("timeout", 15)))
        with smtp:
            if options.get("username"):
                password = secrets.resolve(options["password"], "email channel password")
                smtp.login(str(options["username"]), password.reveal())
            smtp.send_message(msg)
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(f"SMTP server {host}: certificate not trusted ({exc.verify_message}); set ca_file "
                            f"for a private CA", retryable=False) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise DeliveryError(f"SMTP server {host} answered {exc.smtp_code} {text}",
                            retryable=400 <= exc.smtp_code < 500) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP server {host} refused every recipient: {', '.join(exc.recipients)}",
                            retryable=False) from None
    except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timeout, name not found: try again later
        reason = "timed out" if isinstance(exc, socket.timeout) else str(exc) or type(exc).__name__
        raise DeliveryError(f"SMTP server {host}: {reason}", retryable=True) from None


class EmailChannel(Channel):
    name = "email"
    description = "send a text + HTML mail over SMTP, STARTTLS verified (options: host, from, to, ...)"
    durable = True
    arg_option = "to"

    def check_options(self, options: dict[str, Any]) -> None:
        check(options)

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        check(options)
        deliver(message(notification, options["from"], _recipients(options)), options)
