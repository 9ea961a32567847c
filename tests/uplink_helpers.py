"""A test CA, and an independent tus server (tuspyserver, FastAPI) over TLS on 127.0.0.1 for the agent's client.

tuspyserver does the tus part (creation, HEAD, PATCH, termination; it ignores Upload-Checksum). Two small routes
beside it stand in for the collector's enrollment and receipt (the protocol's JSON and Ed25519 signature, made
with ``cryptography``), so the agent's whole path runs against real HTTP over TLS before the real collector exists.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from tuspyserver import create_tus_router


@dataclass(frozen=True)
class TestCA:
    __test__ = False  # a data class, not tests

    ca: Path
    cert: Path
    key: Path
    pin: str  # sha256:HEX of the server certificate's DER
    other_ca: Path  # a CA that signed nothing here


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_ca(directory: Path) -> TestCA:
    ca_key, ca_cert = _ca("medic test CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(san, critical=False).sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    paths = TestCA(directory / "ca.pem", directory / "cert.pem", directory / "key.pem",
                   "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
                   directory / "other-ca.pem")
    paths.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    paths.other_ca.write_bytes(_ca("another CA")[1].public_bytes(serialization.Encoding.PEM))
    return paths


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return make_ca(tmp_path_factory.mktemp("tls"))


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass
class TusStandIn:
    """The running server and the knobs tests turn: codes, tokens, the receipt's signing key."""

    url: str
    files: Path
    receipt_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    signing_key: Ed25519PrivateKey | None = None  # None: sign with receipt_key; else a wrong key
    codes: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    patches: list[tuple[str, int, int]] = field(default_factory=list)  # (upload id, offset, length) as received
    fail_patches: list[tuple[int, str]] = field(default_factory=list)  # next PATCHes: (status, Retry-After), 0 passes

    def new_code(self) -> str:
        code = secrets.token_urlsafe(12)
        self.codes.add(code)
        return code

    @property
    def key_id(self) -> str:
        return hashlib.sha256(raw_public(self.receipt_key)).hexdigest()[:16]


def _app(state: TusStandIn) -> FastAPI:
    def auth(authorization: str = Header(None)) -> None:
        if not authorization or authorization.removeprefix("Bearer ") not in state.tokens:
            raise HTTPException(status_code=401, detail="unknown or revoked token")

    app = FastAPI()

    @app.middleware("http")
    async def record_patches(request: Request, call_next: Any) -> Any:
        if request.method == "PATCH":
            status, retry_after = state.fail_patches.pop(0) if state.fail_patches else (0, "")
            if status:  # 0: let this one through
                return JSONResponse({"title": "try later", "status": status}, status_code=status,
                                    headers={"Retry-After": retry_after} if retry_after else {})
            state.patches.append((request.url.path.rsplit("/", 1)[-1], int(request.headers["upload-offset"]),
                                  int(request.headers.get("content-length", 0))))
        return await call_next(request)

    @app.post("/enroll", status_code=201)
    def enroll(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("code") not in state.codes:
            raise HTTPException(status_code=401, detail="unknown, used or expired code")
        state.codes.discard(body["code"])
        token = secrets.token_urlsafe(32)
        state.tokens.add(token)
        key = {"key_id": state.key_id, "public_key": base64.b64encode(raw_public(state.receipt_key)).decode()}
        return {"agent_id": "agent-" + secrets.token_hex(4), "token": token, "receipt_key": key,
                "uploads": "/files/", "tus_max_size": 1 << 30}

    @app.get("/files/{uid}/receipt")
    def receipt(uid: str, authorization: str = Header(None)) -> JSONResponse:
        auth(authorization)
        data = (state.files / uid).read_bytes()
        info = json.loads((state.files / f"{uid}.info").read_text())
        if info.get("offset") != info.get("size"):
            return JSONResponse({"title": "upload not complete", "status": 409}, status_code=409)
        body = {"agent_id": "agent", "upload_id": uid, "bundle_sha256": hashlib.sha256(data).hexdigest(),
                "bundle_size": len(data), "manifest_sha256": "0" * 64, "members_verified": 1,
                "received_at": "2026-12-05T21:00:00Z", "case_id": f"case-{uid[:8]}", "key_id": state.key_id}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        signature = (state.signing_key or state.receipt_key).sign(canonical)
        return JSONResponse({"receipt": body, "signature": base64.b64encode(signature).decode()})

    app.include_router(create_tus_router(prefix="files", files_dir=str(state.files), auth=auth))
    return app


@pytest.fixture(scope="module")
def tus_stand_in(test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TusStandIn]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    state = TusStandIn(f"https://127.0.0.1:{sock.getsockname()[1]}", tmp_path_factory.mktemp("tus-files"))
    config = uvicorn.Config(_app(state), log_level="error", lifespan="off", ssl_certfile=str(test_ca.cert),
                            ssl_keyfile=str(test_ca.key))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield state
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
