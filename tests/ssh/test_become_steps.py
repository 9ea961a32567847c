"""``become:`` per step on an SSH host that logs in as an unprivileged user.

The host is an sshd on 127.0.0.10 in its own mount namespace, where /etc/passwd, /etc/shadow, /etc/group and
/etc/sudoers have an extra user, ``medicu``, who may use sudo with a password (nothing changes outside that
namespace). Its files live under a directory only root can enter: what medicu reads there, it read with sudo.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medic.kernel.models import Status

ADDRESS = "127.0.0.10"
USER = "medicu"
SECRET = "root-only-token 42"


@dataclass
class Unprivileged:
    dir: Path  # enterable by anyone: home, keys
    private: Path  # only root can enter
    password: str  # medicu's sudo password: shell and Python code that creates the lab's canary if ever run
    inventory: Any  # (become=None, **vars) -> inventory path


def _free_uid() -> int:
    uid = 4200
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


def _copy_with(source: str, dest: Path, extra: str) -> None:
    dest.write_text(Path(source).read_text() + extra)
    st = os.stat(source)
    os.chown(dest, st.st_uid, st.st_gid)
    os.chmod(dest, stat.S_IMODE(st.st_mode))


@pytest.fixture(scope="module")
def unpriv(lab: Any) -> Iterator[Unprivileged]:
    if not shutil.which("sudo") or not shutil.which("openssl"):
        pytest.skip("needs sudo and openssl")
    base = Path(tempfile.mkdtemp(prefix="medic-become-"))
    os.chmod(base, 0o755)
    uid = _free_uid()
    home = base / "home"
    home.mkdir()
    os.chown(home, uid, uid)
    private = base / "private"
    private.mkdir(mode=0o700)
    (private / "token").write_text(SECRET + "\n")
    os.chmod(private / "token", 0o600)
    password = f"s3cret pass; $(touch {lab.canary}) #'); open('{lab.canary}', 'w')"
    hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True,
                            text=True, check=True).stdout.strip()
    etc = base / "etc"
    etc.mkdir()
    _copy_with("/etc/passwd", etc / "passwd", f"{USER}:x:{uid}:{uid}::{home}:/bin/sh\n")
    _copy_with("/etc/group", etc / "group", f"{USER}:x:{uid}:\n")
    _copy_with("/etc/shadow", etc / "shadow", f"{USER}:{hashed}:19000:0:99999:7:::\n")
    _copy_with("/etc/sudoers", etc / "sudoers", f"Defaults:{USER} lecture=never\n{USER} ALL=(ALL:ALL) ALL\n")
    (base / "authorized_keys").write_text((lab.dir / "client.pub").read_text())
    line = " ".join((lab.dir / "hostkey.pub").read_text().split()[:2])
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        port = int(sock.getsockname()[1])
    (base / "known_hosts").write_text(f"[{ADDRESS}]:{port} {line}\n")
    conf = base / "sshd.conf"
    conf.write_text(f"""ListenAddress {ADDRESS}
Port {port}
HostKey {lab.dir / 'hostkey'}
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {base / 'authorized_keys'}
StrictModes no
UsePAM no
PidFile none
LogLevel ERROR
""")
    Path("/run/sudo").mkdir(exist_ok=True)
    binds = " && ".join(f"mount --bind {etc / n} /etc/{n}" for n in ("passwd", "group", "shadow", "sudoers"))
    script = f"{binds} && mount -t tmpfs tmpfs /run/sudo && exec /usr/sbin/sshd -D -e -f {conf}"
    log = open(base / "sshd.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                            stdout=log, stderr=log)

    def inventory(become: str | None = None, python: str | None = None, **variables: Any) -> Path:
        host: dict[str, Any] = {"address": ADDRESS, "port": port, "user": USER,
                                "become_password_env": "TEST_BECOME_PW", "vars": variables}
        if become:
            host["become"] = become
        if python:
            host["python"] = python
        return lab.inventory({"u": host}, known_hosts=base / "known_hosts", filename="inv-become.yaml")

    try:
        _wait(proc, port)
        yield Unprivileged(base, private, password, inventory)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def _wait(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd for the become tests exited with {proc.returncode}")
        try:
            with socket.create_connection((ADDRESS, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sshd for the become tests did not start listening")


@pytest.fixture
def password(unpriv: Unprivileged, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_BECOME_PW", unpriv.password)


def playbook(tmp_path: Path, steps: str) -> str:
    path = tmp_path / "pb.yaml"
    path.write_text(f"name: become-test\nsteps:\n{steps}")
    return str(path)


def by_step(result: Any) -> dict[str, Any]:
    return {r.step: r for r in result.results["u"]}


def test_a_step_with_become_reads_what_only_root_can_and_the_others_do_not_get_its_result(
        unpriv: Unprivileged, runner: Any, password: None, tmp_path: Path) -> None:
    token = unpriv.private / "token"
    read = f"check: change.file_contains, with: {{path: {token}, pattern: '^{SECRET}$'}}"
    pb = playbook(tmp_path, f"""
  - {{id: as_root, {read}, become: sudo}}
  - {{id: as_user, {read}}}
  - {{id: as_user_too, {read}, become: false}}
  - {{id: root_again, {read}, become: sudo}}
