"""One real collector per test module: a directory made by `medic collector init` with a certificate from a CA
made here, served by `medic collector serve` on a free port of 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from collector_helpers import Running, start_collector


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("collector"))
    try:
        yield running
    finally:
        running.server.stop()


@pytest.fixture
def agent(collector: Running) -> dict[str, object]:
    return collector.enroll()

