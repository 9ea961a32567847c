"""Render the report model (far.build) as Markdown or as one self-contained HTML page.

HTML: Jinja2 with autoescape on, so every collected text (summaries, evidence, errors) is escaped; free text that
people wrote (a case's description and resolution, a knowledge-base article's fix) goes through markdown-it-py with
raw HTML disabled (and its own link check, which refuses ``javascript:`` URLs). The page carries a Content Security
Policy that allows no script at all, so even a rendering bug could not run one.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

# no script, no remote fetch: the report is a document
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@functools.cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str) -> Markup:
    """People's Markdown as HTML; raw HTML in it is shown as text."""
    return Markup(_markdown().render(text or ""))  # noqa: S704 - markdown-it escapes, html is off


def md_cell(value: Any) -> str:
    """A value in a Markdown table cell or line: no pipe, no line break, no raw HTML."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def shown(value: Any, limit: int = 2000) -> str:
    """Evidence as text: strings as they are, the rest as JSON, cut at ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False, indent=1)
    return text if len(text) <= limit else text[:limit] + f" … ({len(text) - limit} more characters)"


@functools.cache
def environment() -> jinja2.Environment:
    """HTML templates (``*.html.j2``) autoescape; the Markdown one escapes each value with the ``cell`` filter."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("medic.plugins.reports", "templates"),
                             autoescape=jinja2.select_autoescape(["html.j2"], default_for_string=True),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(markdown=markdown_html, cell=md_cell, shown=shown)
    env.globals["csp"] = CSP
    return env


def to_html(model: dict[str, Any], template: str = "far.html.j2") -> str:
    return environment().get_template(template).render(far=model)


def to_markdown(model: dict[str, Any]) -> str:
    return environment().get_template("far.md.j2").render(far=model)
