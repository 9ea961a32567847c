"""The cases list in SQL (plugins/cases/listing.py): each case's SLA state stored as instants gives, at any later
time, what evaluating its clocks would; a new event or a new routing voids the stored rows; filters, the SLA filter
and paging happen before the page is cut, with the number of matching cases."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from medic.plugins.cases import routing
from medic.plugins.cases.calendar import BusinessCalendar
from medic.plugins.cases.listing import BREACHING, listing, refresh, state_at, summary
from medic.plugins.cases.sla import Evaluation, evaluate
from medic.plugins.cases.store import CaseStore

PARIS = ZoneInfo("Europe/Paris")
ROUTING = """\
scheme: four-level
levels:
  urgent: {response: 1h, dispatch: 30m, resolution: 4h, update: 30m}
  high: {response: 2h, resolution: 8h}
  regular: {response: 4h, dispatch: 2h, resolution: 16h}
calendar: {timezone: Europe/Paris, hours: ["09:00", "17:00"], holidays: ["2026-12-09"]}
"""
MONDAY = dt.datetime(2026, 12, 7, 8, 0, tzinfo=PARIS).timestamp()
# moves a case can make from each state (resolved and closed cases are reopened now and then)
MOVES = {"opened": ["acknowledged", "dispatched", "in_progress"], "acknowledged": ["dispatched", "waiting_customer"],
         "dispatched": ["in_progress", "waiting_customer", "resolved"], "in_progress": ["waiting_customer", "resolved"],
         "waiting_customer": ["in_progress", "resolved"], "resolved": ["closed", "in_progress"],
         "closed": ["in_progress"]}


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def expected(ev: Evaluation | None) -> str:
    """The state by definition, from the clocks evaluated at that instant (the list view before sla_due)."""
    if ev is None or not ev.clocks:
        return ""
    states = {c.state for c in ev.clocks}
    for label in ("breached", "running", "paused"):
        if label in states:
            return "at risk" if label != "breached" and ev.at_risk else label
    return "met"


def listed(store: CaseStore, loaded: routing.Routing, now: float, **kw: object) -> dict[str, str]:
    rows, _ = listing(store, loaded, now, limit=10_000, **kw)  # type: ignore[arg-type]
    return {r[0]: r[-1] for r in rows}


def test_stored_instants_give_the_clocks_state_at_every_later_time(tmp_path: Path) -> None:
    """A simulated fortnight (nights, a holiday, weekends): cases opened and moved at random times, the list asked
    at random instants between events; only the cases changed since the last listing are evaluated again."""
    loaded = routing.load(_routing(tmp_path))
    rng = random.Random(7)
    clock = Clock(MONDAY)
    store = CaseStore(tmp_path / "cases.sqlite", clock=clock)
    alive: list[str] = []
    seen: set[str] = set()
    for step in range(400):
        gap = rng.uniform(0, 2 * 3600)
        if step % 5 == 0:
            now = clock.t + rng.uniform(0, gap)
            assert refresh(store, loaded, now) <= 5  # at most the cases changed since the last listing
            want = {c.id: expected(evaluate(c, store.timeline(c.id), loaded, now)) for c in store.list()}
            assert listed(store, loaded, now) == want
            seen |= set(want.values())
        clock.t += gap
        if len(alive) < 3 or rng.random() < 0.25:
            alive.append(store.open("trouble", priority=rng.choice(["urgent", "high", "regular", "low"])).id)
        else:
            case_id = rng.choice(alive)
            store.transition(case_id, rng.choice(MOVES[store.get(case_id).state]))
    assert seen == {"breached", "at risk", "running", "paused", "met", ""}  # low has no budget: ""


def test_a_new_event_or_another_routing_voids_rows_but_the_sla_runner_s_own_events_do_not(tmp_path: Path) -> None:
    loaded = routing.load(_routing(tmp_path))
    store = CaseStore(tmp_path / "cases.sqlite", clock=Clock(MONDAY))
    ids = [store.open(f"case {i}", priority="urgent").id for i in range(3)]
    assert refresh(store, loaded, MONDAY) == 3
    store.add_event(ids[0], "sla.warning", {"clock": "dispatch"}, actor="sla")
    assert refresh(store, loaded, MONDAY) == 0
    store.transition(ids[1], "acknowledged")
    store.add_event(ids[2], "note", {"text": "called"})
    assert refresh(store, loaded, MONDAY) == 2
    assert listed(store, loaded, MONDAY + 25 * 60) == {ids[0]: "at risk", ids[1]: "at risk", ids[2]: "at risk"}
    other = tmp_path / "other.yaml"
    other.write_text(ROUTING.replace("dispatch: 30m", "dispatch: 1h"))
    assert listed(store, routing.load(other), MONDAY + 25 * 60) == dict.fromkeys(ids, "running")


def test_a_routing_change_re_evaluates_only_the_cases_whose_rule_changed(tmp_path: Path) -> None:
    """Rows carry a key per priority (its level's budgets, and the calendar for business-hours levels)."""
    store = CaseStore(tmp_path / "cases.sqlite", clock=Clock(MONDAY))
    for priority, count in (("urgent", 2), ("high", 3), ("regular", 4)):
        for i in range(count):
            store.open(f"{priority} {i}", priority=priority)
    store.open("no priority")

    def load(text: str) -> routing.Routing:
        (tmp_path / "r.yaml").write_text(text)
        return routing.load(tmp_path / "r.yaml")

    assert refresh(store, load(ROUTING), MONDAY) == 10
    assert refresh(store, load(ROUTING + "categories: [{check: 'net.*', category: network}]\n"), MONDAY) == 0
    high_later = ROUTING.replace("high: {response: 2h", "high: {response: 3h")
    assert refresh(store, load(high_later), MONDAY) == 3  # the high cases only
    moved = high_later.replace('"2026-12-09"', '"2026-12-10"')  # the calendar: every business-hours level
    assert refresh(store, load(moved), MONDAY) == 3 + 4  # urgent counts every hour (calendar: always)
    now, later = MONDAY + 7200, load(moved)
    assert listed(store, later, now) == {c.id: state_at(*summary(evaluate(c, store.timeline(c.id), later, now), later,
                                                                 now), now) for c in store.list()}


def test_an_event_dated_after_the_listing_is_taken_into_account_when_its_time_comes(tmp_path: Path) -> None:
    loaded = routing.load(_routing(tmp_path))
    clock = Clock(MONDAY)
    store = CaseStore(tmp_path / "cases.sqlite", clock=clock)
    case_id = store.open("payments down", priority="urgent").id
    clock.t = MONDAY + 600
    store.transition(case_id, "dispatched")  # dated 10 minutes after the opening
    assert listed(store, loaded, MONDAY + 60) == {case_id: "running"}
    # without the event the dispatch clock (30 min) would be breached by now; with it only resolution runs (4 h)
    assert listed(store, loaded, MONDAY + 40 * 60) == {case_id: "running"}
    assert listed(store, loaded, MONDAY + 200 * 60) == {case_id: "at risk"}


def test_filters_the_sla_filter_and_paging_come_before_the_page_is_cut(tmp_path: Path) -> None:
    loaded = routing.load(_routing(tmp_path))
    clock = Clock(MONDAY)
    store = CaseStore(tmp_path / "cases.sqlite", clock=clock)
    late = [store.open(f"late {i}", priority="urgent", host="web1").id for i in range(3)]
    clock.t += 4 * 3600
    calm = [store.open(f"calm {i}", priority="urgent", host="web2").id for i in range(5)]
    now = clock.t + 60
    rows, matching = listing(store, loaded, now, limit=2)
    assert [r[0] for r in rows] == calm[:-3:-1] and matching == 8
    rows, matching = listing(store, loaded, now, sla=BREACHING, limit=2, offset=2)
    assert [r[0] for r in rows] == [late[0]] and matching == 3  # the breaching ones are the oldest three
    rows, matching = listing(store, loaded, now, host="web2", limit=10)
    assert len(rows) == 5 and matching == 5 and {r[-1] for r in rows} == {"running"}
    rows, matching = listing(store, None, now, limit=1)  # no routing: no SLA column, still counted
    assert rows[0][-1] == "" and matching == 8
    with pytest.raises(TypeError):
        listing(store, loaded, now, colour="red")  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "UTC"])
