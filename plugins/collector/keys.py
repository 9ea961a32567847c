"""The collector's secrets: the Ed25519 receipt key, the TLS certificate (self-signed when none is given), the
certificate pin agents check, and receipt signing over canonical JSON (the protocol's definition)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import os
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID


def write_secret(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 from the start (never world-readable, not even for a moment)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def new_receipt_key(path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    write_secret(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))


def load_receipt_key(path: Path) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def public_key_info(key: ed25519.Ed25519PrivateKey) -> dict[str, str]:
    """``{"key_id", "public_key"}`` as enrollment hands them to the agent."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"key_id": hashlib.sha256(raw).hexdigest()[:16], "public_key": base64.b64encode(raw).decode()}


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_receipt(key: ed25519.Ed25519PrivateKey, receipt: dict[str, Any]) -> dict[str, Any]:
    return {"receipt": receipt, "signature": base64.b64encode(key.sign(canonical(receipt))).decode()}


def self_signed_certificate(cert_path: Path, key_path: Path, host: str) -> None:
    """A P-256 certificate for ``host`` (plus localhost and 127.0.0.1), valid 10 years; agents pin it."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(names))), critical=False)
            .sign(key, hashes.SHA256()))
    write_secret(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def certificate_pin(cert_path: Path) -> str:
    """``sha256:HEX`` of the certificate's DER, what ``medic-agent enroll --pin`` expects."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
