"""Run a check on fixture probe data (pyinfra style): tests/checks/fixtures/<check-id>/<case>.json.

A fixture holds ``params`` (the step's ``with``), ``probes`` (alias -> data; ``{"$error": msg}`` for a failed
probe,
``{"$unavailable": msg}`` for data that cannot exist; an alias left out was not collected), optional ``live``
(default true) and ``expect``: one entry per outcome, a status or ``{"status", "summary" (substring),
"subject",
"evidence" (subset)}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medic.core.check import CheckSpec, evaluate
from medic.kernel.models import Finding, ProbeResult

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.json"))


def results_for(spec: CheckSpec, params: dict[str, Any], probes: dict[str, Any]) -> dict[str, ProbeResult]:
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
    params = spec.bind(fixture.get("params", {}))
    results = results_for(spec, params, fixture.get("probes", {}))
    return evaluate(spec, params, results, target="fixture", target_live=fixture.get("live", True))


def assert_matches(findings: list[Finding], expect: list[Any], where: str) -> None:
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
