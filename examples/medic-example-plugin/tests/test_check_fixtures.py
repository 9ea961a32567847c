"""The example's check on recorded probe data (tests/fixtures/<check-id>/<case>.json), with the check-fixture
harness medic ships to check authors (medic.testing.checks): no machine, no probe run."""

from __future__ import annotations

from pathlib import Path

import pytest
from medic_example.plugin import process_count

from medic.testing.checks import check_cases, run_case

SPECS = {spec.id: spec for spec in (process_count.spec,)}  # type: ignore[attr-defined]
CASES = check_cases(Path(__file__).parent / "fixtures")


def test_every_case_names_a_check_of_this_plugin() -> None:
    assert CASES and {case.parent.name for case in CASES} <= set(SPECS)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_check_fixture(case: Path) -> None:
    run_case(SPECS[case.parent.name], case)
