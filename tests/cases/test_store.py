"""The case store: states and transitions, timeline events for every change, links, filters, WAL file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from medic.kernel.errors import UsageError
from medic.plugins.cases.store import CaseStore, open_store


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[CaseStore]:
    s = CaseStore(tmp_path / "cases.sqlite", clock=Clock())
    yield s
    s.close()


def test_open_gives_sequential_ids_and_an_opened_event(store: CaseStore) -> None:
    a = store.open("DNS fails", reporter="ana", contact="ana@example.org", category="network")
    b = store.open("disk full", source="bundle", host="web1")
    assert (a.id, b.id) == ("C-00001", "C-00002")
    assert (a.state, a.category, a.tier, b.source, b.host) == ("opened", "network", 1, "bundle", "web1")
    [event] = store.timeline(a.id)
    assert (event.kind, event.actor, event.data["title"]) == ("opened", "ana", "DNS fails")


def test_the_full_workflow_records_each_transition(store: CaseStore) -> None:
    case = store.open("vpn drops")
    for state in ("acknowledged", "dispatched", "in_progress", "waiting_customer", "in_progress", "resolved",
                  "closed", "in_progress"):
        case = store.transition(case.id, state, actor="bob")
    moves = [(e.data["from"], e.data["to"]) for e in store.timeline(case.id) if e.kind == "state"]
    assert moves[0] == ("opened", "acknowledged")
    assert moves[-1] == ("closed", "in_progress")
    assert len(moves) == 8 and case.state == "in_progress"


def test_an_invalid_transition_is_refused_naming_the_state_and_the_allowed_ones(store: CaseStore) -> None:
    case = store.open("printer")
    store.transition(case.id, "resolved")
    store.transition(case.id, "closed")
    with pytest.raises(UsageError) as err:
        store.transition(case.id, "waiting_customer")
    assert str(err.value) == ("case C-00001 is closed: cannot move to waiting_customer; allowed from closed: "
                              "in_progress")
    assert store.get(case.id).state == "closed"
    assert [e.kind for e in store.timeline(case.id)] == ["opened", "state", "state"]


def test_unknown_case_state_category_and_field_are_refused(store: CaseStore) -> None:
    with pytest.raises(UsageError, match="no case 'C-00009'"):
        store.get("C-00009")
    case = store.open("x")
    with pytest.raises(UsageError, match="unknown category 'plumbing'; expected one of network"):
        store.update(case.id, category="plumbing")
    with pytest.raises(UsageError, match="unknown state 'done'"):
        store.transition(case.id, "done")
    with pytest.raises(UsageError, match="cannot update 'state'"):
        store.update(case.id, state="closed")


def test_update_records_old_and_new_values_and_skips_no_change(store: CaseStore) -> None:
    case = store.open("x", priority="high")
    store.update(case.id, assignee="carol", tier=2, actor="lead")
    store.update(case.id, priority="high")  # unchanged: no event
    store.update(case.id, priority="urgent")
    events = store.timeline(case.id)
    assert [e.kind for e in events] == ["opened", "assigned", "updated"]
    assert events[1].data == {"assignee": {"from": None, "to": "carol"}, "tier": {"from": 1, "to": 2}}
    assert events[2].data == {"priority": {"from": "high", "to": "urgent"}}


def test_runs_bundles_and_actions_attach_once_each_with_an_event(store: CaseStore) -> None:
    case = store.open("x")
    assert store.attach_run(case.id, "r1", {"status": "fail"})
    assert not store.attach_run(case.id, "r1", {"status": "fail"})
    assert store.attach_bundle(case.id, "ab" * 32, {"upload_id": "u1"})
    assert store.add_action(case.id, "restarted unbound", {"backup": "b-1"})
    got = store.get(case.id)
    assert [link.ref for link in got.runs] == ["r1"]
    assert got.bundles[0].data == {"upload_id": "u1"}
    assert got.actions[0].data == {"description": "restarted unbound", "backup": "b-1"}
    assert [e.kind for e in store.timeline(case.id)] == ["opened", "run", "bundle", "action"]
    assert got.to_json()["runs"][0]["ref"] == "r1"


def test_list_filters_and_find_open(store: CaseStore) -> None:
    a = store.open("a", category="network", host="web1", agent_id="ag-1")
    b = store.open("b", category="security", host="web1")
    store.transition(b.id, "resolved")
    assert [c.id for c in store.list()] == [b.id, a.id]
    assert [c.id for c in store.list(category="network")] == [a.id]
    assert [c.id for c in store.list(open_only=True)] == [a.id]
    assert [c.id for c in store.list(state="resolved")] == [b.id]
    assert store.find_open(agent_id="ag-1") == store.list(state="opened")[0]
    assert store.find_open(host="web1").id == a.id
    assert store.find_open(host="db1") is None
    assert store.count() == 2 and store.count(open_only=True) == 1


def test_a_second_store_object_sees_everything_in_wal_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("MEDIC_STATE_DIR", str(tmp_path / "state"))
    first = open_store()
    case = first.open("x")
    first.close()
    with open_store() as second:
        assert second.get(case.id).title == "x"
    path = tmp_path / "state" / "cases.sqlite"
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.stat().st_mode & 0o777 == 0o600
