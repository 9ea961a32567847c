"""Read a bundle safely: verify it completely, and only then extract it into a private temporary directory.

The manifest comes first. It is validated (paths, sizes against the caps, member count) before any member is
read; each following tar header must then be a regular file that the manifest lists, with the same size, and
each member's data must hash to the manifest's sha256. A first pass does all of this without writing anything;
the second pass writes the members into a new temporary directory, checking everything again. A member that
is missing, changed, duplicated or unlisted refuses the whole bundle. Decompression is incremental and capped
as a whole, so neither a gzip bomb nor a huge tar/pax header can exhaust memory or disk, and a truncation is
reported at the member it cuts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from medic.kernel.bundle.errors import BundleCorrupt, BundleError, BundleFormatError, BundleUnsafe
from medic.kernel.bundle.manifest import MANIFEST_NAME, Manifest, Member, unsafe_member_path
from medic.kernel.models import ProbeCall, ProbeResult

_CHUNK = 1 << 16
_MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Caps applied while reading; exceeding one refuses the bundle (:class:`BundleUnsafe`)."""

    max_member_bytes: int = 64 * _MiB
    max_total_bytes: int = 512 * _MiB
    max_members: int = 10_000
    max_manifest_bytes: int = 8 * _MiB

    @property
    def max_stream_bytes(self) -> int:
        """Decompressed bytes allowed in all: data plus generous room for tar and pax headers."""
        return self.max_total_bytes + self.max_manifest_bytes + (self.max_members + 2) * 4096 + _MiB


class _TooBig(Exception):
    """The decompressed stream went past its cap (reported as BundleUnsafe naming the member being read)."""


class _Decompressed:
    """gzip data decompressed as it is read: partial data comes out before a truncation is reported (so the
    error names the member being read), the CRC and length are checked at the end, and no more than ``cap``
    bytes are ever produced (zip-bomb guard)."""

    def __init__(self, raw: BinaryIO, cap: int) -> None:
        self.raw, self.cap = raw, cap
        self.inflate = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
        self.buffer = bytearray()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self.buffer) < size) and not self.inflate.eof:
            pending = self.inflate.unconsumed_tail or self.raw.read(_CHUNK)
            if not pending:
                raise EOFError("compressed data ends before the end of the archive")
            data = self.inflate.decompress(pending, _CHUNK)
            self.count += len(data)
            if self.count > self.cap:
                raise _TooBig(self.cap)
            self.buffer += data
        if self.inflate.eof and (self.inflate.unused_data or self.raw.read(1)):
            raise zlib.error("unexpected data after the end of the compressed stream")
        size = len(self.buffer) if size < 0 else size
        out = bytes(self.buffer[:size])
        del self.buffer[:size]
        return out


class Bundle:
    """A verified bundle, its members in a private temporary directory until :meth:`close`."""

    def __init__(self, path: Path, manifest: Manifest, root: Path) -> None:
        self.path, self.manifest, self.root = path, manifest, root

    def member_path(self, name: str) -> Path:
        if self.manifest.member(name) is None:
            raise KeyError(f"{name!r} is not a member of {self.path}")
        return self.root / name

    def read_bytes(self, name: str) -> bytes:
        return self.member_path(name).read_bytes()

    def read_text(self, name: str) -> str:
        return self.read_bytes(name).decode("utf-8", "surrogateescape")

    def probe_results(self) -> dict[ProbeCall, ProbeResult]:
        """Every stored probe result, keyed by its call, exactly as the collecting target produced it."""
        results: dict[ProbeCall, ProbeResult] = {}
        for record in self.manifest.probes:
            try:
                raw = json.loads(self.read_bytes(record.member))
                result = ProbeResult.from_dict(raw["result"])
            except (ValueError, KeyError, TypeError) as exc:
                raise BundleFormatError(self.path, f"invalid probe record: {exc}", record.member) from exc
            if result.call.key != record.key or raw.get("key") != record.key:
                raise BundleFormatError(self.path, f"probe key {record.key!r} does not match its result",
                                        record.member)
            results[result.call] = result
        return results

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_bundle(path: str | Path, limits: Limits | None = None) -> Bundle:
    """Verify ``path`` completely and return it extracted into a new temporary directory."""
    path, limits = Path(path), limits or Limits()
    if not path.is_file():
        raise BundleFormatError(path, "no such bundle file")
    _extract(path, None, limits)  # first pass: everything checked and hashed, nothing written anywhere
    root = Path(tempfile.mkdtemp(prefix="medic-bundle-read-"))
    try:
        manifest = _extract(path, root, limits)  # second pass writes, checking again (the file may change)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Bundle(path, manifest, root)


def read_manifest(path: str | Path, limits: Limits | None = None) -> Manifest:
    """The manifest of a fully verified bundle (what ``medic bundles inspect`` shows); nothing is written."""
    path = Path(path)
    if not path.is_file():
        raise BundleFormatError(path, "no such bundle file")
    return _extract(path, None, limits or Limits())


