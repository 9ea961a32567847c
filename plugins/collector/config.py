"""The collector's directory: ``DIR/collector.yaml`` (public URL, bind address, limits), its keys and state.

Sizes are written ``512MiB``, ``10GiB`` or a plain number of bytes; durations ``90s``, ``30m``, ``24h``, ``3d``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from medic.kernel.errors import UsageError

CONFIG_NAME = "collector.yaml"
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1 << 10, "m": 10**6, "mb": 10**6, "mib": 1 << 20,
          "g": 10**9, "gb": 10**9, "gib": 1 << 30, "t": 10**12, "tb": 10**12, "tib": 1 << 40}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_size(text: str | int, what: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise UsageError(f"{what}: expected a size like 512MiB, 10GiB or a number of bytes, got {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_quota(text: str, what: str = "--quota") -> int:
    """``10GiB/day`` (or just ``10GiB``): bytes per rolling 24 hours."""
    size, _, per = str(text).partition("/")
    if per not in ("", "day", "d"):
        raise UsageError(f"{what}: expected SIZE/day, e.g. 10GiB/day, got {text!r}")
    return parse_size(size, what)


def parse_duration(text: str | int, what: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool) and text > 0:
        return text
    m = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", str(text))
    if not m or int(m.group(1)) <= 0:
        raise UsageError(f"{what}: expected a duration like 90s, 30m, 24h or 3d, got {text!r}")
    return int(m.group(1)) * _SECONDS[m.group(2) or "s"]


def parse_bind(text: str, what: str = "--bind") -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{what}: expected HOST:PORT, e.g. 127.0.0.1:8443, got {text!r}")
    return host.strip("[]"), int(port)


@dataclass
class CollectorConfig:
    """Every key of collector.yaml (README, "Collector", lists them with these defaults)."""

    public_url: str = "https://127.0.0.1:8443"
    bind: str = "127.0.0.1:8443"
    tls_cert: str = "tls/cert.pem"
    tls_key: str = "tls/key.pem"
    receipt_key: str = "keys/receipt.pem"
    max_bundle_size: int = 1 << 30
    # caps of the bundle reader at arrival and triage; None: derived from max_bundle_size (bundle_limits)
    max_member_size: int | None = None
    max_unpacked_size: int | None = None
    default_quota: int = 10 << 30  # bytes per day per agent, when `enroll --quota` is not given
    max_concurrent_uploads: int = 4  # incomplete uploads per agent
    requests_per_second: float = 20.0  # token bucket per agent
    request_burst: int = 200
    enroll_per_minute: int = 10  # per client address
    min_free_disk: int = 1 << 30  # new uploads refused (507) below this much free space in DIR
    upload_expiry: int = 72 * 3600  # seconds an incomplete upload is kept
    triage_playbook: str = "triage"
    triage_queue: int = 16  # bundles waiting for triage; beyond, the case says triage skipped
    cases_viewers: list[str] = field(default_factory=list)  # enrolled names that may read the cases page

    def validate(self, where: str) -> CollectorConfig:
        url = urlsplit(self.public_url)
        if url.scheme != "https" or not url.hostname or url.path not in ("", "/"):
            raise UsageError(f"{where}: public_url: expected https://HOST[:PORT], got {self.public_url!r}")
        parse_bind(self.bind, f"{where}: bind")
        for name in ("max_bundle_size", "default_quota", "min_free_disk"):
            setattr(self, name, parse_size(getattr(self, name), f"{where}: {name}"))
        for name in ("max_member_size", "max_unpacked_size"):
            if getattr(self, name) is not None:
                setattr(self, name, parse_size(getattr(self, name), f"{where}: {name}"))
        member, unpacked = unpacked_caps(self)
        if not 0 < member <= unpacked:
            raise UsageError(f"{where}: max_member_size: expected a size above 0 and at most max_unpacked_size "
                             f"({unpacked} bytes), got {member} bytes")
        self.upload_expiry = parse_duration(self.upload_expiry, f"{where}: upload_expiry")
        for name in ("max_concurrent_uploads", "request_burst", "enroll_per_minute", "triage_queue"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"{where}: {name}: expected a whole number of at least 1, got {value!r}")
        if not isinstance(self.requests_per_second, int | float) or self.requests_per_second <= 0:
            raise UsageError(f"{where}: requests_per_second: expected a positive number")
        if not isinstance(self.cases_viewers, list) or not all(isinstance(n, str) and n
                                                                for n in self.cases_viewers):
            raise UsageError(f"{where}: cases_viewers: expected a list of agent names, got {self.cases_viewers!r}")
        return self


KEYS = tuple(f.name for f in fields(CollectorConfig))


def unpacked_caps(config: CollectorConfig) -> tuple[int, int]:
    """(max_member_size, max_unpacked_size) in bytes: as configured, else derived from max_bundle_size so that a
    bundle the collector accepts in size is not refused by the reader: members may unpack to twice the bundle
    (gzip of logs; a bomb still stops there, before anything is written), one member to a quarter of it, never
    below what `medic bundles inspect` allows."""
    from medic.kernel.bundle import Limits  # `medic bundles inspect`'s caps: the floor

    inspect = Limits()
    unpacked = config.max_unpacked_size or max(inspect.max_total_bytes, 2 * config.max_bundle_size)
    member = config.max_member_size or min(unpacked, max(inspect.max_member_bytes, config.max_bundle_size // 4))
    return member, unpacked


def load(directory: Path) -> CollectorConfig:
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise UsageError(f"{directory}: not a collector directory (no {CONFIG_NAME}; run `medic collector init`)")
    try:
        raw: Any = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: expected a mapping of keys")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    return CollectorConfig(**raw).validate(str(path))


def save(directory: Path, config: CollectorConfig) -> None:
    data = {name: getattr(config, name) for name in KEYS}
    (directory / CONFIG_NAME).write_text(yaml.safe_dump(data, sort_keys=False))


def resolve(directory: Path, relative: str) -> Path:
    path = Path(relative)
    return path if path.is_absolute() else directory / path
