"""medic's own check fixtures (tests/checks/fixtures/<check-id>/<case>.json), run by the harness medic ships to
check authors (medic.testing.checks, where the fixture format is described)."""

from __future__ import annotations

from pathlib import Path

from medic.testing.checks import assert_matches, check_cases, results_for, run_fixture

FIXTURES = Path(__file__).parent / "fixtures"
__all__ = ["FIXTURES", "assert_matches", "fixture_files", "results_for", "run_fixture"]


def fixture_files() -> list[Path]:
    return check_cases(FIXTURES)
