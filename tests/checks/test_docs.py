"""The generated check reference is complete and committed up to date; `medic checks docs|show|list` work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medic.plugins.checks import all_specs, docs

REPO = Path(__file__).resolve().parents[2]
MEDIC = [sys.executable, "-m", "medic.cli.main"]


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.id)
def test_every_check_is_documented(spec) -> None:  # type: ignore[no-untyped-def]
    assert docs.missing_docs(spec) == []
    assert docs.probe_names(spec), f"{spec.id}: cannot tell which probes it reads"


def test_catalogue_size_and_categories() -> None:
    specs = all_specs()
    assert len(specs) >= 35
    assert len({s.id for s in specs}) == len(specs)
    assert {str(s.category) for s in specs} == {
        "network",
        "hardware",
        "software",
        "security",
        "configuration",
    }


def test_committed_reference_is_up_to_date(registry) -> None:  # type: ignore[no-untyped-def]
    builtin = [
        registry.checks[i] for i in registry.checks if registry.checks.origin(i).distribution == "medic"
    ]
    committed = (REPO / "docs" / "checks.md").read_text()
    assert committed == docs.render(builtin), "run: medic checks docs --builtin --output docs/checks.md"


def test_missing_docs_are_reported() -> None:
    from medic.core.check import check
    from medic.kernel.params import Param

    @check("x", title="", category="network", needs={}, params=[Param("a", "int", 1)])
    def bare(data, p):  # type: ignore[no-untyped-def]
        return []

    problems = docs.missing_docs(bare.spec)  # type: ignore[attr-defined]
    assert problems == [
        "no title",
        "no description",
        "no remediation",
        "parameter 'a' has no description",
        "id is not area.name",
    ]


def test_cli_docs_check_show_list(tmp_path: Path) -> None:
    stale = tmp_path / "checks.md"
    stale.write_text("old\n")
    run = subprocess.run(
        [*MEDIC, "checks", "docs", "--builtin", "--output", str(stale), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "out of date" in run.stderr
    assert (
        subprocess.run([*MEDIC, "checks", "docs", "--builtin", "--output", str(stale)], check=True).returncode
        == 0
    )
    assert stale.read_text() == (REPO / "docs" / "checks.md").read_text()
    show = subprocess.run(
        [*MEDIC, "checks", "show", "system.disk_space"], capture_output=True, text=True, check=True
    ).stdout
    assert "thresholds: warn_pct=85.0, fail_pct=95.0" in show and "check: system.disk_space" in show
    listed = json.loads(
        subprocess.run(
            [*MEDIC, "checks", "list", "--category", "security", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert {c["id"] for c in listed} >= {"security.ssh_hardening", "security.firewall_rules"}
    assert all(c["category"] == "security" for c in listed)
