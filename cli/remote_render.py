"""Terminal output of a run done by the server: the same table, counts, probable cause and next steps as
:func:`medic.cli.render.print_run`, from the rows of the ``medic-findings`` artifact and the report's Markdown."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from medic.cli.render import STYLE
from medic.kernel.models import Status

RANK = ("fail", "error", "warn")


def print_remote(console: Console, flow_run: dict[str, Any], playbook: str, rows: list[dict[str, str]],
                 report: str, followed_s: float) -> None:
    state = flow_run.get("state") or {}
    table = Table(title=f"{playbook}: {worst(rows)} (server run {flow_run.get('name')}, "
                        f"{state.get('name') or state.get('type')}, followed {followed_s:.1f} s)",
                  show_lines=False, expand=False)
    for column in ("Status", "Check", "Target", "Summary"):
        table.add_column(column, overflow="fold" if column == "Summary" else "ellipsis")
    for r in rows:
        table.add_row(Text(r["status"], style=_style(r["status"])), r["check"], r["target"], r["summary"])
    console.print(table)
    console.print(counts_line(rows), highlight=False)
    down = sorted({r["target"] for r in rows if r["check"] == "target.reachable" and r["status"] == "error"})
    if down:
        console.print(Text.assemble(("Unreachable: ", "bold magenta"), ", ".join(down)))
    cause = next((r for status in RANK for r in rows if r["status"] == status), None)
    if cause:
        console.print(Text.assemble(("Probable cause: ", "bold"), f"{cause['check']} on {cause['target']}: ",
                                    (cause["summary"], _style(cause["status"]))))
    elif any(r["status"] in ("pass", "warn", "fail") for r in rows):
        console.print(Text("No problem found: every check passed.", style="green"))
    steps = next_steps(report)
    if steps:
        console.print(Text("Next steps:", style="bold"))
        for s in steps:
            console.print(f"  {s}", highlight=False)


def _style(status: str) -> str:
    try:
        return STYLE.get(Status(status), "")
    except ValueError:
        return ""


def worst(rows: list[dict[str, str]]) -> str:
    for status in ("fail", "error", "warn", "pass"):
        if any(r["status"] == status for r in rows):
            return status
    return "skipped"


def counts_line(rows: list[dict[str, str]]) -> str:
    c = {s: sum(1 for r in rows if r["status"] == s) for s in ("fail", "warn", "error", "pass", "skipped")}
    line = f"{c['fail']} fail, {c['warn']} warn, {c['error']} error, {c['pass']} pass, {c['skipped']} skipped"
    if c["fail"] + c["warn"] + c["pass"]:
        return line
    why = f"{c['error']} error(s), no check gave a result" if c["error"] else "no check ran"
    return f"{line}: nothing was checked ({why})"


def next_steps(report: str) -> list[str]:
    """The numbered items under the report's "Recommended next steps" heading."""
    lines = report.splitlines()
    try:
        start = lines.index("## Recommended next steps")
    except ValueError:
        return []
    out = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line[:1].isdigit() and ". " in line:
            out.append(line)
    return out
