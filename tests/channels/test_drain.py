"""``medic notify flush``'s drain: batches leased at once, sent on a few threads, settled together. After an outage
every message reaches a verifying receiver exactly once, and one run's messages to one channel arrive in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medic.core.channel import Notification
from medic.core.outbox import Outbox
from medic.plugins.channels.drain import drain
from medic.plugins.channels.webhook import WebhookChannel
from tests.channels.receiver import Receiver, running
from tests.channels.test_webhook import secret  # noqa: F401 - the fixture

RUNS, STEPS = 30, 6


def test_a_backlog_drains_once_each_and_in_order_per_run(tmp_path: Path, secret: str,  # noqa: F811
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    box = Outbox(tmp_path / "outbox.sqlite", clock=lambda: clock[0])
    channels = {"webhook": WebhookChannel()}
    with running(Receiver(secret)) as rx:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
        options = {"url": rx.url, "secret": "env:HOOK_SECRET"}
        for step in range(STEPS):  # written interleaved, as runs going on at the same time write them
            for run in range(RUNS):
                box.enqueue("hook", "webhook", options, Notification(
                    "step.failed", f"r{run} s{step}", "fail", "b", {"run_id": f"r{run}", "step": step}))
        rx.script.extend([(503, {})] * 5)  # five failures on the way: kept for later, not lost
        first = drain(box, channels, budget_s=300, workers=4, batch=16)
        assert len(first) == RUNS * STEPS and sum(1 for _, err in first if err) == 5
        arrived: dict[str, list[int]] = {}
        for hit in rx.hits:
            if hit.verified:
                data = json.loads(hit.body)["data"]
                arrived.setdefault(data["run_id"], []).append(data["step"])
        assert all(steps == sorted(steps) for steps in arrived.values())  # one run, one channel: in order
        clock[0] += 3600  # the failed five are due again
        second = drain(box, channels, budget_s=300, workers=4, batch=16)
    assert len(second) == 5 and all(err is None for _, err in second)
    delivered = rx.delivered_ids()
    assert len(delivered) == len(set(delivered)) == RUNS * STEPS  # none lost, none twice
    assert box.messages("pending") == [] and len(box.messages("delivered")) == RUNS * STEPS
