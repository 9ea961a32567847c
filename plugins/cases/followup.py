"""The satisfaction follow-up of a closed case: a message through the channels routing.yaml names for ``notify``
asking the reporter for a rating (1-5), and the rating recorded (``medic cases rate``, ``medic feedback``) as a
``satisfaction`` event that the report and ``medic metrics`` read.

The request's id comes from the case and its closing event: sent twice for one closing (a retried command), the
outbox and the receivers deduplicate it; a case closed again after a reopen is asked again.
"""

from __future__ import annotations

from medic.core.channel import Notification
from medic.core.config import load_config
from medic.kernel.errors import MedicError, UsageError
from medic.plugins.cases import routing
from medic.plugins.cases.escalate import _iso, _note_id
from medic.plugins.cases.store import CaseStore, open_store

SCORES = range(1, 6)


def rating_request(store: CaseStore, case_id: str) -> Notification:
    case = store.get(case_id)
    closing = [e for e in store.timeline(case_id) if e.kind == "state" and e.data.get("to") == "closed"]
    if case.state != "closed" or not closing:
        raise UsageError(f"case {case_id} is {case.state}: a rating is asked for a closed case only")
    who = case.reporter or "the reporter"
    body = (f"Case {case.id} ({case.title}) is closed. How satisfied is {who} with its handling? Reply with a "
            f"score from 1 (bad) to 5 (very good); it is recorded with: medic cases rate {case.id} SCORE "
            f"[--comment TEXT].")
    return Notification("case.satisfaction", f"case {case.id}: how did we do?", "info", body,
                        {"case_id": case.id, "contact": case.contact, "reporter": case.reporter,
                         "at": _iso(closing[-1].at), "scores": [1, 5]},
                        _note_id(case.id, "satisfaction", closing[-1].seq))


def ask_rating(case_id: str) -> str:
    """Send the request through the ``notify`` channels of routing.yaml; a line saying what happened."""
    from medic.plugins.cases.slacmd import sender

    config = load_config()
    try:
        loaded = routing.load()
    except MedicError as exc:
        return f"case {case_id}: no satisfaction request sent (routing.yaml: {exc})"
    if not loaded.notify:
        return f"case {case_id}: no satisfaction request sent: routing.yaml names no notify channel"
    send = sender(loaded, config)
    store = open_store(config)
    try:
        note = rating_request(store, case_id)
        problems = send("notify", note)
        store.add_event(case_id, "satisfaction.requested", {"id": note.id, "problems": problems}, actor="medic")
    finally:
        store.close()
    return "; ".join([f"case {case_id}: satisfaction request sent to {', '.join(loaded.notify)}", *problems])


def record_rating(case_id: str, score: int, comment: str = "") -> str:
    if score not in SCORES:
        raise UsageError(f"score {score}: expected a whole number from 1 to 5")
    store = open_store(load_config())
    try:
        store.add_event(case_id, "satisfaction", {"score": score, "comment": comment}, actor="customer")
    finally:
        store.close()
    return f"case {case_id}: satisfaction {score} recorded"
