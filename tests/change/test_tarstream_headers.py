"""The files provider's own tar headers are byte for byte what tarfile writes and reads (issue 12: speed)."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from medic.plugins.change.providers import tarstream

NAMES = [("a", tarfile.REGTYPE, ""), ("d/e", tarfile.DIRTYPE, ""), ("d/", tarfile.DIRTYPE, ""),
         ("l", tarfile.SYMTYPE, "../x"), ("é" * 50, tarfile.REGTYPE, ""), ("x" * 100, tarfile.REGTYPE, ""),
         ("x" * 101, tarfile.REGTYPE, ""), ("l", tarfile.SYMTYPE, "y" * 120), (".", tarfile.DIRTYPE, ""),
         ("bad\udcff", tarfile.REGTYPE, "")]
NUMBERS = [(0, 0, 0), (12345, 1000, 1_700_000_000), (8**11, 0, 1), (5, 8**7, 5), (5, 3, -1)]


def infos() -> list[tarfile.TarInfo]:
    out = []
    for name, kind, link in NAMES:
        for size, uid, mtime in NUMBERS:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode, info.uid, info.gid, info.mtime = kind, link, 0o4755, uid, 7, mtime
            info.size = size if kind == tarfile.REGTYPE else 0
            out.append(info)
    return out


@pytest.mark.parametrize("info", infos(), ids=lambda i: f"{i.name[:8]}-{i.type!r}-{i.uid}-{i.mtime}")
def test_headers_equal_tarfiles_and_parse_back_the_same(info: tarfile.TarInfo) -> None:
    block = tarstream.header_block(info)
    assert block == info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    header = block[-512:]  # after a GNU long-name block, when the name needed one
    assert tarstream.parse_header(header).get_info() == tarfile.TarInfo.frombuf(
        header, "utf-8", "surrogateescape").get_info()


def test_a_damaged_header_is_refused_by_tarfile() -> None:
    info = infos()[1]
    block = bytearray(tarstream.header_block(info))
    block[10] ^= 1  # the name changes: the checksum no longer adds up
    with pytest.raises(tarfile.InvalidHeaderError, match="bad checksum"):
        tarstream.parse_header(bytes(block))


def test_written_archive_reads_back_with_tarfile_and_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tarstream, "SYNC_EVERY", 100_000)  # the background fdatasync runs several times
    data = bytes(range(256)) * 5000  # more than one chunk buffer's worth goes through readinto
    tar = tmp_path / "t.tar"
    with open(tar, "wb") as fh:
        out = tarstream.TarWriter(fh)
        for name, kind in (("top", tarfile.DIRTYPE), ("top/f", tarfile.REGTYPE)):
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.DIRTYPE:
                out.header(info)
            else:
                info.size = len(data)
                assert out.file(info, io.BytesIO(data)) == hashlib.sha256(data).hexdigest()
        digest = out.close()
    with tarfile.open(tar) as t:
        assert t.getnames() == ["top", "top/f"] and t.extractfile("top/f").read() == data  # type: ignore[union-attr]
    scanned, members = tarstream.scan(tar)
    assert scanned == digest and members[1][1] == hashlib.sha256(data).hexdigest()
