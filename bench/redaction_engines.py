"""The first pass of both redaction layers (the scrubber's line-mark words and the leak scan's anchors) with each
candidate engine, on one tree: CPU ms per MB, best of --rounds, and how many hits reach Python.

Usage: .venv/bin/python bench/redaction_engines.py --tree /tmp/medic-redaction-bench/tree [--rounds 3]

Engines: Python's ``re`` and ``str.find`` as the agent uses them (``hit_lines`` and the anchor expression), a
plain ``re`` alternation of the same words, pyahocorasick, Hyperscan and google-re2 (each only if installed: pip
install pyahocorasick hyperscan google-re2). The words: every anchor word of the scan, every hint and keyword
of the scrubber, "$" and "{" (the hash heads), 63 in all; matched in the lower-cased text.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medic.agent import leakfind
from medic.agent.redact import linemarks
from medic.agent.redact.keys import KEYWORDS


def _best(rounds: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        started = time.process_time()
        result = work()
        times.append(time.process_time() - started)
    return min(times), result


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def engines(low: str, words: list[str]) -> dict[str, Callable[[], Any]]:
    os.environ["MEDIC_REDACT_ENGINE"] = "python"
    found: dict[str, Callable[[], Any]] = {
        "re: the scan's anchor expression (finditer)": lambda: list(leakfind._ANCHOR.finditer(low)),
        "re + str.find: the scrubber's hit_lines": lambda: linemarks.hit_lines(low, low, True),
    }
    alternation = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    found[f"re: one alternation of the {len(words)} words (findall: non-overlapping)"] = \
        lambda: alternation.findall(low)
    ahocorasick = _optional("ahocorasick")
    if ahocorasick:
        automaton = ahocorasick.Automaton()
        for i, word in enumerate(words):
            automaton.add_word(word, i)
        automaton.make_automaton()
        found["pyahocorasick: iter (every match, overlapping too)"] = lambda: list(automaton.iter(low))
    hyperscan = _optional("hyperscan")
    if hyperscan:
        database = hyperscan.Database()
        database.compile(expressions=[re.escape(w).encode() for w in words], ids=list(range(len(words))),
                         elements=len(words), flags=[0] * len(words))
        data = low.encode("ascii", "replace")

        def scan() -> list[tuple[int, int]]:
            hits: list[tuple[int, int]] = []
            database.scan(data, match_event_handler=lambda i, a, b, f, c: hits.append((i, b)))
            return hits

        found["hyperscan: every match, overlapping too, a Python callback each (encode included)"] = \
            lambda: (low.encode("ascii", "replace"), scan())[1]
    re2 = _optional("re2")
    if re2:
        compiled = re2.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
        found["google-re2: one alternation (finditer)"] = lambda: [m.start() for m in compiled.finditer(low)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = [p.read_bytes().decode("utf-8", "replace") for p in sorted(args.tree.rglob("*"))
             if p.is_file() and p.name != ".complete"]
    low = "\n".join(texts).lower()
    size = len(low.encode("utf-8")) / 1e6
    words = sorted(set(leakfind._ANCHOR_WORDS) | {"pat"} | set(linemarks.LINE_HINTS) | set(KEYWORDS) | {"$", "{"})
    print(f"{size:.1f} MB, {len(words)} words; load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"| engine | ms/MB (best of {args.rounds}) | hits |\n|---|---|---|")
    for label, work in engines(low, words).items():
        seconds, result = _best(args.rounds, work)
        print(f"| {label} | {1000 * seconds / size:.1f} | {len(result)} |")


if __name__ == "__main__":
    main()
