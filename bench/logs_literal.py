"""CPU of a literal-first scan in Python (the default pattern, case-folded) against grep -ciE on the same file.

Usage: .venv/bin/python bench/logs_literal.py LOG. Evaluated for issue 12 (bench/README-logs.md, session 12): reading,
lower-casing and counting the seven words in Python costs several times grep's CPU before a single line is found.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

LOWER = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))
WORDS = (b"error", b"exception", b"fatal", b"critical", b"traceback", b"panic", b"segfault")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once(path: str) -> dict[str, float]:
    took = {}
    started = time.process_time()
    with open(path, "rb") as fh:
        data = fh.read()
    took["read"] = time.process_time() - started
    started = time.process_time()
    low = data.translate(LOWER)
    took["lower"] = time.process_time() - started
    started = time.process_time()
    for word in WORDS:
        low.count(word)
    took["7 counts"] = time.process_time() - started
    started = children_cpu()
    subprocess.run(["grep", "-ciE", b"|".join(WORDS), path], capture_output=True, check=True)
    took["grep -ciE"] = children_cpu() - started
    return took


def main() -> None:
    runs = [once(sys.argv[1]) for _ in range(5)]
    best = {key: min(run[key] for run in runs) for key in runs[0]}
    python = best["read"] + best["lower"] + best["7 counts"]
    print(f"load {os.getloadavg()[0]:.2f}; CPU, best of 5: "
          + ", ".join(f"{key} {1000 * value:.0f} ms" for key, value in best.items())
          + f"; Python total {1000 * python:.0f} ms (counting words only, no line found yet)")


if __name__ == "__main__":
    main()
