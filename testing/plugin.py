"""The pytest plugin medic installs (entry point ``pytest11``): the ``medic_http_sink`` and ``medic_smtp_sink``
fixtures for channel authors (check authors run their checks on recorded probe data with
``medic.testing.checks``). Loading it imports nothing heavy; a sink starts only when a test asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from medic.testing.sink import HttpSink
    from medic.testing.smtp import SmtpSink


@pytest.fixture
def medic_http_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpSink]:
    """A loopback HTTP receiver recording requests, allowed through medic's guard for this test only."""
    from medic.testing.sink import HttpSink, serving

    with serving(HttpSink()) as sink:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", sink.allow)
        yield sink


@pytest.fixture
def medic_smtp_sink() -> Iterator[SmtpSink]:
    """A loopback SMTP server (aiosmtpd) requiring STARTTLS, with the certificate to trust in ``ca_file``."""
    from medic.testing.smtp import SmtpSink, serving_smtp

    with serving_smtp(SmtpSink()) as sink:
        yield sink
