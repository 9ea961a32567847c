"""Read a bundle safely: verify it completely, and only then extract it into a private temporary directory.

The manifest is validated (paths, sizes against the caps, member count) as soon as it is read; each tar entry
must be a regular file that the manifest lists, with the same size, and each member's data must hash to the
manifest's sha256. ``manifest.json`` comes first in what the agent writes; a bundle re-packed by hand
(``tar -C DIR -czf B .``) is accepted too: ``./`` prefixes are ignored, directories that hold listed members are
allowed (never written), and members before the manifest are hashed and checked when it comes. A first pass
does all of this without writing anything; the second pass writes the members into a new temporary directory,
checking everything again against the first pass's manifest. A member that is missing, changed, duplicated or
unlisted refuses the whole bundle. Decompression is incremental and capped as a whole, so neither a gzip bomb
nor a huge tar/pax header can exhaust memory or disk, and a truncation is reported at the member it cuts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from medic.kernel.bundle.errors import BundleCorrupt, BundleError, BundleFormatError, BundleUnsafe
from medic.kernel.bundle.inflate import Decompressed, TooBig
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
    verified = _extract(path, None, limits)  # first pass: everything checked and hashed, nothing written anywhere
    root = Path(tempfile.mkdtemp(prefix="medic-bundle-read-"))
    try:  # the second pass writes, checking again (the file may change) against the first pass's manifest
        manifest = _extract(path, root, limits, verified)
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


def read_manifest_from(raw: BinaryIO, path: Path, limits: Limits | None = None, *,
                       bufsize: int = tarfile.BLOCKSIZE) -> Manifest:
    """:func:`read_manifest` over an open binary file (the collector's view of a bundle still arriving);
    ``path`` names the bundle in errors. ``raw`` needs read() and seek(0), and is not closed. A larger
    ``bufsize`` costs a quarter less CPU, same checks, but may name the member before the one a truncation cuts."""
    return _extract(path, None, limits or Limits(), source=raw, bufsize=bufsize)


def _refuse_other_formats(path: Path, raw: BinaryIO) -> None:
    """A zip or a plain tar named .tar.gz gets a sentence saying so, not a decompressor's message."""
    head = raw.read(512)
    raw.seek(0)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        raise BundleFormatError(path, "zip is not a bundle format (medic reads .tar.gz)")
    if head[257:262] == b"ustar":
        raise BundleFormatError(path, "an uncompressed tar is not a bundle format (medic reads .tar.gz)")


def _extract(path: Path, root: Path | None, limits: Limits, expected: Manifest | None = None,
             source: BinaryIO | None = None, bufsize: int = tarfile.BLOCKSIZE) -> Manifest:
    """Read and verify the whole archive; with ``root``, also write each member's file into it. ``expected``
    is the manifest a first pass verified: members are then checked against it in whatever order they come."""
    reading = _Pass(path, root, limits, expected)
    try:
        with nullcontext(source) if source is not None else path.open("rb") as raw:
            _refuse_other_formats(path, raw)
            stream = Decompressed(raw, limits.max_stream_bytes)
            # small reads, so a truncation is noticed at the member it cuts, not a 10 KiB record earlier
            with tarfile.open(fileobj=stream, mode="r|", bufsize=bufsize) as tar:  # type: ignore[call-overload]
                for info in tar:
                    reading.entry(tar, info)
            while stream.read(_CHUNK):  # read to the end so the CRC and length are checked
                pass
    except BundleError:
        raise
    except TooBig as exc:
        message = f"refused: decompresses to more than {exc.args[0]} bytes{reading.between()}"
        raise BundleUnsafe(path, message, reading.current, limit="max_stream_bytes") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError, OverflowError) as exc:
        # ValueError, OverflowError: tarfile's parser on malformed pax headers (e.g. GNU.sparse.map="")
        raise BundleCorrupt(path, f"truncated or corrupt archive{reading.between()} ({exc})",
                            reading.current) from exc
    return reading.finish()


