"""Malicious and damaged bundles uploaded to a real collector: each arrives byte for byte (the tus part is
fine), then medic's reader refuses it: the receipt request answers 422 with a problem naming the rule and the
member, no receipt is signed, the bytes are not kept, no case is opened and nothing is written outside the
collector's directory."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import TUS, Running, make_bundle, medic, pin, run_agent, start_collector

GOOD = b"hello\n"
Entry = tuple[tarfile.TarInfo, bytes | None]


def manifest_for(listed: list[tuple[str, bytes]], **overrides: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format_version": 1, "agent_version": "0.1.0", "host": "evil", "started_at": "t0", "finished_at": "t1",
        "members": [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest(), "kind": "file"}
                    for p, d in listed],
        "probes": [], "skipped": [], "redaction": {}, "info": {}}
    manifest.update(overrides)
    return manifest


def regular(name: str, data: bytes = GOOD) -> Entry:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def tar_bytes(entries: list[Entry], manifest: Any = None, listed: list[tuple[str, bytes]] | None = None,
              fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar: manifest.json first (a dict, raw bytes, or False for none), then ``entries`` as given."""
    if manifest is None:
        manifest = manifest_for([("logs/ok.txt", GOOD)] if listed is None else listed)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        if manifest is not False:
            raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
            tar.addfile(regular("manifest.json", raw)[0], io.BytesIO(raw))
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def bundle(entries: list[Entry], **kwargs: Any) -> bytes:
    return gzip.compress(tar_bytes([regular("logs/ok.txt"), *entries], **kwargs))


def pax_path(name: str) -> Entry:
    info, data = regular("innocent.txt")
    info.pax_headers = {"path": name}
    return info, data


def unended(entries: list[Entry]) -> bytes:
    """manifest.json and ``entries`` as tar blocks, without the end-of-archive blocks: more may follow."""
    raw = json.dumps(manifest_for([("logs/ok.txt", GOOD)])).encode()
    out = b""
    for info, data in [regular("manifest.json", raw), *entries]:
        out += info.tobuf(tarfile.PAX_FORMAT)
        if data:
            out += data + bytes(-len(data) % tarfile.BLOCKSIZE)
    return out


