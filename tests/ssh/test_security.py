"""Security by default: no permissive host-key policy, lazy paramiko, no shell injection, strict host keys."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from medic.kernel.models import Status

REPO = Path(__file__).resolve().parents[2]

WRAPPERS = [";{c}", "; {c};", "&& {c}", "|| {c}", "| {c}", "$({c})", "`{c}`", "\n{c}\n", "'; {c}; '",
            "\"; {c}; \"", "{{{{ {c} }}}}", "$(({c}))", "${{IFS}}{c}", "& {c} &", "\r\n{c}", "\\\n{c}",
            "'$({c})'", "\"$({c})\"", "\"`{c}`\"", "x' ; {c} #", "-e {c}", "!{c}"]


def payloads(canary: Path) -> list[str]:
    commands = [f"touch {canary}", f"sh -c 'touch {canary}'", f"python3 -c \"open('{canary}','w')\""]
    out = [w.format(c=c) for c in commands for w in WRAPPERS] + [f"> {canary}", f">> {canary}"]
    assert len(out) >= 50
    return out


def test_no_permissive_host_key_policy_anywhere():
    offenders = []
    for path in REPO.rglob("*.py"):
        if ".venv" in path.parts or "build" in path.parts or path == Path(__file__):
            continue
        text = path.read_text(errors="replace")
        if "AutoAddPolicy" in text or "WarningPolicy" in text:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_paramiko_is_imported_only_when_a_host_is_contacted():
    code = """
import contextlib, io, sys
from medic.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["--help"])
    except SystemExit:
        pass
    main(["playbooks", "list"])
    main(["checks", "list"])