def _extract(path: Path, root: Path | None, limits: Limits) -> Manifest:
    """Read and verify the whole archive; with ``root``, also write each member's file into it."""
    current: str | None = None  # the member whose data is being read
    last: str | None = None  # the member read completely before it
    try:
        with path.open("rb") as raw:
            stream = _Decompressed(raw, limits.max_stream_bytes)
            # small reads, so a truncation is noticed at the member it cuts, not a 10 KiB record earlier
            with tarfile.open(fileobj=stream, mode="r|", bufsize=tarfile.BLOCKSIZE) as tar:  # type: ignore[call-overload]
                manifest: Manifest | None = None
                seen: set[str] = set()
                for info in tar:
                    current = info.name
                    member = _check_entry(path, info, limits, manifest, seen)
                    if manifest is None or member is None:
                        manifest = _load_manifest(path, tar, info, limits)
                    else:
                        seen.add(info.name)
                        if root is None:
                            _stream_member(path, tar, info, member, None)
                        else:
                            _write_member(path, tar, info, root, member)
                    current, last = None, info.name
            while stream.read(_CHUNK):  # read to the end so the CRC and length are checked
                pass
    except BundleError:
        raise
    except _TooBig as exc:
        message = f"refused: decompresses to more than {exc.args[0]} bytes{_between(current, last)}"
        raise BundleUnsafe(path, message, current) from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        where = _between(current, last)
        raise BundleCorrupt(path, f"truncated or corrupt archive{where} ({exc})", current) from exc
    if manifest is None:
        raise BundleFormatError(path, "empty archive: no manifest.json", MANIFEST_NAME)
    missing = [m.path for m in manifest.members if m.path not in seen]
    if missing:
        raise BundleCorrupt(path, f"truncated: {len(missing)} member(s) missing", missing[0])
    return manifest


def _between(current: str | None, last: str | None) -> str:
    """Where a stream error happened when it was not inside a member's data (which the error names)."""
    if current:
        return ""
    return f" in the header after member {last!r}" if last else " before its first member"


def _check_entry(path: Path, info: tarfile.TarInfo, limits: Limits, manifest: Manifest | None,
                 seen: set[str]) -> Member | None:
    """Everything about one tar header that can be refused before its data is read; its manifest entry."""
    name = info.name
    if why := unsafe_member_path(name):
        raise BundleUnsafe(path, f"refused: {why}", name)
    if info.issym() or info.islnk():
        raise BundleUnsafe(path, "refused: links are not allowed", name)
    if info.ischr() or info.isblk() or info.isfifo():
        raise BundleUnsafe(path, "refused: device or fifo", name)
    if not info.isreg() or info.issparse():
        raise BundleUnsafe(path, "refused: only regular files are allowed", name)
    cap = limits.max_manifest_bytes if manifest is None else limits.max_member_bytes
    if info.size > cap:
        raise BundleUnsafe(path, f"refused: {info.size} bytes is over the {cap}-byte member cap", name)
    if manifest is None:
        if name != MANIFEST_NAME:
            raise BundleFormatError(path, "the first member must be manifest.json", name)
        return None
    member = manifest.member(name)
    if member is None or name in seen:
        raise BundleCorrupt(path, "member not listed in the manifest (or listed once, stored twice)", name)
    if info.size != member.size:
        raise BundleCorrupt(path, f"size {info.size} differs from the manifest's {member.size}", name)
    return member


def _load_manifest(path: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, limits: Limits) -> Manifest:
    data = _read_all(tar, info)
    try:
        raw: Any = json.loads(data)
    except ValueError as exc:
        raise BundleFormatError(path, f"manifest is not JSON: {exc}", MANIFEST_NAME) from exc
    manifest = Manifest.from_dict(raw, path)
    if len(manifest.members) + 1 > limits.max_members:
        count = len(manifest.members)
        raise BundleUnsafe(path, f"refused: {count} members is over the {limits.max_members} cap")
    for member in manifest.members:
        if member.size > limits.max_member_bytes:
            raise BundleUnsafe(path, f"refused: {member.size} bytes is over the member cap", member.path)
    total = sum(m.size for m in manifest.members)
    if total > limits.max_total_bytes:
        raise BundleUnsafe(path, f"refused: {total} bytes in all is over the {limits.max_total_bytes} cap")
    return manifest


def _read_all(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    source = tar.extractfile(info)
    assert source is not None  # a regular file, checked by _check_entry
    return source.read(info.size)


def _write_member(path: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, root: Path,
                  member: Member) -> None:
    """Create the member's file inside ``root`` (never following links or overwriting) and stream it in."""
    target = root.joinpath(*member.path.split("/"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise BundleUnsafe(path, f"refused: cannot create it safely ({exc.strerror})", member.path) from exc
    with os.fdopen(fd, "wb") as out:
        _stream_member(path, tar, info, member, out)


def _stream_member(path: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, member: Member,
                   out: BinaryIO | None) -> None:
    """Read one member (into ``out`` if given); its content must hash to the manifest's sha256."""
    source = tar.extractfile(info)
    assert source is not None  # a regular file, checked by _check_entry
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(min(_CHUNK, member.size - size + 1)):
        size += len(chunk)
        if size > member.size:
            raise BundleCorrupt(path, "more data than the manifest's size", member.path)
        digest.update(chunk)
        if out is not None:
            out.write(chunk)
    if size != member.size:
        raise BundleCorrupt(path, f"truncated: {size} of {member.size} bytes", member.path)
    if digest.hexdigest() != member.sha256:
        raise BundleCorrupt(path, "sha256 does not match the manifest (changed or corrupt)", member.path)