def bomb() -> bytes:
    """A valid start, then ~600 MiB of zeros that gzip makes about 600 KiB: over the reader's stream cap."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [z.compress(unended([regular("logs/ok.txt")]))]
    zeros = bytes(1 << 20)
    out += [z.compress(zeros) for _ in range(600)]
    return b"".join(out) + z.flush()


def corrupt_middle() -> bytes:
    data = bytearray(make_bundle(Path(tempfile.mkdtemp()) / "b.tar.gz", members=3, size=20_000).read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 16):
        data[i] ^= 0xFF
    return bytes(data)


def truncated() -> bytes:
    return make_bundle(Path(tempfile.mkdtemp()) / "b.tar.gz", members=3, size=20_000).read_bytes()[:-300]


def a_zip() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest_for([])))
    return buf.getvalue()


def oversized() -> bytes:
    """A member whose header claims 2 GiB (past the 64 MiB member cap): refused before its data is read."""
    info, _ = regular("logs/huge.bin", b"")
    info.size = 2 << 30
    return gzip.compress(unended([regular("logs/ok.txt"), (info, None)]) + bytes(4096))


OUTSIDE = "/tmp/medic-collector-evil"  # an absolute path members aim at; it must never appear
CASES: dict[str, Callable[[], bytes]] = {
    "absolute-path": lambda: bundle([regular(OUTSIDE)]),
    "dot-dot": lambda: bundle([regular("../evil")]),
    "dot-dot-deep": lambda: bundle([regular("../../../../../../tmp/medic-collector-evil")]),
    "dot-dot-inside": lambda: bundle([regular("logs/../../evil")]),
    "dot-slash-dot-dot": lambda: bundle([regular("./../evil")]),
    "pax-path-traversal": lambda: bundle([pax_path("../pax-evil")]),
    "pax-path-absolute": lambda: bundle([pax_path(OUTSIDE)]),
    "gnu-longname-traversal": lambda: bundle([regular("a" * 120 + "/../../../evil")], fmt=tarfile.GNU_FORMAT),
    "dot-dot-directory": lambda: bundle([special("./logs/../..", tarfile.DIRTYPE)]),
    "symlink-absolute": lambda: bundle([special("logs/link", tarfile.SYMTYPE, "/etc/passwd")]),
    "symlink-relative-out": lambda: bundle([special("logs/up", tarfile.SYMTYPE, "../../..")]),
    "symlink-then-write-through": lambda: bundle([special("logs/t", tarfile.SYMTYPE, "/tmp"),
                                                  regular("logs/t/medic-collector-evil")]),
    "hardlink-inside": lambda: bundle([special("logs/hard", tarfile.LNKTYPE, "manifest.json")]),
    "hardlink-outside": lambda: bundle([special("logs/hard", tarfile.LNKTYPE, "/etc/shadow")]),
    "char-device": lambda: bundle([special("dev/null", tarfile.CHRTYPE)]),
    "block-device": lambda: bundle([special("dev/sda", tarfile.BLKTYPE)]),
    "fifo": lambda: bundle([special("pipe", tarfile.FIFOTYPE)]),
    "unlisted-directory": lambda: bundle([special("etc", tarfile.DIRTYPE)]),
    "member-not-in-manifest": lambda: bundle([regular("logs/extra.txt", b"not listed")]),
    "listed-member-missing": lambda: bundle([], listed=[("logs/ok.txt", GOOD), ("logs/gone.txt", b"x")]),
    "member-hash-differs": lambda: bundle([], listed=[("logs/ok.txt", b"HELLO\n")]),
    "member-size-differs": lambda: bundle([], listed=[("logs/ok.txt", GOOD + b"more")]),
    "member-stored-twice": lambda: bundle([regular("logs/ok.txt")]),
    "manifest-twice": lambda: bundle([regular("manifest.json", json.dumps(manifest_for([])).encode())]),
    "no-manifest": lambda: bundle([], manifest=False),
    "manifest-not-json": lambda: bundle([], manifest=b"{not json"),
    "manifest-lists-dot-dot": lambda: bundle([], listed=[("logs/ok.txt", GOOD), ("../evil", GOOD)]),
    "manifest-lists-absolute": lambda: bundle([], listed=[("logs/ok.txt", GOOD), (OUTSIDE, GOOD)]),
    "manifest-future-format": lambda: bundle([], manifest=manifest_for([("logs/ok.txt", GOOD)], format_version=99)),
    "oversized-member-header": oversized,
    "gzip-bomb": bomb,
    "corrupt-gzip": corrupt_middle,
    "truncated-gzip": truncated,
    "plain-tar": lambda: tar_bytes([regular("logs/ok.txt")]),
    "zip": a_zip,
    "empty-file": lambda: b"",
    "random-bytes": lambda: bytes(range(256)) * 64,
}


def send(client: Any, data: bytes, sha256: str | None = None) -> tuple[str, Any]:
    """Create and PATCH every byte (1 MiB chunks); then the receipt request's answer."""
    meta = {"filename": "evil.tar.gz", "sha256": sha256 or hashlib.sha256(data).hexdigest(), "size": str(len(data))}
    created = client.post("/files/", headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    for offset in range(0, len(data), 1 << 20):
        chunk = data[offset:offset + (1 << 20)]
        answer = client.patch(location, content=chunk, headers={
            **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
            "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(chunk).digest()).decode()})
        assert answer.status_code == 204, answer.text  # every byte arrives; the reader refuses the whole
    return location.rsplit("/", 1)[1], client.get(f"{location}/receipt", headers=TUS)


@pytest.fixture(scope="module")
def server_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's own TMPDIR: its read directories are compared, not those of other processes on this machine."""
    return tmp_path_factory.mktemp("malicious-tmp")


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory, server_temp: Path) -> Iterator[Running]:
    # max_bundle_size 256 MiB derives the reader's caps of `medic bundles inspect` (64 MiB a member, 512 MiB in
    # all): the bomb's 600 MiB and the 2 GiB member are over them (test_caps.py: caps that follow the config)
    running = start_collector(tmp_path_factory.mktemp("malicious"), "enroll_per_minute: 600\nmax_bundle_size: 256MiB\n",
                              {"TMPDIR": str(server_temp)})
    try:
        yield running
    finally:
        running.server.stop()


def snapshot(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


def refused_cleanly(collector: Running, upload_id: str, answer: Any, field: str) -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    doc = dict(answer.json())
    assert doc["type"] == "urn:medic:collector:bundle-refused" and doc["field"] == field and doc["rule"], doc
    assert "receipt" not in doc and str(collector.directory) not in doc["detail"]  # no server path leaks
    uploads = collector.directory / "uploads"
    assert not list(uploads.glob(f"{upload_id}*"))  # neither kept as .part nor delivered as .tar.gz
    assert not list((collector.directory / "cases").rglob(f"*{upload_id}*"))  # no receipt, no triage
    (row,) = [u for u in json.loads(medic("collector", "uploads", "list", "--json", "--dir",
                                          str(collector.directory)).stdout) if u["upload_id"] == upload_id]
    assert row["state"] == "refused" and row["case_id"] is None and row["problem"] == doc["detail"]
    return doc


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_malicious_bundle_is_refused_and_nothing_is_written(collector: Running, server_temp: Path, case: str) -> None:
    data = CASES[case]()
    agent = collector.enroll(f"evil-{case}")
    outside = collector.directory.parent
    before = snapshot(outside) - snapshot(collector.directory)
    temp_before = set(server_temp.iterdir())
    with collector.client(str(agent["token"])) as client:
        upload_id, answer = send(client, data)
    doc = refused_cleanly(collector, upload_id, answer, "bundle")
    assert doc["rule"] in ("BundleUnsafe", "BundleCorrupt", "BundleFormatError"), doc
    after = snapshot(outside) - snapshot(collector.directory)
    assert {p for p in after - before if not p.endswith(".log")} == set()
    assert not Path(OUTSIDE).exists() and not (outside / "evil").exists() and not (outside / "pax-evil").exists()
    assert set(server_temp.iterdir()) == temp_before
    cases = json.loads(medic("cases", "list", "--json", env=collector.server.env).stdout or "[]")
    assert not [c for c in cases if c.get("agent_id") == agent["agent_id"]]  # no case opened for it


def test_a_whole_file_hash_other_than_declared_is_refused(collector: Running, tmp_path: Path) -> None:
    data = make_bundle(tmp_path / "b.tar.gz", seed=11).read_bytes()
    agent = collector.enroll("liar")
    with collector.client(str(agent["token"])) as client:
        upload_id, answer = send(client, data, sha256=hashlib.sha256(b"another bundle").hexdigest())
    doc = refused_cleanly(collector, upload_id, answer, "Upload-Metadata")
    assert doc["rule"] == "whole-file sha256" and hashlib.sha256(data).hexdigest() in doc["detail"]


def test_the_agent_keeps_a_refused_bundle_and_says_why(collector: Running, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert run_agent(state, "enroll", collector.server.url, "--code", collector.code("agent-evil"), "--pin",
                     pin(collector)).returncode == 0
    path = tmp_path / "medic-bundle-evil.tar.gz"
    path.write_bytes(CASES["symlink-absolute"]())
    done = run_agent(state, "upload", str(path))
    assert done.returncode == 5 and path.exists(), done.stderr
    assert done.stderr.count("\n") == 1 and "refused the bundle" in done.stderr and "logs/link" in done.stderr
