"""Test helpers for plugin authors: ``ChannelContract`` (subclass it to test an HTTP channel),
``MailChannelContract`` (an email-style channel, against a real SMTP server), ``HttpSink``/``serving`` (a real
loopback HTTP receiver), ``SmtpSink``/``serving_smtp`` (aiosmtpd with STARTTLS and AUTH) and the
``medic_http_sink`` and ``medic_smtp_sink`` fixtures, loaded by pytest through the ``pytest11`` entry point; for
check authors, the check-fixture harness (``check_cases``, ``run_case``: a check on recorded probe data, see
``medic.testing.checks``).
Names are imported on first use, so loading the pytest plugin costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"ChannelContract": "contract", "outbox_bytes": "contract", "HttpSink": "sink", "Answer": "sink",
          "Received": "sink", "serving": "sink", "serve_app": "sink", "MailChannelContract": "mailcontract",
          "SmtpSink": "smtp", "serving_smtp": "smtp", "check_cases": "checks", "run_case": "checks",
          "run_fixture": "checks", "assert_matches": "checks"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'medic.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"medic.testing.{_WHERE[name]}"), name)
