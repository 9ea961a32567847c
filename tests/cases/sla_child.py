"""A separate process ticking SLA clocks on a simulated clock, for tests/cases/test_sla_week.py.

    python sla_child.py STORE ROUTING_FILE CONFIG_JSON WORK_DIR

Reads one instant per line on standard input (``T``, or ``T crash``), sets its clock to it, ticks once and answers
``ok``. With ``crash`` it dies (``os._exit(9)``, nothing flushed or closed) right after the first message of that
tick is handed to the channels and before the case's timeline records it: the worst moment for a restart, which
must then neither lose nor repeat the message. A tick that sends nothing answers ``ok`` as usual.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from medic.core.channel import Notification
from medic.plugins.cases import routing
from medic.plugins.cases.escalate import SlaRunner, channel_sender
from medic.plugins.cases.store import CaseStore
from medic.plugins.channels.email import EmailChannel
from medic.plugins.channels.webhook import WebhookChannel


def main(store_path: str, routing_file: str, config: str, work: str) -> None:
    now = [0.0]
    crash = [False]
    loaded = routing.load(routing_file)
    send = channel_sender(loaded, {"webhook": WebhookChannel(), "email": EmailChannel()}, json.loads(config),
                          Path(work) / "outbox.sqlite")

    def sending(audience: str, note: Notification) -> list[str]:
        problems = send(audience, note)
        if crash[0]:
            os._exit(9)
        return problems

    runner = SlaRunner(CaseStore(Path(store_path), clock=lambda: now[0]), loaded, sending, Path(work) / "runs")
    for line in sys.stdin:
        instant, *flags = line.split()
        now[0], crash[0] = float(instant), "crash" in flags
        runner.tick()
        print("ok", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
