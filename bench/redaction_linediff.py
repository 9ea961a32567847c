"""Line by line, what a reference copy of the scrubber and this tree's write differently.

    .venv/bin/python bench/redaction_linediff.py --base /tmp/rdbase/agent [--tree DIR] [--generated N]
    .venv/bin/python bench/redaction_linediff.py --base /tmp/rdbase/agent --roots /usr/share/doc /usr/lib/python3

Without --roots: bench/redaction_diff.py's inputs (its tree, the repository's tests and agent, generated strings).
With --roots: every text file under them (bench/redaction_realfiles.py's reader). Prints each line that
differs (`-` the reference's, `+` this tree's) and the count; tag numbers differ whenever an earlier line changed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import redaction_diff as rd  # (the reference loader and inputs live there)
from redaction_realfiles import _texts  # (the files the real-files bench reads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the reference copy's agent folder")
    parser.add_argument("--tree", type=Path, help="bench/redaction_bench.py's tree (its --workdir/tree)")
    parser.add_argument("--generated", type=int, default=20_000)
    parser.add_argument("--roots", nargs="*", help="compare on the text files under these folders instead")
    parser.add_argument("--work", type=Path, default=Path("/tmp/redaction-linediff"))
    args = parser.parse_args()
    base = rd._load_base(args.base, args.work)
    current = importlib.import_module("medic.agent.redact")
    inputs = _texts(args.roots) if args.roots else (
        (name, text) for name, text in rd.inputs(args.tree, args.generated) if isinstance(text, str))
    changed = 0
    for name, text in inputs:
        before = base.Scrubber().scrub_text(text, path=name)
        after = current.Scrubber().scrub_text(text, path=name)
        if before == after:
            continue
        for old, new in zip(before.split("\n"), after.split("\n"), strict=False):
            if old != new:
                changed += 1
                print(f"{name[-60:]}\n  - {old[:220]!r}\n  + {new[:220]!r}")
    print(f"{changed} lines differ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
