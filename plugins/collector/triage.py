"""Triage on arrival: a bounded queue and one worker thread run the ``triage`` playbook (configurable) on each
verified bundle through medic's engine, inline, and store ``findings-<upload>.json``, ``report-<upload>.md`` and
``triage-<upload>.json`` in the case's directory (one case may gather several bundles: none overwrites another's).
Uploads never wait for it: when the queue is full, ``triage-<upload>.json`` says triage was skipped and why."""

from __future__ import annotations

import json
import queue
import threading
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medic.core.engine import Engine
from medic.core.history import document
from medic.core.report import to_markdown
from medic.core.session import Session


def upload_of(bundle: Path) -> str:
    return bundle.name.split(".", 1)[0]


def status_path(case_dir: Path, bundle: Path) -> Path:
    return case_dir / f"triage-{upload_of(bundle)}.json"


def write_status(case_dir: Path, bundle: Path, **fields: Any) -> None:
    record = {"bundle": bundle.name, "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **fields}
    path = status_path(case_dir, bundle)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)  # a reader never sees half a record


Job = tuple[str, Path, Path, dict[str, Any], dict[str, str]]  # case id, bundle, case dir, upload fields, record fields


class BundleQueue:
    """A bounded queue of verified bundles and the one thread that works through it (``run`` does one bundle):
    uploads never wait for it, and every state it passes through is written to ``triage-<upload>.json``."""

    def __init__(self, size: int, thread_name: str) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=size)
        self._thread = threading.Thread(target=self._work, name=thread_name, daemon=True)
        self._thread.start()

    def submit(self, case_id: str, bundle: Path, case_dir: Path, info: dict[str, Any] | None = None,
               **fields: str) -> bool:
        """Queue a bundle; False (and the case says so) when the queue is full. ``info``: the upload's fields;
        ``fields``: added to each record written for this bundle (e.g. why it is triaged here)."""
        write_status(case_dir, bundle, status="queued", **fields)  # before the worker can see it and say "running"
        try:
            self._queue.put_nowait((case_id, bundle, case_dir, info or {}, fields))
        except queue.Full:
            write_status(case_dir, bundle, status="skipped", **fields,
                         reason=f"triage queue full ({self._queue.maxsize} bundles waiting)")
            return False
        return True

    def stop(self) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:  # a full queue at shutdown: the daemon worker ends with the process
            return
        self._thread.join(timeout=30)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            case_id, bundle, case_dir, info, fields = job
            try:
                self.run(case_id, bundle, case_dir, info, fields)
            except Exception as exc:  # one bad bundle must not stop the ones after it
                write_status(case_dir, bundle, status="failed", **fields, error=f"{type(exc).__name__}: {exc}",
                             trace=traceback.format_exc(limit=5))

    def run(self, case_id: str, bundle: Path, case_dir: Path, info: dict[str, Any], fields: dict[str, str]) -> None:
        raise NotImplementedError


class TriageQueue(BundleQueue):
    """Runs the playbook here, through medic's engine."""

    def __init__(self, session: Session, playbook: str, size: int) -> None:
        self.session, self.playbook = session, playbook
        super().__init__(size, "medic-collector-triage")

    def run(self, case_id: str, bundle: Path, case_dir: Path, info: dict[str, Any] | None = None,
            fields: dict[str, str] | None = None) -> None:
        extra = fields or {}
        write_status(case_dir, bundle, status="running", **extra)
        playbook = self.session.load_playbook(self.playbook)
        targets = self.session.open_targets([f"bundle:{bundle}"])
        try:
            run = Engine(self.session.registry, self.session.hooks).run(playbook, targets, {})
        finally:
            for target in targets:
                target.close()
        text = document(run)
        (case_dir / f"findings-{upload_of(bundle)}.json").write_text(text + "\n")
        report = case_dir / f"report-{upload_of(bundle)}.md"
        report.write_text(to_markdown(run))
        self.session.hooks.collector_bundle_triaged(case_id=case_id, run_document=json.loads(text),
                                                    report_path=str(report))
        write_status(case_dir, bundle, status="done", **extra, run_id=run.run_id, exit_code=run.exit_code)
