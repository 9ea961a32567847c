"""Read a bundle safely: verify, never extract outside a private temporary directory.

The manifest comes first. It is validated (paths, sizes against the caps, member count) before any member is
written; each following tar header must then be a regular file that the manifest lists, with the same size.
Data is streamed into the temporary directory while its sha256 is computed and compared; a member that is
missing, changed, duplicated or unlisted refuses the whole bundle. Decompression is capped as a whole, so
neither a gzip bomb nor a huge tar/pax header can exhaust memory or disk.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medic.agent.bundle.errors import BundleCorrupt, BundleError, BundleFormatError, BundleUnsafe
from medic.agent.bundle.manifest import MANIFEST_NAME, Manifest, Member, unsafe_member_path
from medic.core.models import ProbeCall, ProbeResult

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


class _CappedReader:
    """Reads from the decompressed stream and refuses to go past ``cap`` bytes (zip-bomb guard)."""

    def __init__(self, source: gzip.GzipFile, cap: int, bundle: Path) -> None:
        self.source, self.cap, self.bundle, self.count = source, cap, bundle, 0

    def read(self, size: int = -1) -> bytes:
        want = self.cap + 1 - self.count if size < 0 else min(size, self.cap + 1 - self.count)
        data = self.source.read(want)
        self.count += len(data)
        if self.count > self.cap:
            raise BundleUnsafe(self.bundle, f"decompresses to more than {self.cap} bytes")
        return data


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
    root = Path(tempfile.mkdtemp(prefix="medic-bundle-read-"))
    try:
        manifest = _extract(path, root, limits)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Bundle(path, manifest, root)


def read_manifest(path: str | Path, limits: Limits | None = None) -> Manifest:
    """The manifest of a fully verified bundle (what ``medic bundles inspect`` shows)."""
    with open_bundle(path, limits) as bundle:
        return bundle.manifest


def _extract(path: Path, root: Path, limits: Limits) -> Manifest:
    current: str | None = None
    try:
        with gzip.open(path, "rb") as gz:
            stream = _CappedReader(gz, limits.max_stream_bytes, path)
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
                manifest: Manifest | None = None
                seen: set[str] = set()
                for info in tar:
                    current = info.name
                    member = _check_entry(path, info, limits, manifest, seen)
                    if manifest is None or member is None:
                        manifest = _load_manifest(path, tar, info, limits)
                        continue
                    seen.add(info.name)
                    _copy_member(path, tar, info, root, member)
            while stream.read(_CHUNK):  # read to the end so gzip checks its CRC and length
                pass
    except BundleError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        where = f"while reading member {current!r}" if current else "at the start"
        raise BundleCorrupt(path, f"truncated or corrupt archive {where} ({exc})", current) from exc
    if manifest is None:
        raise BundleFormatError(path, "empty archive: no manifest.json", MANIFEST_NAME)
    missing = [m.path for m in manifest.members if m.path not in seen]
    if missing:
        raise BundleCorrupt(path, f"truncated: {len(missing)} member(s) missing", missing[0])
    return manifest


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


def _copy_member(path: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, root: Path, member: Member) -> None:
    """Stream one verified-header member into ``root``; its content must hash to the manifest's sha256."""
    target = root.joinpath(*member.path.split("/"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise BundleUnsafe(path, f"refused: cannot create it safely ({exc.strerror})", member.path) from exc
    source = tar.extractfile(info)
    assert source is not None
    digest, size = hashlib.sha256(), 0
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(min(_CHUNK, member.size - size + 1)):
            size += len(chunk)
            if size > member.size:
                raise BundleCorrupt(path, "more data than the manifest's size", member.path)
            digest.update(chunk)
            out.write(chunk)
    if size != member.size:
        raise BundleCorrupt(path, f"truncated: {size} of {member.size} bytes", member.path)
    if digest.hexdigest() != member.sha256:
        raise BundleCorrupt(path, "sha256 does not match the manifest (changed or corrupt)", member.path)
