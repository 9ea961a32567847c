"""Every check against its fixture probe data, plus the contract every check must keep on bad data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medic.core.check import CheckSpec, evaluate
from medic.kernel.models import ProbeResult, Status
from medic.plugins.checks import all_specs

from .harness import FIXTURES, assert_matches, fixture_files, results_for, run_fixture

SPECS = {s.id: s for s in all_specs()}
# parameters a check cannot run without, for the generic tests below
REQUIRED = {
    "network.tcp_connect": {"host": "db", "port": 5432},
    "network.http_request": {"url": "https://x.example"},
    "services.process_running": {"names": ["nginx"]},
    "services.port_listening": {"ports": [22]},
    "services.systemd_unit_active": {"units": ["nginx"]},
    "software.package_installed": {"names": ["nginx"]},
    "configuration.file_mode": {"path": "/etc/app.conf"},
    "configuration.checksum_drift": {"baseline": {"/a": "0"}},
    "configuration.config_value": {"path": "/etc/app.ini", "key": "a.b"},
}


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture(path: Path) -> None:
    spec = SPECS[path.parent.name]
    fixture = json.loads(path.read_text())
    assert_matches(run_fixture(spec, fixture), fixture["expect"], f"{path.parent.name}/{path.name}")


def test_every_fixture_directory_names_a_check() -> None:
    assert {p.name for p in FIXTURES.iterdir()} <= set(SPECS)


@pytest.mark.parametrize("check_id", sorted(SPECS))
def test_every_check_has_pass_fail_and_bad_data_fixtures(check_id: str) -> None:
    spec = SPECS[check_id]
    cases = {p.stem for p in (FIXTURES / check_id).glob("*.json")}
    statuses = set()
    for p in (FIXTURES / check_id).glob("*.json"):
        statuses |= {e if isinstance(e, str) else e["status"] for e in json.loads(p.read_text())["expect"]}
    assert "pass" in statuses, f"{check_id}: no fixture that passes"
    if spec.severity != "info":
        assert "fail" in statuses or "warn" in statuses, f"{check_id}: no fixture that fails or warns"
    if "warn" in spec.description.split(":")[0] or "warn" in spec.description:
        assert "warn" in statuses, f"{check_id}: its description mentions warn but no fixture warns"
    assert cases & {"malformed", "missing"}, f"{check_id}: no malformed or missing-data fixture"


def _params(spec: CheckSpec) -> dict[str, Any]:
    return spec.bind(REQUIRED.get(spec.id, {}))


@pytest.mark.parametrize("check_id", sorted(SPECS))
def test_missing_probe_data_is_skipped_never_raised(check_id: str) -> None:
    spec = SPECS[check_id]
    findings = evaluate(spec, _params(spec), {}, target="t", target_live=True)
    assert [f.status for f in findings] == [Status.SKIPPED]


@pytest.mark.parametrize("garbage", [None, "garbage", 42, [], {}, [{"unexpected": True}]])
@pytest.mark.parametrize("check_id", sorted(SPECS))
def test_garbage_probe_data_is_an_error_never_raised(check_id: str, garbage: Any) -> None:
    spec = SPECS[check_id]
    params = _params(spec)
    results = {a: ProbeResult(c.probe, c.params, True, garbage) for a, c in spec.needs(params).items()}
    findings = evaluate(spec, params, results, target="t", target_live=True)
    assert findings and all(
        f.status in (Status.ERROR, Status.SKIPPED, Status.PASS, Status.WARN, Status.FAIL) for f in findings
    )
    if garbage in (None, "garbage", 42):  # no check can make sense of a scalar where it expects structure
        assert {f.status for f in findings} == {Status.ERROR}, [f.summary for f in findings]


@pytest.mark.parametrize("check_id", sorted(SPECS))
def test_failed_probe_is_an_error_finding(check_id: str) -> None:
    spec = SPECS[check_id]
    params = _params(spec)
    results = results_for(spec, params, {a: {"$error": "OSError: boom"} for a in spec.needs(params)})
    findings = evaluate(spec, params, results, target="t", target_live=True)
    assert [f.status for f in findings] == [Status.ERROR]
    assert "boom" in findings[0].summary


def test_live_checks_skip_on_collected_data() -> None:
    live = [s for s in SPECS.values() if s.live]
    assert {"network.tcp_connect", "network.http_request", "system.clock_offset"} <= {s.id for s in live}
    for spec in live:
        findings = evaluate(spec, _params(spec), {}, target="bundle", target_live=False)
        assert [f.status for f in findings] == [Status.SKIPPED]
        assert "live target" in findings[0].summary
