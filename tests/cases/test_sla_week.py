"""A simulated week of SLA clocks in seconds: an urgent case (24 h a day) and a regular one (business calendar,
Europe/Paris 09-17, a Wednesday holiday); every warning, escalation and progress update goes to a real webhook
receiver verifying each signature (tests/channels/receiver.py) and a real SMTP server (aiosmtpd), counted and timed
against the scheme. The runner restarts mid-week, as new objects on the same files or as a new process after the
old one was killed between sending a message and recording it; no clock, message or update is lost or repeated."""

from __future__ import annotations

import base64
import datetime as dt
import email
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from medic.plugins.cases import routing
from medic.plugins.cases.escalate import SlaRunner, channel_sender
from medic.plugins.cases.store import CaseStore
from medic.plugins.channels.email import EmailChannel
from medic.plugins.channels.webhook import WebhookChannel
from tests.channels.receiver import Receiver, running

PARIS = ZoneInfo("Europe/Paris")
ROUTING = """\
scheme: four-level
levels:
  high: {response: 2h, resolution: 8h}
  regular: {response: 4h, resolution: 16h}
  low: {response: 8h, resolution: 40h}
calendar: {timezone: Europe/Paris, hours: ["09:00", "17:00"], holidays: ["2026-12-09"]}
tiers: 3
notify: [hook, mail]
escalate: [hook, mail]
"""


