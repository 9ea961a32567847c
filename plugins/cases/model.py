"""The case model: what a support case is, its states and the transitions allowed between them.

A case moves ``opened → acknowledged → dispatched → in_progress → waiting_customer → resolved → closed``; a resolved
or closed case can be reopened (back to ``in_progress``). Shortcuts that skip a step forward are allowed where the
work allows it (an engineer may acknowledge and start at once); going backwards is not, except through ``resume``
(waiting for the customer → in progress) and ``reopen``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medic.kernel.errors import UsageError

STATES = ("opened", "acknowledged", "dispatched", "in_progress", "waiting_customer", "resolved", "closed")
SOURCES = ("cli", "bundle", "webhook")
CATEGORIES = ("network", "hardware", "software", "security", "configuration")
# the four-level scheme's names first; the three-level scheme uses high, medium, low
PRIORITIES = ("urgent", "high", "medium", "regular", "low")
OPEN_STATES = ("opened", "acknowledged", "dispatched", "in_progress", "waiting_customer")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "opened": ("acknowledged", "dispatched", "in_progress", "resolved"),
    "acknowledged": ("dispatched", "in_progress", "waiting_customer", "resolved"),
    "dispatched": ("in_progress", "waiting_customer", "resolved"),
    "in_progress": ("dispatched", "waiting_customer", "resolved"),
    "waiting_customer": ("in_progress", "resolved"),
    "resolved": ("closed", "in_progress"),
    "closed": ("in_progress",),
}


def check_transition(case_id: str, current: str, new: str) -> None:
    """Refuse a transition the workflow does not allow, in one line naming the state and the allowed ones."""
    allowed = TRANSITIONS.get(current, ())
    if new not in allowed:
        raise UsageError(f"case {case_id} is {current}: cannot move to {new}; allowed from {current}: "
                         f"{', '.join(allowed) or 'none'}")


def check_choice(what: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise UsageError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")


@dataclass(frozen=True)
class Event:
    """One entry of a case's timeline: every change to a case is one of these."""

    case_id: str
    seq: int  # increasing over the whole store: the order things happened in
    at: float  # seconds since the epoch (the store's clock)
    kind: str  # opened, state, assigned, updated, note, run, bundle, action, sla.warning, sla.breach, ...
    actor: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "seq": self.seq, "at": self.at, "kind": self.kind, "actor": self.actor,
                "data": self.data}


@dataclass(frozen=True)
class Link:
    """Something attached to a case: a run (ref = run id), a bundle (ref = sha256) or an action taken."""

    kind: str  # run, bundle, action
    ref: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "at": self.at, "data": self.data}


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    reporter: str
    contact: str
    source: str
    category: str | None
    priority: str | None
    state: str
    assignee: str | None
    tier: int
    host: str | None
    agent_id: str | None
    created: float
    updated: float
    links: tuple[Link, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def runs(self) -> list[Link]:
        return [link for link in self.links if link.kind == "run"]

    @property
    def bundles(self) -> list[Link]:
        return [link for link in self.links if link.kind == "bundle"]

    @property
    def actions(self) -> list[Link]:
        return [link for link in self.links if link.kind == "action"]

    def to_json(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("id", "title", "reporter", "contact", "source", "category",
                                              "priority", "state", "assignee", "tier", "host", "agent_id",
                                              "created", "updated")}
        data["runs"] = [link.to_json() for link in self.runs]
        data["bundles"] = [link.to_json() for link in self.bundles]
        data["actions"] = [link.to_json() for link in self.actions]
        return data
