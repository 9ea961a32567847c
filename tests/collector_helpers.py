"""Helpers of the collector tests: a CA made here and a server certificate it signs, a real `medic collector
serve` process on 127.0.0.1, small bundles, and tus requests made by hand with httpx."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from medic.kernel.bundle import BundleWriter
from medic.plugins.collector.store import Store

MEDIC = str(Path(sys.executable).with_name("medic"))
TUS = {"Tus-Resumable": "1.0.0"}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1, server key): a private CA as a support team has one."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("medic test CA")).issuer_name(_name("medic test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def medic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MEDIC, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


class Server:
    """`medic collector serve DIR` in its own process; kill() is kill -9."""

    def __init__(self, directory: Path, port: int, ca: Path, env: dict[str, str] | None = None) -> None:
        self.directory, self.port, self.ca = directory, port, ca
        self.url = f"https://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = directory.parent / f"serve-{port}.log"
        # its own state and configuration: a module-scoped server starts before the per-test isolation, and the
        # cases plugin it loads writes the cases that arriving bundles open
        home = directory.parent / "home"
        self.env = {**os.environ, "XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config"),
                    **(env or {})}

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([MEDIC, "collector", "serve", str(self.directory)], stdout=log,
                                         stderr=subprocess.STDOUT, env=self.env)
        context = ssl.create_default_context(cafile=str(self.ca))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw, \
                        context.wrap_socket(raw, server_hostname="127.0.0.1"):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"collector did not start: {self.log.read_text()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, verify=ssl.create_default_context(cafile=str(self.ca)),
                            headers={**auth, **headers}, timeout=30)


def make_bundle(path: Path, members: int = 3, size: int = 2000, seed: int = 0, host: str = "web01") -> Path:
    """A bundle of random logs. Bundles of one host (or agent) join that host's open case."""
    with BundleWriter(path, host=host) as writer:
        for i in range(members):
            writer.add_bytes(f"logs/{i}.log", os.urandom(size // 2) + bytes([seed % 256]) * (size // 2))
    return path


def metadata(data: bytes, name: str = "bundle.tar.gz", sha256: str | None = None) -> str:
    pairs = {"filename": name, "sha256": sha256 or hashlib.sha256(data).hexdigest(), "size": str(len(data))}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def checksum(chunk: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, chunk).digest()).decode()}"


def create(client: httpx.Client, data: bytes, **headers: str) -> httpx.Response:
    return client.post("/files/", headers={**TUS, "Upload-Length": str(len(data)),
                                           "Upload-Metadata": metadata(data), **headers})


def patch(client: httpx.Client, location: str, offset: int, chunk: bytes, **headers: str) -> httpx.Response:
    return client.patch(location, content=chunk, headers={
        **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
        "Upload-Checksum": checksum(chunk), **headers})


def upload(client: httpx.Client, data: bytes, chunk: int = 1 << 16) -> tuple[str, dict[str, Any]]:
    """Create, send every chunk, fetch the receipt: (location, receipt response JSON or problem)."""
    created = create(client, data)
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    offset = int(client.head(location, headers=TUS).headers["upload-offset"])
    while offset < len(data):
        answer = patch(client, location, offset, data[offset:offset + chunk])
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["upload-offset"])
    return location, client.get(f"{location}/receipt", headers=TUS).json()


@dataclass
class Running:
    server: Server
    directory: Path
    ca: Path

    def code(self, name: str = "pc-1", quota: int = 1 << 30, ttl: int = 3600) -> str:
        store = Store(self.directory / "state.sqlite")
        try:
            return store.new_code(name, quota, ttl)
        finally:
            store.close()

    def enroll(self, name: str = "pc-1", quota: int = 1 << 30) -> dict[str, object]:
        with self.server.client() as client:
            answer = client.post("/enroll", json={"code": self.code(name, quota), "name": name})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def client(self, token: str) -> httpx.Client:
        return self.server.client(token)


def start_collector(base: Path, extra_config: str = "", env: dict[str, str] | None = None) -> Running:
    """``medic collector init`` and ``serve`` under ``base``; ``env``: more environment for the server (e.g. a
    Prefect server's PREFECT_API_URL)."""
    ca, cert, key = make_ca(base / "pki")
    directory = base / "collector"
    port = free_port()
    done = medic("collector", "init", str(directory), "--cert", str(cert), "--key", str(key),
                 "--bind", f"127.0.0.1:{port}")
    assert done.returncode == 0, done.stderr
    if extra_config:
        with (directory / "collector.yaml").open("a") as f:
            f.write(extra_config)
    server = Server(directory, port, ca, env)
    server.start()
    return Running(server, directory, ca)


AGENT = str(Path(sys.executable).with_name("medic-agent"))


def pin(running: Running) -> str:
    """sha256:HEX of the collector's certificate, as `medic collector enroll` prints it."""
    der = ssl.PEM_cert_to_DER_cert((running.directory.parent / "pki" / "server.pem").read_text())
    return "sha256:" + hashlib.sha256(der).hexdigest()


def run_agent(state: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIC_AGENT_STATE_DIR": str(state)}
    return subprocess.run([AGENT, *args], capture_output=True, text=True, timeout=timeout, env=env)


def wait_for(what: str, condition: Any, timeout: float = 120) -> Any:
    """Poll ``condition()`` until it returns something true (the machine may be loaded: no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def cut_patch_raw(collector: Running, token: str, location: str, headers: str, length: int, sent: bytes) -> bytes:
    """A PATCH at offset 0 over a raw TLS connection declaring ``length`` body bytes but sending only ``sent``, then
    the connection ended as a killed agent's kernel ends it (FIN after what was queued, TLS kept for reading);
    returns what the collector answered before it closed. ``headers``: Upload-Checksum and any other, CRLF-ended."""
    path = "/" + location.split("/", 3)[3]
    context = ssl.create_default_context(cafile=str(collector.ca))
    answer = b""
    with socket.create_connection(("127.0.0.1", collector.server.port)) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        head = (f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                f"{headers}Content-Length: {length}\r\n\r\n")
        tls.sendall(head.encode() + sent)
        socket.socket.shutdown(tls, socket.SHUT_WR)
        tls.settimeout(30)
        try:
            while chunk := tls.recv(65536):
                answer += chunk
        except (OSError, ssl.SSLError):  # closed under a TLS layer that had not said goodbye
            pass
    return answer
