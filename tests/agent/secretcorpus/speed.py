"""Scrubbing speed on plain log text: this machine's /var/log text files, repeated to --mb megabytes.

    .venv/bin/python tests/agent/secretcorpus/speed.py [--mb 20] [--runs 3]

Prints MB/s of wall time and MB per CPU second (best of the runs; the second is the per-core figure and is
less sensitive to other load) for the ``medic.agent.redact`` on the import path, so two trees can be compared
in the same minute (PYTHONPATH=<old tree> for the other one). Figures depend on the machine's load.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from medic.agent.redact import Scrubber


def log_text(megabytes: float) -> list[str]:
    """Files' texts (at most 1 MB each, as the collector caps them) making up ``megabytes`` of log text."""
    parts = []
    for path in sorted(Path("/var/log").rglob("*")):
        try:
            data = path.read_bytes() if path.is_file() and not path.name.endswith(".gz") else b""
        except OSError:
            continue
        if data and b"\0" not in data:
            parts.append(data.decode("utf-8", "replace"))
    base = "".join(parts) or "Dec  5 12:00:00 host systemd[1]: Started Session 1 of user bob.\n" * 10_000
    size = int(megabytes * 1_000_000)
    text = (base * (size // len(base) + 1))[:size]
    return [text[i: i + 1_000_000] for i in range(0, len(text), 1_000_000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    files = log_text(args.mb)
    size = sum(len(f.encode()) for f in files) / 1e6
    times, cpu = [], []
    for _ in range(args.runs):
        scrubber = Scrubber()
        started, cpu_started = time.perf_counter(), time.process_time()
        for i, text in enumerate(files):
            scrubber.scrub_text(text, path=f"/var/log/syslog.{i}")
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    print(f"{size:.1f} MB of log text, runs {[round(t, 2) for t in times]} s: {size / min(times):.1f} MB/s wall, "
          f"{size / min(cpu):.1f} MB per CPU second (best of {args.runs})")


if __name__ == "__main__":
    main()
