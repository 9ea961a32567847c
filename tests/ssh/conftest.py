"""Real OpenSSH servers on loopback addresses for the SSH target tests (started once per session).

    ok       127.0.0.2  plain sshd in this mount namespace (parity with `local`)
    files_b  127.0.0.3  sshd in its own mount namespace: LAB/shared is LAB/data/b (different files)
    files_c  127.0.0.4  same with LAB/data/c
    changed  127.0.0.5  sshd presenting another host key than the one pinned in known_hosts
    drop     127.0.0.6  sshd whose every command kills its own session mid-output (connection lost)
    silent   127.0.0.7  accepts TCP, never sends an SSH banner (a Python socket server)
    crowded  127.0.0.8  sshd with MaxStartups 1 (refuses a second unauthenticated connection)
    down     127.0.0.9  nothing listens (connection refused)

The servers use their own key files and authorized_keys under a temporary directory and a free port; nothing
in ~/.ssh is touched. Needs root (sshd, unshare) and openssh-server (tests/setup-services.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from medic.core.engine import Engine
from medic.core.session import Session
from medic.kernel.models import Status

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
ADDRESSES = {"ok": "127.0.0.2", "files_b": "127.0.0.3", "files_c": "127.0.0.4", "changed": "127.0.0.5",
             "drop": "127.0.0.6", "silent": "127.0.0.7", "crowded": "127.0.0.8", "down": "127.0.0.9"}

@dataclass
class Lab:
    dir: Path
    port: int
    client_key: Path
    known_hosts: Path
    host_pub: Path
    other_pub: Path
    canary: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def address(self, name: str) -> str:
        return ADDRESSES[name]

    def start_sshd(self, addr: str, extra: str = "", hostkey: str = "hostkey") -> subprocess.Popen[bytes]:
        """One more sshd of the lab on ``addr`` (the caller stops it); ``extra``: sshd_config lines."""
        conf = _sshd_config(self, addr, self.dir / hostkey, extra)
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _wait_listening(addr, self.port, proc)
        return proc

    def spec(self, name: str) -> str:
        return f"ssh://root@{ADDRESSES[name]}:{self.port}"

    def inventory(self, hosts: dict[str, dict[str, Any]] | None = None, *,
                  groups: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None,
                  filename: str = "inventory.yaml",
                  known_hosts: Path | None = None) -> Path:
        """Write an inventory; ``hosts`` values may name a lab server with ``lab: NAME``."""
        body: dict[str, Any] = {
            "known_hosts": str(known_hosts or self.known_hosts),
            "defaults": {"user": "root", "port": self.port, "key_file": str(self.client_key),
                         # 8 s: sshd answers slowly on a loaded 2-core CI machine (3 s flaked at load 10)
                         "connect_timeout": 8, "command_timeout": 30, **(defaults or {})},
            "hosts": {},
        }
        for name, settings in (hosts or {n: {"lab": n} for n in ("ok", "files_b", "files_c")}).items():
            s = dict(settings)
            lab_name = s.pop("lab", None)
            if lab_name:
                s.setdefault("address", ADDRESSES[lab_name])
            body["hosts"][name] = s
        if groups:
            body["groups"] = groups
        path = self.dir / filename
        path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
        return path


def _free_port(addresses: list[str]) -> int:
    for port in range(2322, 2400):
        try:
            for addr in addresses:
                with socket.socket() as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind((addr, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port for the test sshd servers")


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def _sshd_config(lab: Lab, addr: str, hostkey: Path, extra: str = "") -> Path:
    conf = lab.dir / f"sshd_{addr}.conf"
    conf.write_text(f"""ListenAddress {addr}
