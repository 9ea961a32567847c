"""A flow run's events as they happen, from the Prefect server's event stream, for ``medic run``'s follower.

Polling the run's state every 0.15 s costs a request each time (and the server's CPU, shared with the run itself
on a small machine), and the run's end is seen on average half a poll late. The server also publishes every
state change of the run and of its task runs on ``/api/events/out`` (a websocket; Prefect's own subscriber speaks
the same protocol: an ``auth`` message, then a ``filter``). ``RunEvents`` listens there in a thread for one flow
run, through ``websockets`` (a dependency of medic, and of Prefect's client; Prefect itself is not imported),
and hands the follower each task run that ended and the run's own end.

It only ever makes the follower faster: until the stream is open, after it is lost, and between events, the
follower keeps polling (less often while the stream is open, so a lost event costs at most that interval).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import ssl
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from medic.plugins.server.api import TERMINAL, auth_header
from medic.plugins.server.settings import CA_ENV, ServerSettings

RUN_PREFIX = "prefect.flow-run."
TASK_PREFIX = "prefect.task-run."
OPEN_TIMEOUT_S = 10.0


class RunEvents:
    """The terminal state changes of one flow run and of its task runs, read in a daemon thread.

    ``events`` holds ``(kind, event)`` pairs, kind ``"task"`` or ``"run"``; ``live`` is set once the stream is
    open and filtered (every later change arrives through it), cleared if it is lost."""

    def __init__(self, settings: ServerSettings, run_id: str, created: str | None) -> None:
        self.settings, self.run_id = settings, run_id
        self.since = _since(created)
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.live = threading.Event()
        self._socket: Any = None
        self._closed = False
        self.error: Exception | None = None  # why the stream ended, kept for tests and debugging
        self._thread = threading.Thread(target=self._listen, daemon=True, name="medic-run-events")

    def start(self) -> RunEvents:
        self._thread.start()
        return self

    def close(self) -> None:
        """Closes the stream in a daemon thread: a clean close waits for the server's answer (up to
        ``close_timeout``), which the command need not wait for before it prints the findings and exits."""
        self._closed = True
        if self._socket is not None:
            threading.Thread(target=self._close, daemon=True, name="medic-run-events-close").start()

    def _close(self) -> None:
        with contextlib.suppress(Exception):  # a socket that already failed: nothing to tell the user
            self._socket.close()

    def _listen(self) -> None:
        try:
            with self._connect() as socket:
                self._socket = socket
                if self._closed:
                    return
                self._subscribe(socket)
                self.live.set()
                for message in socket:
                    self._dispatch(json.loads(message))
        except Exception as exc:  # any failure only means the follower polls as before
            self.error = exc
        finally:
            self.live.clear()

    def _connect(self) -> Any:
        from websockets.sync.client import connect

        url = self.settings.url
        socket_url = ("wss://" + url[len("https://"):] if url.startswith("https://")
                      else "ws://" + url[len("http://"):]) + "/events/out"
        context = None
        if url.startswith("https://"):
            context = ssl.create_default_context(cafile=os.environ.get(CA_ENV) or None)
        headers = auth_header(self.settings.auth) if self.settings.auth else {}
        return connect(socket_url, ssl=context, subprotocols=["prefect"],  # type: ignore[list-item]
                       additional_headers=headers, compression=None, open_timeout=OPEN_TIMEOUT_S)

    def _subscribe(self, socket: Any) -> None:
        socket.send(json.dumps({"type": "auth", "token": self.settings.auth}))
        answer = json.loads(socket.recv(timeout=OPEN_TIMEOUT_S))
        if answer.get("type") != "auth_success":
            raise RuntimeError(f"event stream refused: {answer.get('reason')}")
        # until: in the future, or the server's default (now) would drop every live event
        occurred = {"since": self.since, "until": _iso(datetime.now(UTC) + timedelta(days=1))}
        wanted = {"any_resource": {"id": [RUN_PREFIX + self.run_id]},
                  "event": {"prefix": [RUN_PREFIX, TASK_PREFIX]}, "occurred": occurred}
        socket.send(json.dumps({"type": "filter", "filter": wanted}))

    def _dispatch(self, message: dict[str, Any]) -> None:
        event = message.get("event") or {}
        resource = event.get("resource") or {}
        if str(resource.get("prefect.state-type")) not in TERMINAL:
            return
        rid = str(resource.get("prefect.resource.id", ""))
        if rid == RUN_PREFIX + self.run_id:
            self.events.put(("run", event))
        elif rid.startswith(TASK_PREFIX):
            self.events.put(("task", event))


def run_state(event: dict[str, Any]) -> dict[str, Any]:
    """The state a run's terminal event reports (type, name, message), as the REST API shows a run's state."""
    resource = event.get("resource") or {}
    validated = (event.get("payload") or {}).get("validated_state") or {}
    return {"type": validated.get("type") or resource.get("prefect.state-type"),
            "name": validated.get("name") or resource.get("prefect.state-name"),
            "message": validated.get("message", resource.get("prefect.state-message"))}


def task_step(event: dict[str, Any]) -> tuple[str, str, str]:
    """(task run id, state name, task run name) of a task run's terminal event."""
    resource = event.get("resource") or {}
    return (str(resource.get("prefect.resource.id", ""))[len(TASK_PREFIX):],
            str(resource.get("prefect.state-name", "?")), str(resource.get("prefect.resource.name", "?")))


def _since(created: str | None) -> str:
    """A little before the run was created (the server's clock), so the backfill holds its whole history."""
    try:
        moment = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.now(UTC) - timedelta(minutes=1)
    return _iso(moment - timedelta(seconds=5))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
