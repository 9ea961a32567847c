"""The durable outbox: written before the first attempt, drained once per message, resumed after an outage."""

from __future__ import annotations

import base64
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from medic.core import notify
from medic.core.channel import Channel, Notification
from medic.core.outbox import BACKOFF_CAP_S, LEASE_S, Outbox, backoff
from medic.plugins.channels.webhook import WebhookChannel
from tests.channels.receiver import Receiver, running


class GatedChannel(Channel):
    """Blocks inside send() until released, counting sends: shows whether a second drainer sends the same row."""

    name = "gated"
    durable = True

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.sent: list[str] = []

    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        self.entered.set()
        assert self.release.wait(30)
        self.sent.append(notification.id)


def test_backoff_jitter_does_not_follow_the_global_random_seed() -> None:
    # a test runner or a plugin reseeding ``random`` must not make every process retry at the same moments
    drawn = []
    for _ in range(5):
        random.seed(1234)
        drawn.append(backoff(6))
    assert len(set(drawn)) > 1


def test_backoff_grows_with_jitter_and_honours_retry_after_capped() -> None:
    assert backoff(1, rng=lambda: 1.0) == 2.0 and backoff(1, rng=lambda: 0.0) == 1.0
    assert backoff(4, rng=lambda: 1.0) == 16.0
    assert backoff(40, rng=lambda: 1.0) == BACKOFF_CAP_S
    assert backoff(1, retry_after=30) == 30 and backoff(1, retry_after=10 ** 9) == BACKOFF_CAP_S


def test_a_message_being_sent_is_not_sent_again_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    second = Outbox(path)
    channel = GatedChannel()
    note = Notification("run.finished", "t", "pass", "b")
    second.enqueue("gated", "gated", {}, note)
    worker = threading.Thread(target=lambda: Outbox(path).drain({"gated": channel}))
    worker.start()
    assert channel.entered.wait(10)
    assert second.drain({"gated": channel}) == []  # leased by the first drainer
    channel.release.set()
    worker.join(10)
    assert channel.sent == [note.id] and [m.state for m in second.messages()] == ["delivered"]


