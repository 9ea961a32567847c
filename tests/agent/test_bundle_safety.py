"""Handcrafted malicious and damaged archives: each is refused with a clear error naming the member, and
nothing at all is written (a first pass checks everything before the second one writes into a temporary
directory)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import medic.kernel.bundle.reader as reader
from medic.kernel.bundle import (
    BundleCorrupt,
    BundleError,
    BundleFormatError,
    BundleUnsafe,
    BundleWriter,
    Limits,
    open_bundle,
)
from medic.kernel.errors import EXIT_INTERNAL, MedicError

GOOD = b"hello\n"


def manifest_for(listed: list[tuple[str, bytes]], **overrides: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format_version": 1, "agent_version": "0.1.0", "host": "h", "started_at": "t0", "finished_at": "t1",
        "members": [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest(), "kind": "file"}
                    for p, d in listed],
        "probes": [], "skipped": [], "redaction": {}, "info": {},
    }
    manifest.update(overrides)
    return manifest


def regular(name: str, data: bytes, size: int | None = None) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.size = len(data) if size is None else size
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def craft(path: Path, entries: list[tuple[tarfile.TarInfo, bytes | None]], manifest: Any = None,
          listed: list[tuple[str, bytes]] | None = None) -> Path:
    """Write a tar.gz: manifest.json first (unless ``manifest is False``), then ``entries`` as given."""
    if manifest is None:
        if listed is None:
            listed = [(i.name, d) for i, d in entries if d is not None and i.isreg()]
        manifest = manifest_for(listed)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if manifest is not False:
            raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
            header, _ = regular("manifest.json", raw)
            tar.addfile(header, io.BytesIO(raw))
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    path.write_bytes(gzip.compress(buf.getvalue()))
    return path


@pytest.fixture
def spy_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of members the reader started writing into its temporary directory."""
    written: list[str] = []
    real: Callable[..., None] = reader._write_member

    def spy(path: Path, tar: Any, info: Any, root: Path, member: Any) -> None:
        written.append(member.path)
        real(path, tar, info, root, member)

    monkeypatch.setattr(reader, "_write_member", spy)
    return written


@pytest.fixture
def read_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the reader's temporary directories appear under one folder we can inspect afterwards."""
    base = tmp_path / "reads"
    base.mkdir()
    real_mkdtemp = reader.tempfile.mkdtemp
    monkeypatch.setattr(reader.tempfile, "mkdtemp", lambda prefix="": real_mkdtemp(prefix=prefix, dir=base))
    return base


UNSAFE_CASES: dict[str, list[tuple[tarfile.TarInfo, bytes | None]]] = {
    "absolute-path": [regular("/tmp/medic-evil", GOOD)],
    "dot-dot": [regular("../evil", GOOD)],
    "dot-dot-inside": [regular("logs/../../evil", GOOD)],
    "dot-slash-dot-dot": [regular("./../evil", GOOD)],
    "dot-dot-directory": [special("./logs/../..", tarfile.DIRTYPE)],
    "symlink": [special("logs/link", tarfile.SYMTYPE, "/etc/passwd")],
    "hardlink": [special("logs/hard", tarfile.LNKTYPE, "manifest.json")],
    "char-device": [special("dev/null", tarfile.CHRTYPE)],
    "block-device": [special("dev/sda", tarfile.BLKTYPE)],
    "fifo": [special("pipe", tarfile.FIFOTYPE)],
    "directory-holding-no-listed-member": [special("etc", tarfile.DIRTYPE)],
}


@pytest.mark.parametrize("case", UNSAFE_CASES, ids=list(UNSAFE_CASES))
def test_unsafe_entries_are_refused_before_writing(case: str, tmp_path: Path, spy_writes: list[str],
                                                   read_roots: Path) -> None:
    entries = [regular("logs/ok.txt", GOOD), *UNSAFE_CASES[case]]
    path = craft(tmp_path / "evil.tar.gz", entries, listed=[("logs/ok.txt", GOOD)])
    with pytest.raises(BundleUnsafe) as info:
        open_bundle(path)
    bad = UNSAFE_CASES[case][0][0].name
    assert info.value.member == bad and repr(bad) in str(info.value)
    assert spy_writes == []  # not even the good member before it: the first pass writes nothing
    assert list(read_roots.iterdir()) == []  # and the temporary directory is gone
    assert not (tmp_path / "evil").exists() and not Path("/tmp/medic-evil").exists()


def test_oversized_member_refused_from_its_header(tmp_path: Path, spy_writes: list[str]) -> None:
    big = b"\0" * 4096
    path = craft(tmp_path / "b.tar.gz", [regular("big.bin", big)], listed=[])
    with pytest.raises(BundleUnsafe, match="over the 1024-byte member cap") as info:
        open_bundle(path, Limits(max_member_bytes=1024))
    assert info.value.member == "big.bin" and spy_writes == []


