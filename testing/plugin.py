"""The pytest plugin medic installs (entry point ``pytest11``): the ``medic_http_sink`` fixture for channel and
check authors. Loading it imports nothing heavy; the sink starts only when a test asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from medic.testing.sink import HttpSink


@pytest.fixture
def medic_http_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpSink]:
    """A loopback HTTP receiver recording requests, allowed through medic's guard for this test only."""
    from medic.testing.sink import HttpSink, serving

    with serving(HttpSink()) as sink:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", sink.allow)
        yield sink
