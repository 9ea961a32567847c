"""The ticket channel against a real Request Tracker 5 (Debian's request-tracker5, SQLite, standalone server):
a run's first notification creates the ticket, later ones comment on it, a passing end resolves it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from medic.core import notify
from medic.core.channel import Notification
from medic.core.outbox import Outbox
from medic.kernel.errors import UsageError
from medic.plugins.channels.ticket import TicketChannel
from medic.testing.contract import outbox_bytes
from tests.channels import rt_lab

pytestmark = pytest.mark.slow

FAILING_PLAYBOOK = """\
name: ticket-demo
targets: [local]
steps:
  - id: too_old
    check: software.command_version
    with: {command: [python3, --version], minimum: "99.0"}
"""


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[rt_lab.Rt]:
    if not rt_lab.installed():
        pytest.skip("Request Tracker 5 is not installed (run tests/setup-services.sh)")
    with rt_lab.running_rt(tmp_path_factory.mktemp("rt")) as running:
        yield running


@pytest.fixture
def lab(rt: rt_lab.Rt, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> rt_lab.Rt:
    monkeypatch.setenv("MEDIC_CHANNEL_ALLOW", rt.url.removeprefix("http://"))
    monkeypatch.setenv("RT_TOKEN", rt.token)
    monkeypatch.setenv("MEDIC_STATE_DIR", str(tmp_path / "state"))
    return rt


def route(rt: rt_lab.Rt, **extra: object) -> list[notify.Route]:
    config = {"channels": {"desk": {"type": "ticket", "url": rt.url, "token": "env:RT_TOKEN",
                                    "events": list(notify.EVENTS), **extra}}}
    return notify.resolve(["desk"], {"ticket": TicketChannel()}, config)


def note(event: str, status: str, body: str, run_id: str = "r-1") -> Notification:
    return Notification(event, f"medic triage ({run_id}): {event}", status, body, {"run_id": run_id})


def ticket_of(rt: rt_lab.Rt, run_id: str) -> str:
    (ticket,) = [t for t in rt.ticket_ids() if f"({run_id})" in rt.ticket(t)["Subject"]]
    return ticket


def test_a_failing_run_opens_one_ticket_and_comments_on_it(lab: rt_lab.Rt, tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text(FAILING_PLAYBOOK)
    config = tmp_path / "config.yaml"
    config.write_text(f"channels:\n  desk: {{type: ticket, url: '{lab.url}', queue: General, token: 'env:RT_TOKEN', "
                      f"events: [step.failed, run.finished]}}\n")
    env = {**os.environ, "MEDIC_CONFIG": str(config), "MEDIC_ENGINE": "inline"}
    out = subprocess.run([str(Path(sys.executable).with_name("medic")), "run", str(pb), "--json", "--notify",
                          "desk"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stderr
    assert "warning" not in out.stderr, out.stderr
    run_id = json.loads(out.stdout)["run_id"]
    ticket = ticket_of(lab, run_id)
    shown = lab.ticket(ticket)
    assert shown["Queue"]["id"] == "1" and shown["Status"] in ("new", "open")  # a failed run stays open
    history = lab.history(ticket)
    assert [kind for kind, _ in history] == ["Create", "Comment"]
    assert "too_old" in history[0][1] and "older than" in history[0][1]  # step.failed opened it
    assert "run.finished" not in history[0][1] and run_id in history[1][1]


def test_a_passing_end_resolves_the_ticket_once_however_often_retried(lab: rt_lab.Rt) -> None:
    routes = route(lab, queue="General")
    box = Path(os.environ["MEDIC_STATE_DIR"]) / "outbox.sqlite"
    asked = note("approval.requested", "warn", "Restart the database now?", "r-pass")
    done = note("run.finished", "pass", "0 fail, 0 warn", "r-pass")
    assert notify.deliver(routes, asked, box) == []
    for _ in range(2):  # the same notification again (a retry after a lost reply): nothing new in RT
        assert notify.deliver(routes, done, box) == []
        TicketChannel().send(done, routes[0].options)
    ticket = ticket_of(lab, "r-pass")
    assert lab.ticket(ticket)["Status"] == "resolved"
    assert [kind for kind, _ in lab.history(ticket)] == ["Create", "Comment", "Status"]


def test_a_run_that_passes_before_any_ticket_opens_none(lab: rt_lab.Rt) -> None:
    before = lab.ticket_ids()
    box = Path(os.environ["MEDIC_STATE_DIR"]) / "outbox.sqlite"
    assert notify.deliver(route(lab), note("run.finished", "pass", "all good", "r-quiet"), box) == []
    assert lab.ticket_ids() == before


@pytest.mark.parametrize(("extra", "answer"), [({"queue": "No Such Queue"}, "403"), ({"token": "env:BAD_TOKEN"},
                                                                                      "401")])
def test_refusals_are_permanent_and_keep_the_token_out(lab: rt_lab.Rt, monkeypatch: pytest.MonkeyPatch,
                                                       extra: dict[str, str], answer: str) -> None:
    monkeypatch.setenv("BAD_TOKEN", "1-99-0123456789abcdef0123456789abcdef")
    box = Path(os.environ["MEDIC_STATE_DIR"]) / "outbox.sqlite"
    (problem,) = notify.deliver(route(lab, **extra), note("step.failed", "fail", "disk full", "r-refused"), box)
    assert f"answered {answer}" in problem and "dead-letter" in problem
    (dead,) = Outbox(box).messages("dead")
    assert dead.last_error is not None and f"answered {answer}" in dead.last_error
    for secret in (lab.token, "0123456789abcdef0123456789abcdef"):
        assert secret not in problem and secret.encode() not in outbox_bytes(box)


def test_options_are_checked_before_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RT_TOKEN", raising=False)
    channel = {"ticket": TicketChannel()}
    for options, expected in [({"url": "https://rt.example.org"}, "option 'token'"),
                              ({"url": "https://rt.example.org", "token": "env:RT_TOKEN"}, "RT_TOKEN"),
                              ({"token": "env:RT_TOKEN"}, "option 'url'"),
                              ({"url": "https://rt.example.org", "token": "x", "qeue": "a"}, "unknown option 'qeue'")]:
        with pytest.raises(UsageError, match=expected):
            notify.resolve(["desk"], channel, {"channels": {"desk": {"type": "ticket", **options}}})
