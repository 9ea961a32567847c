"""Verify a bundle while it arrives: medic's bundle reader (the manifest rules of ``medic bundles inspect``, the
collector's caps) runs in a thread over the acknowledged part of the upload's file, hashing the whole file as it reads,
so at the last byte only the last PATCH is left to read instead of the whole bundle.

Only acknowledged bytes are read: they never change (a later PATCH truncates back to the acknowledged offset and
appends), while the bytes of a PATCH in flight may still be discarded (460, a dropped connection). A verifier
that did not succeed (a refused bundle, an error of its own) leaves the last byte to read the file again as
before (arrival.finish_upload), so a refusal says exactly what it said before this existed."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from medic.kernel.bundle import Limits, Manifest, read_manifest_from
from medic.plugins.collector.caps import bundle_limits

READ_SIZE = 1 << 16
# An upload no PATCH has advanced for this long is most likely abandoned (the agent gone for good): its verifier
# stops waiting and frees its thread and file; if the agent comes back, the next PATCH starts a new one that reads
# the acknowledged bytes from the file (verifier_for), so nothing is lost but a re-read.
IDLE_S = 600.0


class Cancelled(Exception):
    """The upload went away (terminated, expired, the collector stops): the reader stops waiting."""


class Idle(Cancelled):
    """No acknowledgement for IDLE_S seconds: the reader stops waiting until the upload moves again."""


class AckedView:
    """A read-only file over ``path`` whose read() waits until the bytes it returns are acknowledged; the
    bytes of the file, each once and in order, go into a sha256 as they are first read."""

    def __init__(self, path: Path, length: int, acked: int, idle_s: float = IDLE_S) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.length, self.acked, self.pos, self.hashed, self.idle_s = length, acked, 0, 0, idle_s
        self.sha256 = hashlib.sha256()
        self.cond = threading.Condition()
        self.cancelled = False

    def advance(self, acked: int) -> None:
        with self.cond:
            self.acked = acked
            self.cond.notify_all()

    def cancel(self) -> None:
        with self.cond:
            self.cancelled = True
            self.cond.notify_all()

    def read(self, size: int = -1) -> bytes:
        end = self.length if size < 0 else min(self.length, self.pos + size)
        with self.cond:
            while self.acked < end and not self.cancelled:
                if not self.cond.wait(self.idle_s) and self.acked < end and not self.cancelled:
                    raise Idle
            if self.cancelled:
                raise Cancelled
        data = os.pread(self.fd, end - self.pos, self.pos)
        if len(data) != end - self.pos:  # the file is shorter than its acknowledged offset: not ours to guess
            raise OSError(f"short read at {self.pos}: {len(data)} of {end - self.pos} bytes")
        if self.pos + len(data) > self.hashed:  # the reader reads the first 512 bytes twice (format check)
            self.sha256.update(memoryview(data)[self.hashed - self.pos:])
            self.hashed = self.pos + len(data)
        self.pos = end
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or not 0 <= offset <= self.hashed:
            raise OSError("the acknowledged view seeks back only to bytes it has read")
        self.pos = offset
        return offset

    def close(self) -> None:
        os.close(self.fd)


class Verifier:
    """The reader over an AckedView in a daemon thread; result() waits for it at the last byte."""

    def __init__(self, path: Path, name: str, length: int, acked: int, limits: Limits | None = None,
                 idle_s: float = IDLE_S) -> None:
        self.view = AckedView(path, length, acked, idle_s)
        self.name, self.limits = Path(name), limits or Limits()
        self.manifest: Manifest | None = None
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="medic-verify", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            # 64 KiB reads: a quarter less CPU than the 512-byte reads that name a truncation's member exactly; a
            # failure is read again by the precise reader at the last byte, so messages are unchanged
            self.manifest = read_manifest_from(self.view, self.name, self.limits,  # type: ignore[arg-type]
                                               bufsize=READ_SIZE)
        except Exception as exc:  # whatever it was, the last byte reads the file again
            self.failed = exc
        finally:
            self.view.close()

    def advance(self, acked: int) -> None:
        self.view.advance(acked)

    @property
    def idled(self) -> bool:
        """It stopped waiting for an upload that did not move: a new verifier must take over."""
        return isinstance(self.failed, Idle)

    def cancel(self) -> None:
        self.view.cancel()

    def result(self) -> tuple[str, Manifest] | None:
        """(the whole file's sha256, its verified manifest), or None: the last byte reads the file again."""
        self.thread.join()
        if self.manifest is None or self.view.hashed != self.view.length:
            return None
        return self.view.sha256.hexdigest(), self.manifest


def verifier_for(col: Any, upload: dict[str, Any]) -> Verifier:
    """The upload's verifier, started at the first PATCH this process sees, or the first after its verifier idled
    (either way it reads the bytes acknowledged before it from the file)."""
    verifier: Verifier | None = col.verifiers.get(upload["upload_id"])
    if verifier is None or verifier.idled:
        verifier = Verifier(col.data_path(upload["upload_id"]), upload["filename"], upload["length"],
                            upload["offset"], bundle_limits(col.config), IDLE_S)
        col.verifiers[upload["upload_id"]] = verifier
    return verifier
