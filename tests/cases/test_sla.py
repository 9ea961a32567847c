"""SLA clocks from the command line: status, --breaching, tick escalating once (a second tick repeats nothing),
watch; pauses while waiting for the customer; the handover packet's findings come from the run history."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from medic.cli.main import main
from medic.plugins.cases import handover, routing
from medic.plugins.cases.sla import evaluate
from medic.plugins.cases.store import CaseStore


@pytest.fixture()
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDIC_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "routing.yaml").write_text("scheme: four-level\ntiers: 3\n")
    monkeypatch.setenv("MEDIC_ROUTING", str(tmp_path / "routing.yaml"))
    return tmp_path / "state"


def test_status_tick_and_watch(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opened_at = time.time() - 2 * 3600  # two hours ago: response (1 h) and dispatch (30 min) are breached
    with CaseStore(state / "cases.sqlite", clock=lambda: opened_at) as store:
        late = store.open("payments down", priority="urgent").id
        calm = store.open("typo on the wiki", priority="low").id  # low: budgets unset, no clock
    assert main(["sla", "status", "--breaching", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["case_id"] == late and row["at_risk"]
    states = {c["name"]: c["state"] for c in row["clocks"]}
    assert states == {"response": "breached", "dispatch": "breached", "resolution": "running"}
    assert main(["sla", "tick"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum("escalated" in line for line in lines) == 2 and sum("progress update 4" in line for line in lines) == 1
    assert main(["sla", "watch", "--interval", "0", "--count", "2"]) == 0
    assert capsys.readouterr().out == ""  # everything due was sent once; nothing repeats
    assert main(["sla", "status"]) == 0
    out = capsys.readouterr().out
    assert f"{late}  urgent   opened           tier 3  response breached" in out
    assert f"{calm}  low      opened           tier 1  no clock" in out
    with CaseStore(state / "cases.sqlite") as store:
        kinds = [e.kind for e in store.timeline(late)]
        snapshot = dict(store.db.execute("SELECT clock, state FROM sla_clocks WHERE case_id = ?", (late,)))
        ready = dict(store.db.execute("SELECT case_id, fixed FROM sla_due"))  # written by the tick for the page
    assert ready == {late: "breached", calm: ""}
    assert kinds.count("sla.breach") == 2 and kinds.count("sla.update") == 1
    assert snapshot == {"response": "breached", "dispatch": "breached", "resolution": "running"}


def test_clocks_pause_while_waiting_for_the_customer(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = CaseStore(tmp_path / "c.sqlite", clock=lambda: now[0])
    loaded = routing.load(None)  # built-ins: urgent counts every second
    case = store.open("x", priority="urgent")
    store.transition(case.id, "acknowledged")
    now[0] += 600
    store.transition(case.id, "waiting_customer")
    now[0] += 7200
    ev = evaluate(store.get(case.id), store.timeline(case.id), loaded, now[0])
    assert ev is not None
    clocks = {c.name: (c.state, c.elapsed) for c in ev.clocks}
    assert clocks == {"response": ("met", 0.0), "dispatch": ("paused", 600.0), "resolution": ("paused", 600.0)}
    assert ev.updates_due == 0
    store.close()


def test_the_handover_packet_carries_findings_and_evidence_from_the_run_history(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r1.json").write_text(json.dumps({"run_id": "r1", "findings": [
        {"check": "net.dns", "target": "web1", "status": "fail", "severity": "high", "summary": "no answer",
         "evidence": {"server": "10.0.0.53"}, "remediation": "restart unbound"},
        {"check": "system.uptime", "target": "web1", "status": "pass"}]}))
    with CaseStore(tmp_path / "c.sqlite") as store:
        case = store.open("dns", reporter="ana", contact="ana@example.org")
        store.attach_run(case.id, "r1", {"failing": [{"check": "net.dns", "target": "web1"}]})
        store.attach_run(case.id, "r-elsewhere", {"failing": [{"check": "disk.free", "target": "db1"}]})
        store.add_action(case.id, "restarted unbound", {"backup": "b-1"})
        got = store.get(case.id)
        packet = handover.packet(got, store.timeline(case.id), runs, {"name": "resolution", "budget_s": 3600})
    assert packet["findings"][0]["evidence"] == {"server": "10.0.0.53"}
    assert packet["findings"][1] == {"check": "disk.free", "target": "db1", "run_id": "r-elsewhere"}
    assert packet["actions"][0]["data"]["backup"] == "b-1"
    text = handover.summary(packet)
    assert "net.dns on web1, disk.free on db1" in text and "ana ana@example.org" in text


def test_an_unknown_channel_in_routing_is_refused_before_any_evaluation(
        state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "routing.yaml").write_text("notify: [nowhere]\n")
    with CaseStore(state / "cases.sqlite", clock=lambda: time.time() - 86400) as store:
        case = store.open("late", priority="urgent")
    assert main(["sla", "tick"]) == 2
    assert "unknown channel 'nowhere'" in capsys.readouterr().err
    with CaseStore(state / "cases.sqlite") as store:
        assert [e.kind for e in store.timeline(case.id)] == ["opened"]  # nothing evaluated, nothing recorded
