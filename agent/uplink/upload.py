"""One bundle to the collector: tus upload, signed receipt, and only then the local copy removed.

The bundle is deleted only when the receipt's signature verifies under the key pinned at enrollment, its key id
is that key's, and it names this bundle's sha256 and size. A refused bundle (422), an invalid receipt, a
network that never came back: the bundle stays and the error says why (errors.UplinkError and subclasses).
"""

from __future__ import annotations

import json
import os

from medic.agent.uplink.errors import UplinkError
from medic.agent.uplink.progress import Progress
from medic.agent.uplink.state import Enrollment, PendingUploads
from medic.agent.uplink.transport import Server
from medic.agent.uplink.tus import CHUNK_SIZE, LocalBundle, Retry, TusClient, describe, remembered, stamped

TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    from typing import Any

    from medic.agent.uplink.state import StrPath


class Delivered:
    """The verified receipt, and whether the local bundle was deleted (a plain class: see state.Enrollment)."""

    def __init__(self, receipt: dict[str, Any], deleted: bool) -> None:
        self.receipt, self.deleted = receipt, deleted


def server_for(enrollment: Enrollment) -> Server:
    return Server(enrollment.url, pin=enrollment.pin, ca=enrollment.ca)


def fetch_receipt(client: TusClient, path: str) -> dict[str, Any]:
    """GET <upload>/receipt, waiting (with the client's backoff) while the collector answers 409 "not complete"."""
    while True:
        resp = client._call("GET", f"{path}/receipt")
        if resp.status == 200:
            try:
                return json.loads(resp.body.decode("utf-8"))
            except ValueError:
                raise UplinkError("the collector's receipt is not JSON") from None
        if resp.status == 409:
            client.retry.wait(f"receipt not ready: {resp.problem()}", client.progress)
            continue
        if resp.status == 422:
            raise UplinkError(f"the collector refused the bundle: {resp.problem()}")
        raise UplinkError(f"GET {path}/receipt: HTTP {resp.status}: {resp.problem()}")


def deliver(bundle_path: StrPath, enrollment: Enrollment, progress: Progress, *, keep: bool = False,
            chunk_size: int = CHUNK_SIZE, retry: Retry | None = None,
            pending: PendingUploads | None = None) -> Delivered:
    """Upload ``bundle_path``, verify the receipt, then delete the bundle unless ``keep``."""
    bundle_path = os.fspath(bundle_path)  # os and os.path, not pathlib: a restart's imports (state.py)
    if not os.path.isfile(bundle_path):
        raise UplinkError(f"{bundle_path}: no such bundle")
    if bundle_path.endswith(".blocked"):
        raise UplinkError(f"{bundle_path}: blocked by the leak scan; it is never sent (medic-agent leaks scan)")
    before = os.stat(bundle_path)
    pending = pending or PendingUploads()
    # resuming, or a bundle medic's writer stamped with its sha256: not read an extra time to hash it
    bundle: LocalBundle = remembered(bundle_path, pending) or stamped(bundle_path) or describe(bundle_path)
    server = server_for(enrollment)
    client = TusClient(server, enrollment.token, progress, uploads=enrollment.uploads, chunk_size=chunk_size,
                       retry=retry, pending=pending)
    try:
        path = client.upload(bundle)
        from medic.agent.uplink.receipt import check_receipt  # not before there is a receipt: a restart is lighter

        receipt = check_receipt(fetch_receipt(client, path), public_key=enrollment.public_key,
                                expected_key_id=enrollment.key_id, sha256=bundle.sha256, size=bundle.size)
    finally:
        server.close()
    pending.forget(bundle.sha256)
    progress.event("receipt", receipt=receipt)
    if keep:
        return Delivered(receipt, deleted=False)
    after = os.stat(bundle_path)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):  # what was proved is not this
        raise UplinkError(f"{bundle_path} changed during the upload; kept")
    os.unlink(bundle_path)
    progress.event("deleted", path=bundle_path)
    return Delivered(receipt, deleted=True)