def test_oversized_member_refused_from_the_manifest(tmp_path: Path, spy_writes: list[str]) -> None:
    path = craft(tmp_path / "b.tar.gz", [regular("big.bin", b"\0" * 4096)])
    with pytest.raises(BundleUnsafe, match="over the member cap") as info:
        open_bundle(path, Limits(max_member_bytes=1024))
    assert info.value.member == "big.bin" and spy_writes == []


def test_total_size_cap(tmp_path: Path, spy_writes: list[str]) -> None:
    entries = [regular(f"f{i}.bin", b"\0" * 600) for i in range(4)]
    path = craft(tmp_path / "b.tar.gz", entries)
    with pytest.raises(BundleUnsafe, match="2400 bytes in all is over the 2000 cap"):
        open_bundle(path, Limits(max_total_bytes=2000))
    assert spy_writes == []


def test_member_count_cap(tmp_path: Path, spy_writes: list[str]) -> None:
    path = craft(tmp_path / "b.tar.gz", [regular(f"f{i}.txt", GOOD) for i in range(20)])
    with pytest.raises(BundleUnsafe, match="20 members is over the 10 cap"):
        open_bundle(path, Limits(max_members=10))
    assert spy_writes == []


def test_decompression_bomb_in_a_header_is_capped(tmp_path: Path) -> None:
    bomb = tarfile.TarInfo("x.txt")
    bomb.size = len(GOOD)
    bomb.pax_headers = {"comment": "A" * (8 << 20)}  # 8 MiB of header, compresses to a few KiB
    path = craft(tmp_path / "bomb.tar.gz", [(bomb, GOOD)])
    assert path.stat().st_size < 100_000
    limits = Limits(max_total_bytes=1 << 20, max_manifest_bytes=1 << 16, max_members=10)
    with pytest.raises(BundleUnsafe, match=r"decompresses to more than .* after member 'manifest\.json'"):
        open_bundle(path, limits)


