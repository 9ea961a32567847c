"""Shared by the kb tests: the real ``medic`` command, hostile evidence and an HTML inspector."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">**bold**"


def medic(*args: str, env: dict[str, str] | None = None, stdin: str | None = None
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          timeout=120, input=stdin,
                          env={**os.environ, "MEDIC_ENGINE": "inline", "COLUMNS": "200", **(env or {})})


def hostile_book(tmp_path: Path) -> str:
    """A playbook whose failing check carries hostile markup in its summary and evidence (a program's output)."""
    path = tmp_path / "hostile.yaml"
    script = f"printf '%s' '{HOSTILE}'; exit 3"
    path.write_text(textwrap.dedent(f"""
        name: hostile
        steps:
          - id: evil
            check: change.command_succeeds
            with: {{argv: [sh, -c, "{script.replace('"', chr(92) + '"')}"]}}
    """))
    return str(path)


class Tags(HTMLParser):
    """Every start tag and its attributes, and the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def inert(self) -> bool:
        """No script element, no event-handler attribute, no javascript: URL."""
        return all(tag != "script" and not any(name.startswith("on") or "javascript:" in (value or "").lower()
                                               for name, value in attrs) for tag, attrs in self.tags)
