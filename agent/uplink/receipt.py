"""The collector's signed receipt, checked before the agent deletes anything.

A receipt proves the collector holds every byte: its Ed25519 signature over the canonical JSON of ``receipt``
must verify under the public key pinned at enrollment, its ``key_id`` must be that key's, and its
``bundle_sha256``/``bundle_size`` must be the agent's own. Anything else raises ReceiptInvalid naming what
differed, and the bundle stays.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from medic.agent.uplink import ed25519
from medic.agent.uplink.errors import ReceiptInvalid

TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    from typing import Any

FIELDS = ("agent_id", "upload_id", "bundle_sha256", "bundle_size", "manifest_sha256", "members_verified",
          "received_at", "case_id", "key_id")


def canonical(receipt: dict[str, Any]) -> bytes:
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def key_id(public_key: bytes) -> str:
    """First 16 hex digits of the sha256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def decode_public_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ReceiptInvalid("the collector's receipt key is not base64 of 32 bytes")
    return raw


def check_receipt(document: Any, *, public_key: str, expected_key_id: str, sha256: str,
                  size: int) -> dict[str, Any]:
    """The verified ``receipt`` of a ``GET .../receipt`` answer, or ReceiptInvalid saying why not."""
    if not isinstance(document, dict) or not isinstance(document.get("receipt"), dict):
        raise ReceiptInvalid("the receipt is not a JSON object with a 'receipt' object")
    receipt = document["receipt"]
    missing = [name for name in FIELDS if name not in receipt]
    if missing:
        raise ReceiptInvalid(f"the receipt lacks {', '.join(missing)}")
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptInvalid("the receipt's signature is not base64") from None
    raw_key = decode_public_key(public_key)
    if key_id(raw_key) != expected_key_id:
        raise ReceiptInvalid("the enrollment's receipt key does not match its key id; enroll again")
    if receipt["key_id"] != expected_key_id:
        raise ReceiptInvalid(f"the receipt is signed with key {receipt['key_id']!r}, not the pinned "
                             f"{expected_key_id!r}")
    if not ed25519.verify(raw_key, canonical(receipt), signature):
        raise ReceiptInvalid(f"the receipt's signature does not verify under the pinned key {expected_key_id}")
    if receipt["bundle_sha256"] != sha256:
        raise ReceiptInvalid(f"the receipt is for sha256 {receipt['bundle_sha256']}, not this bundle's {sha256}")
    if receipt["bundle_size"] != size:
        raise ReceiptInvalid(f"the receipt says {receipt['bundle_size']} bytes, this bundle has {size}")
    return receipt
