"""Where scrub and leak scan spend their time: CPU seconds of each phase on a tree, best of --rounds.

Usage: .venv/bin/python bench/redaction_phases.py --tree /tmp/medic-redaction-bench/tree [--rounds 3]

The tree is bench/redaction_bench.py's (its --workdir/tree). Phases: the scrubber's vendor-token pass, its line
marks, its per-line rules (the two before subtracted from ``_by_line``), the whole scrubber; the leak scan's
anchored checks, its token runs, the whole scan. Also how many lines were marked and how many changed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from medic.agent import leakfind, leakruns
from medic.agent.redact import scan_text, tokens
from medic.agent.redact.linemarks import hit_lines
from medic.agent.redact.text import TextScrubber


def _best(rounds: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = [(str(p), p.read_bytes().decode("utf-8", "surrogateescape")) for p in sorted(args.tree.rglob("*"))
             if p.is_file() and p.name != ".complete"]
    marked = changed = lines = 0
    for _, text in texts:
        lines += text.count("\n") + 1
        for start in hit_lines(text, text.lower(), True):
            end = text.find("\n", start)
            line = text[start: len(text) if end < 0 else end]
            marked += 1
            changed += TextScrubber().scrub(line) != line
    size = sum(len(t.encode("utf-8", "surrogateescape")) for _, t in texts) / 1e6
    found = {
        "scrubber: vendor tokens (tokens.find)": _best(args.rounds, lambda: [list(tokens.find(t)) for _, t in texts]),
        "scrubber: line marks (hit_lines)": _best(
            args.rounds, lambda: [hit_lines(t, t.lower(), True) for _, t in texts]),
        "scrubber: marks + marked lines (_by_line)": _best(
            args.rounds, lambda: [TextScrubber()._by_line(t, True) for _, t in texts]),
        "scrubber total": _best(args.rounds, lambda: [TextScrubber().scrub(t, n) for n, t in texts]),
        "leak scan: anchors (leakfind.anchored)": _best(
            args.rounds, lambda: [list(leakfind.anchored(t, t.lower())) for _, t in texts]),
        "leak scan: token runs (leakruns.runs)": _best(args.rounds, lambda: [list(leakruns.runs(t)) for _, t in texts]),
        "leak scan total": _best(args.rounds, lambda: [scan_text(t, n) for n, t in texts]),
    }
    print(f"{size:.1f} MB, {lines} lines, {marked} marked for the per-line rules, {changed} of them changed "
          f"(each scrubbed alone), load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"| part | CPU s (best of {args.rounds}) |\n|---|---|")
    for label, seconds in found.items():
        print(f"| {label} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
