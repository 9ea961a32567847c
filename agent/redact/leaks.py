"""An independent leak scanner for finished bundles: different code and detectors from the scrubber.

The detectors are in :mod:`medic.agent.leakfind` (anchored checks and token runs), :mod:`medic.agent.leaktokens`
(vendor formats) and :mod:`medic.agent.leakkeys` (which keys and values are secret); none of them imports
the scrubber's rules. A hit names the member, the rule, the line and shows the line with every flagged
value masked; it carries hashes of the line and of the values (for a baseline of reviewed findings), never
a value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from medic.agent.leakfind import Finding, anchored
from medic.agent.leakruns import runs
from medic.agent.leakservice import service_file

_EXCERPT = 120


@dataclass(frozen=True)
class LeakHit:
    member: str
    rule: str
    line: int
    kind: str = field(default="", compare=False)  # the detector: a vendor format, "key", "pem", "url"...
    excerpt: str = field(default="", compare=False, repr=False)  # the line, every flagged value masked
    line_hash: str = field(default="", compare=False, repr=False)
    value_hashes: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __str__(self) -> str:
        kind = f" ({self.kind})" if self.kind and self.kind != self.rule else ""
        shown = f": {self.excerpt}" if self.excerpt else ""
        return f"{self.member}:{self.line}: {self.rule}{kind}{shown}"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def scan_text(text: str, member: str = "") -> list[LeakHit]:
    """Every suspected secret in ``text``, one hit per rule and line, without the values."""
    findings = sorted(set(anchored(text)) | set(runs(text)) | set(service_file(text, member)))
    if not findings:
        return []
    blocks = [(a, b) for a, b, rule, _ in findings if rule == "private_key"]
    if blocks:  # the body lines of a private key are that one finding, not random strings each
        findings = [f for f in findings if f[2] != "high_entropy" or not any(a <= f[0] < b for a, b in blocks)]
    lines = _Lines(text)
    by_line: dict[int, list[Finding]] = {}
    for finding in findings:
        by_line.setdefault(lines.number(finding[0]), []).append(finding)
    hits = []
    for number, found in sorted(by_line.items()):
        if any(f[2] != "high_entropy" for f in found):  # a random string beside a known secret adds nothing
            found = [f for f in found if f[2] != "high_entropy"]
        hits.extend(_hits(member, number, lines, found))
    return hits


def _hits(member: str, number: int, lines: _Lines, found: list[Finding]) -> list[LeakHit]:
    start = lines.text.rfind("\n", 0, found[0][0]) + 1
    end = lines.text.find("\n", found[0][0])
    end = len(lines.text) if end < 0 else end
    line = lines.text[start:end]
    excerpt = _masked(line, [(max(a, start) - start, min(b, end) - start) for a, b, _, _ in found])
    rules: dict[str, list[Finding]] = {}
    for finding in found:
        rules.setdefault(finding[2], []).append(finding)
    return [LeakHit(member, rule, number, kind=items[0][3], excerpt=excerpt, line_hash=digest(line.strip()),
                    value_hashes=tuple(sorted({digest(lines.text[a:b]) for a, b, _, _ in items})))
            for rule, items in sorted(rules.items())]


def _masked(line: str, spans: list[tuple[int, int]]) -> str:
    """The line with each flagged value replaced by ``***``, cut to about 120 characters around the first."""
    out, last = [], 0
    for a, b in sorted(spans):
        if a < last:
            a = last
        if b > a:
            out.append(line[last:a] + "***")
            last = b
    out.append(line[last:])
    masked = "".join(out).strip()
    first = masked.find("***")
    begin = max(0, first - _EXCERPT // 2) if len(masked) > _EXCERPT else 0
    cut = masked[begin:begin + _EXCERPT]
    return ("..." if begin else "") + cut + ("..." if begin + _EXCERPT < len(masked) else "")


class _Lines:
    """Line numbers of offsets, counted forward only once (findings come sorted)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._pos, self._line = 0, 1

    def number(self, pos: int) -> int:
        if pos < self._pos:
            self._pos, self._line = 0, 1
        self._line += self.text.count("\n", self._pos, pos)
        self._pos = pos
        return self._line


def scan_members(members: Iterable[tuple[str, str | bytes]]) -> list[LeakHit]:
    """Scan (name, content) pairs; bytes are read as UTF-8 with undecodable bytes replaced."""
    hits: list[LeakHit] = []
    for name, content in members:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        hits.extend(scan_text(text, name))
    return hits