Port {lab.port}
HostKey {hostkey}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {lab.dir}/authorized_keys
StrictModes no
UsePAM no
PidFile none
MaxSessions 50
LogLevel ERROR
{extra}
""")
    return conf


def _wait_listening(addr: str, port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd on {addr}:{port} exited with {proc.returncode}")
        try:
            with socket.create_connection((addr, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd on {addr}:{port} did not start listening")


class SilentServer:
    """Accepts TCP connections and never says anything."""

    def __init__(self, addr: str, port: int) -> None:
        self.sock = socket.create_server((addr, port))
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


SERVERS = [  # name, host key, extra sshd_config, directory bind-mounted on LAB/shared
    ("ok", "hostkey", "", None),
    ("files_b", "hostkey", "", "data/b"),
    ("files_c", "hostkey", "", "data/c"),
    ("changed", "otherkey", "", None),
    ("drop", "hostkey", "ForceCommand head -c 300000 /dev/zero; kill -9 $PPID", None),
    ("crowded", "hostkey", "MaxStartups 1", None),
]


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _start_lab(root: Path, port: int) -> tuple[Lab, list[Any]]:
    """The servers on ``port``; raises (servers stopped) when one cannot bind it."""
    known = root / "known_hosts"
    line = " ".join((root / "hostkey.pub").read_text().split()[:2])
    known.write_text("".join(f"[{a}]:{port} {line}\n" for a in ADDRESSES.values()))
    lab = Lab(root, port, root / "client", known, root / "hostkey.pub", root / "otherkey.pub",
              root / "canary")
    down = socket.socket()  # bound, never listening: "down" refuses, and nothing else can take its port
    held: list[Any] = [down]
    try:
        down.bind((ADDRESSES["down"], port))
        held.append(SilentServer(ADDRESSES["silent"], port))
        for name, key, extra, bind in SERVERS:
            addr = ADDRESSES[name]
            conf = _sshd_config(lab, addr, root / key, extra)
            argv = [SSHD, "-D", "-e", "-f", str(conf)]
            if bind:  # own mount namespace: LAB/shared shows this host's files
                script = f"mount --bind {root / bind} {root / 'shared'} && exec {' '.join(argv)}"
                argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
            log = open(root / f"sshd_{name}.log", "wb")  # noqa: SIM115 - lives as long as the server
            proc = subprocess.Popen(argv, stdout=log, stderr=log)
            lab.procs.append(proc)
            _wait_listening(addr, port, proc)
    except (OSError, RuntimeError):
        _stop(lab.procs)
        for h in held:
            h.close()
        raise
    return lab, held


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not os.path.exists(SSHD) or os.geteuid() != 0:
        pytest.skip("needs root and openssh-server (tests/setup-services.sh)")
    root = tmp_path_factory.mktemp("sshlab")
    os.chmod(root, 0o755)
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    for name in ("hostkey", "otherkey", "client"):
        _keygen(root / name)
    (root / "authorized_keys").write_text((root / "client.pub").read_text())
    for d, version in (("shared", "app 1.0"), ("data/b", "app 2.5"), ("data/c", None)):
        (root / d).mkdir(parents=True)
        if version:
            (root / d / "version").write_text(version + "\n")
    for attempt in range(5):  # a port found free can be taken before the servers bind it: try another
        try:
            lab, held = _start_lab(root, _free_port(list(ADDRESSES.values())))
            break
        except (OSError, RuntimeError):
            if attempt == 4:
                raise
    try:
        yield lab
    finally:
        for h in held:
            h.close()
        _stop(lab.procs)


@dataclass
class NetLab:
    """A jump host reachable from here and hosts only it can reach (their own network namespace, no route)."""

    jump: str
    inner: dict[str, str]  # name -> address behind the jump host
    known_hosts: Path


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _wait_listening_in(netns: str, port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd in network namespace {netns} exited with {proc.returncode}")
        listening = subprocess.run(["ss", "-N", netns, "-ltnH"], capture_output=True, text=True).stdout
        if f":{port} " in listening:
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd in network namespace {netns} did not start listening")


@pytest.fixture(scope="session")
def netlab(lab: Lab) -> Iterator[NetLab]:
    """here --veth-- [jump namespace: sshd on J] --veth-- [inner namespace: sshd on B and C]: the inner hosts
    answer only through the jump host (no route from here), so a test that bypasses the jump channel fails.
    B and C also have their own mount namespaces (LAB/shared shows data/b and data/c, as files_b/files_c)."""
    if not shutil.which("ip") or not shutil.which("ss"):
        pytest.skip("needs iproute2 (ip, ss)")
    tag, n = os.getpid() % 100000, os.getpid() % 250 + 1
    jump_ns, inner_ns, here_if = f"medic-jump-{tag}", f"medic-inner-{tag}", f"mj{tag}"
    jump, inner = f"10.231.{n}.2", {"b": f"10.232.{n}.2", "c": f"10.232.{n}.3"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        _ip("netns", "add", jump_ns)
        _ip("netns", "add", inner_ns)
        _ip("link", "add", here_if, "type", "veth", "peer", "name", "up0", "netns", jump_ns)
        _ip("addr", "add", f"10.231.{n}.1/30", "dev", here_if)
        _ip("link", "set", here_if, "up")
        # no route from here, and nothing else answers for them either (a catch-all proxy on a default route)
        _ip("route", "add", "unreachable", f"10.232.{n}.0/29")
        _ip("-n", jump_ns, "link", "add", "down0", "type", "veth", "peer", "name", "up0", "netns", inner_ns)
        _ip("-n", jump_ns, "addr", "add", f"{jump}/30", "dev", "up0")
        _ip("-n", jump_ns, "addr", "add", f"10.232.{n}.1/29", "dev", "down0")
        for address in inner.values():
            _ip("-n", inner_ns, "addr", "add", f"{address}/29", "dev", "up0")
        for ns, links in ((jump_ns, ("lo", "up0", "down0")), (inner_ns, ("lo", "up0"))):
            for link in links:
                _ip("-n", ns, "link", "set", link, "up")
        servers = [(jump_ns, jump, None), (inner_ns, inner["b"], "data/b"), (inner_ns, inner["c"], "data/c")]
        for ns, address, bind in servers:
            argv = [SSHD, "-D", "-e", "-f", str(_sshd_config(lab, address, lab.dir / "hostkey"))]
            if bind:
                script = f"mount --bind {lab.dir / bind} {lab.dir / 'shared'} && exec {' '.join(argv)}"
                argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
            procs.append(subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        for (ns, _, _), proc in zip(servers, procs, strict=True):
            _wait_listening_in(ns, lab.port, proc)
        known = lab.dir / "known_hosts_netlab"
        key = " ".join(lab.host_pub.read_text().split()[:2])
        known.write_text("".join(f"[{a}]:{lab.port} {key}\n" for a in [jump, *inner.values()]))
        yield NetLab(jump, inner, known)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run(["ip", "route", "del", "unreachable", f"10.232.{n}.0/29"], capture_output=True, timeout=30)
        for ns in (inner_ns, jump_ns):  # deleting a namespace deletes its end of the veth pairs, and the pair
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def run_playbook(specs: list[str], playbook: str = "triage", inputs: dict[str, Any] | None = None,
        **options: Any) -> tuple[Any, list[Any]]:
    session = Session(config={})
    pb = session.load_playbook(playbook)
    targets = session.open_targets(specs, options)
    try:
        result = Engine(session.registry, session.hooks).run(pb, targets, pb.bind_inputs(inputs or {}))
    finally:
        for t in targets:
            t.close()
    return result, targets


def result_statuses(result: Any, target: str) -> dict[tuple[str, str | None], Status]:
    return {(f.check, f.subject): f.status for f in result.findings() if f.target == target}


@pytest.fixture
def runner() -> Any:
    """``runner(specs, playbook="triage", inputs=None, **options)``: an inline engine run, targets closed."""
    return run_playbook


@pytest.fixture
def statuses() -> Any:
    """``statuses(result, target)``: {(check, subject): status} of one target's findings."""
    return result_statuses


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``medic ARGS`` in-process; return (exit code, stdout, stderr)."""
    from medic.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
