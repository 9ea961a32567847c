"""The agent's enrollment and tus client against an independent tus server (tuspyserver) over TLS."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from uplink_helpers import TestCA, TusStandIn

from medic.agent.uplink.enroll import enroll
from medic.agent.uplink.errors import EnrollmentError, ReceiptInvalid, ServerIdentityError, UplinkError
from medic.agent.uplink.progress import Progress
from medic.agent.uplink.state import Enrollment, PendingUploads, load_enrollment, save_enrollment
from medic.agent.uplink.transport import Server, parse_pin
from medic.agent.uplink.tus import FIRST_CHUNK, RAMP, Retry
from medic.agent.uplink.upload import deliver
from medic.kernel.errors import UsageError

CHUNK = 64 * 1024


def _enrolled(stand_in: TusStandIn, test_ca: TestCA) -> Enrollment:
    return enroll(Server(stand_in.url, pin=parse_pin(test_ca.pin)), stand_in.new_code(), "host-1")


def _bundle(tmp_path: Path, size: int = 5 * CHUNK + 123) -> Path:
    path = tmp_path / "medic-bundle-test.tar.gz"
    path.write_bytes(os.urandom(size))
    return path


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_enrollment_is_stored_0600_and_a_code_works_once(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                         tmp_path: Path) -> None:
    code = tus_stand_in.new_code()
    enrollment = enroll(Server(tus_stand_in.url, pin=parse_pin(test_ca.pin)), code, "host-1")
    assert enrollment.key_id == tus_stand_in.key_id and enrollment.token in tus_stand_in.tokens
    path = Path(save_enrollment(enrollment, tmp_path / "state"))  # a str: state.py uses no pathlib
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_enrollment(tmp_path / "state") == enrollment
    with pytest.raises(EnrollmentError, match=r"enrollment refused \(HTTP 401\): unknown, used or expired code"):
        enroll(Server(tus_stand_in.url, pin=parse_pin(test_ca.pin)), code, "host-1")


def test_a_wrong_pin_or_ca_stops_before_the_code_is_sent(tus_stand_in: TusStandIn, test_ca: TestCA) -> None:
    code = tus_stand_in.new_code()
    with pytest.raises(ServerIdentityError, match="not the pinned") as caught:
        enroll(Server(tus_stand_in.url, pin="ab" * 32), code)
    assert caught.value.exit_code == 7
    with pytest.raises(ServerIdentityError, match="does not verify against"):
        enroll(Server(tus_stand_in.url, ca=str(test_ca.other_ca)), code)
    assert code in tus_stand_in.codes  # never reached the server
    assert enroll(Server(tus_stand_in.url, ca=str(test_ca.ca)), code).ca == str(test_ca.ca)


def test_plain_http_and_bad_pins_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="plain HTTP is refused"):
        Server("http://127.0.0.1:1", pin="ab" * 32)
    with pytest.raises(UsageError, match="expected sha256:<64 hex digits>"):
        parse_pin("md5:abcd")
    assert parse_pin("SHA256:" + ":".join(["AB"] * 32)) == "ab" * 32


def test_upload_verifies_the_receipt_then_deletes_the_bundle(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                             tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    content = bundle.read_bytes()
    out = io.StringIO()
    pending = PendingUploads(tmp_path / "state")
    delivered = deliver(bundle, _enrolled(tus_stand_in, test_ca), Progress(json_lines=True, out=out),
                        chunk_size=CHUNK, pending=pending)
    upload_id = delivered.receipt["upload_id"]
    assert delivered.deleted and not bundle.exists() and pending.all() == []
    assert (tus_stand_in.files / upload_id).read_bytes() == content
    sent = [(offset, length) for uid, offset, length in tus_stand_in.patches if uid == upload_id]
    assert sent == [(i * CHUNK, min(CHUNK, len(content) - i * CHUNK)) for i in range(6)]
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events][:2] == ["created", "chunk"] and events[-1]["event"] == "deleted"
    assert [e["offset"] for e in events if e["event"] == "chunk"][-1] == len(content)


def test_the_first_patch_of_a_process_is_small_then_ramps_up_to_full_chunks(tus_stand_in: TusStandIn,
                                                                          test_ca: TestCA, tmp_path: Path) -> None:
    """Nothing overlaps the first chunk's read and hash (tus.FIRST_CHUNK): a restart after kill -9 sends sooner;
    each next PATCH is at most RAMP times the one before, so its hash is done while the one before is sent."""
    chunk = 2 * RAMP * FIRST_CHUNK
    second = RAMP * FIRST_CHUNK
    bundle = _bundle(tmp_path, FIRST_CHUNK + second + 2 * chunk + 123)
    delivered = deliver(bundle, _enrolled(tus_stand_in, test_ca), Progress(quiet=True), chunk_size=chunk,
                        pending=PendingUploads(tmp_path / "state"))
    sent = [(offset, length) for uid, offset, length in tus_stand_in.patches if uid == delivered.receipt["upload_id"]]
    start = FIRST_CHUNK + second
    assert sent == [(0, FIRST_CHUNK), (FIRST_CHUNK, second), (start, chunk), (start + chunk, chunk),
                    (start + 2 * chunk, 123)]


def test_a_receipt_signed_by_another_key_keeps_the_bundle(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                          tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, 1000)
    tus_stand_in.signing_key = Ed25519PrivateKey.generate()
    try:
        with pytest.raises(ReceiptInvalid, match="signature does not verify under the pinned key") as caught:
            deliver(bundle, _enrolled(tus_stand_in, test_ca), Progress(quiet=True), chunk_size=CHUNK,
                    pending=PendingUploads(tmp_path / "state"))
    finally:
        tus_stand_in.signing_key = None
    assert bundle.exists() and caught.value.exit_code == 5


def test_5xx_and_429_are_retried_with_backoff_and_retry_after(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                              tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, 3 * CHUNK)
    content = bundle.read_bytes()
    tus_stand_in.fail_patches[:] = [(503, ""), (502, ""), (429, "3")]
    sleeps = Sleeps()
    delivered = deliver(bundle, _enrolled(tus_stand_in, test_ca), Progress(quiet=True), chunk_size=CHUNK,
                        retry=Retry(sleep=sleeps), pending=PendingUploads(tmp_path / "state"))
    assert sleeps == [0.5, 1.0, 3.0]
    assert (tus_stand_in.files / delivered.receipt["upload_id"]).read_bytes() == content


def test_it_gives_up_after_the_retries_and_keeps_the_bundle(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                            tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, CHUNK)
    tus_stand_in.fail_patches[:] = [(503, "")] * 3
    with pytest.raises(UplinkError, match="gave up after 2 retries: PATCH at 0: HTTP 503"):
        deliver(bundle, _enrolled(tus_stand_in, test_ca), Progress(quiet=True), chunk_size=CHUNK,
                retry=Retry(attempts=2, sleep=Sleeps()), pending=PendingUploads(tmp_path / "state"))
    tus_stand_in.fail_patches.clear()
    assert bundle.exists()


def test_a_revoked_token_stops_the_upload_and_keeps_the_bundle(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                               tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, CHUNK)
    enrollment = _enrolled(tus_stand_in, test_ca)
    tus_stand_in.tokens.discard(enrollment.token)
    with pytest.raises(EnrollmentError, match="refused this agent's token") as caught:
        deliver(bundle, enrollment, Progress(quiet=True), chunk_size=CHUNK, pending=PendingUploads(tmp_path / "s"))
    assert caught.value.exit_code == 6 and bundle.exists()


def test_a_remembered_upload_resumes_from_the_server_offset(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                            tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, 4 * CHUNK)
    content = bundle.read_bytes()
    enrollment = _enrolled(tus_stand_in, test_ca)
    pending = PendingUploads(tmp_path / "state")
    tus_stand_in.fail_patches[:] = [(0, ""), (0, ""), (503, "")]  # the third PATCH fails, no retry allowed
    with pytest.raises(UplinkError, match="gave up after 0 retries: PATCH at 131072"):
        deliver(bundle, enrollment, Progress(quiet=True), chunk_size=CHUNK, retry=Retry(attempts=0), pending=pending)
    (record,) = pending.all()
    out = io.StringIO()
    delivered = deliver(bundle, enrollment, Progress(json_lines=True, out=out), chunk_size=CHUNK, pending=pending)
    assert delivered.receipt["upload_id"] == record["location"].rsplit("/", 1)[-1]
    assert (tus_stand_in.files / delivered.receipt["upload_id"]).read_bytes() == content
    assert json.loads(out.getvalue().splitlines()[0]) == {"event": "resumed", "location": record["location"],
                                                          "offset": 2 * CHUNK, "hashed": False}


def test_a_bundle_blocked_by_the_leak_scan_is_never_sent(tus_stand_in: TusStandIn, test_ca: TestCA,
                                                         tmp_path: Path) -> None:
    blocked = tmp_path / "medic-bundle-x.tar.gz.blocked"
    blocked.write_bytes(b"secret")
    before = len(tus_stand_in.patches)
    with pytest.raises(UplinkError, match="blocked by the leak scan; it is never sent"):
        deliver(blocked, _enrolled(tus_stand_in, test_ca), Progress(quiet=True), pending=PendingUploads(tmp_path))
    assert len(tus_stand_in.patches) == before and blocked.exists()