""")
    result, (target,) = runner(["u"], pb, inventory=str(unpriv.inventory()))
    steps = by_step(result)
    assert steps["as_root"].status == Status.PASS and steps["root_again"].status == Status.PASS
    for step in ("as_user", "as_user_too"):
        (finding,) = steps[step].findings
        assert finding.status == Status.ERROR and "Permission denied" in finding.summary, finding.summary
    assert target.round_trips == 2  # all prefetched: one round trip with sudo, one without


def test_become_false_runs_a_step_without_the_hosts_sudo(
        unpriv: Unprivileged, runner: Any, password: None, tmp_path: Path) -> None:
    token = unpriv.private / "token"
    pb = playbook(tmp_path, f"""
  - id: g
    group: Checks
    steps:
      - {{id: host_sudo, check: change.file_contains, with: {{path: {token}, pattern: token}}}}
      - {{id: no_sudo, check: change.file_contains, with: {{path: {token}, pattern: token}}, become: false}}
      - {{id: succeeds_as_user, check: change.command_succeeds, with: {{argv: [test, -r, {token}]}},
          become: false}}
""")
    result, _ = runner(["u"], pb, inventory=str(unpriv.inventory(become="sudo")))
    steps = {r.step: r for r in result.results["u"][0].children}
    assert steps["host_sudo"].status == Status.PASS, steps["host_sudo"].findings[0].summary
    assert steps["no_sudo"].status == Status.ERROR and "Permission denied" in steps["no_sudo"].findings[0].summary
    assert steps["succeeds_as_user"].status == Status.FAIL  # `test -r` ran as medicu: exit 1


def test_a_host_without_python_runs_become_steps_with_sudo_too(
        unpriv: Unprivileged, runner: Any, password: None, tmp_path: Path) -> None:
    cat = f"check: change.command_succeeds, with: {{argv: [cat, {unpriv.private / 'token'}]}}"
    pb = playbook(tmp_path, f"""
  - {{id: as_root, {cat}, become: sudo}}
  - {{id: as_user, {cat}}}
""")
    result, (target,) = runner(["u"], pb, inventory=str(unpriv.inventory(python="/nonexistent/python3")))
    assert [r.status for r in result.results["u"]] == [Status.PASS, Status.FAIL]
    assert target.round_trips == 2


def test_the_password_travels_on_stdin_only(unpriv: Unprivileged, lab: Any, run_cli: Any, password: None,
                                            tmp_path: Path) -> None:
    pb = playbook(tmp_path, f"""
  - {{id: as_root, check: change.file_contains, with: {{path: {unpriv.private / 'token'}, pattern: token}},
      become: sudo}}
""")
    code, out, err = run_cli("run", pb, "--engine", "inline", "--inventory", str(unpriv.inventory()), "--json")
    doc = json.loads(out)
    assert code == 0 and [f["status"] for f in doc["findings"]] == ["pass"], out
    assert unpriv.password not in out + err and "s3cret" not in out + err
    assert not lab.canary.exists()  # the password is sudo's to read, never run


def test_change_steps_with_become_back_up_change_verify_and_restore_as_root(
        unpriv: Unprivileged, runner: Any, password: None, tmp_path: Path) -> None:
    app = unpriv.private / f"app-{tmp_path.name}"
    app.mkdir(mode=0o700)
    ini, flag = app / "app.ini", app / "flag"
    ini.write_text("[main]\nworkers = 4\n")
    ini.chmod(0o600)
    inv = str(unpriv.inventory(backup_dir=str(unpriv.private / "backups")))

    def change(value: int, expect: int, become: str = "become: sudo") -> Any:
        pb = playbook(tmp_path, f"""
  - {{id: b, backup: files, with: {{path: {app}}}, {become}}}
  - {{id: set, action: set_key, with: {{path: {ini}, section: main, key: workers, value: {value}}}, {become}}}
  - {{id: flag, action: command, resources: [], with: {{argv: [touch, {flag}], undo: [rm, {flag}]}}, {become}}}
  - {{id: v, verify: change.file_contains, with: {{path: {ini}, pattern: 'workers *= *{expect}'}}, {become}}}
""")
        result, _ = runner(["u"], pb, inventory=inv)
        return by_step(result)

    steps = change(8, 8)
    assert [steps[s].status for s in ("b", "set", "flag", "v")] == [Status.PASS] * 4, \
        [f.summary for s in steps.values() for f in s.findings]
    assert "workers = 8" in ini.read_text() and ini.stat().st_uid == 0 and flag.stat().st_uid == 0
    entry_dirs = [d for d in (unpriv.private / "backups").iterdir()]
    assert entry_dirs and all(d.stat().st_uid == 0 for d in entry_dirs)  # the backup was made by root

    flag.unlink()
    steps = change(9, 10)  # the verification fails: the backup taken with sudo is restored with sudo, and the
    summaries = [f.summary for f in steps["v"].findings]  # undo command of a step with sudo runs with sudo
    assert steps["v"].status == Status.FAIL and any("rolled back" in s for s in summaries), summaries
    assert not any("incomplete" in s for s in summaries), summaries
    assert "workers = 8" in ini.read_text() and not flag.exists()

    steps = change(9, 9, become="become: false")  # as medicu: cannot back up...
    assert steps["b"].status == Status.FAIL and "permission denied" in steps["b"].findings[0].summary.lower()
    pb = playbook(tmp_path, f"""
  - {{id: set, action: set_key, with: {{path: {ini}, section: main, key: workers, value: 9}}, backup: none,
      reason: test, become: false}}
""")
    result, _ = runner(["u"], pb, inventory=inv)  # ...nor change the file
    (failed,) = [f for f in by_step(result)["set"].findings if f.status == Status.FAIL]
    assert "permission denied" in failed.summary.lower(), failed.summary
    assert "workers = 8" in ini.read_text()
