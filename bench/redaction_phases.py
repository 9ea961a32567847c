"""Where scrub and leak scan spend their time: CPU seconds of each phase on a tree, best of --rounds.

Usage: .venv/bin/python bench/redaction_phases.py --tree /tmp/medic-redaction-bench/tree [--rounds 3]
       .venv/bin/python bench/redaction_phases.py --shapes [--lines 8000]   # each generated line shape alone
       .venv/bin/python bench/redaction_phases.py --tree DIR --floor       # the passes alone, candidates untouched
       MEDIC_REDACT_ENGINE=python .venv/bin/python bench/redaction_phases.py ...   # without the compiled first pass

With --shapes, each of bench/redaction_bench.py's generated line shapes is timed alone (``--lines`` of it, seeded):
scrub and scan in CPU ms per MB (20 MB/s for both is 50 ms/MB), and for a shape holding nothing either layer looks
for, what the whole-text passes alone cost.

The tree is bench/redaction_bench.py's (its --workdir/tree). Phases: the scrubber's vendor-token pass, its line
marks, its per-line rules (the two before subtracted from ``_by_line``), the whole scrubber; the leak scan's
anchored checks, its token runs, the whole scan. Also how many lines were marked and how many changed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from medic.agent import firstpass, leakfind, leakruns
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


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _shape_parts(text: str, rounds: int) -> list[float]:
    folded = text.lower()
    return [_best(rounds, lambda: TextScrubber().scrub(text, "x.log")), _best(rounds, lambda: scan_text(text)),
            _best(rounds, lambda: hit_lines(text, folded, True)),
            _best(rounds, lambda: list(leakfind._ANCHOR.finditer(folded)))]


def shapes(lines: int, rounds: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import redaction_bench  # bench/, beside this file

    rnd = random.Random(20261207)
    print(f"| line shape ({lines} lines) | scrub ms/MB | scan ms/MB | in scrub: hit_lines | in scan: anchor "
          f"regex |\n|---|---|---|---|---|")
    for shape in range(len(redaction_bench._lines(rnd))):
        text = "\n".join(redaction_bench._lines(rnd)[shape] for _ in range(lines)) + "\n"
        size = len(text.encode()) / 1e6
        first = text[:60].replace("|", "\\|")
        print(f"| `{first}` | " + " | ".join(f"{1000 * p / size:.1f}" for p in _shape_parts(text, rounds)) + " |")
    print(f"load average {_load()}")


def floor(texts: list[tuple[str, str]], rounds: int) -> None:
    """The design's floor: every whole-text pass of both layers, each candidate (marked line, token word, anchor,
    token run) visited once and nothing done with it. What is left of 50 ms/MB after this is all the checks' budget."""
    from medic.agent.redact.tokens import _TOKEN_ALPHABET

    def scrub_skeleton() -> int:
        seen = 0
        for _, text in texts:
            marks = hit_lines(text, text.lower(), True)
            for start in marks:
                seen += len(text[start:text.find("\n", start)])
            for start, end in _TOKEN_ALPHABET.runs(text, 16):
                seen += end - start
        return seen

    def scan_skeleton() -> int:
        seen = 0
        for _, text in texts:
            for _, start in leakfind._anchors(text, None):  # (compiled or not, as MEDIC_REDACT_ENGINE says)
                seen += start
            for start, end in leakruns._RUN_ALPHABET.runs(text, 20):
                seen += len(text[start:end])
        return seen

    counts = (sum(len(hit_lines(t, t.lower(), True)) for _, t in texts),
              sum(1 for _, t in texts for _ in tokens._TOKEN_ALPHABET.runs(t, 16)),
              sum(1 for _, t in texts for _ in leakfind._ANCHOR.finditer(t.lower())),
              sum(1 for _, t in texts for _ in leakruns._RUN_ALPHABET.runs(t, 20)))
    size = sum(len(t.encode("utf-8", "surrogateescape")) for _, t in texts) / 1e6
    parts = {"scrub skeleton (hit_lines, each marked line sliced, each token word)": _best(rounds, scrub_skeleton),
             "scan skeleton (anchor regex, each anchor, each token run sliced)": _best(rounds, scan_skeleton),
             "scrub (real)": _best(rounds, lambda: [TextScrubber().scrub(t, n) for n, t in texts]),
             "scan (real)": _best(rounds, lambda: [scan_text(t, n) for n, t in texts])}
    engine = "compiled (Hyperscan)" if firstpass.enabled() else "pure Python"
    print(f"first pass: {engine}; {size:.1f} MB; candidates: {counts[0]} marked lines, {counts[1]} token words, "
          f"{counts[2]} anchors, {counts[3]} token runs; load average {_load()}")
    print(f"| part | CPU s (best of {rounds}) | ms/MB |\n|---|---|---|")
    for label, seconds in parts.items():
        print(f"| {label} | {seconds:.3f} | {1000 * seconds / size:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", action="store_true", help="time each generated line shape alone")
    parser.add_argument("--lines", type=int, default=8000)
    parser.add_argument("--floor", action="store_true", help="with --tree: the passes alone, candidates untouched")
    args = parser.parse_args()
    if args.shapes:
        shapes(args.lines, args.rounds)
        return
    if args.tree is None:
        parser.error("--tree or --shapes")
    texts = [(str(p), p.read_bytes().decode("utf-8", "surrogateescape")) for p in sorted(args.tree.rglob("*"))
             if p.is_file() and p.name != ".complete"]
    if args.floor:
        floor(texts, args.rounds)
        return
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
          f"(each scrubbed alone), load average {_load()}")
    print(f"| part | CPU s (best of {args.rounds}) |\n|---|---|")
    for label, seconds in found.items():
        print(f"| {label} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
