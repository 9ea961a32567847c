"""Liveness against real servers: big output on both streams, MaxStartups refusals, bounds and timeouts."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from medic.kernel.errors import TargetError
from medic.plugins.ssh import connection
from medic.plugins.ssh.inventory import HostConfig

MIB = 1024 * 1024


def host(lab, name: str, **kw) -> HostConfig:
    return HostConfig(name=name, address=lab.address(name), port=lab.port, user="root",
                      key_file=str(lab.client_key), known_hosts=str(lab.known_hosts), connect_timeout=3, **kw)


def test_ten_mib_on_stdout_and_stderr_at_once_does_not_hang(lab):
    conn = connection.Connection(host(lab, "ok")).open()
    try:
        started = time.monotonic()
        result = conn.run("head -c 10485760 /dev/zero & head -c 10485760 /dev/zero >&2; wait", timeout=60)
        assert time.monotonic() - started < 30
        assert (result.exit_code, len(result.stdout), len(result.stderr)) == (0, 10 * MIB, 10 * MIB)
        capped = conn.run("head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2", max_output=MIB)
        assert capped.truncated and capped.exit_code == 0 and len(capped.stdout) < 2 * MIB
    finally:
        conn.close()


def _hold_startup_slot(lab) -> socket.socket:
    """An unauthenticated connection: with MaxStartups 1, sshd refuses every other one while it is open.

    sshd frees the slot of a connection an earlier test closed only once it has seen the close: until then
    it answers "Exceeded MaxStartups", so ask again (a condition waited on, with a deadline for a hang)."""
    deadline = time.monotonic() + 30
    while True:
        sock = socket.create_connection((lab.address("crowded"), lab.port))
        banner = sock.recv(64)
        if banner.startswith(b"SSH-"):
            return sock
        sock.close()
        assert time.monotonic() < deadline, f"the crowded sshd kept answering {banner!r}"
        time.sleep(0.05)


class _BackoffClock:
    """connection's ``time`` with its sleeps recorded; the held slot is freed at the first backoff sleep."""

    def __init__(self, held: socket.socket) -> None:
        self.held, self.sleeps = held, []  # type: ignore[var-annotated]

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.held.close()
        time.sleep(seconds)


def test_refused_connections_are_retried_with_backoff(lab, monkeypatch):
    clock = _BackoffClock(_hold_startup_slot(lab))
    monkeypatch.setattr(connection, "time", clock)
    conn = connection.Connection(host(lab, "crowded"))
    conn.open()
    backoff = list(clock.sleeps)
    try:
        # refused while the slot was held, then a backoff sleep (0.2 s base, jittered up to 2x), then connected
        assert conn.retries == len(backoff) >= 1 and all(0.2 <= s <= 4.0 for s in backoff)
        assert conn.run("echo hi").stdout == b"hi\n"
    finally:
        conn.close()


def test_a_server_that_keeps_refusing_is_a_clear_error(lab, monkeypatch):
    monkeypatch.setattr(connection, "RETRIES", 2)
    held = _hold_startup_slot(lab)
    try:
        with pytest.raises(TargetError, match="kept refusing new connections after 2 retries"):
            connection.Connection(host(lab, "crowded")).open()
    finally:
        held.close()


def test_concurrent_connections_are_bounded(lab, monkeypatch):
    monkeypatch.setattr(connection, "_SLOTS", threading.BoundedSemaphore(2))
    active, peak, lock = [0], [0], threading.Lock()
    real = connection.Connection._connect

    def counting(self: connection.Connection) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.1)
            real(self)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(connection.Connection, "_connect", counting)
    conns = [connection.Connection(host(lab, "ok")) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda c: c.open(), conns))
    for c in conns:
        c.close()
    assert peak[0] == 2


def test_command_timeout_fails_the_calls_not_the_host(lab, runner, tmp_path):
    pb = tmp_path / "slow.yaml"
    pb.write_text("""name: slow
targets: [local]
steps:
  - id: slow
    check: software.command_version
    with: {command: [sleep, "120"]}
""")
    inv = lab.inventory({"ok": {"lab": "ok", "command_timeout": 1}})
    started = time.monotonic()
    result, _ = runner(["ok"], playbook=str(pb), inventory=str(inv))
    assert time.monotonic() - started < 60  # bounds a hang (the command sleeps 120 s), not a speed
    (finding,) = result.findings()
    assert finding.check == "software.command_version" and finding.status == "error"
    assert "timed out after 1 s" in finding.summary


def behind(lab, netlab, name: str, jump: HostConfig) -> HostConfig:
    """Host B or C of the network lab: reachable only through ``jump``."""
    return HostConfig(name=name, address=netlab.inner[name], port=lab.port, user="root", jump=jump,
                      key_file=str(lab.client_key), known_hosts=str(netlab.known_hosts), connect_timeout=3)


def bastion(lab, netlab) -> HostConfig:
    return HostConfig(name="bastion", address=netlab.jump, port=lab.port, user="root",
                      key_file=str(lab.client_key), known_hosts=str(netlab.known_hosts), connect_timeout=3)


def test_jump_connections_do_not_deadlock_the_bound(lab, netlab, monkeypatch):
    monkeypatch.setattr(connection, "_SLOTS", threading.BoundedSemaphore(1))
    jump = bastion(lab, netlab)
    conns = [connection.Connection(behind(lab, netlab, "b", jump)) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(c.open) for c in conns]
        for f in futures:
            f.result(timeout=20)
    try:
        assert all(c.run("echo via").stdout == b"via\n" for c in conns)
    finally:
        for c in conns:
            c.close()


def test_hosts_behind_one_jump_host_share_its_connection(lab, netlab):
    jump = bastion(lab, netlab)
    conns = [connection.Connection(behind(lab, netlab, name, jump)) for name in ("b", "c", "b")]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda c: c.open(), conns))
    try:
        assert connection.JUMPS.users(jump) == 3
        assert len({id(c._jump) for c in conns}) == 1  # one login on the jump host for the three
        assert [c.run("cat LAB/shared/version".replace("LAB", str(lab.dir))).stdout for c in conns[:2]] == \
            [b"app 2.5\n", b""]
    finally:
        for c in conns:
            c.close()
    assert connection.JUMPS.users(jump) == 0
    again = connection.Connection(behind(lab, netlab, "b", jump)).open()  # a new one after the last closed
    try:
        assert again.run("echo back").stdout == b"back\n"
    finally:
        again.close()
