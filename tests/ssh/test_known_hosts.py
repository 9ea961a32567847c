"""known_hosts files written by OpenSSH's own tools: marker lines (@revoked, @cert-authority), hashed names, and
the pinned key type negotiated by `medic hosts trust` as by `medic run`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DUAL = "127.0.0.11"  # an sshd offering an ed25519 and an RSA host key


def keyscan(address: str, port: int, kind: str = "ed25519") -> str:
    out = subprocess.run(["ssh-keyscan", "-t", kind, "-p", str(port), address], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    lines = [line for line in out.splitlines() if line and not line.startswith("#")]
    assert lines, f"ssh-keyscan found no {kind} key on {address}:{port}"
    return lines[0] + "\n"


def authority_line(tmp_path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "ca")], check=True)
    return "@cert-authority *.example.net " + (tmp_path / "ca.pub").read_text()


def reachable(out: str) -> list[dict[str, str]]:
    return [f for f in json.loads(out)["findings"] if f["check"] == "target.reachable"]


def openssh_says(lab: Any, known: Path, address: str) -> str:
    done = subprocess.run(["ssh", "-p", str(lab.port), "-i", str(lab.client_key), "-o", "BatchMode=yes",
                           "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
                           "-o", "StrictHostKeyChecking=yes", f"root@{address}", "true"],
                          capture_output=True, text=True, timeout=30)
    return done.stderr


def test_revoked_key_is_refused_by_run_and_trust_as_openssh_does(lab, run_cli, tmp_path):
    known = tmp_path / "known_hosts"
    pinned = keyscan(lab.address("ok"), lab.port)
    known.write_text(authority_line(tmp_path) + pinned + "@revoked " + pinned)  # revoked wins over the pin
    assert "REVOKED HOST KEY" in openssh_says(lab, known, lab.address("ok"))
    inv = lab.inventory({"ok": {"lab": "ok"}}, known_hosts=known)
    code, out, err = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    [finding] = reachable(out)
    assert finding["status"] == "error" and "REVOKED HOST KEY" in finding["summary"]
    assert "host ok " in finding["summary"] and f"{known} line 3" in finding["summary"]
    assert err.count("@cert-authority skipped") == 1 and "Traceback" not in err
    before = known.read_text()
    code, out, err = run_cli("hosts", "trust", "ok", "--inventory", str(inv), "--yes")
    assert code == 3 and "REVOKED HOST KEY" in err and "host ok " in err and known.read_text() == before


def test_revoked_key_alone_is_refused_not_called_unknown(lab, run_cli, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("@revoked " + keyscan(lab.address("ok"), lab.port))
    inv = lab.inventory({"ok": {"lab": "ok"}}, known_hosts=known)
    _, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    [finding] = reachable(out)
    assert "REVOKED HOST KEY" in finding["summary"] and "line 1" in finding["summary"]


def test_marker_lines_for_other_hosts_and_hashed_names_do_not_get_in_the_way(lab, run_cli, tmp_path):
    known = tmp_path / "known_hosts"
    other_key = " ".join(lab.other_pub.read_text().split()[:2])
    known.write_text(keyscan(lab.address("ok"), lab.port) + f"@revoked *.example.net,10.9.9.9 {other_key}\n"
                     + authority_line(tmp_path) + f"@revoked [{lab.address('changed')}]:{lab.port} {other_key}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], check=True, capture_output=True)  # hashes every name
    assert "|1|" in known.read_text() and "@cert-authority" in known.read_text()
    assert "REVOKED HOST KEY" in openssh_says(lab, known, lab.address("changed"))
    inv = lab.inventory({"ok": {"lab": "ok"}, "changed": {"lab": "changed"}}, known_hosts=known)
    code, out, err = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    [finding] = reachable(out)  # ok runs; changed presents the key revoked for it (hashed, with a port)
    assert finding["target"] == "changed" and "REVOKED HOST KEY" in finding["summary"]
    assert err.count("@cert-authority skipped") == 1
    code, out, err = run_cli("hosts", "trust", "ok", "--inventory", str(inv), "--yes")
    assert code == 0 and "already pinned" in out


@pytest.fixture(scope="module")
def dual(lab: Any) -> Iterator[str]:
    """sshd on DUAL with both an ed25519 and an RSA host key."""
    rsa = lab.dir / "hostkey_rsa"
    if not rsa.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(rsa)], check=True)
    proc = lab.start_sshd(DUAL, f"HostKey {rsa}")
    try:
        yield DUAL
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_trust_accepts_an_rsa_pin_while_the_host_also_offers_ed25519(lab, dual, run_cli, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text(keyscan(dual, lab.port, "rsa"))
    inv = lab.inventory({"dual": {"address": dual}}, known_hosts=known)
    code, out, err = run_cli("hosts", "trust", "dual", "--inventory", str(inv), "--yes")
    assert code == 0 and "already pinned" in out and "ssh-rsa SHA256:" in out, err
    assert len(known.read_text().splitlines()) == 1
    code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    assert not reachable(out)
    fresh = lab.inventory({"dual": {"address": dual}}, known_hosts=tmp_path / "fresh", filename="fresh.yaml")
    code, out, _ = run_cli("hosts", "trust", "dual", "--inventory", str(fresh), "--yes")
    assert code == 0 and "offers ssh-ed25519 SHA256:" in out  # no pin: the preferred type, as OpenSSH


def test_trust_fetches_the_key_through_the_jump_host(lab, netlab, run_cli, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text(netlab.known_hosts.read_text().splitlines()[0] + "\n")  # the jump host's pin only
    hosts = {"bastion": {"address": netlab.jump}, "inner": {"address": netlab.inner["c"], "jump": "bastion"}}
    inv = lab.inventory(hosts, known_hosts=known, filename="trust-jump.yaml")
    code, out, err = run_cli("hosts", "trust", "inner", "--inventory", str(inv), "--yes")
    assert code == 0 and "pinned in" in out, err  # inner is reachable only through bastion
    assert known.read_text().splitlines()[1].startswith(f"[{netlab.inner['c']}]:{lab.port} ssh-ed25519 ")
