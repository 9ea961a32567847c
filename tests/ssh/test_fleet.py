"""Triage over SSH on real sshd servers: one round trip per host, per-host results, unreachable hosts."""

from __future__ import annotations

import json
import socket
import time

import pytest

from medic.core.report import to_json
from medic.kernel.models import Status


def test_triage_over_ssh_takes_one_round_trip_per_host(lab, runner, statuses):
    inv = lab.inventory()
    result, targets = runner(["all"], inventory=str(inv))
    assert [t.name for t in targets] == ["ok", "files_b", "files_c"]
    assert all(t.round_trips == 1 for t in targets)  # every probe of the playbook in one collection
    for t in targets:
        got = statuses(result, t.name)
        assert got[("system.os_info", None)] == Status.PASS
        assert got[("software.command_version", "python3")] == Status.PASS
        assert ("target.reachable", None) not in got


def test_parity_with_local_check_by_check(lab, runner, statuses):
    inv = lab.inventory()
    result, _ = runner(["local", lab.spec("ok")], inventory=str(inv))
    local, remote = statuses(result, "local"), statuses(result, f"root@127.0.0.2:{lab.port}")
    assert local and local == remote


def test_checks_differ_per_host_through_their_own_files(lab, runner, tmp_path):
    pb = tmp_path / "version.yaml"
    pb.write_text(f"""name: version
targets: [local]
steps:
  - id: app
    check: software.command_version
    with: {{command: [cat, "{lab.dir}/shared/version"], minimum: "2.0"}}
""")
    result, _ = runner(["all"], playbook=str(pb), inventory=str(lab.inventory()))
    by_host = {f.target: f for f in result.findings()}
    assert by_host["ok"].status == Status.FAIL and "1.0" in by_host["ok"].summary
    assert by_host["files_b"].status == Status.PASS and "2.5" in by_host["files_b"].summary
    assert by_host["files_c"].status == Status.ERROR  # no such file on that host


def test_host_vars_reach_templates(lab, runner, tmp_path):
    pb = tmp_path / "vars.yaml"
    pb.write_text("""name: vars
targets: [local]
steps:
  - id: app
    check: software.command_version
    with: {command: [echo, "{{ target.vars.release }}"], minimum: "2.0"}
""")
    inv = lab.inventory({"old": {"lab": "ok", "vars": {"release": "1.5"}},
                         "new": {"lab": "files_b", "vars": {"release": "3.1"}}})
    result, _ = runner(["old,new"], playbook=str(pb), inventory=str(inv))
    assert {f.target: f.status for f in result.findings()} == {"old": Status.FAIL, "new": Status.PASS}


def test_unreachable_hosts_are_one_error_each_and_the_rest_go_on(lab, runner, statuses):
    inv = lab.inventory({"ok": {"lab": "ok"}, "down": {"lab": "down"}, "silent": {"lab": "silent"},
                         "changed": {"lab": "changed"}, "drop": {"lab": "drop"}},
                        defaults={"connect_timeout": 1.5})
    started = time.monotonic()
    result, _ = runner(["all"], inventory=str(inv))
    assert time.monotonic() - started < 60  # bounds a hang (hosts tried at once, 1.5 s timeouts), not a speed
    doc = to_json(result)
    assert doc["summary"]["unreachable"] == ["changed", "down", "drop", "silent"]
    reach = {f.target: f.summary for f in result.findings() if f.check == "target.reachable"}
    assert "refused" in reach["down"] or "Unable to connect" in reach["down"]
    assert "no SSH banner within 1.5 s" in reach["silent"]
    assert "connection lost" in reach["drop"]
    other = " ".join((lab.other_pub.read_text().split()[1],))
    assert "HOST KEY CHANGED" in reach["changed"] and other not in reach["changed"]
    assert statuses(result, "ok")[("system.os_info", None)] == Status.PASS
    json.dumps(doc, default=str)


def test_cli_run_with_inventory_limit_and_json(lab, run_cli):
    inv = lab.inventory(groups={"b_and_c": {"hosts": ["files_b", "files_c"]}})
    code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--limit",
                           "b_and_c,!files_c", "--json")
    doc = json.loads(out)
    assert code in (0, 1) and [t["name"] for t in doc["targets"]] == ["files_b"]  # 1: e.g. load on a busy CI
    assert doc["summary"]["unreachable"] == [] and doc["summary"]["counts"]["pass"] >= 5
    code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(lab.inventory(
        {"ok": {"lab": "ok"}, "down": {"lab": "down"}}, filename="down.yaml")), "--json")
    assert code == 3 and json.loads(out)["summary"]["unreachable"] == ["down"]  # incomplete run: exit 3


def test_unknown_names_fail_before_connecting(lab, run_cli):
    listener = socket.create_server(("127.0.0.1", 0))  # "ok" points here: a connection attempt would queue
    listener.setblocking(False)
    inv = lab.inventory({"ok": {"address": "127.0.0.1", "port": listener.getsockname()[1]}, "down": {"lab": "down"}})
    code, _, err = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--target",
                           "ok,nosuch")
    assert code == 2 and "no host or group named 'nosuch'" in err and str(inv) in err
    with pytest.raises(BlockingIOError), listener:  # nothing connected
        listener.accept()
    code, _, err = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--limit", "zz*")
    assert code == 2 and "no target left" in err


def test_terminal_summary_lists_unreachable_hosts(lab, run_cli):
    inv = lab.inventory({"ok": {"lab": "ok"}, "down": {"lab": "down"}})
    code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv))
    assert code == 3 and "Unreachable: down" in out
