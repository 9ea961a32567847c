"""XML elements whose attribute names the secret they hold: ``<property name="db.password">x</property>``.

Hibernate, Spring, JBoss/WildFly, Ant and Maven write settings as elements with a ``name`` (or ``key``) attribute
and the value as the element's text. The element's own name says nothing, so the key rules cannot see it.
"""

from __future__ import annotations

import re

from medic.agent.redact.keys import keep_value, sensitive_key

Cell = tuple[int, int, str]  # start, end (offsets in the text), rule
_NAMED = re.compile(
    r"<(?P<tag>[\w:.-]{1,40})[ \t][^<>\n]*?\b(?:name|key|id)=(?P<q>[\"'])(?P<key>[^\"'\n<>]{1,100})(?P=q)[^<>\n]*>"
    r"[ \t]*(?P<val>[^<\n]*?)[ \t]*</(?P=tag)>")


def named_values(text: str) -> list[Cell]:
    """Where the values of elements named by a secret key are (their text, blanks around it left out)."""
    if "</" not in text or not ("name=" in text or "key=" in text or "id=" in text):
        return []
    cells = []
    for match in _NAMED.finditer(text):
        rule = sensitive_key(match.group("key"))
        value = match.group("val")
        if rule and value and not keep_value(value, match.group("key")) and "[REDACTED" not in value:
            cells.append((match.start("val"), match.end("val"), rule))
    return cells
