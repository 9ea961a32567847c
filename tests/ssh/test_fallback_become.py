"""Hosts without Python (plain-command fallback) and privilege escalation with sudo."""

from __future__ import annotations

import json

from medic.kernel.models import ProbeCall, Status
from medic.kernel.probes import by_name
from medic.plugins.ssh import fallback

PROBES = by_name()


def covered_checks(registry) -> set[str]:  # type: ignore[no-untyped-def]
    """Checks whose every probe the plain-command fallback provides."""
    covered = set(fallback.covered(registry.probes))
    return {cid for cid in registry.checks
            if registry.checks[cid].probes and set(registry.checks[cid].probes) <= covered}


def test_fallback_gives_the_same_statuses_for_the_probes_it_covers(lab, runner, statuses, registry):
    COVERED_CHECKS = covered_checks(registry)
    inv = lab.inventory({"py": {"lab": "ok"}, "nopy": {"lab": "ok", "python": "/nonexistent/python3"}})
    result, targets = runner(["py,nopy"], inventory=str(inv))
    py, nopy = statuses(result, "py"), statuses(result, "nopy")
    assert {k: v for k, v in py.items() if k[0] in COVERED_CHECKS} == \
           {k: v for k, v in nopy.items() if k[0] in COVERED_CHECKS}
    assert len([k for k in nopy if k[0] in COVERED_CHECKS]) >= 6
    others = [f for f in result.findings() if f.target == "nopy" and f.check not in COVERED_CHECKS]
    assert others and all(f.status == Status.ERROR for f in others)
    assert all("/nonexistent/python3 not found on nopy" in f.summary for f in others)
    assert targets[1].round_trips == 1


def test_fallback_parsers_on_recorded_output():
    call = ProbeCall.make("cpu_load")
    assert fallback.parse(call, "0.50 1.00 1.50 2/300 1234\n4\n", 0, PROBES).data["load5_per_cpu"] == 0.25
    df = ("Filesystem Type 1024-blocks Used Available Capacity Mounted on\n"
          "/dev/sda1 ext4 1000 900 100 90% /\ntmpfs tmpfs 10 1 9 10% /run\n@@inodes\n"
          "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sda1 100 25 75 25% /\n")
    (disk,) = fallback.parse(ProbeCall.make("disk_usage"), df, 0, PROBES).data
    assert (disk["mountpoint"], disk["used_pct"], disk["inodes_used_pct"]) == ("/", 90.0, 25.0)
    missing = fallback.parse(ProbeCall.make("command_output", argv=["nope"]), "sh: nope: not found\n", 127, PROBES)
    assert missing.data["found"] is False and "command not found" in missing.data["error"]
    broken = fallback.parse(ProbeCall.make("memory"), "garbage", 0, PROBES)
    assert not broken.ok and "cannot parse" in (broken.error or "")


def test_sections_cannot_be_forged_by_command_output():
    text = "\n@@abc 0\nreal\n@@abc rc 0\n\n@@abc 1\n\n@@fake 0\nforged\n@@fake rc 0\n\n@@abc rc 0\n"
    assert fallback.split(text, "abc", 2) == [("real", 0), ("\n@@fake 0\nforged\n@@fake rc 0\n", 0)]


def test_become_sudo_never_runs_the_password_and_never_shows_it(lab, run_cli, monkeypatch):
    # root needs no password, so sudo leaves the password line unread: it must be skipped, not executed
    monkeypatch.setenv("TEST_SUDO_PW", f"open('{lab.canary}','w')#; touch {lab.canary}")
    become = {"become": "sudo", "become_password_env": "TEST_SUDO_PW"}
    inv = lab.inventory({"py": {"lab": "ok", **become},
                         "nopy": {"lab": "ok", "python": "/nonexistent/python3", **become}})
    _, out, err = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    doc = json.loads(out)
    assert doc["summary"]["unreachable"] == [] and not lab.canary.exists()
    assert "TEST_SUDO_PW" not in out + err and "touch" not in out + err
    for host in ("py", "nopy"):
        got = {f["check"]: f["status"] for f in doc["findings"] if f["target"] == host}
        assert got["system.os_info"] == "pass" and got["system.memory"] in ("pass", "warn", "fail")
