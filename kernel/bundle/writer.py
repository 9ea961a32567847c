"""Write a bundle: members are staged in a private temporary directory, then one ``tar.gz`` is written
atomically (temporary file in the destination directory, fsync, rename, fsync of the directory).

The writer stores what it is given: scrub text and probe results first (:mod:`medic.agent.redact`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from medic.kernel import __version__
from medic.kernel.bundle.manifest import (
    MANIFEST_NAME,
    Manifest,
    Member,
    ProbeRecord,
    Skipped,
    unsafe_member_path,
)
from medic.kernel.models import ProbeResult

_CHUNK = 1 << 16
DIGEST_XATTR = "user.medic.sha256"  # the finished bundle's sha256, size and mtime (see _stamp)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def probe_status(result: ProbeResult) -> str:
    return "ok" if result.ok else "unavailable" if result.unavailable else "failed"


class BundleWriter:
    """Collects members, then writes ``dest`` once, atomically, on :meth:`finish` or a clean ``with`` exit."""

    # agent_version: the producer's version; medic-agent ships this kernel, so the kernel's version is the agent's
    def __init__(self, dest: str | Path, *, host: str, agent_version: str = __version__,
                 started_at: str | None = None, info: Mapping[str, Any] | None = None) -> None:
        self.dest = Path(dest)
        self.manifest = Manifest(agent_version, host, started_at or utc_now(), "", info=dict(info or {}))
        self._staging = Path(tempfile.mkdtemp(prefix="medic-bundle-"))
        self._finished = False

    # -- adding content --
    def add_bytes(self, path: str, data: bytes, kind: str = "file") -> str:
        return self.add_stream(path, io.BytesIO(data), kind)

    def add_text(self, path: str, text: str, kind: str = "file") -> str:
        return self.add_bytes(path, text.encode("utf-8", "surrogateescape"), kind)

    def add_json(self, path: str, value: Any, kind: str = "file") -> str:
        text = json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str)
        return self.add_text(path, text + "\n", kind)

    def add_stream(self, path: str, source: BinaryIO, kind: str = "file") -> str:
        """Copy ``source`` into the bundle as ``path`` without holding it in memory."""
        if why := unsafe_member_path(path):
            raise ValueError(f"cannot add {path!r} to a bundle: {why}")
        if path == MANIFEST_NAME or self.manifest.member(path) is not None:
            raise ValueError(f"bundle member {path!r} already exists")
        staged = self._staging / f"{len(self.manifest.members):06d}"
        digest, size = hashlib.sha256(), 0
        with staged.open("wb") as out:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.manifest.members.append(Member(path, size, digest.hexdigest(), kind))
        return path

    def add_probe_result(self, result: ProbeResult) -> str:
        """Store one (already scrubbed) result as ``probes/NNNN.json``, keyed by its ``ProbeCall.key``."""
        key = result.call.key
        if any(p.key == key for p in self.manifest.probes):
            raise ValueError(f"probe call {key!r} is already in the bundle")
        path = f"probes/{len(self.manifest.probes) + 1:04d}.json"
        self.add_json(path, {"key": key, "result": result.to_dict()}, kind="probe")
        record = ProbeRecord(key, result.probe, path, probe_status(result), result.duration_s)
        self.manifest.probes.append(record)
        return path

    def skip(self, item: str, reason: str) -> None:
        """Record something not collected (``probe:packages``, ``log:/var/log/x``) and why."""
        self.manifest.skipped.append(Skipped(item, reason))

    def set_redaction(self, summary: Mapping[str, int]) -> None:
        self.manifest.redaction = {str(k): int(v) for k, v in sorted(summary.items())}

    # -- writing --
    def finish(self) -> Path:
        """Write the archive atomically and return its path; the staging directory is removed."""
        if self._finished:
            raise ValueError("bundle already finished")
        self.manifest.finished_at = utc_now()
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.dest.name}.", suffix=".part", dir=self.dest.parent)
        try:
            with os.fdopen(fd, "wb") as raw:
                hashing = _Hashing(raw)
                self._write_archive(hashing)  # type: ignore[arg-type]
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(tmp_name, self.dest)
            _stamp(self.dest, hashing.sha256.hexdigest(), hashing.size)
            _fsync_dir(self.dest.parent)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        finally:
            self.abort()
        self._finished = True
        return self.dest

    def abort(self) -> None:
        """Drop everything staged; nothing is written."""
        shutil.rmtree(self._staging, ignore_errors=True)

    def _write_archive(self, raw: BinaryIO) -> None:
        mtime = int(datetime.now(timezone.utc).timestamp())
        manifest = json.dumps(self.manifest.to_dict(), indent=1, sort_keys=True, default=str).encode() + b"\n"
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.addfile(_info(MANIFEST_NAME, len(manifest), mtime), io.BytesIO(manifest))
            for index, member in enumerate(self.manifest.members):
                with (self._staging / f"{index:06d}").open("rb") as data:
                    tar.addfile(_info(member.path, member.size, mtime), data)

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None and not self._finished:
            self.finish()
        else:
            self.abort()


def _info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.type = size, mtime, 0o644, tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Hashing:
    """The archive's bytes on their way to the file, hashed as they pass (the uploader need not read it again)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _stamp(path: Path, sha256: str, size: int) -> None:
    """Keep the bundle's sha256 with it, as DIGEST_XATTR "<sha256> <size> <mtime_ns>", where the file system keeps
    user extended attributes: `medic-agent upload` trusts it only while size and mtime are unchanged, and the
    collector checks the whole file's sha256 anyway (a stale stamp is refused there and the bundle kept)."""
    if not hasattr(os, "setxattr"):  # not Linux
        return
    try:
        seen = os.stat(path)
        if seen.st_size == size:
            os.setxattr(path, DIGEST_XATTR, f"{sha256} {size} {seen.st_mtime_ns}".encode("ascii"))
    except OSError:  # a file system without user xattrs: the uploader hashes the file
        pass


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds (Windows)
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
