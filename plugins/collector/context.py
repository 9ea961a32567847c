"""What the running collector holds: its directory, configuration, state, receipt key, rate limits, the uploads
being written right now (one PATCH per upload at a time), the plugin hooks and the triage queue."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from medic.plugins.collector import config as config_mod
from medic.plugins.collector.keys import load_receipt_key, public_key_info
from medic.plugins.collector.limits import TokenBucket
from medic.plugins.collector.store import Store

STATE_NAME = "state.sqlite"


def open_store(directory: Path) -> Store:
    config_mod.load(directory)  # refuses a directory that is not a collector's
    return Store(directory / STATE_NAME)


@dataclass
class Collector:
    directory: Path
    config: config_mod.CollectorConfig
    store: Store
    receipt_key: ed25519.Ed25519PrivateKey
    hooks: Any = None  # pluggy relay: collector_bundle_received / collector_bundle_triaged
    triage: Any = None  # TriageQueue, or None (no triage)
    busy: dict[str, asyncio.Event] = field(default_factory=dict)  # upload id -> set when its PATCH ends
    verifiers: dict[str, Any] = field(default_factory=dict)  # upload id -> verify.Verifier (reading as it arrives)
    requests: TokenBucket = field(init=False)
    enrolls: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        self.requests = TokenBucket(self.config.requests_per_second, self.config.request_burst)
        self.enrolls = TokenBucket(self.config.enroll_per_minute / 60, self.config.enroll_per_minute)
        self.key_info = public_key_info(self.receipt_key)
        for sub in ("uploads", "cases"):
            (self.directory / sub).mkdir(mode=0o700, exist_ok=True)

    @classmethod
    def open(cls, directory: Path, hooks: Any = None, triage: Any = None) -> Collector:
        cfg = config_mod.load(directory)
        key = load_receipt_key(config_mod.resolve(directory, cfg.receipt_key))
        return cls(directory, cfg, Store(directory / STATE_NAME), key, hooks, triage)

    def data_path(self, upload_id: str) -> Path:
        return self.directory / "uploads" / f"{upload_id}.part"

    def bundle_path(self, upload_id: str) -> Path:
        return self.directory / "uploads" / f"{upload_id}.tar.gz"

    def location(self, upload_id: str) -> str:
        """Built from the configured public URL only: Host and X-Forwarded-* are never trusted."""
        return f"{self.config.public_url.rstrip('/')}/files/{upload_id}"

    def free_disk(self) -> int:
        return shutil.disk_usage(self.directory).free

    def remove_upload(self, upload: dict[str, Any]) -> None:
        for path in (self.data_path(upload["upload_id"]), self.bundle_path(upload["upload_id"])):
            path.unlink(missing_ok=True)
        self.store.delete_upload(upload["upload_id"])
        verifier = self.verifiers.pop(upload["upload_id"], None)
        if verifier is not None:
            verifier.cancel()

    def gc(self, now: float | None = None) -> list[str]:
        """Remove incomplete uploads past their expiry; their ids."""
        gone = self.store.expired(time.time() if now is None else now)
        for upload in gone:
            self.remove_upload(upload)
        return [u["upload_id"] for u in gone]


def create_private(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
