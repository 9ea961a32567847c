"""The reference: a bare Prefect flow with N trivial tasks (N=1 by default), telemetry off like medic."""

from __future__ import annotations

import os
import sys
import time

for key, value in {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "PREFECT_LOGGING_LEVEL": "WARNING"}.items():
    os.environ.setdefault(key, value)

from prefect import flow, task  # noqa: E402


@task
def trivial(i: int) -> int:
    return i


@flow
def bare(n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        trivial(i)
    return time.perf_counter() - started


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    inside = bare(n)
    print(f"tasks={n} inside_flow_s={inside:.4f}")
