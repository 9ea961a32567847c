"""The receipt check: only a receipt signed by the pinned key, for this very bundle, lets the agent delete it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from medic.agent.uplink.errors import ReceiptInvalid
from medic.agent.uplink.progress import Progress, clock, human
from medic.agent.uplink.receipt import canonical, check_receipt, key_id

KEY = Ed25519PrivateKey.generate()
RAW = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
PUBLIC, KID = base64.b64encode(RAW).decode(), hashlib.sha256(RAW).hexdigest()[:16]
SHA, SIZE = "ab" * 32, 1234


def _signed(key: Ed25519PrivateKey = KEY, **changes: Any) -> dict[str, Any]:
    receipt = {"agent_id": "a1", "upload_id": "u1", "bundle_sha256": SHA, "bundle_size": SIZE,
               "manifest_sha256": "cd" * 32, "members_verified": 3, "received_at": "2026-12-05T21:00:00Z",
               "case_id": "c-é", "key_id": KID, **changes}
    return {"receipt": receipt, "signature": base64.b64encode(key.sign(canonical(receipt))).decode()}


def _check(document: Any, **expected: Any) -> dict[str, Any]:
    args = {"public_key": PUBLIC, "expected_key_id": KID, "sha256": SHA, "size": SIZE, **expected}
    return check_receipt(document, **args)


def test_a_valid_receipt_passes_and_canonical_json_is_the_contract_s() -> None:
    assert _check(_signed())["case_id"] == "c-é"
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert key_id(RAW) == KID


@pytest.mark.parametrize(("document", "expected", "message"), [
    (_signed(Ed25519PrivateKey.generate()), {}, "does not verify under the pinned key"),
    (_signed(key_id="0" * 16), {}, "signed with key '0000000000000000', not the pinned"),
    (_signed(bundle_sha256="cd" * 32), {}, "not this bundle's"),
    (_signed(bundle_size=SIZE + 1), {}, "says 1235 bytes, this bundle has 1234"),
    ({"receipt": {"agent_id": "a"}, "signature": ""}, {}, "lacks upload_id"),
    ({"receipt": _signed()["receipt"], "signature": "%%%"}, {}, "not base64"),
    ([], {}, "not a JSON object"),
    (_signed(), {"public_key": base64.b64encode(b"x" * 32).decode()}, "does not match its key id"),
    (_signed(), {"public_key": "short"}, "not base64 of 32 bytes"),
], ids=["other-key", "key-id", "sha256", "size", "fields", "signature-encoding", "not-object", "pinned-key-id",
        "bad-key"])
def test_every_other_receipt_is_refused_with_the_reason(document: Any, expected: dict[str, Any],
                                                        message: str) -> None:
    with pytest.raises(ReceiptInvalid, match=message):
        _check(document, **expected)


def test_a_receipt_changed_after_signing_is_refused() -> None:
    document = _signed()
    document["receipt"]["case_id"] = "another case"
    with pytest.raises(ReceiptInvalid, match="does not verify"):
        _check(document)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_json_lines_otherwise() -> None:
    err = Tty()
    bar = Progress(err=err, out=io.StringIO())
    bar.begin(4 << 20, 0)
    bar.advance(4 << 20)
    bar.done()
    assert "100.0% 4.0 MiB / 4.0 MiB" in err.getvalue() and "ETA 0:00:00" in err.getvalue()
    assert "[" + "#" * 30 + "]" in err.getvalue()
    out, plain = io.StringIO(), io.StringIO()
    lines = Progress(json_lines=True, out=out, err=Tty())
    lines.begin(10, 0)
    lines.event("retry", "ignored with --json", delay=0.5)
    assert [json.loads(x) for x in out.getvalue().splitlines()] == [
        {"event": "chunk", "offset": 0, "length": 10}, {"event": "retry", "delay": 0.5}]
    Progress(err=plain).begin(10, 5)  # not a terminal: no bar
    assert plain.getvalue() == "" and human(1536) == "1.5 KiB" and clock(3725) == "1:02:05"