def test_enqueueing_the_same_notification_twice_keeps_one_message(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    note = Notification("run.finished", "t", "pass", "b")
    box.enqueue("c", "gated", {}, note)
    box.enqueue("c", "gated", {}, note)
    assert len(box.messages()) == 1
    assert oct((tmp_path / "o.sqlite").stat().st_mode & 0o777) == "0o600"


def test_queued_messages_drain_after_an_outage_with_no_loss_and_no_duplicate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HOOK_SECRET", secret)
    clock = [time.time()]
    count = 200
    with running(Receiver(secret)) as rx:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
        rx.script += [(503, {})] * count  # the outage: every first attempt fails
        options = {"url": rx.url, "secret": "env:HOOK_SECRET"}
        box = Outbox(tmp_path / "o.sqlite", clock=lambda: clock[0])
        notes = [Notification("run.finished", f"run {i}", "pass", "b") for i in range(count)]
        for n in notes:
            box.enqueue("hook", "webhook", options, n)
        channels = {"webhook": WebhookChannel()}
        assert all(err for _, err in box.drain(channels, budget_s=300))
        box.close()
        clock[0] += BACKOFF_CAP_S  # later, in a new process: the receiver is back
        resumed = Outbox(tmp_path / "o.sqlite", clock=lambda: clock[0])
        assert all(err is None for _, err in resumed.drain(channels, budget_s=300))
        delivered = rx.delivered_ids()
        assert sorted(delivered) == sorted(f"msg_{n.id}" for n in notes) and len(set(delivered)) == count
        assert len(resumed.messages("delivered")) == count


def test_replay_puts_a_dead_letter_back_in_line(tmp_path: Path) -> None:
    class Refusing(Channel):
        name = "refusing"

        def send(self, notification: Notification, options: dict[str, Any]) -> None:
            raise ValueError("broken plugin")

    box = Outbox(tmp_path / "o.sqlite")
    note = Notification("run.finished", "t", "pass", "b")
    box.enqueue("r", "refusing", {}, note)
    box.drain({}, budget_s=5)  # type not installed: dead at once
    assert [m.last_error for m in box.messages("dead")] == ["channel type 'refusing' is not installed"]
    assert box.replay(note.id) == 1
    assert box.drain({"refusing": Refusing()})[0][1] == "ValueError: broken plugin"
    assert box.messages("pending")[0].attempts == 1  # a replay starts the count again


def test_a_message_claimed_as_it_is_written_is_not_drained_by_another_process(tmp_path: Path) -> None:
    """notify.deliver writes and leases a new message in one transaction (one commit fewer per notification):
    another drainer must not send it meanwhile, a second write gives nothing to send, and a disabled channel's
    message is written but never leased."""
    mine, other = Outbox(tmp_path / "o.sqlite"), Outbox(tmp_path / "o.sqlite")
    note = Notification("run.finished", "t", "fail", "b", {"run_id": "r1"})
    claimed = mine.enqueue("hook", "gated", {}, note, claim=True)
    assert claimed is not None and claimed.id == note.id
    gated = GatedChannel()
    assert other.drain({"gated": gated}) == [] and gated.sent == []
    assert mine.enqueue("hook", "gated", {}, note, claim=True) is None  # written already: drain() sends it
    mine.enable("off")  # nothing to enable: no error
    off = mine.enqueue("off", "gated", {}, Notification("run.finished", "t", "fail", "b"), claim=True)
    assert off is not None and mine.record(off, ("410 Gone", False, None, True)) == "410 Gone"  # disables "off"
    assert mine.enqueue("off", "gated", {}, note, claim=True) is None
    assert [m.channel for m in mine.of(note.id)] == ["hook", "off"]


_CHILD = """
import os, sys
from pathlib import Path
from medic.core import notify, outbox
from medic.core.channel import Notification
if sys.argv[3] == "crash":
    outbox.ACK_DELAY_S = 3600  # the crash comes before the timer, however slow the machine
from medic.plugins.channels.webhook import WebhookChannel
config = {"channels": {"hook": {"type": "webhook", "url": sys.argv[2], "secret": "env:HOOK_SECRET"}}}
routes = notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)
for i in range(5):
    assert notify.deliver(routes, Notification("run.finished", f"run {i}", "pass", "b", id=f"{sys.argv[3]}{i}"),
                          Path(sys.argv[1])) == []
if sys.argv[3] == "crash":
    os._exit(0)  # sent, delivered marks not written yet: a crash
"""


def _child(tmp_path: Path, rx: Receiver, how: str) -> None:
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "o.sqlite"), rx.url, how], check=True, timeout=120,
                   env={**os.environ, "MEDIC_CHANNEL_ALLOW": rx.allow})


def test_a_crash_between_sending_and_marking_delivered_sends_again_once_with_the_same_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """notify.deliver marks a sent message delivered a moment later (a timer writes the marks together): a crash in
    between loses no message and sends each unmarked one again once, with the same webhook-id."""
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HOOK_SECRET", secret)
    with running(Receiver(secret)) as rx:
        monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rx.allow)
        _child(tmp_path, rx, "crash")
        assert sorted(rx.delivered_ids()) == [f"msg_crash{i}" for i in range(5)]
        later = Outbox(tmp_path / "o.sqlite", clock=lambda: time.time() + LEASE_S + 1)  # the leases have expired
        unmarked = {m.id for m in later.messages("pending")}
        assert len(unmarked) == 5  # the crash came before the timer
        later.drain({"webhook": WebhookChannel()}, budget_s=60)
        again = rx.delivered_ids()[5:]
        assert sorted(again) == sorted(f"msg_{i}" for i in unmarked)  # each unmarked one once more, same id
        assert {m.state for m in later.messages()} == {"delivered"}


