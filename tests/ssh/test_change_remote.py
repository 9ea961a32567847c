"""Change safety on an SSH host: backups stay on the host, hash and catalogue entry come back here; actions,
verification, automatic rollback, ``medic backups verify`` and ``medic recover`` after a kill -9, all over SSH.

The host is the lab's ``files_b`` sshd, in its own mount namespace: the path LAB/shared it sees is
LAB/data/b here. So a file the test finds changed under LAB/data/b was changed *on the host*, and this
machine's LAB/shared stays untouched.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from change_helpers import long_command_playbook, make_tree, processes_with, psql, snapshot, temp_leftovers

PLAYBOOK = Path(__file__).parents[1] / "change" / "crash.yaml"  # backup, 5 actions (one a command), verify



@pytest.fixture
def site(lab: Any, tmp_path: Path) -> dict[str, Any]:
    """A tree on the host (seen from here under LAB/data/b), an inventory, a state directory here."""
    name = tmp_path.name
    host_root = lab.dir / "shared" / name  # the path on the host
    here = lab.dir / "data" / "b" / name  # the same files, seen from this machine
    make_tree(here, seed=2)
    inv = lab.inventory({"web": {"lab": "files_b", "vars": {"backup_dir": str(lab.dir / "shared" / "bk"),
                                                            "api_token": "s3cr3t-never-written"}}},
                        filename=f"inv-{name}.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    env.update(MEDIC_STATE_DIR=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return {"host_root": host_root, "here": here, "inv": inv, "env": env, "state": tmp_path / "state",
            "before": snapshot(here), "lab": lab}


def medic(site: dict[str, Any], *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(site["env"], **({"MEDIC_FAULT": fault} if fault else {}))
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=180)


def run(site: dict[str, Any], *extra: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    return medic(site, "run", str(PLAYBOOK), "--engine", "inline", "--inventory", str(site["inv"]), "-t", "web",
                 "-i", f"root={site['host_root']}", "--json", *extra, fault=fault)


def entries(site: dict[str, Any]) -> list[dict[str, Any]]:
    root = site["state"] / "backups"
    return [json.loads((d / "entry.json").read_text()) for d in sorted(root.iterdir()) if d.name[0] != "."]


def test_change_on_a_host_keeps_the_backup_there_and_the_catalogue_here(site: dict[str, Any]) -> None:
    out = run(site)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    here, lab = site["here"], site["lab"]
    assert "workers = 8" in (here / "app.ini").read_text()  # changed on the host...
    assert (here / "data" / "copy.ini").exists()  # ...the command action ran there too
    assert not (lab.dir / "shared" / here.name).exists()  # ...and nothing here
    (entry,) = entries(site)
    assert entry["host"]["name"] == "web" and entry["host"]["kind"] == "ssh"
    assert entry["location"] == f"{lab.dir}/shared/bk/{entry['id']}"  # a path on the host
    assert entry["verification"]["ok"] and entry["verification"]["host"] == "web"
    artifact = lab.dir / "data" / "b" / "bk" / entry["id"] / entry["artifact"]
    assert artifact.is_file() and artifact.stat().st_size == entry["size"]
    assert sorted(p.name for p in (site["state"] / "backups" / entry["id"]).iterdir()) == ["entry.json"]
    written = [p.read_text() for p in site["state"].rglob("*") if p.is_file()]
    assert written and not any("s3cr3t-never-written" in text for text in written)  # host vars not kept

    # the hash kept here catches a damaged artifact there
    ok = medic(site, "backups", "verify", entry["id"])
    assert ok.returncode == 0 and "verified" in ok.stdout, ok.stdout + ok.stderr
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside blob.bin's data
    artifact.write_bytes(bytes(data))
    bad = medic(site, "backups", "verify", entry["id"])
    assert bad.returncode == 1 and "hash mismatch" in bad.stdout, bad.stdout + bad.stderr


def test_failed_verification_rolls_back_on_the_host(site: dict[str, Any]) -> None:
    out = run(site, "-i", "expect=workers = 999")
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads(out.stdout)
    summaries = [f["summary"] for f in report["findings"]]
    assert any("identical to their backups" in s for s in summaries), summaries
    assert snapshot(site["here"]) == site["before"]
    assert temp_leftovers(site["here"]) == []


@pytest.mark.parametrize("point", ["after_intent", "after_action", "after_done"])
def test_recover_after_kill_reaches_the_host_again(site: dict[str, Any], point: str) -> None:
    killed = run(site, fault=point)
    assert killed.returncode == -9, killed.stdout[-2000:] + killed.stderr[-2000:]
    assert snapshot(site["here"]) != site["before"] or point == "after_intent"
    stale = site["lab"].dir / "data" / "b" / "bk" / ".tmp-999999999-files-half"  # a backup a dead run began
    stale.mkdir(parents=True)
    first = medic(site, "recover")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "rolled back" in first.stdout
    assert snapshot(site["here"]) == site["before"]
    assert temp_leftovers(site["here"]) == []
    assert not stale.exists()
    second = medic(site, "recover")
    assert second.returncode == 0 and second.stdout.strip() == "nothing to recover"


def test_unreachable_host_fails_the_backup_cleanly(lab: Any, tmp_path: Path) -> None:
    inv = lab.inventory({"gone": {"lab": "down"}}, filename="inv-down.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    env.update(MEDIC_STATE_DIR=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", str(PLAYBOOK), "--engine", "inline",
                          "--inventory", str(inv), "-t", "gone", "-i", f"root={tmp_path}/x"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode in (1, 3), out.stdout + out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert "gone" in out.stdout + out.stderr
    assert not (tmp_path / "state" / "journal").exists() or not list((tmp_path / "state" / "journal").iterdir())



def test_a_remote_command_dies_when_medic_is_killed(site: dict[str, Any], tmp_path: Path) -> None:
    late = site["host_root"] / "late"  # on the host
    script = f"sleep 20; touch {late}"  # long enough that only a kill keeps `late` away
    playbook = long_command_playbook(tmp_path / "long.yaml", script)
    p = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "run", str(playbook), "--engine", "inline",
                          "--inventory", str(site["inv"]), "-t", "web"], env=site["env"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not _running_sh(script) and time.monotonic() < deadline:  # started and exec'd (past medic's wrapper)
        time.sleep(0.02)
    assert _running_sh(script), "the command never started on the host"
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.monotonic() + 12  # the host notices within a second or two (a failed keep-alive write)
    while processes_with(script) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(script) == [], [_lineage(pid) for pid in processes_with(script)]
    assert not (site["here"] / "late").exists()


def _running_sh(script: str) -> bool:
    return any(Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sh\0") for pid in processes_with(script))


def _lineage(pid: int) -> list[str]:
    """A process and its ancestors (pid, state, command line), to tell what kept a command alive."""
    out = []
    while pid > 1:
        try:
            status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if ":\t" in line)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            break
        out.append(f"{pid} {status.get('State', '?')} {cmdline[:120]}")
        pid = int(status.get("PPid", "0"))
    return out


def test_database_backups_on_a_host_restore_there(site: dict[str, Any], postgres: dict[str, Any]) -> None:
    """SQLite and PostgreSQL backups made by the host's own sqlite3 module and pg_dump, restored over SSH."""
    here, host_root = site["here"], site["host_root"]
    db = sqlite3.connect(here / "app.db")
    db.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
                     "INSERT INTO t (v) VALUES ('one'), ('two'), ('three');")
    db.commit()
    db.close()
    name = f"remote_{here.name.lower()}"[:60]
    psql(postgres, "postgres", f"CREATE DATABASE {name}")
    psql(postgres, name, "CREATE TABLE s (id int); INSERT INTO s SELECT generate_series(1, 500)")
    out = medic(site, "run", "backup-before-change", "--engine", "inline", "--inventory", str(site["inv"]),
                "-t", "web", "-i", f"path={host_root}/conf", "-i", f"sqlite_path={host_root}/app.db",
                "-i", f"pg_dbname={name}", "-i", f"pg_host={postgres['host']}", "-i", f"pg_port={postgres['port']}",
                "-i", f"pg_user={postgres['user']}")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    by_provider = {e["provider"]: e for e in entries(site)}
    assert set(by_provider) == {"files", "sqlite", "postgres"}
    for e in by_provider.values():
        assert e["host"]["name"] == "web" and e["verification"]["ok"], e
        assert (site["lab"].dir / "data" / "b" / "bk" / e["id"] / e["artifact"]).is_file()

    db = sqlite3.connect(here / "app.db")
    db.execute("DELETE FROM t")
    db.commit()
    db.close()
    psql(postgres, name, "DELETE FROM s WHERE id > 10")
    for provider in ("sqlite", "postgres"):
        restored = medic(site, "backups", "restore", by_provider[provider]["id"])
        assert restored.returncode == 0 and "identical" in restored.stdout, restored.stdout + restored.stderr
    assert [r[0] for r in sqlite3.connect(here / "app.db").execute("SELECT v FROM t ORDER BY id")] == \
        ["one", "two", "three"]
    assert psql(postgres, name, "SELECT count(*) FROM s") == "500"


def test_check_mode_shows_the_host_files_diff_and_changes_nothing(site: dict[str, Any]) -> None:
    out = run(site, "--check")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads(out.stdout)
    diffs = [f["evidence"].get("diff", "") for f in report["findings"] if f["check"] == "change.action"]
    assert any("-workers = 2" in d and "+workers = 8" in d for d in diffs), diffs  # read from the host's file
    assert snapshot(site["here"]) == site["before"]
    assert not (site["state"] / "backups").exists() or entries(site) == []
