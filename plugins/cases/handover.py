"""The handover packet an escalation carries to the next tier: the case and its contact, the failing findings with
their evidence (from the attached runs' documents in the run history), the steps taken so far, the bundles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medic.plugins.cases.model import Case, Event

MAX_FINDINGS = 50  # a packet stays readable in an e-mail; the run documents hold the rest
_STEPS = ("state", "assigned", "note", "action", "run", "bundle", "routed", "sla.breach")
_PROBLEMS = ("fail", "error", "warn")


def _run_findings(runs_dir: Path, run_id: str) -> list[dict[str, Any]] | None:
    try:
        document = json.loads((runs_dir / f"{run_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [{k: f.get(k) for k in ("check", "target", "status", "severity", "summary", "evidence", "remediation")}
            for f in document.get("findings", []) if f.get("status") in _PROBLEMS]


def findings(case: Case, runs_dir: Path) -> list[dict[str, Any]]:
    """The problem findings of every attached run; a run not in this history gives the failing checks it kept."""
    out: list[dict[str, Any]] = []
    for link in case.runs:
        found = _run_findings(runs_dir, link.ref)
        if found is None:
            found = [{**f, "run_id": link.ref} for f in link.data.get("failing", [])]
        out.extend({**f, "run_id": link.ref} for f in found)
    return out[:MAX_FINDINGS]


def packet(case: Case, events: list[Event], runs_dir: Path, clock: dict[str, Any]) -> dict[str, Any]:
    return {
        "case": {k: v for k, v in case.to_json().items() if k not in ("runs", "bundles", "actions")},
        "breached": clock,
        "contact": {"reporter": case.reporter, "contact": case.contact},
        "findings": findings(case, runs_dir),
        "steps_taken": [{"at": e.at, "kind": e.kind, "actor": e.actor, "data": e.data} for e in events
                        if e.kind in _STEPS],
        "actions": [link.to_json() for link in case.actions],
        "runs": [link.to_json() for link in case.runs],
        "bundles": [link.to_json() for link in case.bundles],
    }


def summary(data: dict[str, Any]) -> str:
    """The packet in a few lines of text (the channels' body); the full packet travels as the data."""
    case, contact = data["case"], data["contact"]
    lines = [f"case {case['id']} ({case['priority']}, {case['state']}, tier {case['tier']}): {case['title']}",
             f"breached: {data['breached']['name']} budget {data['breached']['budget_s'] / 60:.0f} min",
             f"contact: {contact['reporter'] or '-'} {contact['contact'] or ''}".rstrip()]
    failing = [f"{f.get('check')} on {f.get('target')}" for f in data["findings"]]
    lines.append(f"findings: {', '.join(failing) if failing else 'none attached'}")
    lines.append(f"steps taken: {len(data['steps_taken'])}; bundles: "
                 f"{', '.join(b['ref'][:12] for b in data['bundles']) or 'none'}")
    return "\n".join(lines)
