"""Change work bound to the host that holds the file: the rollback step restores a backup only on the machine it
was taken on (a backup of an SSH host's file is refused on the local target and the other way round, naming where
it was taken, and restores on its host); config-change edits a YAML file in place with the host's own python3.

The host is the lab's ``files_b`` sshd in its own mount namespace: LAB/shared there is LAB/data/b here, so the
same path names a different file on each side and a restore on the wrong machine would be visible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def _medic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=180)


def _run(env: dict[str, str], playbook: Path, steps: str, *args: str) -> tuple[int, list[dict[str, Any]]]:
    playbook.write_text("name: t\nversion: 1\ninputs: {backup_id: {type: string, default: ''}}\nsteps:\n" + steps)
    out = _medic(env, "run", str(playbook), "--engine", "inline", "--json", *args)
    return out.returncode, json.loads(out.stdout)["findings"]


def test_a_backup_is_restored_only_where_it_was_taken(lab: Any, tmp_path: Path) -> None:
    name = tmp_path.name
    on_host, seen_here = lab.dir / "shared" / name, lab.dir / "data" / "b" / name
    seen_here.mkdir(parents=True)
    (seen_here / "app.ini").write_text("[main]\nworkers = 2\n")
    on_host.mkdir(parents=True)  # the same path on this machine: another file
    (on_host / "app.ini").write_text("local file\n")
    inv = lab.inventory({"web": {"lab": "files_b", "vars": {"backup_dir": str(lab.dir / "shared" / "bk")}}},
                        filename=f"inv-{name}.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    env.update(MEDIC_STATE_DIR=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    web = ("--inventory", str(inv), "-t", "web")
    playbook = tmp_path / "pb.yaml"

    backup = f"  - {{id: b, backup: files, with: {{path: {on_host / 'app.ini'}}}}}\n"
    code, findings = _run(env, playbook, backup, *web)
    assert code == 0, findings
    (host_backup,) = [f["evidence"]["backup_id"] for f in findings if f["step"] == "b"]
    code, findings = _run(env, playbook, backup)
    assert code == 0, findings
    (local_backup,) = [f["evidence"]["backup_id"] for f in findings if f["step"] == "b" and
                       f["evidence"].get("backup_id") != host_backup]

    (seen_here / "app.ini").write_text("[main]\nworkers = 9\n")  # both files change after their backups
    (on_host / "app.ini").write_text("local file, changed\n")
    rollback = "  - {id: r, rollback: '{{ inputs.backup_id }}'}\n"
    code, findings = _run(env, playbook, rollback, "-i", f"backup_id={host_backup}")
    (refused,) = [f["summary"] for f in findings if f["step"] == "r"]
    assert code == 1 and refused == (
        f"backup {host_backup} of file:{on_host / 'app.ini'} was taken on web, not on local; run the rollback "
        f"step on web's target, or restore it with `medic backups restore {host_backup}`")
    code, findings = _run(env, playbook, rollback, "-i", f"backup_id={local_backup}", *web)
    (refused,) = [f["summary"] for f in findings if f["step"] == "r"]
    assert code == 1 and f"backup {local_backup} of file:{on_host / 'app.ini'} was taken on this machine, not on " \
        "web" in refused, refused
    assert (seen_here / "app.ini").read_text() == "[main]\nworkers = 9\n"  # neither restore touched a file
    assert (on_host / "app.ini").read_text() == "local file, changed\n"

    code, findings = _run(env, playbook, rollback, "-i", f"backup_id={host_backup}", *web)
    assert code == 0, findings  # on its own host it restores
    assert (seen_here / "app.ini").read_text() == "[main]\nworkers = 2\n"
    assert (on_host / "app.ini").read_text() == "local file, changed\n"


def test_config_change_on_a_host_edits_yaml_in_place_with_the_hosts_python(lab: Any, tmp_path: Path) -> None:
    """The lab host's python3 has PyYAML but not ruamel.yaml: the value is still replaced in place there."""
    name = tmp_path.name
    on_host, seen_here = lab.dir / "shared" / name, lab.dir / "data" / "b" / name
    seen_here.mkdir(parents=True)
    text = "# app\nserver:\n  workers: 8   # per CPU\n  hosts: [a, b]\n"
    (seen_here / "app.yaml").write_text(text)
    inv = lab.inventory({"web": {"lab": "files_b", "vars": {"backup_dir": str(lab.dir / "shared" / "bk")}}},
                        filename=f"inv-{name}.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    env.update(MEDIC_STATE_DIR=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    out = _medic(env, "run", "config-change", "--engine", "inline", "--json", "--inventory", str(inv), "-t", "web",
                 "-i", f"config_file={on_host / 'app.yaml'}", "-i", "key=server.workers", "-i", "value=16")
    findings = json.loads(out.stdout)["findings"]
    assert out.returncode == 0, [f["summary"] for f in findings]
    assert (seen_here / "app.yaml").read_text() == text.replace("workers: 8 ", "workers: 16 ")
    (verified,) = [f for f in findings if f["step"] == "verify_key"]
    assert verified["evidence"]["value"] == 16
