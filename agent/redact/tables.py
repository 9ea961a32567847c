"""Tables whose header names a secret column: the cells below it are secrets, whatever they look like.

Inventories and hand-over notes keep credentials in tables: a Markdown (pipe) table ``| host | user | password |``
and its delimiter row, or a CSV/TSV file whose first line is a header (``host,user,password``). No key stands
beside such a value, so the key rules cannot see it. The header's names are judged by ``sensitive_key`` like any
key; a cell whose value is kept under a key (``${VAR}``, ``****``, a boolean, empty) is kept here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from medic.agent.redact.keys import keep_value, sensitive_key

Cell = tuple[int, int, str]  # start, end (offsets in the text), rule
_DELIMITER_ROW = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*\r?$", re.MULTILINE)
_CSV_SUFFIXES = (".csv", ".tsv", ".psv")
_CSV_FIELD = {sep: re.compile(rf'[ \t]*(?:"(?:[^"]|"")*"|[^{sep}"\n]*)') for sep in (",", ";", "\t", "|")}
_HEADER_NAME = re.compile(r"[A-Za-z][\w .-]{0,40}")


def secret_cells(text: str, path: str = "") -> list[Cell]:
    """Where the secret cells of ``text``'s tables are (Markdown tables anywhere, CSV when ``path`` says so)."""
    cells: list[Cell] = []
    if "---" in text and "|" in text:
        cells.extend(_markdown(text))
    if path.lower().endswith(_CSV_SUFFIXES):
        cells.extend(_csv(text))
    return cells


def _lines(text: str, start: int) -> Iterator[tuple[int, str]]:
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        yield start, text[start:end].rstrip("\r")
        start = end + 1


def _columns(names: list[str]) -> dict[int, tuple[str, str]]:
    """Column index -> (rule, header name), for the header names that name a secret."""
    rules = {}
    for i, name in enumerate(names):
        name = name.strip().strip("\"'*`")
        if _HEADER_NAME.fullmatch(name) and (rule := sensitive_key(name)):
            rules[i] = (rule, name)
    return rules


def _pipe_cells(line: str, offset: int) -> list[tuple[int, int]]:
    """(start, end) of each cell's content in a ``| a | b |`` row, blanks trimmed."""
    body_start = line.index("|") + 1 if line.lstrip().startswith("|") else 0
    spans, pos = [], body_start
    while pos <= len(line):
        bar = line.find("|", pos)
        end = len(line) if bar < 0 else bar
        raw = line[pos:end]
        if bar < 0 and not raw.strip():
            break
        lead = len(raw) - len(raw.lstrip())
        spans.append((offset + pos + lead, offset + pos + len(raw.rstrip())))
        if bar < 0:
            break
        pos = bar + 1
    return spans


def _markdown(text: str) -> Iterator[Cell]:
    for delimiter in _DELIMITER_ROW.finditer(text):
        head_end = delimiter.start() - 1
        head_start = text.rfind("\n", 0, max(head_end, 0)) + 1
        if head_end <= head_start:
            continue
        header = text[head_start:head_end].rstrip("\r")
        if "|" not in header:
            continue
        rules = _columns([text[a:b] for a, b in _pipe_cells(header, head_start)])
        if not rules:
            continue
        for start, line in _lines(text, delimiter.end() + 1):
            if "|" not in line or not line.strip():
                break
            yield from _secret(text, _pipe_cells(line, start), rules)


def _csv(text: str) -> Iterator[Cell]:
    lines = _lines(text, 0)
    header = next(((s, line) for s, line in lines if line.strip()), None)
    if header is None:
        return
    sep = max(_CSV_FIELD, key=header[1].count)
    if not header[1].count(sep):
        return
    rules = _columns(list(_fields(header[1], sep, 0)))
    if not rules:
        return
    for start, line in lines:
        yield from _secret(text, [(a, b) for a, b in _spans(line, sep, start)], rules)


def _fields(line: str, sep: str, offset: int) -> Iterator[str]:
    for a, b in _spans(line, sep, offset):
        yield line[a - offset:b - offset]


def _spans(line: str, sep: str, offset: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each CSV field's value: quotes and blanks around it left out."""
    pos, pattern = 0, _CSV_FIELD[sep]
    while pos <= len(line):
        match = pattern.match(line, pos)
        end = match.end() if match else pos
        a, b = pos, end
        while a < b and line[a] in " \t":
            a += 1
        while b > a and line[b - 1] in " \t":
            b -= 1
        if b - a >= 2 and line[a] == '"' and line[b - 1] == '"':
            a, b = a + 1, b - 1
        yield offset + a, offset + b
        if end >= len(line) or line[end] != sep:
            break
        pos = end + 1


def _secret(text: str, spans: list[tuple[int, int]], rules: dict[int, tuple[str, str]]) -> Iterator[Cell]:
    for i, (rule, name) in rules.items():
        if i < len(spans):
            start, end = spans[i]
            value = text[start:end]
            # judged under its header's name (a "Key" column needs a random-looking value); several words are
            # a description (a documentation table's "Secret" column), not a secret
            if (value and not any(c.isspace() for c in value) and not keep_value(value, name)
                    and "[REDACTED" not in value):
                yield start, end, rule