import medic.probes
from medic.core.session import Session
targets = Session(config={}).open_targets(["ssh://root@127.0.0.1:1"])
print(json.dumps(["paramiko" in sys.modules, "prefect" in sys.modules]))
""".replace("import contextlib", "import json, contextlib")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == [False, False]


def test_no_payload_executes_through_inputs_host_vars_or_collected_output(lab, runner, tmp_path):
    marks = payloads(lab.canary)
    for d in ("shared", "data/b"):  # the file each host sees at LAB/shared
        (lab.dir / d / "evil.txt").write_text(marks[6])
    grab = "pattern: '(?s)\\A(.+)\\n\\Z'"  # the check reads stdout + "\\n" + stderr; keep all of stdout
    steps = ["  - id: read", "    check: software.command_version",
             f"    with: {{command: [cat, '{lab.dir}/shared/evil.txt'], {grab}}}",
             "  - id: echo_collected", "    check: software.command_version",
             "    with: {command: [printf, '%s', '{{ steps.read.findings[0].evidence.version }}'], "
             + grab + "}"]
    for i in range(len(marks)):
        for source in ("inputs.payloads", "target.vars.payloads"):
            steps += [f"  - id: {source.split('.')[0]}_{i}", "    check: software.command_version",
                      f"    with: {{command: [printf, '%s', '{{{{ {source}[{i}] }}}}'], {grab}}}"]
        steps += [f"  - id: mount_{i}", "    check: system.disk_space",
                  f"    with: {{mounts: ['{{{{ inputs.payloads[{i}] }}}}']}}"]
    pb = tmp_path / "inject.yaml"
    head = "name: inject\ninputs:\n  payloads: {type: list}\ntargets: [local]\nsteps:\n"
    pb.write_text(head + "\n".join(steps) + "\n")
    inv = lab.inventory({"py": {"lab": "ok", "vars": {"payloads": marks}},
                         "nopy": {"lab": "files_b", "python": f"python3; touch {lab.canary}",
                                  "vars": {"payloads": marks}}})
    result, _ = runner(["py,nopy"], playbook=str(pb), inputs={"payloads": marks}, inventory=str(inv))
    assert not lab.canary.exists()
    for host in ("py", "nopy"):
        echoed = {f.step: f.evidence.get("version") for f in result.findings() if f.target == host}
        for i, mark in enumerate(marks):
            assert echoed[f"inputs_{i}"] == mark, (host, i)
            assert echoed[f"target_{i}"] == mark, (host, i)
        assert echoed["echo_collected"] == marks[6]
    assert not lab.canary.exists()


def test_changed_host_key_names_both_fingerprints(lab, run_cli):
    inv = lab.inventory({"changed": {"lab": "changed"}})
    _, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    finding = next(f for f in json.loads(out)["findings"] if f["check"] == "target.reachable")
    pinned = subprocess.run(["ssh-keygen", "-lf", str(lab.host_pub)], capture_output=True, text=True).stdout
    offered = subprocess.run(["ssh-keygen", "-lf", str(lab.other_pub)], capture_output=True, text=True).stdout
    assert finding["status"] == "error" and "HOST KEY CHANGED" in finding["summary"]
    assert pinned.split()[1] in finding["summary"] and offered.split()[1] in finding["summary"]


def test_trust_pins_only_on_explicit_request(lab, run_cli, tmp_path):
    known = tmp_path / "known_hosts"
    inv = lab.inventory({"ok": {"lab": "ok"}}, known_hosts=known)
    code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    reach = [f for f in json.loads(out)["findings"] if f["check"] == "target.reachable"]
    assert reach and "medic hosts trust ok" in reach[0]["summary"] and not known.exists()
    code, out, err = run_cli("hosts", "trust", "ok", "--inventory", str(inv))
    expected = subprocess.run(["ssh-keygen", "-lf", str(lab.host_pub)], capture_output=True, text=True).stdout
    assert code == 2 and expected.split()[1] in out and "--yes" in err and not known.exists()
    code, out, _ = run_cli("hosts", "trust", "ok", "--inventory", str(inv), "--yes")
    assert code == 0 and known.exists()
    line = known.read_text().split()
    assert line[0] == f"[127.0.0.2]:{lab.port}" and line[2] == lab.host_pub.read_text().split()[1]
    code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    assert not [f for f in json.loads(out)["findings"] if f["check"] == "target.reachable"]
    code, out, _ = run_cli("hosts", "trust", "ok", "--inventory", str(inv), "--yes")
    assert code == 0 and "already pinned" in out and len(known.read_text().splitlines()) == 1
    changed = lab.inventory({"changed": {"lab": "changed"}}, filename="changed.yaml")
    files = (changed, lab.known_hosts, known)
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files}
    code, _, err = run_cli("hosts", "trust", "changed", "--inventory", str(changed), "--yes")
    assert code == 3 and "HOST KEY CHANGED" in err
    # a refused trust leaves the inventory and both known_hosts files as they were, byte for byte
    assert {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files} == before
    assert yaml.safe_load(changed.read_text())


def test_encrypted_key_takes_its_passphrase_from_the_environment(lab, runner, monkeypatch, tmp_path):
    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "open sesame", "-f", str(key)], check=True)
    with open(lab.dir / "authorized_keys", "a") as fh:
        fh.write(Path(f"{key}.pub").read_text())
    inv = lab.inventory({"ok": {"lab": "ok", "key_file": str(key), "passphrase_env": "TEST_KEY_PASS"}})
    monkeypatch.delenv("TEST_KEY_PASS", raising=False)
    result, _ = runner(["ok"], inventory=str(inv))
    (finding,) = result.findings()
    assert finding.check == "target.reachable" and "encrypted" in finding.summary
    assert "TEST_KEY_PASS" in finding.summary and "open sesame" not in finding.summary
    monkeypatch.setenv("TEST_KEY_PASS", "open sesame")
    result, _ = runner(["ok"], inventory=str(inv))
    assert next(f for f in result.findings() if f.check == "system.os_info").status == Status.PASS


def test_keys_from_ssh_agent(lab, runner, monkeypatch, tmp_path):
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.02)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh keys: only the agent can authenticate
        subprocess.run(["ssh-add", "-q", str(lab.client_key)], check=True, capture_output=True)
        spec = lab.spec("ok")
        inv = lab.inventory({}, defaults={"key_file": None})
        body = yaml.safe_load(inv.read_text())
        del body["defaults"]["key_file"]
        inv.write_text(yaml.safe_dump(body))
        result, _ = runner([spec], inventory=str(inv))
        assert next(f for f in result.findings() if f.check == "system.os_info").status == Status.PASS
    finally:
        agent.terminate()
        agent.wait(timeout=5)