class TestCorruption:
    def test_changed_content_same_size(self, tmp_path: Path) -> None:
        entries = [regular("logs/a.txt", b"jello\n")]
        path = craft(tmp_path / "b.tar.gz", entries, listed=[("logs/a.txt", GOOD)])
        with pytest.raises(BundleCorrupt, match="sha256 does not match") as info:
            open_bundle(path)
        assert info.value.member == "logs/a.txt"
        assert "bundle " in str(info.value) and "'logs/a.txt'" in str(info.value)

    def test_size_differs_from_manifest(self, tmp_path: Path) -> None:
        path = craft(tmp_path / "b.tar.gz", [regular("a.txt", GOOD + b"more")], listed=[("a.txt", GOOD)])
        with pytest.raises(BundleCorrupt, match="differs from the manifest") as info:
            open_bundle(path)
        assert info.value.member == "a.txt"

    def test_member_missing(self, tmp_path: Path) -> None:
        listed = [("a.txt", GOOD), ("b.txt", GOOD)]
        path = craft(tmp_path / "b.tar.gz", [regular("a.txt", GOOD)], listed=listed)
        with pytest.raises(BundleCorrupt, match="missing") as info:
            open_bundle(path)
        assert info.value.member == "b.txt"

    def test_unlisted_member(self, tmp_path: Path) -> None:
        path = craft(tmp_path / "b.tar.gz", [regular("a.txt", GOOD), regular("extra.sh", GOOD)],
                     listed=[("a.txt", GOOD)])
        with pytest.raises(BundleCorrupt, match="not listed") as info:
            open_bundle(path)
        assert info.value.member == "extra.sh"

    def test_member_stored_twice(self, tmp_path: Path) -> None:
        path = craft(tmp_path / "b.tar.gz", [regular("a.txt", GOOD), regular("a.txt", GOOD)],
                     listed=[("a.txt", GOOD)])
        with pytest.raises(BundleCorrupt, match="stored twice"):
            open_bundle(path)

    @pytest.mark.parametrize("keep", [0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    def test_truncated_archive(self, tmp_path: Path, keep: float) -> None:
        good = tmp_path / "good.tar.gz"
        with BundleWriter(good, host="h") as writer:
            for i in range(8):
                writer.add_bytes(f"logs/{i}.log", bytes(range(256)) * 64 + str(i).encode())
        data = good.read_bytes()
        cut = tmp_path / "cut.tar.gz"
        cut.write_bytes(data[: int(len(data) * keep)])
        with pytest.raises(BundleError, match=r"truncated|corrupt|missing|manifest") as info:
            open_bundle(cut)
        assert info.value.exit_code == EXIT_INTERNAL
        if keep >= 0.5:  # cut among the logs: the message names the member cut, or the one before the cut
            named = info.value.member or ""
            assert named.startswith("logs/") or "in the header after member 'logs/" in str(info.value)

    def test_flipped_byte_in_compressed_stream(self, tmp_path: Path) -> None:
        good = tmp_path / "good.tar.gz"
        with BundleWriter(good, host="h") as writer:
            writer.add_bytes("logs/a.log", b"some log line\n" * 500)
        data = bytearray(good.read_bytes())
        data[len(data) // 2] ^= 0xFF
        (bad := tmp_path / "bad.tar.gz").write_bytes(bytes(data))
        with pytest.raises(BundleError):  # garbage after the flip: corrupt data, or a manifest not JSON
            open_bundle(bad)

    @pytest.mark.parametrize(("change", "message"), [
        (lambda data: data + b"trailing garbage", "unexpected data after"),
        (lambda data: data[:-8] + bytes(b ^ 0xFF for b in data[-8:-4]) + data[-4:], "incorrect data check"),
        (lambda data: data[:-4] + b"\x00\x00\x00\x00", "incorrect length check"),
    ], ids=["trailing-data", "bad-crc", "bad-length"])
    def test_gzip_trailer_is_checked(self, tmp_path: Path, change: Callable[[bytes], bytes],
                                     message: str) -> None:
        good = tmp_path / "good.tar.gz"
        with BundleWriter(good, host="h") as writer:
            writer.add_bytes("logs/a.log", b"line\n" * 100)
        (bad := tmp_path / "bad.tar.gz").write_bytes(change(good.read_bytes()))
        with pytest.raises(BundleCorrupt, match=message):
            open_bundle(bad)

    def test_not_a_gzip_file(self, tmp_path: Path) -> None:
        (path := tmp_path / "b.tar.gz").write_bytes(b"BZh91AY&SY this is bzip2, not a bundle")
        with pytest.raises(BundleCorrupt, match=r"before its first member.*incorrect header check"):
            open_bundle(path)


class TestManifestProblems:
    def test_no_manifest(self, tmp_path: Path) -> None:
        path = craft(tmp_path / "b.tar.gz", [regular("a.txt", GOOD)], manifest=False)
        with pytest.raises(BundleFormatError, match=r"no manifest\.json in the archive"):
            open_bundle(path)

    def test_manifest_not_json(self, tmp_path: Path) -> None:
        path = craft(tmp_path / "b.tar.gz", [], manifest=b"{not json")
        with pytest.raises(BundleFormatError, match="manifest is not JSON") as info:
            open_bundle(path)
        assert info.value.member == "manifest.json"

    def test_unsupported_format_version(self, tmp_path: Path) -> None:
        path = craft(tmp_path / "b.tar.gz", [], manifest=manifest_for([], format_version=2))
        with pytest.raises(BundleFormatError, match="unsupported format_version 2; this medic reads 1"):
            open_bundle(path)

    @pytest.mark.parametrize(("field", "value", "message"), [
        ("members", [{"path": "../x", "size": 1, "sha256": "0" * 64}], "'..'"),
        ("members", [{"path": "/x", "size": 1, "sha256": "0" * 64}], "absolute"),
        ("members", [{"path": "x", "size": -1, "sha256": "0" * 64}], "non-negative"),
        ("members", [{"path": "x", "size": 1, "sha256": "nothex"}], "sha256"),
        ("members", [{"path": "x", "size": 1, "sha256": "0" * 64}] * 2, "duplicate"),
        ("probes", [{"key": "k", "probe": "p", "member": "nowhere", "status": "ok"}], "unknown member"),
        ("host", None, "host"),
    ])
    def test_invalid_manifest_fields(self, tmp_path: Path, field: str, value: Any, message: str) -> None:
        manifest = manifest_for([], **{field: value})
        if value is None:
            del manifest[field]
        path = craft(tmp_path / "b.tar.gz", [], manifest=manifest)
        with pytest.raises(BundleFormatError, match=message):
            open_bundle(path)

    def test_probe_record_key_must_match_result(self, tmp_path: Path) -> None:
        result = {"probe": "disk", "params": {}, "ok": True}
        record = json.dumps({"key": "os_info", "result": result}).encode()
        probes = [{"key": "os_info", "probe": "os_info", "member": "probes/0001.json", "status": "ok"}]
        path = craft(tmp_path / "b.tar.gz", [regular("probes/0001.json", record)],
                     manifest=manifest_for([("probes/0001.json", record)], probes=probes))
        with open_bundle(path) as bundle, pytest.raises(BundleFormatError, match="does not match"):
            bundle.probe_results()


def test_every_bundle_error_is_a_medic_error_with_exit_code_3() -> None:
    for cls in (BundleError, BundleCorrupt, BundleUnsafe, BundleFormatError):
        err = cls("b.tar.gz", "boom", "m")
        assert isinstance(err, MedicError) and err.exit_code == EXIT_INTERNAL
        assert str(err) == "bundle b.tar.gz, member 'm': boom"


def test_read_manifest_verifies_without_writing(tmp_path: Path, read_roots: Path) -> None:
    from medic.kernel.bundle import read_manifest

    good = craft(tmp_path / "good.tar.gz", [regular("logs/a.txt", GOOD)])
    bad = craft(tmp_path / "bad.tar.gz", [regular("logs/a.txt", b"jello\n")], listed=[("logs/a.txt", GOOD)])
    assert [m.path for m in read_manifest(good).members] == ["logs/a.txt"]
    with pytest.raises(BundleCorrupt, match="sha256"):
        read_manifest(bad)
    assert list(read_roots.iterdir()) == []
