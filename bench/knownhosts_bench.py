"""CPU of the host-key look-ups a 200-host fleet shard makes: one known_hosts read and one look-up per host.

    .venv/bin/python bench/knownhosts_bench.py KNOWN_HOSTS [--module PATH]

KNOWN_HOSTS: a file such as the fleet bench's (one line per host, ``[127.0.0.N]:2222 KEY``). ``--module``: load
that copy of plugins/ssh/knownhosts.py instead of the installed one (``git show REV:plugins/ssh/knownhosts.py``),
to compare a version before and after, side by side in the same run. Prints the best and median of 5 passes.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def load(path: str | None) -> Any:
    if path is None:
        from medic.plugins.ssh import knownhosts

        return knownhosts
    spec = importlib.util.spec_from_file_location("knownhosts_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("known_hosts")
    ap.add_argument("--module")
    args = ap.parse_args()
    knownhosts = load(args.module)
    path = Path(args.known_hosts)
    names = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    passes = []
    for _ in range(5):
        start = time.process_time()
        for name in names:  # what each connection does: read the file, look its host up
            knownhosts.read(path).pinned(name)
        passes.append(time.process_time() - start)
    print(f"{len(names)} hosts' look-ups ({args.module or 'installed'}): best {min(passes) * 1000:.0f} ms CPU, "
          f"median {statistics.median(passes) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
