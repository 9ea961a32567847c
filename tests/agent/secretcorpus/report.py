"""Recall of the scrubber per kind and per context on the generated corpus, and look-alikes kept.

    .venv/bin/python -m tests.agent.secretcorpus.report [--failures] [--speed MB]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

from medic.agent.redact import Scrubber

from . import Record, generate, survives, text_of


def scrub(record: Record, scrubber: Scrubber | None = None) -> str:
    return (scrubber or Scrubber()).scrub_text(text_of(record), path=record.path.removesuffix(".gz"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list every missed secret and lost look-alike")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    corpus = generate(args.seed) if args.seed is not None else generate()
    by_kind: dict[str, list[bool]] = defaultdict(list)
    by_context: dict[str, list[bool]] = defaultdict(list)
    started = time.perf_counter()
    for r in corpus.secrets:
        caught = not survives(r.value, scrub(r))
        by_kind[r.kind].append(caught)
        by_context[r.context].append(caught)
        if not caught and args.failures:
            print(f"MISSED {r.id}: {text_of(r)!r}")
    kept = []
    for r in corpus.lookalikes:
        text = text_of(r)
        ok = scrub(r) == text
        kept.append(ok)
        if not ok and args.failures:
            print(f"DESTROYED {r.kind}: {text!r} -> {scrub(r)!r}")
    elapsed = time.perf_counter() - started
    total = [c for v in by_kind.values() for c in v]
    print(f"secrets: {sum(total)}/{len(total)} removed ({100 * sum(total) / len(total):.2f} %), "
          f"{len(by_kind)} kinds, {len(by_context)} contexts; kinds at 100 %: "
          f"{sum(all(v) for v in by_kind.values())}/{len(by_kind)}")
    print(f"look-alikes: {sum(kept)}/{len(kept)} kept; {elapsed:.1f} s")
    print("per context:")
    for ctx, v in sorted(by_context.items()):
        print(f"  {ctx:18} {sum(v):4}/{len(v):<4} {100 * sum(v) / len(v):6.2f} %")
    weak = sorted((k, v) for k, v in by_kind.items() if not all(v))
    if weak:
        print("kinds below 100 %:")
        for k, v in weak:
            print(f"  {k:34} {sum(v)}/{len(v)}")
    return 0 if all(total) and all(kept) else 1


if __name__ == "__main__":
    sys.exit(main())
