"""How far the server's event store has caught up, from probe events the fleet parent sends through it.

A run's heartbeats reach the events the API answers with through the server's event pipeline: a websocket in, the
server's message bus, then the event persister, which writes them in batches (every 5 s or 20 events). Under load
that pipeline fell 90 s and more behind the runs (bench/README-fleet.md): judged on the wall clock, live shards
whose heartbeats were still on their way looked silent for the zombie window and were set Crashed.

So silence is judged on the store's clock. While it suspects a shard, the parent emits ``medic.fleet.probe`` events
(at most one per ``PROBE_EVERY_S``) through the same pipeline and reads back the newest one stored: the pipeline
keeps the order it received events in (its persister writes its queue in order; only a batch whose write failed
goes back behind newer events), so a heartbeat received before that probe is stored too. The store's lag is
now minus that probe's time; until a probe is stored it is unknown, and counted as ``MAX_LAG_S``. A store more than
``MAX_LAG_S`` behind counts as broken: past that, silence is judged on the wall clock again, so a dead shard still
ends the wait (window + MAX_LAG_S at worst).

The parent's own heartbeats (every 30 s) would not do: the lag read from them is off by up to a heartbeat period,
which a dead shard's detection pays on top of the zombie window.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

PROBE_EVENT = "medic.fleet.probe"
PROBE_EVERY_S = 2.0
MAX_LAG_S = 600.0


class StoreClock:
    """One fleet parent's probes; shared by its shard threads."""

    def __init__(self) -> None:
        self.resource_id = f"medic.fleet.{uuid4()}"
        self._lock = threading.Lock()
        self._last_sent = 0.0

    def probe(self) -> None:
        """Send a probe now, unless one went less than PROBE_EVERY_S ago."""
        from prefect.events import emit_event

        with self._lock:
            if time.monotonic() - self._last_sent < PROBE_EVERY_S:
                return
            self._last_sent = time.monotonic()
        emit_event(PROBE_EVENT, resource={"prefect.resource.id": self.resource_id}, occurred=datetime.now(UTC))

    def lag(self, client: Any) -> float:
        """Seconds the store is behind now: now minus the newest stored probe's time, at most MAX_LAG_S; while no
        probe is stored the lag is unknown: MAX_LAG_S."""
        newest = self._newest_stored(client)
        if newest is None:
            return MAX_LAG_S
        return min(max(0.0, (datetime.now(UTC) - newest).total_seconds()), MAX_LAG_S)

    def _newest_stored(self, client: Any) -> datetime | None:
        from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

        page = client.read_events(filter=EventFilter(event=EventNameFilter(name=[PROBE_EVENT]),
                                                     resource=EventResourceFilter(id=[self.resource_id])), limit=1)
        return max((e.occurred for e in page.events), default=None)
