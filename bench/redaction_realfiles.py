"""The scrubber and the leak scan over this machine's real files: every line the scrubber changed, every hit.

Usage:
    .venv/bin/python bench/redaction_realfiles.py [ROOT ...]        # default: /etc /var/log

Reads every readable regular file (no symlinks, no binary files, at most 4 MB each) and prints, for each line
the scrubber changed, the path, the line number and the line as scrubbed (never the original: it may hold a
secret), then each leak-scan hit (its excerpt is masked). Used to find look-alikes: a changed line that holds
no secret is one (bench/README-redaction.md, "look-alikes of /etc").
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from medic.agent.redact import Scrubber, scan_text


def _texts(roots: list[str]) -> Iterator[tuple[str, str]]:
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            try:
                if path.is_symlink() or not path.is_file():
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if b"\0" not in data[:4096] and len(data) <= 4_000_000:
                yield str(path), data.decode("utf-8", "surrogateescape")


def main() -> int:
    roots = sys.argv[1:] or ["/etc", "/var/log"]
    size = changed = hits = 0
    for path, text in _texts(roots):
        size += len(text)
        out = Scrubber().scrub_text(text, path=path)
        # (strict=False: a private key block becomes one line, and the lines after it are not compared)
        for number, (before, after) in enumerate(zip(text.splitlines(), out.splitlines(), strict=False), start=1):
            if before != after:
                changed += 1
                print(f"SCRUBBED {path}:{number}: {after.strip()[:200]}")
        for hit in scan_text(text, path):
            hits += 1
            print(f"FLAGGED {hit}"[:240])
    print(f"{size / 1e6:.1f} MB (characters) in {', '.join(roots)}: {changed} lines changed, {hits} leak-scan hits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
