"""medic's redaction against an independent corpus: fixture files with ground-truth secret spans.

Usage:
    .venv/bin/python bench/redaction_external.py --corpus /work/extcorpus [--json FILE] [--show N]

The corpus is a folder of JSON files in the fixture schema of redact-secret/redact-secret-benchmarks (one
suite per file): ``{"fixtures": [{"id", "group", "path", "content", "expected": [{"start", "end"}]}]}``,
offsets in UTF-8 bytes. A fixture with spans is *must-redact* (each span a secret), one without is
*must-not-flag* (a negative control). Nothing of the corpus is kept in this repository: fetch it yourself.

Each fixture is scrubbed as the agent's bundle pipeline does, ``Scrubber().scrub_text(content, path=...)``
with the fixture's own file name (one Scrubber per fixture, as one per bundle), and scanned by the leak scan
alone (``scan_text`` on the raw content, scrubber off). Per suite and per group it reports:

- must-redact spans: removed whole / partly left (a 4-character piece of the secret still in the output, beyond
  what the text around the secrets holds) / missed (the whole value still there); recall = whole / all;
- must-not-flag fixtures: changed or not (over-redaction), with the changed lines (--show);
- the leak scan alone: must-redact spans on a flagged line / all, and the negative fixtures it flags.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from medic.agent.redact import Scrubber, scan_text

_TAG = re.compile(r"\[REDACTED:[\w.-]+#\d+\]")
_PIECE = 4
_ROOT_DIR = "/srv/fixtures"  # fixture paths are relative: the agent always has an absolute source path


def _spans(fixture: dict[str, Any]) -> list[str]:
    data = fixture["content"].encode("utf-8")
    return [data[s["start"]:s["end"]].decode("utf-8") for s in fixture["expected"]]


def _outside(fixture: dict[str, Any]) -> str:
    """The content with every expected span cut out (what may legitimately stay)."""
    data, out, last = fixture["content"].encode("utf-8"), [], 0
    for s in sorted(fixture["expected"], key=lambda s: s["start"]):
        out.append(data[last:s["start"]])
        last = max(last, s["end"])
    out.append(data[last:])
    return "\x00".join(part.decode("utf-8", "replace") for part in out)


def _verdicts(secrets: list[str], outside: str, scrubbed: str) -> list[str]:
    """whole / partial / missed per span (spans of the same value share the count of what is left)."""
    left = _TAG.sub("\x00", scrubbed)
    verdicts, seen = [], Counter[str]()
    for value in secrets:
        seen[value] += 1
        surplus = left.count(value) - outside.count(value)
        if surplus >= seen[value]:
            verdicts.append("missed")
            continue
        pieces = {value[i:i + _PIECE] for i in range(len(value) - _PIECE + 1)} or {value}
        if any(left.count(p) > outside.count(p) for p in pieces if p.strip()):
            verdicts.append("partial")
        else:
            verdicts.append("whole")
    return verdicts


def _line_of(content: str, byte_start: int) -> int:
    return content.encode("utf-8")[:byte_start].count(b"\n") + 1


def _changed_lines(before: str, after: str) -> list[str]:
    old, new = before.splitlines(), after.splitlines()
    changed = [f"{a!r} -> {b!r}" for a, b in zip(old, new, strict=False) if a != b]
    return changed + ([f"(lines {len(old)} -> {len(new)})"] if len(old) != len(new) else [])


def run_fixture(suite: str, fixture: dict[str, Any]) -> dict[str, Any]:
    content, path = fixture["content"], f"{_ROOT_DIR}/{suite}/{fixture['path']}"
    scrubbed = Scrubber().scrub_text(content, path=path)
    flagged = {hit.line for hit in scan_text(content, member=path)}
    secrets = _spans(fixture)
    row: dict[str, Any] = {"suite": suite, "id": fixture["id"], "group": fixture.get("group", ""),
                           "kind": "must-redact" if secrets else "must-not-flag", "changed": scrubbed != content,
                           "scan_lines": sorted(flagged)}
    if secrets:
        row["verdicts"] = _verdicts(secrets, _outside(fixture), scrubbed)
        row["scan_caught"] = [_line_of(content, s["start"]) in flagged for s in fixture["expected"]]
    if row["changed"]:
        row["changed_lines"] = _changed_lines(content, scrubbed)
    return row


def load(corpus: Path) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for file in sorted(corpus.glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8"))
        out += [(file.stem, f) for f in data.get("fixtures", [])]
    return out


def _tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
    verdicts = Counter(v for r in rows for v in r.get("verdicts", []))
    spans = sum(verdicts.values())
    caught = sum(c for r in rows for c in r.get("scan_caught", []))
    negatives = [r for r in rows if r["kind"] == "must-not-flag"]
    return {"spans": spans, "whole": verdicts["whole"], "partial": verdicts["partial"],
            "missed": verdicts["missed"], "recall": verdicts["whole"] / spans if spans else None,
            "negatives": len(negatives), "changed": sum(r["changed"] for r in negatives),
            "scan_caught": caught, "scan_flagged_negatives": sum(bool(r["scan_lines"]) for r in negatives)}


def _fmt(name: str, t: dict[str, Any]) -> str:
    recall = f"{100 * t['recall']:.1f} %" if t["recall"] is not None else "-"
    scan = f"{t['scan_caught']}/{t['spans']}" if t["spans"] else "-"
    return (f"| {name} | {t['spans']} | {t['whole']} | {t['partial']} | {t['missed']} | {recall} "
            f"| {t['changed']}/{t['negatives']} | {scan} | {t['scan_flagged_negatives']}/{t['negatives']} |")


def report(rows: list[dict[str, Any]], show: int) -> str:
    head = ("| suite / group | spans | whole | partial | missed | recall | negatives changed | scan alone: spans "
            "on a flagged line | scan: negatives flagged |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for suite in sorted({r["suite"] for r in rows}):
        mine = [r for r in rows if r["suite"] == suite]
        lines.append(_fmt(f"**{suite}**", _tally(mine)))
        for group in sorted({r["group"] for r in mine}):
            lines.append(_fmt(f"  {group}", _tally([r for r in mine if r["group"] == group])))
    lines.append(_fmt("**all**", _tally(rows)))
    bad = [r for r in rows if set(r.get("verdicts", [])) - {"whole"} or (r["kind"] == "must-not-flag" and r["changed"])]
    if bad and show:
        lines.append(f"\n{len(bad)} fixtures not as expected (first {show}):")
        for r in bad[:show]:
            what = ",".join(r["verdicts"]) if "verdicts" in r else "changed"
            lines.append(f"- {r['suite']}/{r['id']} [{r['kind']}: {what}] " + " | ".join(r.get("changed_lines", [])))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of fixture JSON files")
    parser.add_argument("--json", type=Path, help="write every fixture's result and the totals here")
    parser.add_argument("--show", type=int, default=200, help="list up to N fixtures not as expected")
    args = parser.parse_args(argv)
    rows = [run_fixture(suite, f) for suite, f in load(args.corpus)]
    if not rows:
        parser.error(f"no fixtures under {args.corpus}")
    print(report(rows, args.show))
    if args.json:
        args.json.write_text(json.dumps({"totals": _tally(rows), "fixtures": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
