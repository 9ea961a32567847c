"""The two wheels, built once per session (see tests/wheel_helpers.py)."""

from __future__ import annotations

import pytest
from wheel_helpers import Wheels, build_wheels


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    return build_wheels(tmp_path_factory.mktemp("dist"))
