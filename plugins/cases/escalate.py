"""Acting on SLA clocks: ``tick()`` evaluates every open case once and sends what is due, a warning at 80 % of a
budget, an escalation with a handover packet on a breach (the case moves up one tier), a progress update at the
cadence, then records each in the timeline.

Each message has an id derived from the case, the kind and the clock (or update number), and it is sent before it
is recorded: a process that dies in between sends it again on the next tick with the same id, which the outbox
and the receivers deduplicate; none is lost. A snapshot of every clock is kept in ``sla_clocks``, and each case's
SLA state as instants in ``sla_due`` (listing.py), so the cases page lists many cases without evaluating them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from medic.core import notify
from medic.core.channel import Channel, Notification
from medic.plugins.cases import handover, listing
from medic.plugins.cases.routing import Routing
from medic.plugins.cases.sla import WARN_AT, Clock, Evaluation, evaluate
from medic.plugins.cases.store import CaseStore

EVENTS = ("case.sla.warning", "case.escalated", "case.update", "case.satisfaction")
Send = Callable[[str, Notification], list[str]]  # (audience "notify" or "escalate", message) -> problems

_SNAPSHOT = """
CREATE TABLE IF NOT EXISTS sla_clocks (
    case_id TEXT NOT NULL, clock TEXT NOT NULL, budget_s REAL NOT NULL, elapsed_s REAL NOT NULL, state TEXT NOT NULL,
    percent REAL NOT NULL, evaluated REAL NOT NULL, PRIMARY KEY (case_id, clock));
"""


def channel_sender(routing: Routing, channels: Mapping[str, Channel], config: dict[str, Any], outbox: Path
                   ) -> Send:
    """Deliver through the channel instances routing.yaml names (``notify``, ``escalate``); unknown names and
    missing secrets are refused now (UsageError), not at the first breach."""
    audiences = {
        audience: [dataclasses.replace(route, events=EVENTS)
                   for route in notify.resolve(specs, channels, config)]
        for audience, specs in (("notify", routing.notify), ("escalate", routing.escalate))}

    def send(audience: str, note: Notification) -> list[str]:
        return notify.deliver(audiences[audience], note, outbox) if audiences[audience] else []
    return send


def _note_id(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:32]


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds")


class SlaRunner:
    def __init__(self, store: CaseStore, routing: Routing, send: Send, runs_dir: Path) -> None:
        self.store = store
        self.routing = routing
        self.send = send
        self.runs_dir = runs_dir
        store.db.executescript(_SNAPSHOT)

    def evaluate_all(self, now: float | None = None) -> list[Evaluation]:
        """The clocks of every open case (and of resolved ones: their clocks say whether the SLA was met)."""
        at = self.store.clock() if now is None else now
        cases = [c for c in self.store.list() if c.state != "closed" and (c.priority or "") in self.routing.levels]
        # what evaluate reads (states; warnings, breaches and updates sent), for every case in a few queries
        events = self.store.timelines([c.id for c in cases], ("state", "sla.*"))
        found = (evaluate(case, events[case.id], self.routing, at) for case in cases)
        return [ev for ev in found if ev is not None]

    def tick(self) -> list[str]:
        """Evaluate every case once; return one line per message sent (and per delivery problem)."""
        now = self.store.clock()
        lines: list[str] = []
        for ev in self.evaluate_all(now):
            if ev.case.state not in ("resolved", "closed"):
                lines += self._act(ev, now)
            self._snapshot(ev, now)
        listing.refresh(self.store, self.routing, now)  # the cases page then finds every case's SLA state ready
        return lines

    def _act(self, ev: Evaluation, now: float) -> list[str]:
        lines = []
        for clock in ev.clocks:
            if clock.met_at is not None:
                continue
            if clock.fraction >= WARN_AT and not clock.warned:
                lines += self._warn(ev, clock, now)
            if clock.state == "breached" and not clock.breach_sent:
                lines += self._escalate(ev, clock, now)
        if ev.updates_due > ev.updates_sent:
            lines += self._update(ev, now)
        return lines

    def _deliver(self, audience: str, note: Notification, kind: str, case_id: str, data: dict[str, Any]
                 ) -> list[str]:
        problems = self.send(audience, note)
        self.store.add_event(case_id, kind, data, actor="sla")
        return [f"{case_id}: {note.title}", *(f"{case_id}: {p}" for p in problems)]

    def _warn(self, ev: Evaluation, clock: Clock, now: float) -> list[str]:
        case = ev.case
        data = {"clock": clock.name, "budget_s": clock.budget, "elapsed_s": round(clock.elapsed, 1)}
        note = Notification("case.sla.warning", f"case {case.id}: {clock.name} at {100 * clock.fraction:.0f} % "
                            f"of its budget", "warn",
                            f"case {case.id} ({case.priority}, {case.state}): {case.title}",
                            {"case_id": case.id, "priority": case.priority, "at": _iso(now), **data},
                            _note_id(case.id, "warning", clock.name))
        return self._deliver("notify", note, "sla.warning", case.id, data)

    def _escalate(self, ev: Evaluation, clock: Clock, now: float) -> list[str]:
        case = self.store.get(ev.case.id)  # the tier now: two clocks breached in one tick climb two tiers
        before, tier = case.tier, min(case.tier + 1, self.routing.tiers)
        if tier != before:
            case = self.store.update(case.id, actor="sla", tier=tier)
        data = {"clock": clock.name, "budget_s": clock.budget, "elapsed_s": round(clock.elapsed, 1),
                "tier": {"from": before, "to": tier}}
        packet = handover.packet(case, self.store.timeline(case.id), self.runs_dir, clock.to_json())
        note = Notification("case.escalated", f"case {case.id} escalated to tier {tier}: {clock.name} breached",
                            "fail", handover.summary(packet),
                            {"case_id": case.id, "priority": case.priority, "at": _iso(now), "tier": tier,
                             "handover": packet}, _note_id(case.id, "breach", clock.name))
        return self._deliver("escalate", note, "sla.breach", case.id, data)

    def _update(self, ev: Evaluation, now: float) -> list[str]:
        case, number = ev.case, ev.updates_due
        last = [e for e in self.store.timeline(case.id) if not e.kind.startswith("sla.")][-3:]
        body = "\n".join([f"case {case.id} ({case.priority}, {case.state}, tier {case.tier}, assignee "
                          f"{case.assignee or '-'}): {case.title}",
                          *(f"{_iso(e.at)} {e.kind} {e.actor}" for e in last)])
        note = Notification("case.update", f"case {case.id}: progress update {number}", "info", body,
                            {"case_id": case.id, "priority": case.priority, "at": _iso(now), "number": number,
                             "state": case.state}, _note_id(case.id, "update", number))
        return self._deliver("notify", note, "sla.update", case.id, {"number": number})

    def _snapshot(self, ev: Evaluation, now: float) -> None:
        with self.store.tx() as db:
            db.executemany("INSERT OR REPLACE INTO sla_clocks VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(ev.case.id, c.name, c.budget, c.elapsed, c.state, round(100 * c.fraction, 1), now)
                            for c in ev.clocks])
