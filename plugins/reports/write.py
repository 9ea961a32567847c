"""Write a run's or a case's fault analysis report to a file; the suffix chooses the format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medic.core import history, report
from medic.core.engine import RunResult
from medic.plugins.reports import far, render

HTML_SUFFIXES = (".html", ".htm")


def is_html(destination: str) -> bool:
    return Path(destination).suffix.lower() in HTML_SUFFIXES


def articles_markdown(articles: Sequence[Mapping[str, Any]]) -> str:
    lines = ["Knowledge base:", ""] + [f"- KB-{a['id']} {render.md_cell(a['title'])} (`medic kb show {a['id']}`)"
                                       for a in articles]
    return "\n".join(lines)


def run_markdown(run: RunResult, articles: Sequence[Mapping[str, Any]]) -> str:
    """The core's Markdown report, with the knowledge-base articles that match cited under the next steps."""
    text = report.to_markdown(run)
    if not articles:
        return text
    head, sep, tail = text.partition("\n## Timings\n")
    return head.rstrip("\n") + "\n\n" + articles_markdown(articles) + "\n\n" + sep.lstrip("\n") + tail


def run_report(run: RunResult, destination: str,
               articles: Sequence[Mapping[str, Any]] | None = None) -> str:
    if is_html(destination):
        return render.to_html(far.build([report.to_json(run)], None, articles))
    return run_markdown(run, list(articles or []))


def case_report(runs: Sequence[Mapping[str, Any]], case: Mapping[str, Any], destination: str,
                articles: Sequence[Mapping[str, Any]] | None = None) -> str:
    model = far.build(runs, case, articles)
    return render.to_html(model) if is_html(destination) else render.to_markdown(model)


def write_run_report(run: RunResult, destination: str, state: Path,
                     articles: Sequence[Mapping[str, Any]] | None = None) -> str:
    """Write the run's report; say where it went, or why not and where the run is kept."""
    if not articles and not is_html(destination):
        return history.write_report(run, destination, state)  # the core's Markdown report as it is
    try:
        Path(destination).expanduser().write_text(run_report(run, destination, articles), encoding="utf-8")
    except OSError as exc:
        return f"medic: warning: could not write the report {destination}: {exc}; the run is kept in " \
               f"{history.runs_dir(state) / (run.run_id + '.json')}"
    return f"report written to {destination}"
