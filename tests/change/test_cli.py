"""The change workflow through the CLI: config-change, automatic rollback, refusals, plan mode, backups."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

from .conftest import medic, snapshot, temp_leftovers

INI = "[main]\nworkers = 2\n# keep me\nport = 80\n"


def _conf(tmp_path: Path) -> Path:
    d = tmp_path / "etc"
    d.mkdir()
    (d / "app.ini").write_text(INI)
    return d / "app.ini"


def _playbook(tmp_path: Path, body: str) -> str:
    path = tmp_path / "pb.yaml"
    path.write_text(
        "name: t\nversion: 1\ninputs: {root: {type: string}}\nsteps:\n"
        + textwrap.indent(textwrap.dedent(body), "  ")
    )
    return str(path)


def _config_change(conf: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``medic run config-change`` setting workers = 8 in section main of ``conf``; ``extra``: more -i or flags."""
    argv = ["run", "config-change", "-i", f"config_file={conf}", "-i", "key=workers", "-i", "value=8",
            "-i", "section=main"]
    for item in extra:
        argv += [item] if item.startswith("--") else ["-i", item]
    return medic(*argv, env=env)


def _runs(env: dict[str, str]) -> list[dict]:
    return json.loads(medic("runs", "list", "--json", env=env, check=True).stdout)


