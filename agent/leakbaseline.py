"""Reviewed leak-scan findings a user lets pass, without turning the scan off (the detect-secrets baseline).

A baseline is a JSON file written from a blocked bundle's findings (``medic-agent leaks baseline
BUNDLE.blocked -o FILE``), read by ``medic-agent collect --leak-baseline FILE``. A finding passes when a
baseline entry has its rule and either the hash of its line or the hashes of all the values it flagged:
the same false positive passes again after its line moved, the same line with a new value does not.
Entries hold hashes (SHA-256) and the masked excerpt, never a value; keep the file on the machine anyway.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from medic.agent.redact.leaks import LeakHit
from medic.kernel.errors import UsageError

FORMAT = "medic-leak-baseline"
VERSION = 1


@dataclass(frozen=True)
class Baseline:
    lines: frozenset[tuple[str, str]]  # (rule, line hash)
    values: frozenset[tuple[str, str]]  # (rule, value hash)
    source: str = ""

    def allows(self, hit: LeakHit) -> bool:
        if (hit.rule, hit.line_hash) in self.lines:
            return True
        return bool(hit.value_hashes) and all((hit.rule, v) in self.values for v in hit.value_hashes)

    def split(self, hits: Iterable[LeakHit]) -> tuple[list[LeakHit], list[LeakHit]]:
        """(still blocking, passed by this baseline)"""
        blocking: list[LeakHit] = []
        allowed: list[LeakHit] = []
        for hit in hits:
            (allowed if self.allows(hit) else blocking).append(hit)
        return blocking, allowed


def load_baseline(path: str | Path) -> Baseline:
    """Read a baseline; a missing or malformed file is a usage error naming the file and what was expected."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"leak baseline {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"leak baseline {path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise UsageError(f"leak baseline {path}: expected a JSON object with \"format\": \"{FORMAT}\" and "
                         f"\"version\": {VERSION} (write one with `medic-agent leaks baseline BUNDLE -o FILE`)")
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise UsageError(f"leak baseline {path}: \"findings\" must be a list")
    lines: set[tuple[str, str]] = set()
    values: set[tuple[str, str]] = set()
    for number, entry in enumerate(findings, 1):
        rule, line_hash, value_hashes = _entry(path, number, entry)
        lines.add((rule, line_hash))
        values.update((rule, v) for v in value_hashes)
    return Baseline(frozenset(lines), frozenset(values), str(path))


def _entry(path: str | Path, number: int, entry: object) -> tuple[str, str, list[str]]:
    if (not isinstance(entry, dict) or not isinstance(entry.get("rule"), str)
            or not isinstance(entry.get("line_hash"), str)
            or not isinstance(entry.get("value_hashes", []), list)
            or not all(isinstance(v, str) for v in entry.get("value_hashes", []))):
        raise UsageError(f"leak baseline {path}: finding {number} needs \"rule\" and \"line_hash\" strings and "
                         "\"value_hashes\", a list of strings")
    return entry["rule"], entry["line_hash"], list(entry.get("value_hashes", []))


def write_baseline(hits: Iterable[LeakHit], path: str | Path, source: str) -> int:
    """Write every hit as a baseline entry (mode 0600); returns how many. Review the file before using it."""
    findings = [{"rule": h.rule, "kind": h.kind, "member": h.member, "line": h.line, "excerpt": h.excerpt,
                 "line_hash": h.line_hash, "value_hashes": list(h.value_hashes)} for h in hits]
    document = {"format": FORMAT, "version": VERSION, "source": source,
                "note": "findings reviewed as not secret; a finding passes by rule + line hash or value hashes",
                "findings": findings}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=1)
        fh.write("\n")
    return len(findings)
