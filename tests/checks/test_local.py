"""Every check, run once against this machine through the local target (the probes' real I/O)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from medic.core.check import evaluate
from medic.kernel.models import Status
from medic.plugins.checks import all_specs
from medic.plugins.targets.local import LocalTarget

from . import logsamples, servers

IDS = sorted(s.id for s in all_specs())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import time

    tmp = tmp_path_factory.mktemp("local")
    log = logsamples.app_log(tmp / "app.log", time.time())
    conf = tmp / "app.ini"
    conf.write_text("[server]\nworkers = 4\n")
    return {"log": str(log), "conf": str(conf), "tmp": str(tmp)}


def params_for(check_id: str, env: dict[str, Any], http_url: str) -> dict[str, Any]:
    port = int(http_url.rsplit(":", 1)[1])
    return {
        "network.tcp_connect": {"host": "127.0.0.1", "port": port},
        "network.http_request": {"url": http_url + "/"},
        "network.dns_resolve": {"host": "localhost"},
        "system.clock_offset": {"server": "127.0.0.1", "port": 9, "timeout_s": 0.3},
        "system.top_cpu": {"interval_s": 0.2},
        "services.process_running": {"names": [Path(sys.executable).name], "match": "cmdline"},
        "services.port_listening": {"ports": [port]},
        "services.systemd_unit_active": {"units": ["ssh"]},
        "software.package_installed": {"names": ["bash"]},
        "software.command_version": {"command": [sys.executable, "--version"], "minimum": "3.11"},
        "configuration.file_mode": {"path": env["conf"], "max_mode": "0666"},
        "configuration.checksum_drift": {"baseline": {env["conf"]: "0" * 64}},
        "configuration.config_value": {"path": env["conf"], "key": "server.workers", "expected": 4},
        "configuration.stale_locks": {"paths": [env["tmp"] + "/*.lock"]},
        "logs.error_rate": {"path": env["log"]},
        "logs.crash_markers": {"path": env["log"]},
        "logs.auth_failures": {"path": env["log"]},
        "system.directory_size": {"paths": [env["tmp"]]},
    }.get(check_id, {})


@pytest.fixture(scope="module")
def http_url() -> Any:
    with servers.http_server() as url:
        yield url


@pytest.mark.parametrize("check_id", IDS)
def test_check_runs_on_this_machine(
    check_id: str,
    registry,
    env: dict[str, Any],  # type: ignore[no-untyped-def]
    http_url: str,
) -> None:
    spec = registry.checks[check_id]
    bound = spec.bind(params_for(check_id, env, http_url))
    target = LocalTarget(registry.probes)
    calls = spec.needs(bound)
    got = target.collect(calls.values())
    findings = evaluate(spec, bound, {a: got[c] for a, c in calls.items()}, target="local", target_live=True)
    assert findings
    for f in findings:
        assert "check raised" not in f.summary, f.summary
        json.dumps(f.to_dict())
        assert len(json.dumps(f.evidence)) < 8000, "evidence must stay small (no whole files)"
    statuses = {f.status for f in findings}
    expected_here = {  # what this machine is known to give
        "network.tcp_connect": {Status.PASS},
        "network.http_request": {Status.PASS},
        "network.dns_resolve": {Status.PASS},
        "services.port_listening": {Status.PASS},
        "software.package_installed": {Status.PASS},
        "software.command_version": {Status.PASS},
        "configuration.checksum_drift": {Status.FAIL},
        "configuration.config_value": {Status.PASS},
        "configuration.file_mode": {Status.PASS},
        "system.os_info": {Status.PASS},
        "system.clock_offset": {Status.ERROR},
        "logs.error_rate": {Status.WARN},
    }
    if not os.path.isdir("/run/systemd/system"):  # no systemd here: its checks degrade to skipped
        expected_here.update(
            {
                "services.systemd_unit_active": {Status.SKIPPED},
                "services.systemd_failed_units": {Status.SKIPPED},
            }
        )
    if check_id in expected_here:
        assert statuses == expected_here[check_id], [f.summary for f in findings]
    else:
        assert Status.ERROR not in statuses, [f.summary for f in findings]
