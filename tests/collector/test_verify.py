"""The bundle verified while it arrives (plugins/collector/verify.py): the reader reads only acknowledged bytes,
waits for the next acknowledgement, and at the last byte hands over the whole file's sha256 and the manifest
medic's reader gives for the finished file; bytes written past the acknowledged offset and then discarded (a
460, a dropped PATCH) never reach it; a bundle the reader refuses leaves the last byte to read the file again."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from collector_helpers import make_bundle

from medic.kernel.bundle import read_manifest
from medic.plugins.collector import verify
from medic.plugins.collector.config import CollectorConfig
from medic.plugins.collector.verify import Verifier


def _arrive(verifier: Verifier, part: Path, data: bytes, step: int) -> None:
    """Append ``data`` to ``part`` as PATCHes of ``step`` bytes do, each followed by garbage that a failed PATCH
    wrote and was truncated away before the acknowledgement."""
    with part.open("r+b") as f:
        for offset in range(0, len(data), step):
            f.seek(offset)
            f.write(b"\xff" * step)  # a PATCH that failed its checksum...
            f.flush()
            f.truncate(offset)  # ...is discarded
            f.seek(offset)
            f.write(data[offset:offset + step])
            f.flush()
            verifier.advance(min(offset + step, len(data)))
            time.sleep(0.001)  # let the reader catch up sometimes, not always


def test_the_verifier_reads_acknowledged_bytes_only_and_gives_the_finished_files_result(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b.tar.gz", members=40, size=64 * 1024)
    data = bundle.read_bytes()
    part = tmp_path / "u.part"
    part.write_bytes(b"")
    verifier = Verifier(part, "b.tar.gz", len(data), 0)
    _arrive(verifier, part, data, 7919)  # a prime: PATCH boundaries fall anywhere in tar and gzip blocks
    result = verifier.result()
    assert result is not None
    sha256, manifest = result
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert manifest.to_dict() == read_manifest(bundle).to_dict()
    assert len(manifest.members) == 40


def test_a_verifier_started_after_a_restart_reads_what_was_acknowledged_before(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b.tar.gz", members=5, size=32 * 1024)
    data = bundle.read_bytes()
    part = tmp_path / "u.part"
    half = len(data) // 2
    part.write_bytes(data[:half])
    verifier = Verifier(part, "b.tar.gz", len(data), half)
    with part.open("ab") as f:
        f.write(data[half:])
    verifier.advance(len(data))
    result = verifier.result()
    assert result is not None and result[0] == hashlib.sha256(data).hexdigest()


def test_a_refused_bundle_leaves_the_last_byte_to_read_the_file_again(tmp_path: Path) -> None:
    data = bytearray(make_bundle(tmp_path / "b.tar.gz", members=3, size=4096).read_bytes())
    data[len(data) // 2] ^= 0xFF  # the reader refuses it (CRC or member hash)
    part = tmp_path / "u.part"
    part.write_bytes(bytes(data))
    verifier = Verifier(part, "b.tar.gz", len(data), len(data))
    assert verifier.result() is None
    assert verifier.failed is not None


def test_cancel_stops_a_verifier_waiting_for_bytes_that_never_come(tmp_path: Path) -> None:
    data = make_bundle(tmp_path / "b.tar.gz", members=3, size=4096).read_bytes()
    part = tmp_path / "u.part"
    part.write_bytes(data[:100])
    verifier = Verifier(part, "b.tar.gz", len(data), 100)
    time.sleep(0.05)
    assert verifier.thread.is_alive()  # waiting for the acknowledgement of byte 512 (the format check)
    verifier.cancel()
    verifier.thread.join(timeout=10)
    assert not verifier.thread.is_alive() and verifier.result() is None


def _open_fds() -> set[str]:
    return {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
            if os.path.exists(f"/proc/self/fd/{fd}")}


def test_an_abandoned_upload_frees_its_verifier_and_a_later_patch_starts_a_new_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an agent gone for good must not keep a thread and an open file per upload until `medic collector gc`
    data = make_bundle(tmp_path / "b.tar.gz", members=6, size=16 * 1024).read_bytes()
    half = len(data) // 2
    part = tmp_path / "u.part"
    part.write_bytes(data[:half])
    monkeypatch.setattr(verify, "IDLE_S", 0.3)
    col = SimpleNamespace(verifiers={}, config=CollectorConfig(), data_path=lambda upload_id: part)
    upload = {"upload_id": "u1", "filename": "b.tar.gz", "length": len(data), "offset": half}
    first = verify.verifier_for(col, upload)
    assert str(part) in _open_fds()
    first.thread.join(timeout=10)
    assert not first.thread.is_alive() and first.idled
    assert str(part) not in _open_fds()
    assert verify.verifier_for(col, {**upload, "offset": half}) is not first  # the agent came back
    second = col.verifiers["u1"]
    with part.open("ab") as f:
        f.write(data[half:])
    second.advance(len(data))
    result = second.result()
    assert result is not None and result[0] == hashlib.sha256(data).hexdigest()


def test_a_verifier_that_is_advanced_in_time_does_not_idle(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b.tar.gz", members=20, size=16 * 1024)
    data = bundle.read_bytes()
    part = tmp_path / "u.part"
    part.write_bytes(b"")
    verifier = Verifier(part, "b.tar.gz", len(data), 0, idle_s=0.5)
    step = -(-len(data) // 8)
    with part.open("ab") as f:
        for offset in range(0, len(data), step):
            time.sleep(0.2)  # slower than the reader, each pause shorter than idle_s; the whole upload longer
            f.write(data[offset:offset + step])
            f.flush()
            verifier.advance(min(offset + step, len(data)))
    result = verifier.result()
    assert not verifier.idled and result is not None and result[0] == hashlib.sha256(data).hexdigest()
