"""A PATCH cut short keeps the prefixes its client vouched for (Medic-Checksum-Prefixes, plugins/collector/
prefixes.py): a killed agent's next process re-sends under one block of it instead of the whole PATCH. Only bytes
whose prefix digest matched are kept, fsync'ed before HEAD shows them; a wrong header is a 400 naming it. Real
collector, real TLS sockets on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
from collector_helpers import TUS, Running, checksum, create, cut_patch_raw, make_bundle, patch

from medic.agent.uplink.tus import Digests
from medic.plugins.collector.prefixes import HEADER, PrefixHasher, keep_verified

MiB = 1 << 20


def prefixes(body: bytes, block: int = MiB) -> str:
    return f"sha256 {block} " + ",".join(base64.b64encode(d).decode() for d in Digests(body, block).prefixes)


def cut_patch(collector: Running, token: str, location: str, body: bytes, sent: int, header: str) -> None:
    """PATCH ``body`` at offset 0 over a raw TLS connection, but only its first ``sent`` bytes, then end the
    connection as a killed agent's kernel does and wait for the collector to close."""
    cut_patch_raw(collector, token, location, f"Upload-Checksum: {checksum(body)}\r\n{HEADER}: {header}\r\n",
                  len(body), body[:sent])


@pytest.fixture
def bundle(tmp_path: Path) -> bytes:
    bundle = make_bundle(tmp_path / "b.tar.gz", members=3, size=6 * MiB).read_bytes()  # half of each is random
    assert len(bundle) > 9 * MiB
    return bundle


@pytest.mark.parametrize(("spoil", "kept"), [
    (None, 5 * MiB),  # 5.5 MiB of an 8 MiB PATCH arrived: the 5 whole checked MiB are kept
    ("byte", 2 * MiB),  # a byte changed in the third MiB: its prefix does not match, nothing from there is kept
    ("digest", 2 * MiB),  # the third prefix's digest is wrong: the same
])
def test_a_cut_patch_keeps_its_checked_prefix_and_the_upload_completes(
        collector: Running, agent: dict[str, object], bundle: bytes, spoil: str | None, kept: int) -> None:
    token = str(agent["token"])
    body, header = bundle[:8 * MiB], prefixes(bundle[:8 * MiB])
    if spoil == "byte":
        body = body[:2 * MiB + 7] + bytes([body[2 * MiB + 7] ^ 1]) + body[2 * MiB + 8:]
    if spoil == "digest":
        listed = header.split(" ")[2].split(",")
        listed[2] = base64.b64encode(hashlib.sha256(b"not it").digest()).decode()
        header = f"sha256 {MiB} " + ",".join(listed)
    with collector.client(token) as client:
        created = create(client, bundle)
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        cut_patch(collector, token, location, body, 5 * MiB + MiB // 2, header)
        assert client.head(location, headers=TUS).headers["upload-offset"] == str(kept)
        rest = patch(client, location, kept, bundle[kept:])
        assert rest.status_code == 204, rest.text
        receipt = client.get(f"{location}/receipt", headers=TUS)
        assert receipt.status_code == 200, receipt.text
        assert receipt.json()["receipt"]["bundle_sha256"] == hashlib.sha256(bundle).hexdigest()


def test_without_the_header_a_cut_patch_keeps_nothing(collector: Running, agent: dict[str, object],
                                                      bundle: bytes) -> None:
    """tus's own rule for clients that do not send the header (the same cut as above, one block of digests
    naming a 64 KiB block past what is sent keeps nothing either)."""
    token = str(agent["token"])
    with collector.client(token) as client:
        location = create(client, bundle).headers["location"]
        body = bundle[:8 * MiB]
        cut_patch(collector, token, location, body, 60 << 10, prefixes(body, 64 << 10))
        assert client.head(location, headers=TUS).headers["upload-offset"] == "0"


@pytest.mark.parametrize(("header", "says"), [
    ("sha1 1048576 AAAA", "not Upload-Checksum's"),
    ("sha256 4096 x", "at least 65536"),
    ("sha256 1048576 AAAA", "1 digests for a body of 3145728 bytes"),
    ("sha256 1048576", "expected ALGORITHM BLOCK_BYTES"),
    ("sha256 1048576 !!!!,AAAA", "not base64"),
    ("sha256 1048576 AAAA,AAAA", "every digest is 32 bytes"),
])
def test_a_wrong_header_is_a_400_naming_it_and_changes_nothing(collector: Running, agent: dict[str, object],
                                                               bundle: bytes, header: str, says: str) -> None:
    with collector.client(str(agent["token"])) as client:
        location = create(client, bundle).headers["location"]
        answer = patch(client, location, 0, bundle[:3 * MiB], **{HEADER: header})
        assert answer.status_code == 400, answer.text
        assert says in answer.json()["detail"] and answer.json()["field"] == HEADER, answer.text
        assert client.head(location, headers=TUS).headers["upload-offset"] == "0"
        whole = patch(client, location, 0, bundle[:3 * MiB], **{HEADER: prefixes(bundle[:3 * MiB])})
        assert whole.status_code == 204 and whole.headers["upload-offset"] == str(3 * MiB), whole.text


@pytest.mark.parametrize("pieces", [1, 7, 1000])
def test_prefixes_are_checked_whatever_the_pieces_the_body_comes_in(pieces: int) -> None:
    body = os.urandom(3 * MiB + 5)
    digests = Digests(body, 1 << 16)
    hasher = PrefixHasher(hashlib.sha256(), 1 << 16, digests.prefixes)
    step = -(-len(body) // pieces)
    for start in range(0, (3 * MiB) // 2, step):  # the first half only: a cut body
        hasher.update(body[start:min(start + step, (3 * MiB) // 2)])
    assert hasher.verified == (3 * MiB) // 2 // (1 << 16) * (1 << 16)
    for start in range(hasher.hashed, len(body), step):
        hasher.update(body[start:start + step])
    assert hasher.digest() == digests.whole == hashlib.sha256(body).digest()


def test_a_prefix_hashed_but_not_written_is_not_kept(tmp_path: Path) -> None:
    """The body is hashed before it is written: when the write of the last part failed as the client vanished
    (a full disk), the kept offset stops at the last whole block that reached the file, never past it (truncating
    up to the verified length would have filled the missing bytes with zeros and recorded them as the client's)."""
    block, offset = 1 << 16, 1000
    body = os.urandom(3 * block + 5)
    hasher = PrefixHasher(hashlib.sha256(), block, Digests(body, block).prefixes)
    hasher.update(body)
    assert hasher.verified == 3 * block
    data = tmp_path / "upload"
    data.write_bytes(b"a" * offset + body[:2 * block + block // 2])  # the write of the rest failed
    with data.open("r+b") as f:
        kept = keep_verified(f, offset, hasher, written=offset + 2 * block + block // 2)
    assert kept == offset + 2 * block
    assert data.read_bytes() == b"a" * offset + body[:2 * block]
    with data.open("r+b") as f:  # everything written: the whole verified prefix is kept
        assert keep_verified(f, offset, hasher, written=offset + 2 * block) == offset + 2 * block