class _Pass:
    """One pass over the archive's entries. ``manifest.json`` is normally first; in an archive re-packed by
    hand (``tar -C DIR -czf B .``) it may come anywhere, entries may start with ``./`` and directories may be
    stored: members read before the manifest are hashed (within the same caps) and checked once it comes, and
    a directory is allowed only if a listed member lies below it. Directories are never written."""

    def __init__(self, path: Path, root: Path | None, limits: Limits, expected: Manifest | None) -> None:
        self.path, self.root, self.limits, self.expected = path, root, limits, expected
        self.manifest: Manifest | None = expected
        self.manifest_seen = False
        self.early: dict[str, tuple[int, str]] = {}  # name -> (size, sha256), read before the manifest
        self.dirs: list[str] = []
        self.seen: set[str] = set()
        self.current: str | None = None  # the entry whose data is being read
        self.last: str | None = None  # the entry read completely before it

    def between(self) -> str:
        """Where a stream error happened when it was not inside a member's data (which the error names)."""
        if self.current:
            return ""
        return f" in the header after member {self.last!r}" if self.last else " before its first member"

    def entry(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        self.current = info.name
        name = _check_entry(self.path, info, self.limits, self.manifest_seen)
        if name is None:  # the archive's root directory, "." or "./"
            pass
        elif info.isdir():
            self._directory(name)
        elif name == MANIFEST_NAME:
            self._manifest(tar, info)
        elif name in self.seen or name in self.early:
            raise BundleCorrupt(self.path, "member stored twice", name)
        elif self.manifest is None:
            if len(self.early) >= self.limits.max_members:
                raise BundleUnsafe(self.path, f"refused: over {self.limits.max_members} members", name,
                                   limit="max_members")
            self.early[name] = _stream(self.path, tar, info, name, info.size, None)
        else:
            member = _listed(self.path, self.manifest, name, info.size)
            self.seen.add(name)
            if self.root is None:
                _stream_member(self.path, tar, info, member, None)
            else:
                _write_member(self.path, tar, info, self.root, member)
        self.current, self.last = None, info.name

    def _directory(self, name: str) -> None:
        if len(self.dirs) >= self.limits.max_members:
            raise BundleUnsafe(self.path, f"refused: over {self.limits.max_members} directories", name,
                               limit="max_members")
        self.dirs.append(name)
        if self.manifest is not None:
            _check_directory(self.path, self.manifest, name)

    def _manifest(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        if self.manifest_seen:
            raise BundleCorrupt(self.path, "manifest stored twice", MANIFEST_NAME)
        manifest = _load_manifest(self.path, tar, info, self.limits)
        if self.expected is not None and manifest != self.expected:
            raise BundleCorrupt(self.path, "the manifest changed while the bundle was read", MANIFEST_NAME)
        self.manifest, self.manifest_seen = manifest, True
        for name, (size, sha256) in self.early.items():
            member = _listed(self.path, manifest, name, size)
            if sha256 != member.sha256:
                raise BundleCorrupt(self.path, "sha256 does not match the manifest (changed or corrupt)", name)
            self.seen.add(name)
        for name in self.dirs:
            _check_directory(self.path, manifest, name)

    def finish(self) -> Manifest:
        if not self.manifest_seen or self.manifest is None:
            raise BundleFormatError(self.path, "no manifest.json in the archive", MANIFEST_NAME)
        missing = [m.path for m in self.manifest.members if m.path not in self.seen]
        if missing:
            raise BundleCorrupt(self.path, f"truncated: {len(missing)} member(s) missing", missing[0])
        return self.manifest


def _entry_name(name: str) -> str | None:
    """The member path an entry stands for: without ``./`` prefixes or a directory's trailing slash; None for
    the archive's root directory."""
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/") if len(name) > 1 else name
    return None if name in ("", ".") else name


def _check_entry(path: Path, info: tarfile.TarInfo, limits: Limits, manifest_seen: bool) -> str | None:
    """Everything about one tar header that can be refused before its data is read; its member path."""
    name = _entry_name(info.name)
    if name is not None and (why := unsafe_member_path(name)):
        raise BundleUnsafe(path, f"refused: {why}", info.name)
    if info.issym() or info.islnk():
        raise BundleUnsafe(path, "refused: links are not allowed", info.name)
    if info.ischr() or info.isblk() or info.isfifo():
        raise BundleUnsafe(path, "refused: device or fifo", info.name)
    if info.isdir():
        return name
    if name is None or not info.isreg() or info.issparse():
        raise BundleUnsafe(path, "refused: only regular files and directories are allowed", info.name)
    manifest = name == MANIFEST_NAME and not manifest_seen
    cap = limits.max_manifest_bytes if manifest else limits.max_member_bytes
    if info.size > cap:
        raise BundleUnsafe(path, f"refused: {info.size} bytes is over the {cap}-byte member cap", info.name,
                           limit="max_manifest_bytes" if manifest else "max_member_bytes")
    return name


def _listed(path: Path, manifest: Manifest, name: str, size: int) -> Member:
    member = manifest.member(name)
    if member is None:
        raise BundleCorrupt(path, "member not listed in the manifest", name)
    if size != member.size:
        raise BundleCorrupt(path, f"size {size} differs from the manifest's {member.size}", name)
    return member


def _check_directory(path: Path, manifest: Manifest, name: str) -> None:
    if not any(m.path.startswith(name + "/") for m in manifest.members):
        raise BundleUnsafe(path, "refused: a directory that holds no member the manifest lists", name)


def _load_manifest(path: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, limits: Limits) -> Manifest:
    data = _read_all(tar, info)
    try:
        raw: Any = json.loads(data)
    except ValueError as exc:
        raise BundleFormatError(path, f"manifest is not JSON: {exc}", MANIFEST_NAME) from exc
    manifest = Manifest.from_dict(raw, path)
    if len(manifest.members) + 1 > limits.max_members:
        count = len(manifest.members)
        raise BundleUnsafe(path, f"refused: {count} members is over the {limits.max_members} cap",
                           limit="max_members")
    for member in manifest.members:
        if member.size > limits.max_member_bytes:
            raise BundleUnsafe(path, f"refused: {member.size} bytes is over the member cap", member.path,
                               limit="max_member_bytes")
    total = sum(m.size for m in manifest.members)
    if total > limits.max_total_bytes:
        raise BundleUnsafe(path, f"refused: {total} bytes in all is over the {limits.max_total_bytes} cap",
                           limit="max_total_bytes")
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
    _size, sha256 = _stream(path, tar, info, member.path, member.size, out)
    if sha256 != member.sha256:
        raise BundleCorrupt(path, "sha256 does not match the manifest (changed or corrupt)", member.path)


def _stream(path: Path, tar: tarfile.TarFile, info: tarfile.TarInfo, name: str, expected_size: int,
            out: BinaryIO | None) -> tuple[int, str]:
    """Read exactly ``expected_size`` bytes of one entry (into ``out`` if given); its size and sha256."""
    source = tar.extractfile(info)
    assert source is not None  # a regular file, checked by _check_entry
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(min(_CHUNK, expected_size - size + 1)):
        size += len(chunk)
        if size > expected_size:
            raise BundleCorrupt(path, "more data than the manifest's size", name)
        digest.update(chunk)
        if out is not None:
            out.write(chunk)
    if size != expected_size:
        raise BundleCorrupt(path, f"truncated: {size} of {expected_size} bytes", name)
    return size, digest.hexdigest()
