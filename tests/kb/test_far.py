"""Issue 15: the fault analysis report in Markdown and HTML; markup in collected evidence renders inert."""

from __future__ import annotations

from pathlib import Path

from kb_helpers import HOSTILE, Tags, hostile_book, medic

from medic.plugins.reports import far, render


def test_html_report_of_a_run_with_hostile_evidence_has_every_section_and_no_live_markup(tmp_path: Path) -> None:
    report = tmp_path / "far.html"
    out = medic("run", hostile_book(tmp_path), "--report", str(report))
    assert out.returncode == 1, out.stderr
    assert f"report written to {report}" in out.stderr
    page = report.read_text()
    tags = Tags(page)
    assert tags.inert(), [t for t in tags.tags if t[0] in ("script", "img")]
    text = "".join(tags.text)
    for section in ("Problem", "Probable cause", "Findings", "Evidence", "Actions", "Verification", "Rollback",
                    "Recommended next steps", "Timings"):
        assert section in text, section
    assert HOSTILE in text  # shown as text, whole: in the summary and in the stdout evidence
    assert "<strong>bold</strong>" not in page  # collected text is never read as Markdown
    policy = [dict(attrs).get("content") for tag, attrs in tags.tags
              if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy"]
    assert policy and "default-src 'none'" in str(policy[0])  # no script may run even if one slipped through


def test_markdown_report_is_chosen_by_any_other_suffix(tmp_path: Path) -> None:
    report = tmp_path / "far.txt"
    out = medic("run", hostile_book(tmp_path), "--report", str(report))
    assert out.returncode == 1, out.stderr
    text = report.read_text()
    assert text.startswith("# Fault analysis report: hostile") and "## Probable cause" in text
    assert "<html" not in text


def _run_doc(summary: str, evidence: dict[str, object], kind: str = "check") -> dict[str, object]:
    finding = {"check": "network.dns_resolve", "target": "web01", "status": "fail", "severity": "high",
               "category": "network", "summary": summary, "evidence": evidence, "remediation": "fix dns",
               "step": "dns", "subject": None}
    step = {"step": "dns", "kind": kind, "status": "fail", "title": "DNS", "findings": [finding], "outputs": {},
            "children": [], "error": None, "duration_s": 0.2, "attempts": 1}
    return {"run_id": "r1", "playbook": "triage", "source": "builtin", "targets": [{"name": "web01"}],
            "inputs": {}, "started": "2026-12-01T10:00:00", "status": "fail",
            "summary": {"counts": {"fail": 1}, "probable_cause": finding, "next_steps": ["network.dns_resolve: fix"]},
            "findings": [finding], "steps": {"web01": [step]}}


def test_case_report_renders_people_s_markdown_but_never_their_html_and_every_case_section() -> None:
    case = {"id": "C-7", "title": "DNS <b>down</b>", "state": "closed", "category": "network", "priority": "urgent",
            "description": "Users **cannot** resolve names. <script>alert(1)</script> [x](javascript:alert(1))",
            "events": [{"at": "2026-12-01T10:00", "kind": "opened", "actor": "ann", "text": HOSTILE}],
            "actions": [{"at": "10:05", "what": "restart <i>resolved</i>", "backup": "b-1", "rollback": "none"}],
            "sla": [{"clock": "response", "budget": "1h", "used": "20m", "met": True},
                    {"clock": "resolution", "budget": "4h", "used": "5h", "met": False}],
            "satisfaction": {"score": 4, "comment": "<img src=x onerror=alert(1)>"},
            "resolution": "Set the VPN's DNS server."}
    runs = [_run_doc(HOSTILE, {"stdout": HOSTILE}), _run_doc("verify", {}, kind="verify")]
    model = far.build(runs, case, [{"id": 3, "title": "DNS after VPN <u>x</u>"}])
    page = render.to_html(model)
    tags = Tags(page)
    assert tags.inert()
    assert "<strong>cannot</strong>" in page  # the case's description is Markdown
    text = "".join(tags.text)
    for words in ("Timeline", "SLA compliance", "breached", "Satisfaction", "Resolution", "Verification",
                  "KB-3 DNS after VPN <u>x</u>", "restart <i>resolved</i>", "<script>alert(1)</script>"):
        assert words in text, words
    md = render.to_markdown(model)
    assert "## Timeline" in md and "## SLA compliance" in md and "| resolution | 4h | 5h | breached |" in md
    assert "<script>" not in md.split("## Timeline", 1)[1]  # collected text is escaped in Markdown tables too
