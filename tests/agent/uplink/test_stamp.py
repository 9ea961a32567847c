"""The sha256 medic's bundle writer keeps with a bundle (an extended attribute): `medic-agent upload` uses it
instead of reading the bundle an extra time, and only while the file's size and mtime are those it recorded."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from medic.agent.uplink.tus import DIGEST_XATTR, describe, stamped
from medic.kernel.bundle import BundleWriter
from medic.kernel.bundle import writer as writer_mod


def _bundle(path: Path) -> Path:
    with BundleWriter(path, host="h") as w:
        w.add_bytes("logs/a.log", os.urandom(100_000))
    return path


def _xattrs_work(directory: Path) -> bool:
    probe = directory / "probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.medic.probe", b"1")
    except OSError:
        return False
    return True


def test_the_agent_reads_the_same_attribute_the_writer_sets() -> None:
    assert DIGEST_XATTR == writer_mod.DIGEST_XATTR


def test_a_stamped_bundle_is_not_hashed_again_and_its_digest_is_the_files(tmp_path: Path) -> None:
    if not _xattrs_work(tmp_path):
        pytest.skip("this file system keeps no user extended attributes")
    bundle = _bundle(tmp_path / "b.tar.gz")
    found = stamped(bundle)
    assert found is not None and not found.hashed
    assert found.sha256 == hashlib.sha256(bundle.read_bytes()).hexdigest() == describe(bundle).sha256
    assert found.size == bundle.stat().st_size


def test_a_changed_bundle_is_hashed_again(tmp_path: Path) -> None:
    if not _xattrs_work(tmp_path):
        pytest.skip("this file system keeps no user extended attributes")
    bundle = _bundle(tmp_path / "b.tar.gz")
    with bundle.open("ab") as f:  # the size changes
        f.write(b"x")
    assert stamped(bundle) is None
    bundle = _bundle(tmp_path / "c.tar.gz")
    seen = bundle.stat()
    os.utime(bundle, ns=(seen.st_atime_ns, seen.st_mtime_ns + 1_000_000))  # same size, another mtime
    assert stamped(bundle) is None
    os.setxattr(bundle, DIGEST_XATTR, b"not a stamp")
    assert stamped(bundle) is None
