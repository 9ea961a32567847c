"""Keep the checked part of a PATCH cut short (a killed agent): the ``Medic-Checksum-Prefixes`` header.

tus's checksum extension checks a PATCH as a whole, so a PATCH whose client dies mid-body is discarded whole and
the agent's next process sends that part again: half a chunk per kill on average (15 ms of an 8 MiB chunk at
260 MiB/s, bench/README-collector.md). With this header the client also gives the digest of every prefix of the
body that ends on a multiple of ``BLOCK`` bytes, in Upload-Checksum's algorithm:

    Medic-Checksum-Prefixes: sha256 1048576 <b64 of sha256(body[:1 MiB])>,<b64 of sha256(body[:2 MiB])>,...

The collector hashes the body once, as before: at each block boundary a copy of the running hasher gives that
prefix's digest, with no second pass over the bytes (the client does the same). A PATCH cut short keeps the
longest prefix whose digest matched: fsync'ed first, then recorded as the upload's offset, so HEAD never answers a
byte that is not durable nor one its client did not vouch for with a digest, as for an acknowledged PATCH. A
complete PATCH is judged by Upload-Checksum alone (460 discards all of it); a client without the header (tuspy,
any other tus client) gets tus's rule: nothing of a cut PATCH is kept.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from typing import Any, BinaryIO

from medic.plugins.collector.problems import Problem

HEADER = "Medic-Checksum-Prefixes"
MIN_BLOCK = 64 << 10  # bounds the header's length and the digests taken per MiB
MAX_PREFIXES = 4096


class PrefixHasher:
    """Upload-Checksum's hasher (same update/digest), which also checks each prefix of the body that ends on a
    block boundary; ``verified`` is the length of the longest prefix checked so far."""

    def __init__(self, hasher: Any, block: int, expected: list[bytes]) -> None:
        self.hasher, self.block, self.expected = hasher, block, expected
        self.hashed = self.verified = 0
        self.mismatch = False  # a prefix did not match: nothing after it is kept either

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            boundary = self.hashed // self.block  # the next prefix to check is expected[boundary]
            if self.mismatch or boundary >= len(self.expected):
                self.hasher.update(view)
                self.hashed += len(view)
                return
            part = view[:(boundary + 1) * self.block - self.hashed]
            self.hasher.update(part)
            self.hashed += len(part)
            view = view[len(part):]
            if self.hashed == (boundary + 1) * self.block:
                if hmac.compare_digest(self.hasher.copy().digest(), self.expected[boundary]):
                    self.verified = self.hashed
                else:
                    self.mismatch = True

    def digest(self) -> bytes:
        return bytes(self.hasher.digest())


def _refuse(detail: str) -> Problem:
    return Problem(400, "Bad Request", f"{HEADER}: {detail}", HEADER)


def prefix_hasher(header: str, hasher: Any, length: int) -> Any:
    """``hasher`` itself without the header, else a PrefixHasher over it. ``length``: the body's Content-Length
    (-1 when not given). The header names Upload-Checksum's algorithm, a block of at least MIN_BLOCK bytes and, when
    the length is known, exactly one digest per whole block before the body's last byte."""
    if not header:
        return hasher
    fields = header.strip().split(" ")
    if len(fields) != 3 or not fields[1].isdigit():
        raise _refuse("expected ALGORITHM BLOCK_BYTES B64,B64,...")
    algorithm, block, listed = fields[0], int(fields[1]), fields[2].split(",")
    if algorithm != hasher.name:
        raise _refuse(f"algorithm {algorithm!r} is not Upload-Checksum's {hasher.name!r}")
    if block < MIN_BLOCK:
        raise _refuse(f"block of {block} bytes: at least {MIN_BLOCK}")
    if len(listed) > MAX_PREFIXES or (length >= 0 and len(listed) != max(length - 1, 0) // block):
        raise _refuse(f"{len(listed)} digests for a body of {length} bytes in blocks of {block}")
    try:
        expected = [base64.b64decode(item, validate=True) for item in listed]
    except binascii.Error:
        raise _refuse("a digest is not base64") from None
    if any(len(digest) != hasher.digest_size for digest in expected):
        raise _refuse(f"every digest is {hasher.digest_size} bytes")
    return PrefixHasher(hasher, block, expected)


def keeps_prefixes(hasher: Any) -> bool:
    return isinstance(hasher, PrefixHasher)


def keep_verified(f: BinaryIO, offset: int, hasher: Any, written: int) -> int:
    """After a cut PATCH written from ``offset`` up to ``written`` (the end of its last write that succeeded):
    truncate the file to the verified prefix (all of it without the header) and make that prefix durable; returns
    the upload's new offset, to be recorded only after this. A prefix is kept only as far as it was written too:
    the body is hashed before it is written, and a write that failed as the client vanished (a full disk) must not
    leave hashed bytes that never reached the file (truncate would fill them with zeros)."""
    kept = min(hasher.verified, (written - offset) // hasher.block * hasher.block) if keeps_prefixes(hasher) else 0
    f.flush()
    f.truncate(offset + kept)
    if kept:
        os.fsync(f.fileno())
    return offset + kept
