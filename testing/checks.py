"""The check-fixture harness for check authors: a check run on recorded probe data, no machine needed (the way
pyinfra tests its facts). One JSON file per case, ``DIRECTORY/<check-id>/<case>.json``::

    {"params": {"warn_at": 2},                    # the step's ``with:`` (defaults fill the rest)
     "probes": {"procs": [{"pid": 1}, {"pid": 2}]},  # alias -> data; {"$error": msg} for a probe that failed,
                                                    # {"$unavailable": msg} for data that cannot exist; an alias
                                                    # left out was not collected
     "live": true,                                  # optional: false for a bundle (default true)
     "expect": ["warn"]}                            # one entry per outcome: a status, or {"status", "summary"
                                                    # (a substring), "subject", "evidence" (a subset)}

In a plugin's tests::

    from medic.testing.checks import check_cases, run_case

    @pytest.mark.parametrize("case", check_cases(Path(__file__).parent / "fixtures"), ids=str)
    def test_check_fixture(case: Path) -> None:
        run_case(SPECS[case.parent.name], case)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medic.core.check import CheckSpec, evaluate
from medic.kernel.models import Finding, ProbeResult


def check_cases(directory: Path) -> list[Path]:
    """Every ``<check-id>/<case>.json`` under ``directory``, in a stable order."""
    return sorted(directory.glob("*/*.json"))


def results_for(spec: CheckSpec, params: dict[str, Any], probes: dict[str, Any]) -> dict[str, ProbeResult]:
    """The probe results a fixture's ``probes`` stand for, keyed by the check's aliases."""
    out = {}
    for alias, call in spec.needs(params).items():
        if alias not in probes:
            continue
        data = probes[alias]
        if isinstance(data, dict) and "$error" in data:
            out[alias] = ProbeResult(call.probe, call.params, False, None, data["$error"])
        elif isinstance(data, dict) and "$unavailable" in data:
            out[alias] = ProbeResult(call.probe, call.params, False, None, data["$unavailable"], True)
        else:
            out[alias] = ProbeResult(call.probe, call.params, True, data)
    return out


def run_fixture(spec: CheckSpec, fixture: dict[str, Any]) -> list[Finding]:
    """The findings ``spec`` gives on a fixture's data, as a run would (parameters bound, errors reported)."""
    params = spec.bind(fixture.get("params", {}))
    results = results_for(spec, params, fixture.get("probes", {}))
    return evaluate(spec, params, results, target="fixture", target_live=fixture.get("live", True))


def assert_matches(findings: list[Finding], expect: list[Any], where: str) -> None:
    """Fail naming ``where`` and the first difference between ``findings`` and a fixture's ``expect``."""
    got = [(str(f.status), f.summary) for f in findings]
    assert len(findings) == len(expect), f"{where}: expected {len(expect)} outcome(s), got {got}"
    for f, e in zip(findings, expect, strict=True):
        e = {"status": e} if isinstance(e, str) else e
        assert str(f.status) == e["status"], f"{where}: expected {e['status']}, got {f.status}: {f.summary}"
        if "summary" in e:
            assert e["summary"] in f.summary, f"{where}: {e['summary']!r} not in {f.summary!r}"
        if "subject" in e:
            assert f.subject == e["subject"], f"{where}: subject {f.subject!r} != {e['subject']!r}"
        for key, value in e.get("evidence", {}).items():
            assert f.evidence.get(key) == value, (
                f"{where}: evidence {key}={f.evidence.get(key)!r} != {value!r}"
            )
        json.dumps(f.to_dict())  # findings must serialise for reports and bundles


def run_case(spec: CheckSpec, case: Path) -> list[Finding]:
    """Run one fixture file and check its ``expect``; returns the findings for further asserts."""
    fixture = json.loads(case.read_text(encoding="utf-8"))
    findings = run_fixture(spec, fixture)
    assert_matches(findings, fixture["expect"], f"{case.parent.name}/{case.name}")
    return findings
