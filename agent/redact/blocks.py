"""Values written on the lines after their key: what the line-local key rules cannot see.

- an XML element whose text stands on its own line: ``<apiToken>`` / ``  v`` / ``</apiToken>``;
- a key whose value is empty on its line and goes on below it, more indented: YAML list items
  (``passwords:`` / ``  - v``), a JSON array (``"passwords": [`` / ``  "v",``), an INI continuation
  (``secret =`` / ``    v``), Travis CI's encrypted value (``password:`` / ``  secure: v``).

The key is judged by :func:`~medic.agent.redact.keys.sensitive_key`, each value by ``keep_value``; a list of
mappings (``- name: x``) and ``secrets:`` (compose files and workflows list secrets by name there) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import repeat

from medic.agent.redact.keys import TAG, keep_value, sensitive_key

XML_LINES = re.compile(
    r"<(?P<key>[\w:.-]{1,100})(?:[ \t][^<>\n]*)?>[ \t]*\r?\n[ \t]*(?P<val>[^<\s][^<\n]*?)[ \t]*\r?\n[ \t]*</(?P=key)>")
_HEAD_AT = re.compile(  # (matched at a line's start)
    r"(?P<indent>[ \t]*)(?:-[ \t]+)?(?P<q>[\"']?)(?P<key>\w[\w.-]{0,80})(?P=q)[ \t]*(?P<sep>[:=])[ \t]*"
    r"(?P<open>\[?)[ \t]*\r?$", re.M)
_ENDS = (":\n", "=\n", "[\n", ":\r\n", "=\r\n", "[\r\n", ": \n", "= \n", "[ \n")
MARKS = ("</", *_ENDS)  # what nested() looks for first (keyspots' compiled prescan finds them with the rest)
_ITEM = re.compile(  # a list item, a JSON array's string, `secure: v`, or (after `key =`) a bare continuation
    r"[ \t]*(?:-[ \t]+(?![^\n]*:[ \t])(?P<q1>[\"']?)(?P<item>[^\s\"'#][^\"'\n]*?)(?P=q1)"
    r"|(?P<q2>[\"'])(?P<string>[^\"'\n]+)(?P=q2)[ \t]*,?"
    r"|secure:[ \t]+(?P<q3>[\"']?)(?P<secure>[^\s\"'][^\"'\n]*?)(?P=q3)"
    r"|(?P<bare>[^\s\"'#;\[\]{}=:-][^\s=:]*))[ \t]*\r?$")
_NAMES_ONLY = frozenset({"secrets"})
# a Kubernetes Secret (kind before or after its data): every value under data:/stringData:, whatever its key
_KIND_SECRET = re.compile(r"^kind:[ \t]*[\"']?Secret[\"']?[ \t]*\r?$", re.M)
_BLOCK = re.compile(r"[|>][-+0-9]*")
_DOCUMENTS = re.compile(r"^---[^\n]*\n", re.M)
_DATA = re.compile(r"^(?:data|stringData):[ \t]*\r?$", re.M)
_ENTRY = re.compile(r"(?P<indent>[ \t]+)[\"']?(?P<key>[\w.-]{1,253})[\"']?:[ \t]+"
                    r"(?P<q>[\"']?)(?P<val>[^\s\"'#][^\"'\n]*?)(?P=q)[ \t]*\r?")


def nested(text: str, tag: Callable[[str, str], str], marks: frozenset[str] | None = None) -> str:
    """``text`` with the values of these forms under a secret key replaced by ``tag(rule, value)`` (the same
    object when nothing changed); ``marks``: which of ``MARKS`` the text holds, if a compiled scan found them."""
    if "</" in (text if marks is None else marks):
        text = XML_LINES.sub(lambda m: _one(m, tag), text)
    if "Secret" in text and "ata:" in text and _KIND_SECRET.search(text):
        text = _kube_secrets(text, tag)
    return _nested_lines(text, tag) if marks is None or not marks.isdisjoint(_ENDS) else text


def _kube_secrets(text: str, tag: Callable[[str, str], str]) -> str:
    """The values under ``data:`` and ``stringData:`` of each YAML document that is a ``kind: Secret``."""
    out, pos = [], 0
    for part in [*_DOCUMENTS.finditer(text), None]:
        end = part.start() if part is not None else len(text)
        document = text[pos:end]
        out.append(_kube_secret(document, tag) if _KIND_SECRET.search(document) else document)
        if part is not None:
            out.append(part.group(0))
            pos = part.end()
    joined = "".join(out)
    return text if joined == text else joined


def _kube_secret(document: str, tag: Callable[[str, str], str]) -> str:
    lines = document.split("\n")
    inside, block = False, -1  # under data:; the indent of a block scalar's key (its lines are deeper)
    for i, line in enumerate(lines):
        body = line.lstrip(" \t")
        if block >= 0 and (not body.strip() or len(line) - len(body) > block):
            if body.strip() and not TAG.fullmatch(body.rstrip()):
                lines[i] = line[:len(line) - len(body)] + tag("secret", body.rstrip("\r"))
            continue
        block = -1
        if _DATA.fullmatch(line):
            inside = True
            continue
        entry = _ENTRY.fullmatch(line) if inside else None
        if entry is None:
            inside = inside and not (line.strip() and not line[:1].isspace())
            continue
        value = entry.group("val")
        if _BLOCK.fullmatch(value):
            block = len(entry.group("indent"))
        elif not (TAG.search(value) or keep_value(value)):
            start, end = entry.span("val")
            lines[i] = line[:start] + tag(sensitive_key(entry.group("key")) or "secret", value) + line[end:]
    return "\n".join(lines)


def _one(match: re.Match[str], tag: Callable[[str, str], str]) -> str:
    key, value = match.group("key").rsplit(":", 1)[-1], match.group("val")
    rule = sensitive_key(key)
    if rule is None or keep_value(value, key) or TAG.search(value):
        return match.group(0)
    start, end = match.start("val") - match.start(), match.end("val") - match.start()
    return match.group(0)[:start] + tag(rule, value) + match.group(0)[end:]


def _values(lines: list[str], first: int, indent: int, key: str, bare: bool,
            tag: Callable[[str, str], str]) -> int:
    """Replace the values on ``lines[first:]`` more indented than ``indent`` (YAML list items also as indented);
    how many were replaced."""
    rule, changed = sensitive_key(key), 0
    for i in range(first, len(lines)):
        line = lines[i]
        body = line.lstrip(" \t")
        deeper = len(line) - len(body) > indent
        if not body.strip() or body.startswith("]") or not (deeper or (not bare and body.startswith("- "))):
            break
        item = _ITEM.fullmatch(line)
        group = None if item is None else next(
            (g for g in ("item", "string", "secure", "bare") if item.group(g) is not None), None)
        if item is None or group is None or (group == "bare" and not bare) or rule is None:
            break
        value = item.group(group)
        if not (keep_value(value, key) or TAG.search(value)):
            start, end = item.span(group)
            lines[i], changed = line[:start] + tag(rule, value) + line[end:], changed + 1
    return changed


def _ends(text: str) -> list[int]:
    """The starts of the lines that end with ``:``, ``=`` or ``[`` (str.find: far faster than a search for them)."""
    starts = set()
    for mark in _ENDS:
        i = text.find(mark)
        while i >= 0:
            starts.add(text.rfind("\n", 0, i) + 1)
            i = text.find(mark, i + 1)
    return sorted(starts)


def _nested_lines(text: str, tag: Callable[[str, str], str]) -> str:
    """The value blocks below a secret key's empty value (list items, array strings, continuations)."""
    heads = [m for m in map(_HEAD_AT.match, repeat(text), _ends(text)) if m is not None
             and m.group("key").lower() not in _NAMES_ONLY and sensitive_key(m.group("key")) is not None]
    if not heads:
        return text
    lines = text.split("\n")
    changed, line, pos = 0, 0, 0
    for head in heads:  # (in text order: the line after each head counted on from the previous one)
        line, pos = line + text.count("\n", pos, head.end()), head.end()
        bare = head.group("sep") == "=" and not head.group("open")  # (in a list, `u'x',` is code, not a value)
        changed += _values(lines, line + 1, len(head.group("indent")), head.group("key"), bare, tag)
    return "\n".join(lines) if changed else text
