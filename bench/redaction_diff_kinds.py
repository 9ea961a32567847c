"""Which changes a scrubber fix made, line by line: redaction_diff.py's inputs, each changed line put in a kind.

Usage:
    .venv/bin/python bench/redaction_diff_kinds.py --base /tmp/redbase/src/agent \
        --kind 'client=mongo|redis-cli' --kind 'json key="\\[REDACTED:\\w+#\\d+\\]"\\s*:' [--generated 30000]

For every input whose outcome differs from the reference (see redaction_diff.py), the scrubbed text is compared
line by line. A changed line whose only difference is the numbers of its labels is "renumbered" (an earlier value
on that input changed); otherwise its kind is the first --kind whose regular expression is found in
``main's line + "\\n" + this tree's line`` (an argv list: its JSON, then both outcomes), else "other", printed
in full. Inputs whose scrubbed text is the same but whose scan hits or counts differ are printed too.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import redaction_diff as rd  # bench/ is not a package: found through sys.path

_LABEL = re.compile(r"#\d+\]")


def changed_lines(name: str, text: str | list[object], expected: tuple[object, ...],
                  got: tuple[object, ...]) -> list[str]:
    """'main's line\\nthis tree's line' for each changed line ('' for a renumbered one)."""
    if isinstance(text, list):
        return [f"{json.dumps(text)}\n{expected[0]}\n{got[0]}"] if expected[0] != got[0] else []
    before, after = str(expected[0]).split("\n"), str(got[0]).split("\n")
    if len(before) != len(after):
        return [f"{name}: line count {len(before)} -> {len(after)}\n{expected[0]!r}\n{got[0]!r}"]
    return ["" if _LABEL.sub("]", a) == _LABEL.sub("]", b) else f"{a}\n{b}"
            for a, b in zip(before, after, strict=True) if a != b]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the reference copy's agent folder")
    parser.add_argument("--tree", type=Path)
    parser.add_argument("--generated", type=int, default=30_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/redaction-diff"))
    parser.add_argument("--kind", action="append", default=[], metavar="LABEL=REGEX")
    args = parser.parse_args()
    kinds = [(label, re.compile(pattern)) for label, pattern in (k.split("=", 1) for k in args.kind)]
    base = rd._load_base(args.base, args.work)
    current = importlib.import_module("medic.agent.redact")
    lines, inputs, count, differing = Counter[str](), Counter[str](), 0, 0
    for name, text in rd.inputs(args.tree, args.generated):
        count += 1
        expected, got = rd.outcome(base, name, text), rd.outcome(current, name, text)
        if expected == got:
            continue
        differing += 1
        found = changed_lines(name, text, expected, got)
        if not found:
            print(f"SAME TEXT, OTHER OUTCOME: {name}\n  base: {str(expected[1:])[:600]}\n  now:  {str(got[1:])[:600]}")
            inputs["same text"] += 1
        seen = set()
        for pair in found:
            kind = "renumbered" if not pair else next((k for k, p in kinds if p.search(pair)), "other")
            lines[kind] += 1
            seen.add(kind)
            if kind == "other":
                print(f"OTHER in {name or '(no path)'}:\n  base: {pair.split(chr(10))[-2][:400]!r}\n"
                      f"  now:  {pair.split(chr(10))[-1][:400]!r}")
        for kind in seen:
            inputs[kind] += 1
    print(f"{count} inputs, {differing} different")
    for kind in [*(k for k, _ in kinds), "renumbered", "other", "same text"]:
        print(f"| {kind} | {lines[kind]} lines | {inputs[kind]} inputs |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
