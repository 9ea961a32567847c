"""Draining the outbox after an outage (``medic notify flush``): thousands of due messages, sent concurrently.

The outbox leases a batch in one transaction and settles it in one more (:meth:`Outbox.drain`); here a bounded
pool of threads sends the batch through the per-process connection pool of the guarded client. The messages of one
run to one channel are sent by one thread, in the order they were written (a ticket is created before it is
commented on); different runs' messages, and different channels, go in parallel. The database stays on the calling
thread: the workers only send.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from medic.core.channel import Channel
from medic.core.outbox import Failure, Message, Outbox, outcome

WORKERS = 8  # parallel sends: enough to hide a receiver's latency, few enough not to flood it
BATCH = 64  # leased at a time: a batch of slow failures overruns the budget by at most BATCH / WORKERS timeouts


def _in_order(msgs: list[Message]) -> list[list[int]]:
    """Indexes of ``msgs`` grouped by channel and run, each group in the batch's (written) order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, m in enumerate(msgs):
        groups.setdefault((m.channel, str(m.notification.data.get("run_id") or m.id)), []).append(i)
    return list(groups.values())


def drain(box: Outbox, channels: Mapping[str, Channel], budget_s: float = 60.0, workers: int = WORKERS,
          batch: int = BATCH) -> list[tuple[Message, str | None]]:
    """Attempt every due message once within ``budget_s`` (checked between batches); (message, error) pairs."""
    with ThreadPoolExecutor(workers, thread_name_prefix="medic-drain") as pool:

        def send(msgs: list[Message]) -> list[Failure | None]:
            failures: list[Failure | None] = [None] * len(msgs)

            def send_group(group: list[int]) -> None:
                for i in group:
                    failures[i] = outcome(msgs[i], channels.get(msgs[i].kind))

            list(pool.map(send_group, _in_order(msgs)))
            return failures

        return box.drain(dict(channels), budget_s=budget_s, send=send, batch=batch)
