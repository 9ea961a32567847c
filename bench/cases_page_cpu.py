"""The cases page's list view, all 10,000 cases with every case's SLA clocks evaluated (``sla_due`` emptied before
each listing): wall and CPU time of ``views.case_list`` in this process. Run it with two trees in turn on the same
store (``PYTHONPATH=/path/to/other``) to compare them by CPU time, which the load of other work moves far less than
the wall time. The store (``kb_bench.fill_cases``: 10,000 cases) is written on the first run.

    .venv/bin/python bench/cases_page_cpu.py LABEL [--store /tmp/cases-page-store] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("label")
    ap.add_argument("--store", type=Path, default=Path("/tmp/cases-page-store"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import kb_bench

    os.environ["MEDIC_ROUTING"] = str(args.store / "routing.yaml")
    if not (args.store / "cases.sqlite").exists():
        args.store.mkdir(parents=True, exist_ok=True)
        (args.store / "routing.yaml").write_text(kb_bench.ROUTING)
        kb_bench.fill_cases(args.store, 10_000, random.Random(15))
    from medic.plugins.casespage import views
    from medic.plugins.casespage.app import sources

    src = sources(args.store, {"state_dir": str(args.store)})
    assert src.routing is not None, "routing.yaml did not load"
    walls, cpus = [], []
    for _ in range(args.repeat):
        src.cases.db.execute("DELETE FROM sla_due")
        cpu, wall = time.process_time(), time.perf_counter()
        views.case_list(src, {"limit": "10000"})
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    print(f"{args.label}: every case evaluated, wall median {statistics.median(walls):.0f} ms, CPU median "
          f"{statistics.median(cpus):.0f} ms, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
