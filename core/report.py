"""What a run means for a person: probable cause, next steps, the JSON document and the Markdown report.

JSON document (``medic run --json``), schema ``medic.run/1``::

    {"schema": "medic.run/1", "run_id", "playbook", "source", "inputs", "targets": [{name, kind, live, vars}],
     "started", "finished", "duration_s" (the engine's), "wall_s" (the command's, or null), "status", "exit_code",
     "summary": {"counts": {pass, warn, fail, error, skipped}, "probable_cause": finding|null,
                 "next_steps": [str], "unreachable": [target]},
     "findings": [{check, target, status, severity, category, summary, evidence, remediation, step, subject}],
     "steps": {target: [{step, kind, status, title, findings, outputs, children, error, duration_s, attempts}]}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from medic.core.engine import RunResult
from medic.core.steps import StepResult
from medic.kernel.models import SEVERITY_RANK, Finding, Status

if TYPE_CHECKING:  # channels (uuid, abc) are imported by a run that notifies someone, not by every report
    from medic.core.channel import Notification

SCHEMA = "medic.run/1"


def probable_cause(run: RunResult) -> Finding | None:
    """The first failing check in the checklist's order (then the first error, then the first warning)."""
    findings = run.findings()
    for status in (Status.FAIL, Status.ERROR, Status.WARN):
        for f in findings:
            if f.status == status:
                return f
    return None


def next_steps(run: RunResult, limit: int = 10) -> list[str]:
    steps: list[str] = []
    for status in (Status.FAIL, Status.WARN):
        for f in run.findings():
            if f.status == status and f.remediation:
                line = f"{f.check}: {f.remediation}"
                if line not in steps:
                    steps.append(line)
    return steps[:limit]


def unreachable(run: RunResult) -> list[str]:
    return sorted({f.target for f in run.findings() if f.check == "target.reachable" and f.status == Status.ERROR})


def to_json(run: RunResult) -> dict[str, Any]:
    cause = probable_cause(run)
    return {
        "schema": SCHEMA, "run_id": run.run_id, "playbook": run.playbook, "source": run.source,
        "inputs": run.inputs, "targets": run.targets, "started": run.started.isoformat(),
        "finished": run.finished.isoformat(), "duration_s": round(run.duration_s, 3),
        "wall_s": None if run.wall_s is None else round(run.wall_s, 3), "status": str(run.status),
        "exit_code": run.exit_code,
        "summary": {"counts": run.counts(), "probable_cause": cause.to_dict() if cause else None,
                    "next_steps": next_steps(run), "unreachable": unreachable(run)},
        "findings": [f.to_dict() for f in run.findings()],
        "steps": {t: [r.to_dict() for r in rs] for t, rs in run.results.items()},
    }


def notification(run: RunResult) -> Notification:
    from medic.core.channel import Notification
    c = run.counts()
    cause = probable_cause(run)
    body = (f"{c['fail']} fail, {c['warn']} warn, {c['error']} error, {c['pass']} pass"
            + (f"; probable cause: {cause.check} on {cause.target}: {cause.summary}" if cause else ""))
    return Notification("run.finished", f"medic {run.playbook} ({run.run_id})", str(run.status), body,
                        {"run_id": run.run_id, "playbook": run.playbook, "counts": c,
                         "targets": [t["name"] for t in run.targets]})


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _timings(results: list[StepResult], depth: int = 0) -> list[str]:
    lines = []
    for r in results:
        lines.append(f"| {'&nbsp;' * 4 * depth}{_md_escape(r.title or r.step)} | {r.status} | "
                     f"{r.duration_s * 1000:.0f} ms |")
        lines += _timings(r.children, depth + 1)
    return lines


def to_markdown(run: RunResult) -> str:
    cause = probable_cause(run)
    c = run.counts()
    out = [f"# Fault analysis report: {run.playbook}", "",
           f"- Run: `{run.run_id}`", f"- Started: {run.started.isoformat(timespec='seconds')}, "
           f"took {run.duration_s:.1f} s" + ("" if run.wall_s is None else f" (wall time {run.wall_s:.1f} s)"),
           f"- Result: **{run.status}** ({c['fail']} fail, {c['warn']} warn, "
           f"{c['error']} error, {c['pass']} pass, {c['skipped']} skipped)", "",
           "## Problem", "", f"Playbook `{run.playbook}` ({run.source}) on "
           + ", ".join(f"`{t['name']}` ({t['kind']})" for t in run.targets) + "."]
    if run.inputs:
        out += ["", "Inputs:", ""] + [f"- `{k}` = `{v}`" for k, v in run.inputs.items()]
    out += ["", "## Probable cause", ""]
    if cause:
        out.append(f"**{cause.check}** on `{cause.target}` ({cause.status}, {cause.severity}): "
                   f"{_md_escape(cause.summary)}")
    else:
        out.append("No check failed, errored or warned.")
    out += ["", "## Findings by severity", "", "| Severity | Status | Check | Target | Summary |",
            "|---|---|---|---|---|"]
    ranked = sorted(run.findings(), key=lambda f: (-SEVERITY_RANK[f.severity], _STATUS_RANK[f.status]))
    for f in ranked:
        out.append(f"| {f.severity} | {f.status} | {f.check} | {f.target} | {_md_escape(f.summary)} |")
    bad = [f for f in run.findings() if f.status in (Status.FAIL, Status.ERROR, Status.WARN)]
    if bad:
        out += ["", "## Evidence", ""]
        for f in bad:
            out.append(f"### {f.check} on {f.target}" + (f" ({f.subject})" if f.subject else ""))
            out.append("")
            out += [f"- {k}: `{_md_escape(str(v))[:300]}`" for k, v in f.evidence.items()] or ["- (none)"]
            out.append("")
    steps = next_steps(run)
    out += ["", "## Recommended next steps", ""] + ([f"{i}. {s}" for i, s in enumerate(steps, 1)]
                                                   or [("Nothing to do: all checks passed." if run.checked
                                                        else "None: nothing was checked (no check gave a "
                                                             "result); see the errors above.")])
    out += ["", "## Timings", ""]
    for target, results in run.results.items():
        out += [f"Target `{target}`:", "", "| Step | Status | Time |", "|---|---|---|", *_timings(results), ""]
    return "\n".join(out).rstrip() + "\n"


_STATUS_RANK = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.PASS: 3, Status.SKIPPED: 4}
