"""The report model: what a fault analysis report says, built from run documents and an optional case.

A run document is the ``medic.run/1`` JSON (``medic run --json``, the history files). A case is a mapping as the
case store gives it; every key is optional: ``id``, ``title``, ``description`` (Markdown), ``reporter``,
``category``, ``priority``, ``state``, ``assignee``, ``events`` (timeline: ``at``, ``kind``, ``actor``, ``text``),
``actions`` (``at``, ``what``, ``backup``, ``rollback``), ``sla`` (``clock``, ``budget``, ``used``, ``met``),
``satisfaction`` (``score``, ``comment``), ``resolution`` (Markdown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
STATUS_ORDER = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skipped": 4}
BAD = ("fail", "error", "warn")
ACTION_KINDS = ("backup", "action", "approve")


def _walk(steps: Iterable[Mapping[str, Any]], depth: int = 0) -> Iterable[tuple[int, Mapping[str, Any]]]:
    for step in steps:
        yield depth, step
        yield from _walk(step.get("children") or [], depth + 1)


def _step_row(target: str, step: Mapping[str, Any]) -> dict[str, Any]:
    return {"target": target, "step": step.get("step", ""), "title": step.get("title") or step.get("step", ""),
            "status": step.get("status", ""), "error": step.get("error"),
            "summaries": [f.get("summary", "") for f in step.get("findings") or []]}


def _steps_of(runs: Sequence[Mapping[str, Any]], kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    return [_step_row(target, step) for run in runs for target, steps in (run.get("steps") or {}).items()
            for _, step in _walk(steps) if step.get("kind") in kinds]


def _timings(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for run in runs:
        for target, steps in (run.get("steps") or {}).items():
            rows = [{"depth": depth, "title": s.get("title") or s.get("step", ""), "status": s.get("status", ""),
                     "ms": round(float(s.get("duration_s") or 0) * 1000)} for depth, s in _walk(steps)]
            out.append({"run_id": run.get("run_id", ""), "target": target, "rows": rows})
    return out


def _case_action(action: Mapping[str, Any]) -> dict[str, Any]:
    """A case's recorded action (a change, its backup, its rollback) as a row like a step's."""
    extra = [f"{k}: {action[k]}" for k in ("backup", "rollback") if action.get(k)]
    return {"target": str(action.get("host") or action.get("target") or ""), "step": str(action.get("at") or ""),
            "title": str(action.get("what") or action.get("text") or ""), "status": str(action.get("status") or ""),
            "error": None, "summaries": extra}


def _cause(runs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for run in runs:
        cause = (run.get("summary") or {}).get("probable_cause")
        if cause:
            return cause
    return None


def _next_steps(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    steps: list[str] = []
    for run in runs:
        for s in (run.get("summary") or {}).get("next_steps") or []:
            if s not in steps:
                steps.append(s)
    return steps


def _problem(runs: Sequence[Mapping[str, Any]], case: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"description": (case or {}).get("description") or "",
            "runs": [{"run_id": r.get("run_id", ""), "playbook": r.get("playbook", ""),
                      "source": r.get("source", ""), "status": r.get("status", ""),
                      "started": r.get("started", ""), "targets": [t.get("name", "") for t in r.get("targets") or []],
                      "inputs": r.get("inputs") or {}} for r in runs]}


def _counts(runs: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    total = dict.fromkeys(STATUS_ORDER, 0)
    for run in runs:
        for key, n in ((run.get("summary") or {}).get("counts") or {}).items():
            total[key] = total.get(key, 0) + int(n)
    return total


def build(runs: Sequence[Mapping[str, Any]], case: Mapping[str, Any] | None = None,
          articles: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The report model the templates render; every collected text stays data, never markup."""
    findings = [f for run in runs for f in run.get("findings") or []]
    ranked = sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.get("severity", ""), 9),
                                            STATUS_ORDER.get(f.get("status", ""), 9)))
    case = case or {}
    title = (f"{case['id']}: {case.get('title', '')}" if case.get("id")
             else ", ".join(sorted({r.get("playbook", "") for r in runs})) or "no run")
    return {
        "title": title, "case": dict(case), "problem": _problem(runs, case), "counts": _counts(runs),
        "timeline": list(case.get("events") or []), "cause": _cause(runs), "findings": ranked,
        "evidence": [f for f in findings if f.get("status") in BAD],
        "actions": [_case_action(a) for a in case.get("actions") or []] + _steps_of(runs, ACTION_KINDS),
        "verification": _steps_of(runs, ("verify",)), "rollback": _steps_of(runs, ("rollback",)),
        "next_steps": _next_steps(runs), "articles": list(articles or []),
        "sla": list(case.get("sla") or []), "satisfaction": case.get("satisfaction"),
        "resolution": case.get("resolution") or "", "timings": _timings(runs),
    }
