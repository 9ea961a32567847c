"""A closed case's archive: one ``.tar.gz`` under ``$MEDIC_STATE_DIR/archive/`` holding ``case.json`` (the case,
its links and its whole timeline), ``runs/RUN.json`` (the attached runs' documents from the run history),
``far.md`` and ``far.html`` (its fault analysis report) and ``attachments/SHA256.tar.gz`` (each attached bundle
whose file is still where the collector put it; a missing one is listed in ``case.json`` under ``missing``).

It is written to a temporary name and renamed, so a reader never sees half of it; its SHA-256 goes into a sidecar
``CASE-N.tar.gz.sha256`` (``sha256sum -c`` checks it) and into an ``archived`` event of the case's timeline.
Closing the case again (after a reopen) writes a new archive next to the first: ``CASE-N.2.tar.gz``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path
from typing import Any

from medic.plugins.cases.store import CaseStore
from medic.plugins.kb.fromcase import run_documents


def _add(tar: tarfile.TarFile, name: str, data: bytes, at: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(at), 0o600
    tar.addfile(info, io.BytesIO(data))


def _destination(folder: Path, case_id: str) -> Path:
    path, n = folder / f"{case_id}.tar.gz", 1
    while path.exists():
        n += 1
        path = folder / f"{case_id}.{n}.tar.gz"
    return path


def write_archive(store: CaseStore, case_id: str, state: Path, far: dict[str, str]) -> dict[str, Any]:
    """Archive the case (``far``: its report as ``{"md": ..., "html": ...}``); the ``archived`` event's data."""
    case, events, now = store.get(case_id), store.timeline(case_id), time.time()
    runs = run_documents(case, state)
    found = {b.ref: Path(str(b.data.get("path") or "")) for b in case.bundles}
    attached = {ref: path for ref, path in found.items() if str(path) != "." and path.is_file()}
    missing = sorted(set(found) - set(attached))
    document = {"format": "medic.case-archive/1", "case": case.to_json(), "missing": missing,
                "timeline": [e.to_json() for e in events]}
    folder = state / "archive"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = _destination(folder, case_id)
    partial = path.with_name(path.name + ".part")
    with tarfile.open(partial, "w:gz") as tar:
        _add(tar, "case.json", json.dumps(document, indent=2, default=str).encode(), now)
        for run in runs:  # a run id names a member, never a path outside runs/
            name = Path(str(run.get("run_id") or "run")).name
            _add(tar, f"runs/{name}.json", json.dumps(run, indent=2, default=str).encode(), now)
        for kind, text in far.items():
            _add(tar, f"far.{kind}", text.encode(), now)
        for ref, bundle in attached.items():
            tar.add(bundle, f"attachments/{ref}.tar.gz", recursive=False)
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    os.replace(partial, path)
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    data = {"path": str(path), "sha256": digest, "size": path.stat().st_size, "runs": len(runs),
            "attachments": len(attached), "missing": missing}
    store.add_event(case_id, "archived", data, actor="medic")
    return data


def verify(path: Path) -> bool:
    """Whether the archive still has the SHA-256 its sidecar records."""
    recorded = path.with_name(path.name + ".sha256").read_text().split()[0]
    return hashlib.sha256(path.read_bytes()).hexdigest() == recorded
