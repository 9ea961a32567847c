"""The bundle manifest (``manifest.json``, always the archive's first member) and member path rules.

Format version 1::

    {"format_version": 1, "agent_version": "0.1.0", "host": "web01" | "host-1",
     "started_at": "2026-11-25T16:00:00Z", "finished_at": "...",
     "members": [{"path": "probes/0001.json", "size": 812, "sha256": "...", "kind": "probe"}, ...],
     "probes": [{"key": "os_info", "probe": "os_info", "member": "probes/0001.json", "status": "ok",
                 "duration_s": 0.01}, ...],
     "skipped": [{"item": "probe:packages", "reason": "time budget exhausted"}, ...],
     "redaction": {"password": 3, "url_password": 1},
     "info": {"profile": "default", "pseudonymised": true, ...}}

The manifest is not listed among its own members; every other archive member is, with its size and sha256.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medic.kernel.bundle.errors import BundleFormatError

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PROBE_STATUSES = ("ok", "failed", "unavailable")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def unsafe_member_path(path: str) -> str | None:
    """Why ``path`` may not name a bundle member (absolute, ``..``, odd characters), or None if it may."""
    if not path or len(path) > 255:
        return "empty or longer than 255 characters"
    if path.startswith("/") or "\\" in path or re.match(r"^[A-Za-z]:", path):
        return "absolute path"
    if any(part in ("", ".", "..") for part in path.split("/")) or posixpath.normpath(path) != path:
        return "path with '..', '.' or empty components"
    if any(ord(c) < 32 or c == "\x7f" for c in path):
        return "control character in path"
    return None


@dataclass(frozen=True)
class Member:
    path: str
    size: int
    sha256: str
    kind: str = "file"  # probe, log, command, note, file


@dataclass(frozen=True)
class ProbeRecord:
    key: str
    probe: str
    member: str
    status: str  # ok, failed, unavailable
    duration_s: float = 0.0


@dataclass(frozen=True)
class Skipped:
    item: str
    reason: str


@dataclass
class Manifest:
    agent_version: str
    host: str
    started_at: str
    finished_at: str
    members: list[Member] = field(default_factory=list)
    probes: list[ProbeRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    redaction: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def member(self, path: str) -> Member | None:
        return next((m for m in self.members if m.path == path), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any, bundle: str | Path = "?") -> Manifest:
        """Validate and load; any problem is a :class:`BundleFormatError` naming the field."""
        try:
            return cls._load(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleFormatError(bundle, f"invalid manifest: {exc}", MANIFEST_NAME) from exc

    @classmethod
    def _load(cls, raw: Any) -> Manifest:
        if not isinstance(raw, Mapping):
            raise TypeError("not a JSON object")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported format_version {version!r}; this medic reads {FORMAT_VERSION}")
        members = [Member(str(m["path"]), _count(m["size"]), str(m["sha256"]), str(m.get("kind", "file")))
                   for m in raw["members"]]
        for m in members:
            if (why := unsafe_member_path(m.path)) or m.path == MANIFEST_NAME:
                raise ValueError(f"member {m.path!r}: {why or 'reserved name'}")
            if not _SHA256.fullmatch(m.sha256):
                raise ValueError(f"member {m.path!r}: sha256 is not 64 lowercase hex digits")
        if len({m.path for m in members}) != len(members):
            raise ValueError("duplicate member paths")
        probes = [ProbeRecord(str(p["key"]), str(p["probe"]), str(p["member"]), str(p["status"]),
                              float(p.get("duration_s", 0.0))) for p in raw.get("probes", [])]
        known = {m.path for m in members}
        for p in probes:
            if p.member not in known or p.status not in PROBE_STATUSES:
                raise ValueError(f"probe {p.key!r}: unknown member or status")
        return cls(
            agent_version=str(raw["agent_version"]), host=str(raw["host"]),
            started_at=str(raw["started_at"]), finished_at=str(raw["finished_at"]),
            members=members, probes=probes,
            skipped=[Skipped(str(s["item"]), str(s["reason"])) for s in raw.get("skipped", [])],
            redaction={str(k): _count(v) for k, v in dict(raw.get("redaction", {})).items()},
            info=dict(raw.get("info", {})),
        )


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value
