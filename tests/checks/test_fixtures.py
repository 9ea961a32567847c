"""Every check against its fixture probe data, plus the contract every check must keep on bad data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medic.core.check import CheckSpec, ProbeData, _as_outcomes, evaluate
from medic.kernel.errors import ProbeError
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


GARBAGE = [None, "garbage", 42, [], {}, [{"unexpected": True}]]


def _garbage_results(spec: CheckSpec, params: dict[str, Any], garbage: Any) -> dict[str, ProbeResult]:
    return {a: ProbeResult(c.probe, c.params, True, garbage) for a, c in spec.needs(params).items()}


@pytest.mark.parametrize("garbage", GARBAGE, ids=repr)
@pytest.mark.parametrize("check_id", sorted(SPECS))
def test_garbage_probe_data_is_reported_by_the_check_itself(check_id: str, garbage: Any) -> None:
    """The pure check function meets garbage with ProbeError (naming the probe data and what is wrong) or an
    error/skipped outcome: never a TypeError/KeyError that only evaluate()'s safety net would catch, never pass."""
    spec = SPECS[check_id]
    params = _params(spec)
    aliases = set(spec.needs(params))
    try:
        outcomes = _as_outcomes(spec.evaluate(ProbeData(_garbage_results(spec, params, garbage)), params))
    except ProbeError as exc:  # the documented way for a check to say "this data is unusable" (a MedicError)
        assert "malformed" in str(exc) and any(repr(a) in str(exc) for a in aliases), str(exc)
        return
    assert outcomes and {o.status for o in outcomes} <= {Status.ERROR, Status.SKIPPED}, [
        (str(o.status), o.summary) for o in outcomes
    ]


@pytest.mark.parametrize("garbage", GARBAGE, ids=repr)
@pytest.mark.parametrize("check_id", sorted(SPECS))
def test_garbage_probe_data_is_an_error_naming_the_field(check_id: str, garbage: Any) -> None:
    spec = SPECS[check_id]
    params = _params(spec)
    findings = evaluate(spec, params, _garbage_results(spec, params, garbage), target="t", target_live=True)
    assert findings and {f.status for f in findings} <= {Status.ERROR, Status.SKIPPED}, [
        (str(f.status), f.summary) for f in findings
    ]
    for f in findings:
        if f.status == Status.ERROR:  # names the malformed data, not "check raised TypeError"
            assert "malformed" in f.summary and "check raised" not in f.summary, f.summary


def test_garbage_messages_name_the_missing_field_or_the_wrong_shape() -> None:
    spec = SPECS["system.memory"]
    params = _params(spec)
    summaries = {
        repr(g): evaluate(spec, params, _garbage_results(spec, params, g), target="t", target_live=True)[0].summary
        for g in ({}, "garbage", [], None)
    }
    assert summaries == {
        "{}": "probe data 'mem' is malformed: no field 'available_pct'",
        "'garbage'": "probe data 'mem' is malformed: expected a mapping of fields, got str",
        "[]": "probe data 'mem' is malformed: expected a mapping of fields, got list",
        "None": "probe data 'mem' is malformed: expected a mapping of fields, got nothing",
    }
    rows_spec = SPECS["system.zombies"]
    assert [
        evaluate(rows_spec, _params(rows_spec), _garbage_results(rows_spec, {}, g), target="t", target_live=True)[
            0
        ].summary
        for g in ([], [{"unexpected": True}], ["x"])
    ] == [
        "probe data 'procs' is malformed: expected at least one row, got none",
        "probe data 'procs' is malformed: no field 'status'",
        "probe data 'procs' is malformed: row 0 is str, not a mapping",
    ]


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
