"""At the last byte: the whole file's sha256 against Upload-Metadata, then medic's bundle reader (the manifest
rules of ``medic bundles inspect``, its caps from collector.yaml: caps.py; it verifies every member without
writing any), then a case id (the
``collector_bundle_received`` hook, else ``B-<upload id>``), a signed receipt, and the triage queued."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medic.kernel.bundle import BundleError, Manifest, read_manifest
from medic.plugins.collector.caps import bundle_limits, cap_hint, config_key
from medic.plugins.collector.context import Collector
from medic.plugins.collector.keys import canonical, sign_receipt

_CASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def refusal(detail: str, field: str, member: str | None, rule: str) -> dict[str, Any]:
    return {"type": "urn:medic:collector:bundle-refused", "title": "Unprocessable Content", "status": 422,
            "detail": detail, "field": field, "member": member, "rule": rule}


def upload_info(upload: dict[str, Any], agent: dict[str, Any], host: str) -> dict[str, Any]:
    """What plugins (``collector_bundle_received``) and the medic.bundle.received event learn of an upload."""
    return {"agent_id": upload["agent_id"], "agent_name": agent.get("name", ""), "upload_id": upload["upload_id"],
            "bundle_sha256": upload["sha256"], "bundle_size": upload["length"], "host": host, "note": ""}


def case_id_for(col: Collector, upload: dict[str, Any], info: dict[str, Any], bundle: Path) -> str:
    """The case a plugin opens or joins; a name that cannot be a directory of DIR/cases falls back to ours."""
    own = f"B-{upload['upload_id']}"
    if col.hooks is None:
        return own
    answer = col.hooks.collector_bundle_received(upload=info, bundle_path=str(bundle))
    if answer is None:
        return own
    if isinstance(answer, str) and _CASE_ID.fullmatch(answer) and answer not in (".", ".."):
        return answer
    print(f"medic collector: a plugin answered case id {answer!r}, not a safe name; using {own}", file=sys.stderr)
    return own


def refuse(col: Collector, upload: dict[str, Any], problem: dict[str, Any]) -> None:
    """Not delivered: the state says why (the receipt request answers it); the bytes are not kept."""
    col.store.finish(upload["upload_id"], "refused", problem=problem)
    col.data_path(upload["upload_id"]).unlink(missing_ok=True)


def finish_upload(col: Collector, upload: dict[str, Any], verified: tuple[str, Manifest] | None = None) -> None:
    """Runs in a worker thread right after the last byte was made durable. ``verified``: the whole file's sha256
    and its verified manifest when the bundle was read as it arrived (verify.py); else the file is read again."""
    data = col.data_path(upload["upload_id"])
    actual = verified[0] if verified is not None else file_sha256(data)
    if actual != upload["sha256"]:
        refuse(col, upload, refusal(f"the file's sha256 {actual} is not the declared {upload['sha256']}",
                                    "Upload-Metadata", None, "whole-file sha256"))
        return
    if verified is not None:
        manifest = verified[1]
    else:
        try:
            manifest = read_manifest(data, bundle_limits(col.config))
        except BundleError as exc:
            problem = refusal(str(exc).replace(str(data), upload["filename"]) + cap_hint(exc, col.config),
                              "bundle", exc.member, type(exc).__name__)
            refuse(col, upload, {**problem, "limit": key} if (key := config_key(exc)) else problem)
            return
    bundle = col.bundle_path(upload["upload_id"])
    data.rename(bundle)
    agent = next((a for a in col.store.agents() if a["agent_id"] == upload["agent_id"]), {})
    info = upload_info(upload, agent, manifest.host)
    case_id = case_id_for(col, upload, info, bundle)
    receipt = {"agent_id": upload["agent_id"], "upload_id": upload["upload_id"], "bundle_sha256": actual,
               "bundle_size": upload["length"],
               "manifest_sha256": hashlib.sha256(canonical(manifest.to_dict())).hexdigest(),
               "members_verified": len(manifest.members),
               "received_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "case_id": case_id,
               "key_id": col.key_info["key_id"]}
    signed = sign_receipt(col.receipt_key, receipt)
    case_dir = col.directory / "cases" / case_id
    case_dir.mkdir(parents=True, exist_ok=True)
    (case_dir / f"receipt-{upload['upload_id']}.json").write_text(json.dumps(signed, indent=2) + "\n")
    col.store.finish(upload["upload_id"], "complete", receipt=signed, case_id=case_id)
    if col.triage is not None:
        col.triage.submit(case_id, bundle, case_dir, info)  # a queue: the 204 does not wait for it
