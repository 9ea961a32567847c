"""``medic-agent leaks scan|baseline``: look at a bundle's leak-scan findings and pass reviewed ones.

Findings are printed as ``member:line: rule (detector): excerpt`` with every flagged value masked; the
values themselves are never printed or written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from medic.agent.leakbaseline import load_baseline, write_baseline
from medic.agent.leakscan import scan_bundle
from medic.agent.redact.leaks import LeakHit

EXIT_BLOCKED = 4
_SHOWN = 20


def leaks_command(args: argparse.Namespace) -> int:
    hits = scan_bundle(args.bundle)
    if args.leaks_command == "baseline":
        count = write_baseline(hits, args.output, source=str(args.bundle))
        _show(hits)
        print(f"wrote {count} finding(s) to {args.output}: check each one above is not a secret, delete the "
              f"entries that are, then pass it with --leak-baseline {args.output}", file=sys.stderr)
        return 0
    allowed: list[LeakHit] = []
    if args.leak_baseline is not None:
        hits, allowed = load_baseline(args.leak_baseline).split(hits)
    _show(hits, limit=len(hits))
    if allowed:
        print(f"{len(allowed)} finding(s) passed by {args.leak_baseline}", file=sys.stderr)
    print(f"{len(hits)} finding(s) in {args.bundle}", file=sys.stderr)
    return EXIT_BLOCKED if hits else 0


def _show(hits: Sequence[LeakHit], limit: int = _SHOWN) -> None:
    for hit in hits[:limit]:
        print(f"  leak: {hit}", file=sys.stderr)
    if len(hits) > limit:
        print(f"  ... and {len(hits) - limit} more (`medic-agent leaks scan BUNDLE` lists them all)",
              file=sys.stderr)


def print_blocked(hits: Sequence[LeakHit], bundle: Path) -> None:
    _show(hits)
    print(f"medic-agent: blocked: the leak scan found {len(hits)} possible secret(s); the bundle is kept here and "
          f"must not be sent: {bundle}. If a finding above is not a secret: `medic-agent leaks baseline {bundle} "
          f"-o leak-baseline.json`, review that file, and collect again with --leak-baseline leak-baseline.json.",
          file=sys.stderr)
