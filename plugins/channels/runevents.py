"""Notifications sent while a run goes on: ``run.started``, ``step.failed``, ``approval.requested`` and
``change.rolled_back``.

A pluggy plugin on the run's hooks: the first step announces the run, a failing step (a leaf whose status is
``fail``) its findings. The change machinery reports the other two through :func:`emit` (an ``approve`` step
before it waits, a rollback when it has undone something): the run's hooks say only that a step started or ended,
not that it is waiting for a person or what it undid. Delivery happens on one worker thread, in order, so a slow
or dead receiver never delays the run; ``finish()`` waits a bounded time for what is queued, and anything not yet
delivered stays in the outbox for ``medic notify flush``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medic.core import notify
from medic.core.channel import Notification
from medic.core.hookspecs import hookimpl
from medic.kernel.models import Status

LIVE_EVENTS = ("run.started", "step.failed", "approval.requested", "change.rolled_back")
FINISH_WAIT_S = 20.0

_LIVE: dict[str, RunEvents] = {}  # run id -> the events of a run going on in this process, for emit()
_LIVE_LOCK = threading.Lock()


def emit(run_id: str, event: str, target: str, summary: str, body: str, status: str, **data: Any) -> None:
    """Queue a change event of the run ``run_id``: the channels of that run that ask for ``event`` get it; a run
    without such channels (or a command outside a run) sends nothing. Never blocks and never raises."""
    with _LIVE_LOCK:
        events = _LIVE.get(run_id)
    if events is not None:
        events.announce(event, target, summary, body, status, data)


def event_note(event: str, playbook: str, run_id: str, target: str, summary: str, body: str, status: str,
               data: dict[str, Any]) -> Notification:
    """An event of a run (or of a command acting on one, ``medic rollback``) as every channel gets it."""
    return Notification(event, f"medic {playbook} ({run_id}): {target}: {summary}", status, body,
                        {"run_id": run_id, "playbook": playbook, "target": target, **data})


class RunEvents:
    def __init__(self, routes: Sequence[notify.Route], outbox_path: Path, playbook: str) -> None:
        self.routes = list(routes)
        self.outbox_path = outbox_path
        self.playbook = playbook
        self.problems: list[str] = []
        self._started = False
        self._run_id = ""
        self._lock = threading.Lock()
        self._queue: queue.Queue[Notification | None] = queue.Queue()
        self._worker = threading.Thread(target=self._deliver_all, name="medic-run-events", daemon=True)
        self._worker.start()

    @classmethod
    def wanted(cls, routes: Sequence[notify.Route], outbox_path: Path, playbook: str) -> RunEvents | None:
        live = [r for r in routes if any(r.wants(e) for e in LIVE_EVENTS)]
        return cls(live, outbox_path, playbook) if live else None

    def _deliver_all(self) -> None:
        while (note := self._queue.get()) is not None:
            self.problems += notify.deliver(self.routes, note, self.outbox_path)

    @hookimpl
    def before_step(self, step: Any, target: Any, run_id: str) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
            self._run_id = run_id
        with _LIVE_LOCK:
            _LIVE[run_id] = self
        self._queue.put(Notification("run.started", f"medic {self.playbook} ({run_id})", "running",
                                     f"{self.playbook} started", {"run_id": run_id, "playbook": self.playbook}))

    @hookimpl
    def after_step(self, step: Any, target: Any, result: Any, run_id: str) -> None:
        if step.children or result.status != Status.FAIL:
            return
        failing = [f.summary for f in result.findings if f.status == Status.FAIL] or [result.error or "failed"]
        title = f"medic {self.playbook} ({run_id}): {target.name}: {result.title or step.id} failed"
        self._queue.put(Notification("step.failed", title, "fail", "\n".join(failing),
                                     {"run_id": run_id, "playbook": self.playbook, "step": step.id,
                                      "target": target.name}))

    def announce(self, event: str, target: str, summary: str, body: str, status: str, data: dict[str, Any]
                 ) -> None:
        self._queue.put(event_note(event, self.playbook, self._run_id, target, summary, body, status, data))

    def finish(self, wait_s: float = FINISH_WAIT_S) -> list[str]:
        """Stop after what is queued (at most ``wait_s``); one line per delivery problem."""
        with _LIVE_LOCK:
            _LIVE.pop(self._run_id, None)
        self._queue.put(None)
        self._worker.join(wait_s)
        if self._worker.is_alive():
            return [*self.problems, f"run events still being delivered after {wait_s:.0f} s: the rest stay in the "
                                    f"outbox for `medic notify flush`"]
        return self.problems
