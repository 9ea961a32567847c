"""Runs and bundles joining cases: ``medic run --case ID`` and the collector's hooks (a verified bundle opens or
joins the open case of its agent or host; its triage run is attached and routes the case)."""

from __future__ import annotations

from typing import Any

from medic.core.config import load_config
from medic.kernel.errors import UsageError
from medic.plugins.cases import routing
from medic.plugins.cases.decide import decide, findings_of
from medic.plugins.cases.routing import SCHEMES
from medic.plugins.cases.store import CaseStore, open_store

# a run attached to a case that nobody has started working on means work has started
_STARTS_WORK = ("acknowledged", "dispatched")
_PROBLEMS = ("fail", "error", "warn")


def check_case(config: dict[str, Any], case_id: str) -> None:
    """Refuse ``--case`` naming an unknown or finished case before the run starts (exit 2)."""
    with open_store(config) as store:
        case = store.get(case_id)
        if not case.is_open:
            raise UsageError(f"--case {case_id}: the case is {case.state}; reopen it first "
                             f"(`medic cases reopen {case_id}`)")


def run_summary(document: dict[str, Any], report: str | None = None) -> dict[str, Any]:
    """What a case keeps of a run: status, playbook, targets, the failing checks (their ids and targets)."""
    failing = sorted({(f.get("check", ""), f.get("target", "")) for f in document.get("findings", [])
                      if f.get("status") in _PROBLEMS})
    data: dict[str, Any] = {"status": document.get("status"), "playbook": document.get("playbook"),
                            "targets": [t.get("name") if isinstance(t, dict) else t
                                        for t in document.get("targets", [])],
                            "failing": [{"check": c, "target": t} for c, t in failing]}
    if report:
        data["report"] = report
    return data


def attach_run_document(store: CaseStore, case_id: str, document: dict[str, Any], report: str | None = None,
                        actor: str = "medic") -> None:
    store.attach_run(case_id, str(document.get("run_id")), run_summary(document, report), actor=actor)
    if store.get(case_id).state in _STARTS_WORK:
        store.transition(case_id, "in_progress", actor=actor, note=f"run {document.get('run_id')} attached")


def attach_run(config: dict[str, Any], case_id: str, document: dict[str, Any], report: str | None) -> str:
    """After ``medic run --case ID``: one line saying where the run went."""
    with open_store(config) as store:
        attach_run_document(store, case_id, document, report)
    return f"run {document.get('run_id')} attached to case {case_id}"


def bundle_received(upload: dict[str, Any], bundle_path: str, store: CaseStore | None = None) -> str:
    """Join the open case of the bundle's agent (or host), or open one with source=bundle; attach the bundle."""
    own = store is None
    store = store or open_store(load_config())
    try:
        host, agent_id = upload.get("host") or None, upload.get("agent_id") or None
        case = store.find_open(agent_id=agent_id, host=host)
        if case is None:
            note = upload.get("note") or ""
            title = f"bundle from {host or upload.get('agent_name') or agent_id}" + (f": {note}" if note else "")
            case = store.open(title, reporter=str(upload.get("agent_name") or agent_id or ""), source="bundle",
                              host=host, agent_id=agent_id, actor="collector")
        store.attach_bundle(case.id, str(upload.get("bundle_sha256")),
                            {"path": bundle_path, **{k: upload.get(k) for k in ("upload_id", "agent_id",
                                                                                "agent_name", "bundle_size",
                                                                                "note")}},
                            actor="collector")
        return case.id
    finally:
        if own:
            store.close()


def bundle_triaged(case_id: str, document: dict[str, Any], report_path: str, store: CaseStore | None = None
                   ) -> None:
    """Attach the triage run to the case; routing.yaml sets its category and priority when not set yet (a
    priority only ever rises: a later bundle showing more hosts failing raises it, a quieter one does not lower)."""
    own = store is None
    config = load_config()
    store = store or open_store(config)
    try:
        attach_run_document(store, case_id, document, report_path, actor="collector")
        findings, users = findings_of(document)
        loaded = routing.load()
        decision = decide(loaded, findings, users)
        case = store.get(case_id)
        order = SCHEMES[loaded.scheme]
        fields: dict[str, Any] = {}
        if case.category is None and decision.category is not None:
            fields["category"] = decision.category
        if case.priority not in order or order.index(decision.priority) < order.index(case.priority):
            fields["priority"] = decision.priority
        if fields:
            store.update(case_id, actor="routing", **fields)
            store.add_event(case_id, "routed", decision.to_json(), actor="routing")
    finally:
        if own:
            store.close()