def test_advance_is_the_inverse_of_working_seconds_across_holidays_and_dst(zone: str) -> None:
    calendar = BusinessCalendar(timezone=zone, holidays=frozenset({"2027-03-29", "2026-12-25"}))
    rng = random.Random(zone)
    for _ in range(300):
        # around the 2027 spring change (March) and the winter holidays
        a = rng.choice([dt.datetime(2027, 3, 20, tzinfo=PARIS), dt.datetime(2026, 12, 20, tzinfo=PARIS)]).timestamp()
        a += rng.uniform(0, 14 * 86400)
        amount = rng.uniform(0, 60 * 3600)
        b = calendar.advance(a, amount)
        assert calendar.working_seconds(a, b) == pytest.approx(amount, abs=1e-6)
        assert calendar.working_seconds(a, b - 1) < amount  # the first such instant, not a later one
    assert BusinessCalendar(days=("sat",), holidays=frozenset()).advance(0.0, 1e9) == float("inf")


def _routing(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING)
    return path


def test_open_store_keeps_each_changed_case_s_row_as_it_writes(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_ROUTING", str(_routing(tmp_path)))
    monkeypatch.setenv("MEDIC_STATE_DIR", str(tmp_path / "state"))
    from medic.plugins.cases.store import open_store

    clock = Clock(MONDAY)
    store = open_store(clock=clock)
    ids = [store.open(f"case {i}", priority="urgent").id for i in range(4)]
    clock.t += 10 * 60
    store.transition(ids[1], "acknowledged")
    store.add_event(ids[2], "note", {"text": "called"})
    loaded = routing.load()
    # every row already stored by the writes: the listing evaluates none, and says what evaluating gives
    assert refresh(store, loaded, MONDAY + 25 * 60) == 0
    bare = CaseStore(tmp_path / "bare.sqlite", clock=clock)  # a store without the keeper: its list evaluates
    bare.open("case", priority="urgent")
    assert refresh(bare, loaded, MONDAY + 25 * 60) == 1
    later = MONDAY + 25 * 60
    evaluated = {c.id: expected(evaluate(c, store.timeline(c.id), loaded, later)) for c in store.list()}
    assert listed(store, loaded, later) == evaluated
    store.close()
    bare.close()
