"""The `command` backup provider with a real snapshot tool (a script that tars a directory into
MEDIC_BACKUP_DIR): its create, verify and restore commands run, in order, against real files; and the rollback
step refuses a backup that fails verification instead of restoring it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from change_helpers import make_tree, snapshot

from .conftest import medic

TOOL = '''\
"""A site's snapshot tool: create/verify/restore a tar of a directory in $MEDIC_BACKUP_DIR; scramble changes it."""
import os, pathlib, shutil, sys, tarfile

action, data, log = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
where = pathlib.Path(os.environ.get("MEDIC_BACKUP_DIR", "."))
with log.open("a") as fh:
    fh.write(action + "\\n")
snap = where / "snap.tar"
if action == "create":
    with tarfile.open(snap, "w") as tar:
        tar.add(data, arcname=".")
    print(f"snapshot of {data}: {len(list(data.rglob('*')))} entries")
elif action == "verify":
    if (data.parent / "verify-fails").exists():
        sys.exit("snapshot unreadable: bad block 7")
    with tarfile.open(snap) as tar:
        for member in tar.getmembers():
            if member.isfile():
                tar.extractfile(member).read()
elif action == "restore":
    shutil.rmtree(data)
    with tarfile.open(snap) as tar:
        tar.extractall(data, filter="tar")
elif action == "scramble":
    (data / "app.ini").write_text("[main]\\nworkers = 99\\n")
    shutil.rmtree(data / "conf")
    (data / "new.txt").write_text("not there before\\n")