def paris(day: int, hour: int, minute: int = 0) -> float:
    """A December 2026 instant in Paris: the 7th is a Monday."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=PARIS).timestamp()


def hhmm(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(PARIS).strftime("%a %H:%M")


@dataclass
class Mailbox:
    received: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box
    controller.stop()


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class InProcess:
    """The SLA runner as objects of this process; restarting builds new ones on the same files."""

    def __init__(self, path: Path, clock: Clock, routing_file: Path, config: dict[str, Any], work: Path) -> None:
        self.args = (path, clock, routing_file, config, work)
        self.runner = self._runner()

    def _runner(self) -> SlaRunner:
        path, clock, routing_file, config, work = self.args
        loaded = routing.load(routing_file)
        send = channel_sender(loaded, {"webhook": WebhookChannel(), "email": EmailChannel()}, config,
                              work / "outbox.sqlite")
        return SlaRunner(CaseStore(path, clock=clock), loaded, send, work / "runs")

    def tick(self, at: float) -> None:
        self.runner.tick()

    def restart(self) -> None:
        self.runner.store.close()
        self.runner = self._runner()

    def close(self) -> None:
        self.runner.store.close()


class ChildProcess:
    """The SLA runner in a process of its own (sla_child.py); restarting kills it in the middle of a tick, right
    after a message went out and before the timeline recorded it, and starts another one."""

    def __init__(self, path: Path, clock: Clock, routing_file: Path, config: dict[str, Any], work: Path) -> None:
        self.argv = [sys.executable, str(Path(__file__).with_name("sla_child.py")), str(path), str(routing_file),
                     json.dumps(config), str(work)]
        self.proc = self._start()
        self.crash_pending = False
        self.crashes = 0

    def _start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def tick(self, at: float) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{at!r}{' crash' if self.crash_pending else ''}\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline() == "ok\n":  # blocks until the tick is done: no sleeping, no timing
            return
        assert self.proc.wait(timeout=60) == 9, "the child died of something else than the planned crash"
        self.crashes += 1
        self.crash_pending = False
        self.proc = self._start()  # the restart: a new process evaluates the same tick again
        self.tick(at)

    def restart(self) -> None:
        self.crash_pending = True  # at the next tick that sends something

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0


@pytest.mark.parametrize("runner_kind", [InProcess, ChildProcess], ids=["new-objects", "killed-process"])
def test_a_simulated_week(tmp_path: Path, smtp: tuple[int, Mailbox], monkeypatch: pytest.MonkeyPatch,
                          runner_kind: type[InProcess] | type[ChildProcess]) -> None:
    port, box = smtp
    box.received.clear()
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HOOK_SECRET", secret)
    routing_file = tmp_path / "routing.yaml"
    routing_file.write_text(ROUTING)
    with running(Receiver(secret=secret)) as receiver:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", receiver.allow)
        config = {"channels": {
            "hook": {"type": "webhook", "url": receiver.url, "secret": "env:HOOK_SECRET"},
            "mail": {"type": "email", "host": "127.0.0.1", "port": port, "from": "medic@example.org",
                     "to": ["oncall@example.org"], "insecure_plaintext": True}}}
        clock = Clock(paris(7, 8))
        path = tmp_path / "cases.sqlite"
        store = CaseStore(path, clock=clock)  # what people do; the runner reads and writes the same file
        runner = runner_kind(path, clock, routing_file, config, tmp_path)
        urgent = store.open("payments down", reporter="ana", contact="+33 1 23 45 67 89", priority="urgent").id
        store.attach_bundle(urgent, "f" * 64, {"upload_id": "u1"})
        # what people do to the cases, at Paris times (applied before the tick of that minute)
        script = {paris(7, 8, 55): [("transition", urgent, "acknowledged")],
                  paris(7, 9): [("assign", urgent, "bob")],
                  paris(7, 9, 30): [("transition", urgent, "in_progress")],
                  paris(7, 10): [("transition", urgent, "waiting_customer")],
                  paris(7, 11): [("transition", urgent, "in_progress")],
                  paris(7, 13, 20): [("transition", urgent, "resolved")],
                  paris(7, 16): [("open", "", "")],
                  paris(11, 17): [("transition", urgent, "closed")]}
        regular = ""
        end, restart = paris(14, 8), paris(9, 12)
        while clock.t < end:
            for action, case_id, arg in script.get(clock.t, []):
                if action == "transition":
                    store.transition(case_id, arg, actor="bob")
                elif action == "assign":
                    store.update(case_id, assignee=arg)
                    store.transition(case_id, "dispatched")
                else:
                    regular = store.open("printer jams", reporter="carl", priority="regular").id
            if clock.t == restart:
                runner.restart()
            runner.tick(clock.t)
            clock.t += 300
        runner.close()
        hits = list(receiver.hits)
        hooks = [json.loads(h.body) for h in hits]
        final = (store.get(urgent), store.get(regular))
        timeline = store.timeline(regular)
        store.close()
    if isinstance(runner, ChildProcess):  # killed after sending Thursday's 10:00 update, before recording it
        assert runner.crashes == 1
    assert all(h.verified for h in hits) and len({h.webhook_id for h in hits}) == len(hits)

    def sent(case_id: str, kind: str) -> list[str]:
        return [hhmm(h["data"]["at"]) for h in hooks if h["data"]["case_id"] == case_id and h["type"] == kind]

    # urgent, 24 h a day: dispatch 30 min (warning at 24 -> the 08:25 tick), response 1 h (warned at 48 min,
    # acknowledged at 55), resolution 4 h counted without the hour waiting for the customer (10:00-11:00): 2 h
    # before, so 3 h 12 min (80 %) at 12:12 -> the 12:15 tick, and 4 h at 13:00
    assert sent(urgent, "case.sla.warning") == ["Mon 08:25", "Mon 08:50", "Mon 12:15"]
    assert sent(urgent, "case.escalated") == ["Mon 08:30", "Mon 13:00"]
    assert sent(urgent, "case.update") == ["Mon 08:30", "Mon 09:00", "Mon 09:30", "Mon 10:00", "Mon 11:30",
                                           "Mon 12:00", "Mon 12:30", "Mon 13:00"]
    # regular, working hours only: 16:00-17:00 Monday, nothing Wednesday (a holiday), at night or at the weekend
    assert sent(regular, "case.sla.warning") == ["Tue 11:15", "Thu 12:50"]
    assert sent(regular, "case.escalated") == ["Tue 12:00", "Thu 16:00"]
    assert sent(regular, "case.update") == ["Tue 10:00", "Tue 12:00", "Tue 14:00", "Tue 16:00", "Thu 10:00",
                                            "Thu 12:00", "Thu 14:00", "Thu 16:00", "Fri 10:00", "Fri 12:00",
                                            "Fri 14:00", "Fri 16:00"]
    assert (final[0].tier, final[1].tier) == (3, 3)
    assert [e.data["tier"] for e in timeline if e.kind == "sla.breach"] == [{"from": 1, "to": 2},
                                                                            {"from": 2, "to": 3}]
    # the same messages by e-mail, once each (13 for the urgent case, 16 for the regular one)
    assert len(box.received) == len(hooks) == 29
    assert len({m["Message-ID"] for m in box.received}) == 29
    escalation = next(h for h in hooks if h["type"] == "case.escalated")
    packet = escalation["data"]["handover"]
    assert packet["contact"] == {"reporter": "ana", "contact": "+33 1 23 45 67 89"}
    assert packet["bundles"][0]["ref"] == "f" * 64 and packet["breached"]["name"] == "dispatch"
    assert [s["kind"] for s in packet["steps_taken"]] == ["bundle", "assigned"]  # the move to tier 2
    assert packet["steps_taken"][1]["data"] == {"tier": {"from": 1, "to": 2}}
    subjects = [m["Subject"] for m in box.received if "escalated" in m["Subject"]]
    assert subjects[0] == f"[FAIL] case {urgent} escalated to tier 2: dispatch breached"
