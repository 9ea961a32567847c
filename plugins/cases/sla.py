"""SLA clocks, evaluated from a case's timeline: nothing but the store has to survive a restart.

Each priority level of routing.yaml gives budgets (response, dispatch, resolution, update cadence), counted in
working time on the business calendar (or every second with ``calendar: always``). A clock counts while the case
is open and not waiting for the customer; it stops when met:

- response: the case left ``opened`` (acknowledged, or anything after);
- dispatch: the case was dispatched (or work started, or it was resolved);
- resolution: the case is resolved or closed (a reopened case's clock goes on from where it stopped).

The update cadence asks for one progress update per budget of counted time until the case is resolved. Warnings
(80 % of a budget), breaches and updates already sent are events of the timeline (``sla.warning``,
``sla.breach``, ``sla.update``), so a new process evaluating the same store neither repeats nor forgets one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from medic.plugins.cases.calendar import elapsed
from medic.plugins.cases.model import Case, Event
from medic.plugins.cases.routing import Level, Routing

WARN_AT = 0.8
COUNTING = ("opened", "acknowledged", "dispatched", "in_progress")
CLOCKS = ("response", "dispatch", "resolution")
# the states that meet each clock (the first time the case enters one of them; resolution: while in one)
_MEETS = {"response": ("acknowledged", "dispatched", "in_progress", "waiting_customer", "resolved", "closed"),
          "dispatch": ("dispatched", "in_progress", "resolved", "closed"),
          "resolution": ("resolved", "closed")}


class Clock(NamedTuple):  # made per clock of every case listed: a named tuple is made five times faster
    name: str  # response, dispatch, resolution
    budget: float  # seconds of counted time
    elapsed: float
    state: str  # running, paused, met, breached
    warned: bool  # a warning was sent (sla.warning in the timeline)
    breach_sent: bool  # the breach was handled (sla.breach in the timeline)
    met_at: float | None = None  # when the clock stopped (a met clock can still be breached: met late)

    @property
    def fraction(self) -> float:
        return self.elapsed / self.budget if self.budget else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "budget_s": self.budget, "elapsed_s": round(self.elapsed, 1),
                "state": self.state, "percent": round(100 * self.fraction, 1), "warned": self.warned,
                "breached": self.state == "breached"}


@dataclass(frozen=True)
class Evaluation:
    case: Case
    clocks: list[Clock]
    updates_due: int  # progress updates the cadence asks for by now
    updates_sent: int  # the number of the last update sent (after downtime, one update catches up, not a burst)

    @property
    def at_risk(self) -> bool:
        return at_risk(self.clocks)


def at_risk(clocks: Sequence[Clock]) -> bool:
    return any(c.state == "breached" or (c.met_at is None and c.fraction >= WARN_AT) for c in clocks)


def spans(created: float, changes: Sequence[tuple[float, object]], now: float) -> list[tuple[float, float, str]]:
    """A case's states over time: (from, to, state), from its opening until ``now``, given its state changes
    (instant, new state) in order."""
    out, start, state = [], created, "opened"
    for at, to in changes:
        if at <= now:
            out.append((start, at, state))
            start, state = at, str(to)
    out.append((start, max(now, start), state))
    return out


def segments(case: Case, events: Sequence[Event], now: float) -> list[tuple[float, float, str]]:
    """The case's states over time, from its timeline."""
    return spans(case.created, [(e.at, e.data.get("to")) for e in events if e.kind == "state"], now)


def _met_at(name: str, spans: list[tuple[float, float, str]]) -> float | None:
    if name == "resolution":  # met while resolved or closed: its end is now
        return spans[-1][0] if spans[-1][2] in _MEETS[name] else None
    return next((start for start, _end, state in spans if state in _MEETS[name]), None)


def counted(routing: Routing, business: bool, spans: list[tuple[float, float, str]], until: float) -> float:
    calendar = routing.calendar if business else None
    return sum(elapsed(calendar, start, min(end, until)) for start, end, state in spans
               if state in COUNTING and start < until)


def clocks(routing: Routing, level: Level, states: list[tuple[float, float, str]], now: float,
           marks: frozenset[tuple[str, Any]] | set[tuple[str, Any]] = frozenset()) -> tuple[list[Clock], float]:
    """The clocks of a case of this level whose states over time are ``states`` (``spans``), and the time counted
    until ``now``; ``marks``: the (sla.* kind, clock) of its timeline's SLA events."""
    out = []
    memo: dict[float, float] = {}  # counted time until an instant: the clocks still running all count until now
    # the working time since some origin at each instant, by one binary search in the calendar's table
    worked = routing.calendar.table(states[0][0], max(now, states[-1][1])).worked if level.business else float
    at: dict[float, float] = {}

    def w(t: float) -> float:
        if t not in at:
            at[t] = worked(t)
        return at[t]

    def used_until(until: float) -> float:  # what ``counted`` gives
        if until not in memo:
            memo[until] = sum(max(0.0, w(min(end, until)) - w(start)) for start, end, state in states
                              if state in COUNTING and start < until)
        return memo[until]

    for name in CLOCKS:
        budget = level.budgets.get(name)
        if budget is None:
            continue
        met = _met_at(name, states)
        used = used_until(met if met is not None else now)
        state = ("breached" if used >= budget else "met" if met is not None
                 else "running" if states[-1][2] in COUNTING else "paused")
        out.append(Clock(name, budget, used, state, ("sla.warning", name) in marks,
                         ("sla.breach", name) in marks, met))
    return out, (used_until(now) if "update" in level.budgets else 0.0)


def evaluate(case: Case, events: Sequence[Event], routing: Routing, now: float) -> Evaluation | None:
    """The case's clocks at ``now``; None when its priority has no level in the routing."""
    level = routing.levels.get(case.priority or "")
    if level is None:
        return None
    marks = {(e.kind, e.data.get("clock")) for e in events if e.kind.startswith("sla.")}
    found, used_now = clocks(routing, level, segments(case, events, now), now, marks)
    cadence = level.budgets.get("update")
    due = 0
    if cadence and case.state not in ("resolved", "closed"):
        due = int(used_now // cadence)
    sent = max((int(e.data.get("number", 0)) for e in events if e.kind == "sla.update"), default=0)
    return Evaluation(case, found, due, sent)