def test_a_process_that_exits_writes_its_delivered_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("HOOK_SECRET", secret)
    with running(Receiver(secret)) as rx:
        _child(tmp_path, rx, "exit")
        box = Outbox(tmp_path / "o.sqlite", clock=lambda: time.time() + LEASE_S + 1)
        assert [m.state for m in box.messages()] == ["delivered"] * 5
        assert box.drain({"webhook": WebhookChannel()}) == [] and len(rx.delivered_ids()) == 5


def test_the_delivered_marks_reach_other_processes_without_a_further_write(tmp_path: Path) -> None:
    """A long-lived process that sends and then stays idle: its timer writes the marks, another process reads them."""
    box, other = Outbox(tmp_path / "o.sqlite"), Outbox(tmp_path / "o.sqlite")
    note = Notification("run.finished", "t", "pass", "b")
    sent = GatedChannel()
    sent.release.set()
    msg = box.enqueue("c", "gated", {}, note, claim=True)
    assert msg is not None and box.attempt(msg, sent) is None and sent.sent == [note.id]
    deadline = time.monotonic() + 30
    while [m.state for m in other.messages()] != ["delivered"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m.state for m in other.messages()] == ["delivered"]


def _wal_salt(db: Path) -> bytes:
    """The WAL header's salt: it changes when a writer starts the WAL over, which it may only after a checkpoint
    copied every frame into the database."""
    return (db.parent / (db.name + "-wal")).read_bytes()[16:24]


def test_the_sending_thread_leaves_checkpoints_and_their_fsyncs_to_the_marks_thread(tmp_path: Path) -> None:
    """A checkpoint fsyncs twice (milliseconds on a disk): the connection that writes before each send lets its
    WAL grow past SQLite's 1,000 pages; the write of the delivered marks, off that thread, checkpoints it."""
    path, sent = tmp_path / "o.sqlite", GatedChannel()
    sent.release.set()
    box = Outbox(path)
    claimed = [box.enqueue("c", "gated", {}, Notification("run.finished", f"t{i}", "pass", "b"), claim=True)
               for i in range(400)]  # three pages each: table, key, queue order
    salt, wal = _wal_salt(path), path.parent / (path.name + "-wal")
    assert wal.stat().st_size > 1100 * (4096 + 24)  # not started over at 1,000 pages: no checkpoint here
    for msg in claimed:
        assert msg is not None and box.attempt(msg, sent) is None
    box.delivered.flush()  # the marks' write, whose commit checkpoints
    box.enqueue("c", "gated", {}, Notification("run.finished", "after", "pass", "b"))
    assert _wal_salt(path) != salt  # the WAL started over: everything before was checkpointed
    assert [m.state for m in box.messages()].count("delivered") == 400


def test_a_forked_child_delivers_through_an_outbox_connection_of_its_own(tmp_path: Path) -> None:
    """An SQLite connection must not cross a fork: the child's first delivery opens its own (a fork hook, where a
    process id in the key cost a system call per delivery)."""
    path, sent = tmp_path / "o.sqlite", GatedChannel()
    sent.release.set()
    routes = [notify.Route("c", sent, {})]
    assert notify.deliver(routes, Notification("run.finished", "parent", "pass", "b"), path) == []
    parent_box = notify._outbox(path)
    pid = os.fork()
    if pid == 0:  # the child: its own connection, its delivery, its marks written before it leaves
        mine = notify._outbox(path)
        ok = mine is not parent_box and notify.deliver(routes, Notification("run.finished", "child", "pass", "b"),
                                                       path) == []
        mine.close()
        os._exit(0 if ok else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert notify._outbox(path) is parent_box
    assert sorted((m.notification.title, m.state) for m in parent_box.messages()) == [
        ("child", "delivered"), ("parent", "delivered")]
