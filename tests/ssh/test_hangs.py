"""Hosts that hang: a collection past command_timeout ends its processes on the host, a host that hangs after
login (a ForceCommand that sleeps) is one error, a server that sends its banner then nothing says so."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medic.kernel.models import ProbeCall, Status
from medic.kernel.probes import by_name
from medic.plugins.ssh import load_inventory, remote
from medic.plugins.ssh.connection import Connection

HANGS = "127.0.0.13"  # sshd whose every session runs `sleep 373` (ForceCommand)
MUTE = "127.0.0.14"  # sends an SSH banner, then nothing


def processes(pattern: str) -> list[tuple[int, int]]:
    """(pid, ppid) of the processes whose command line is ``pattern`` (the lab's hosts are this machine)."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        pid, ppid, args = line.split(None, 2)
        if pattern in args:
            found.append((int(pid), int(ppid)))
    return found


def wait_gone(pattern: str, seconds: float = 10.0) -> list[tuple[int, int]]:
    deadline = time.monotonic() + seconds
    while (left := processes(pattern)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("python", ["python3", "/nonexistent/python3"], ids=["runner", "fallback"])
def test_a_timed_out_collection_leaves_nothing_running_on_the_host(lab, python):
    seconds = "371" if python == "python3" else "372"
    inv = lab.inventory({"ok": {"lab": "ok", "python": python}}, defaults={"command_timeout": 2})
    host = load_inventory(str(inv)).select(["ok"])[0]
    call = ProbeCall.make("command_output", {"argv": ["sleep", seconds], "timeout": 600})
    conn = Connection(host).open()
    try:
        results = remote.collect(conn, [call], by_name())
    finally:
        conn.close()
    assert not results[call].ok and "timed out after 2 s" in str(results[call].error)
    assert wait_gone(f"sleep {seconds}") == []  # neither under sshd nor re-parented to 1


@pytest.fixture
def hangs(lab: Any) -> Iterator[str]:
    proc = lab.start_sshd(HANGS, "ForceCommand sleep 373")
    try:
        yield HANGS
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for pid, _ in processes("sleep 373"):  # sshd refuses to signal a forced command: ours to clean up
            os.kill(pid, signal.SIGKILL)


def pinned(lab: Any, tmp_path: Path, *addresses: str) -> Path:
    """The lab's known_hosts plus the lab host key for ``addresses``."""
    key = " ".join(lab.host_pub.read_text().split()[:2])
    known = tmp_path / "known_hosts"
    known.write_text(lab.known_hosts.read_text() + "".join(f"[{a}]:{lab.port} {key}\n" for a in addresses))
    return known


def test_a_host_that_hangs_after_login_is_one_error(lab, hangs, run_cli, tmp_path):
    inv = lab.inventory({"hangs": {"address": hangs}, "ok": {"lab": "ok"}}, defaults={"command_timeout": 2},
                        known_hosts=pinned(lab, tmp_path, hangs))
    code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    mine = [f for f in json.loads(out)["findings"] if f["target"] == "hangs"]
    assert len(mine) == 1 and mine[0]["check"] == "target.reachable", mine
    assert mine[0]["status"] == Status.ERROR.value and "hangs after login" in mine[0]["summary"]
    assert "did not start within 2 s" in mine[0]["summary"] and code != 0


class MuteServer:
    """Sends an SSH banner to every connection, then nothing."""

    def __init__(self, addr: str, port: int) -> None:
        self.sock = socket.create_server((addr, port))
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n")
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


def test_a_server_that_sends_its_banner_then_nothing_says_so(lab, run_cli, tmp_path):
    mute = MuteServer(MUTE, lab.port)
    try:
        inv = lab.inventory({"mute": {"address": MUTE}}, defaults={"connect_timeout": 2},
                            known_hosts=pinned(lab, tmp_path, MUTE))
        code, out, _ = run_cli("run", "triage", "--engine", "inline", "--inventory", str(inv), "--json")
    finally:
        mute.close()
    [finding] = [f for f in json.loads(out)["findings"] if f["target"] == "mute"]
    assert code == 3
    assert finding["check"] == "target.reachable" and finding["status"] == Status.ERROR.value
    assert "the server sent its banner and then nothing for 2 s" in finding["summary"], finding["summary"]