def test_config_change_commits_and_is_listed(tmp_path: Path, env: dict[str, str]) -> None:
    conf = _conf(tmp_path)
    proc = _config_change(conf, f"restart_command=touch,{tmp_path}/restarted", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert conf.read_text() == INI.replace("workers = 2", "workers = 8")
    assert (tmp_path / "restarted").exists()
    [run] = _runs(env)
    assert run["changes"].startswith("committed")
    shown = medic("runs", "show", run["run_id"], env=env, check=True).stdout
    assert "intent change.1: file:" in shown and "commit" in shown
    [backup] = json.loads(medic("backups", "list", "--json", env=env, check=True).stdout)
    assert backup["verification"]["ok"] and backup["resources"] == [f"file:{conf}"]
    assert "verified" in medic("backups", "verify", backup["id"], env=env, check=True).stdout
    # undo the committed run later: `medic rollback RUN_ID`
    rb = medic("rollback", run["run_id"], env=env, check=True)
    assert conf.read_text() == INI and "identical to its backup" in rb.stdout
    assert "already rolled back" in medic("rollback", run["run_id"], env=env, check=True).stdout


def test_failed_verification_rolls_back_at_once(tmp_path: Path, env: dict[str, str]) -> None:
    conf = _conf(tmp_path)
    before = snapshot(conf.parent)
    proc = _config_change(conf, "verify_command=false", "--json", env=env)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    summaries = [f["summary"] for f in doc["findings"]]
    assert any("rolled back 1 change(s)" in s and "identical to their backups" in s for s in summaries)
    assert snapshot(conf.parent) == before and temp_leftovers(conf.parent) == []
    assert _runs(env)[0]["changes"].startswith("rolled_back")


def test_action_without_backup_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    conf = _conf(tmp_path)
    pb = _playbook(
        tmp_path,
        """\
        - id: a
          action: set_key
          with: {path: "{{ inputs.root }}/app.ini", section: main, key: workers, value: 9}
        - id: b
          action: set_key
          with: {path: "{{ inputs.root }}/app.ini", section: main, key: port, value: 81}
    """,
    )
    proc = medic("run", pb, "-i", f"root={conf.parent}", env=env)
    assert proc.returncode == 1
    assert (
        "refused: no verified backup of file:" in proc.stdout.replace("\n", " ").replace("│", "")
        or "refused" in proc.stdout
    )
    assert conf.read_text() == INI


def test_backup_none_needs_a_reason_and_is_reported(tmp_path: Path, env: dict[str, str]) -> None:
    conf = _conf(tmp_path)
    bad = _playbook(
        tmp_path,
        """\
        - id: a
          action: set_key
          backup: none
          with: {path: x, key: k, value: v}
    """,
    )
    proc = medic("run", bad, "-i", "root=/", env=env)
    assert proc.returncode == 2 and "`reason:` must say why" in proc.stderr
    good = _playbook(
        tmp_path,
        """\
        - id: a
          action: set_key
          backup: none
          reason: scratch file regenerated at boot
          with: {path: "{{ inputs.root }}/app.ini", section: main, key: workers, value: 9}
    """,
    )
    proc = medic("run", good, "-i", f"root={conf.parent}", "--json", env=env)
    assert proc.returncode == 0
    warn = [f for f in json.loads(proc.stdout)["findings"] if f["status"] == "warn"]
    assert "without a backup: scratch file regenerated at boot" in warn[0]["summary"]
    assert "workers = 9" in conf.read_text()


def test_check_mode_changes_nothing_and_shows_the_plan(tmp_path: Path, env: dict[str, str]) -> None:
    conf = _conf(tmp_path)
    pb = _playbook(
        tmp_path,
        """\
        - id: b
          backup: files
          with: {path: "{{ inputs.root }}"}
        - id: a
          action: set_key
          with: {path: "{{ inputs.root }}/app.ini", section: main, key: workers, value: 8}
        - id: r
          action: restart_service
          with: {name: app, command: [touch, "{{ inputs.root }}/restarted"]}
        - id: c
          action: command
          resources: ["file:{{ inputs.root }}"]
          with: {argv: [rm, -rf, "{{ inputs.root }}"], undo: [true]}
        - id: v
          verify: change.command_succeeds
          with: {argv: ["false"]}
    """,
    )
    before = snapshot(conf.parent)
    proc = medic("run", pb, "-i", f"root={conf.parent}", "--check", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "-workers = 2\n+workers = 8" in out
    assert f"$ touch {conf.parent}/restarted" in out
    assert f"would run: rm -rf {conf.parent}" in out
    state = Path(env["MEDIC_STATE_DIR"])
    assert snapshot(conf.parent) == before  # byte for byte, modes and links too
    assert not (state / "journal").exists() and not (state / "backups").exists()


def test_approval_defaults_to_no_without_a_terminal(tmp_path: Path, env: dict[str, str]) -> None:
    conf = _conf(tmp_path)
    pb = _playbook(
        tmp_path,
        """\
        - id: b
          backup: files
          with: {path: "{{ inputs.root }}"}
        - id: ok
          approve: "Change the workers?"
          with: {timeout: 1}
        - id: a
          action: set_key
          with: {path: "{{ inputs.root }}/app.ini", section: main, key: workers, value: 8}
    """,
    )
    proc = medic("run", pb, "-i", f"root={conf.parent}", "--json", env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert "not approved (no terminal" in doc["findings"][1]["summary"]
    assert doc["steps"]["local"][2]["status"] == "skipped"
    assert conf.read_text() == INI


def test_backups_restore_and_errors(tmp_path: Path, env: dict[str, str]) -> None:
    conf = _conf(tmp_path)
    medic("run", "backup-before-change", "-i", f"path={conf.parent}", env=env, check=True)
    [entry] = json.loads(medic("backups", "list", "--json", env=env, check=True).stdout)
    conf.write_text("broken")
    (conf.parent / "stray.txt").write_text("x")
    proc = medic("backups", "restore", entry["id"], env=env, check=True)
    assert "identical to the backup" in proc.stdout
    assert conf.read_text() == INI and not (conf.parent / "stray.txt").exists()
    missing = medic("backups", "restore", "nope", env=env)
    assert missing.returncode == 2 and "'nope' is not in the catalogue" in missing.stderr
    tar = Path(env["MEDIC_STATE_DIR"]) / "backups" / entry["id"] / "files.tar"
    tar.write_bytes(tar.read_bytes()[:-1] + b"!")
    damaged = medic("backups", "restore", entry["id"], env=env)
    assert damaged.returncode == 1 and "failed verification" in damaged.stderr and conf.read_text() == INI
    assert medic("backups", "verify", entry["id"], env=env).returncode == 1
    assert medic("runs", "show", "no-such-run", env=env).returncode == 2
    unknown = medic("rollback", "no-such-run", env=env)
    assert unknown.returncode == 2 and "has no journal" in unknown.stderr


def test_change_steps_refuse_a_timeout(tmp_path: Path, env: dict[str, str]) -> None:
    pb = _playbook(tmp_path, """\
        - id: a
          action: set_key
          timeout: 5
          with: {path: x, key: k, value: v}
    """)
    proc = medic("run", pb, "-i", "root=/", env=env)
    assert proc.returncode == 2 and "cannot have `timeout:`" in proc.stderr
