"""One temporary Prefect server (prefect_test_harness) for every test under tests/flows: each takes ~25 s to start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="package")
def prefect_server() -> Iterator[None]:
    from medic.flows import prefect_env

    prefect_env.configure()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