'''


@pytest.fixture
def site(tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    data = tmp_path / "data"
    make_tree(data)
    tool = tmp_path / "snaptool.py"
    tool.write_text(TOOL)
    log = tmp_path / "tool.log"
    return {"tmp": tmp_path, "data": data, "tool": tool, "log": log, "env": env, "before": snapshot(data)}


def _argv(site: dict[str, Any], action: str) -> str:
    return json.dumps([sys.executable, str(site["tool"]), action, str(site["data"]), str(site["log"])])


def _backup_step(site: dict[str, Any], verify: bool = True) -> str:
    return (f"  - {{id: b, backup: command, with: {{resource: 'snapshot:{site['data']}', "
            f"create: {_argv(site, 'create')}, restore: {_argv(site, 'restore')}"
            + (f", verify: {_argv(site, 'verify')}" if verify else "") + "}}\n")


def _scramble_step(site: dict[str, Any]) -> str:
    return (f"  - {{id: scramble, action: command, resources: ['snapshot:{site['data']}'], "
            f"with: {{argv: {_argv(site, 'scramble')}}}}}\n")


def _run(site: dict[str, Any], steps: str, *inputs: str) -> tuple[int, dict[str, Any]]:
    playbook = site["tmp"] / "pb.yaml"
    playbook.write_text("name: t\nversion: 1\ninputs: {backup_id: {type: string, default: ''}}\nsteps:\n" + steps)
    args = ["run", str(playbook), "--json"]
    for item in inputs:
        args += ["-i", item]
    proc = medic(*args, env=site["env"])
    return proc.returncode, json.loads(proc.stdout)


def _log(site: dict[str, Any]) -> list[str]:
    return site["log"].read_text().split() if site["log"].exists() else []


def _summaries(doc: dict[str, Any], step: str) -> list[str]:
    return [f["summary"] for f in doc["findings"] if f["step"] == step]


def test_failed_verification_restores_through_the_restore_command(site: dict[str, Any]) -> None:
    steps = _backup_step(site) + _scramble_step(site) + \
        "  - {id: v, verify: change.command_succeeds, with: {argv: ['false']}}\n"
    code, doc = _run(site, steps)
    assert code == 1
    assert _log(site) == ["create", "verify", "scramble", "restore"]  # each command ran, in this order
    assert snapshot(site["data"]) == site["before"]  # the restore command put every file back
    assert any("rolled back 1 change(s)" in s for s in _summaries(doc, "v")), _summaries(doc, "v")
    (backup,) = json.loads(medic("backups", "list", "--json", env=site["env"], check=True).stdout)
    assert backup["resources"] == [f"snapshot:{site['data']}"] and backup["verification"]["ok"]
    kept = _kept(site, backup)
    assert (kept / "command-output.txt").read_text().startswith(f"snapshot of {site['data']}: ")
    assert (kept / "snap.tar").is_file()


def test_verify_and_the_rollback_step_use_the_snapshot_and_refuse_a_damaged_one(site: dict[str, Any]) -> None:
    code, doc = _run(site, _backup_step(site))
    assert code == 0, doc["findings"]
    (backup,) = json.loads(medic("backups", "list", "--json", env=site["env"], check=True).stdout)
    ok = medic("backups", "verify", backup["id"], env=site["env"])
    assert ok.returncode == 0 and "verified" in ok.stdout and _log(site) == ["create", "verify", "verify"]

    rollback = "  - {id: r, rollback: '{{ inputs.backup_id }}'}\n"
    _scramble(site)
    code, doc = _run(site, rollback, f"backup_id={backup['id']}")
    assert code == 0 and snapshot(site["data"]) == site["before"], _summaries(doc, "r")
    assert _summaries(doc, "r") == [f"restored snapshot:{site['data']} from {backup['id']}; identical to the backup"]
    assert _log(site)[-2:] == ["verify", "restore"]  # verified again before restoring

    _scramble(site)
    scrambled, runs = snapshot(site["data"]), len(_log(site))
    snap = _kept(site, backup) / "snap.tar"
    snap.write_bytes(snap.read_bytes()[:-512] + b"\1" * 512)  # the snapshot is damaged after the fact
    code, doc = _run(site, rollback, f"backup_id={backup['id']}")
    (summary,) = _summaries(doc, "r")
    assert code == 1 and f"backup {backup['id']} of snapshot:{site['data']} failed verification, not restored: " \
        "hash mismatch" in summary, summary
    assert snapshot(site["data"]) == scrambled and len(_log(site)) == runs  # no command ran: nothing restored
    damaged = medic("backups", "verify", backup["id"], env=site["env"])
    assert damaged.returncode == 1 and "hash mismatch" in damaged.stdout + damaged.stderr


def _kept(site: dict[str, Any], backup: dict[str, Any]) -> Path:
    """Where this machine keeps a backup: the catalogue's directory of it, beside its entry."""
    return Path(site["env"]["MEDIC_STATE_DIR"]) / "backups" / backup["id"]


def _scramble(site: dict[str, Any]) -> None:
    subprocess.run(json.loads(_argv(site, "scramble")), check=True)


def test_a_snapshot_its_verify_command_rejects_blocks_the_change(site: dict[str, Any]) -> None:
    (site["tmp"] / "verify-fails").touch()
    code, doc = _run(site, _backup_step(site) + _scramble_step(site))
    assert code == 1 and snapshot(site["data"]) == site["before"]
    (summary,) = _summaries(doc, "b")
    assert "is not verified: verify command" in summary and "exited 1: snapshot unreadable: bad block 7" in summary
    assert any("refused: no verified backup of snapshot:" in s for s in _summaries(doc, "scramble"))
    assert "scramble" not in _log(site)


def test_a_snapshot_without_a_verify_command_is_not_verified(site: dict[str, Any]) -> None:
    code, doc = _run(site, _backup_step(site, verify=False) + _scramble_step(site))
    assert code == 1 and snapshot(site["data"]) == site["before"]
    assert any("no `verify:` command declared" in s for s in _summaries(doc, "b"))
    assert _log(site) == ["create"]


def test_a_failing_create_command_keeps_nothing(site: dict[str, Any]) -> None:
    steps = _backup_step(site).replace(_argv(site, "create"), json.dumps([sys.executable, "-c", textwrap.dedent(
        "import sys; sys.exit('lvcreate: volume group vg0 has no free extents')")]))
    code, doc = _run(site, steps)
    (summary,) = _summaries(doc, "b")
    assert code == 1 and "snapshot command" in summary and "vg0 has no free extents" in summary
    assert json.loads(medic("backups", "list", "--json", env=site["env"], check=True).stdout) == []
