"""Routing and SLA evaluation of 10,000 findings (issue 15 target: <= 1 s): 10,000 findings on 1,000 hosts become
1,000 cases (10 findings each), each routed (category rules, priority score) by ``decide``; then the SLA clocks of
those 1,000 cases are evaluated on the business calendar from their timelines (``sla.evaluate``: opened,
acknowledged, waiting for the customer, resumed), in memory and through the SQLite store (``SlaRunner``, timelines
read in batches). The peers, in the same run: a bare loop matching every finding against the same category globs
and summing severities (what routing cannot go below); the store's clocks read one timeline per case (the runner
before its batched reads).

    .venv/bin/python bench/cases_bench.py [--findings 10000] [--per-case 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from medic.kernel import yamlload
from medic.plugins.cases import routing
from medic.plugins.cases.decide import decide
from medic.plugins.cases.escalate import SlaRunner
from medic.plugins.cases.model import Case, Event
from medic.plugins.cases.sla import evaluate
from medic.plugins.cases.store import CaseStore

ROUTING = """\
scheme: four-level
levels:
  high: {response: 2h, resolution: 8h, dispatch: 1h, update: 1h}
  regular: {response: 4h, resolution: 16h}
  low: {response: 8h, resolution: 40h}
calendar: {timezone: Europe/Paris, hours: ["09:00", "17:00"], holidays: ["2026-12-25", "2027-01-01"]}
categories:
  - {name: dns, check: "net.dns*", category: network}
  - {name: tls, check: "web.tls*", category: security}
  - {name: cve, tag: cve, category: security}
  - {name: disks, check: "disk.*", category: hardware}
  - {name: config, check: "config.*", category: configuration}
  - {finding_category: hardware, category: hardware}
priority:
  hosts: [{at_least: 10, add: 2}, {at_least: 3, add: 1}]
  users: [{at_least: 100, add: 2}, {at_least: 10, add: 1}]
  services: {payments: 2, wiki: 0}
"""
CHECKS = ["net.dns.resolve", "web.tls.expiry", "disk.free", "config.key", "system.uptime", "pkg.versions",
          "service.running", "net.route"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]
STATUSES = ["pass", "pass", "warn", "fail", "error"]
CATEGORIES = ["network", "hardware", "software", "security", "configuration"]
START = 1_796_630_400.0  # 2026-12-07 (a Monday) 08:00 UTC


def findings(count: int, per_case: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    out = []
    for case in range(count // per_case):
        out.append([{"check": rng.choice(CHECKS), "target": f"host{case}-{rng.randrange(3)}",
                     "status": rng.choice(STATUSES), "severity": rng.choice(SEVERITIES),
                     "category": rng.choice(CATEGORIES), "tags": ["cve"] if rng.random() < 0.05 else [],
                     "evidence": {"service": rng.choice(["payments", "wiki", "intranet"])}}
                    for _ in range(per_case)])
    return out


def timelines(decisions: list[Any], rng: random.Random) -> list[tuple[Case, list[Event]]]:
    out = []
    for i, d in enumerate(decisions):
        created = START + rng.uniform(0, 3 * 86400)
        case = Case(f"C-{i:05d}", "t", "", "", "bundle", d.category, d.priority, "in_progress", None, 1, None, None,
                    created, created)
        events, at = [], created
        for seq, state in enumerate(("acknowledged", "dispatched", "in_progress", "waiting_customer",
                                     "in_progress"), 1):
            at += rng.uniform(600, 7200)
            events.append(Event(case.id, seq, at, "state", "x", {"to": state}))
        out.append((case, events))
    return out


def peer(groups: list[list[dict[str, Any]]], globs: list[str]) -> None:
    weights = dict(zip(SEVERITIES, range(5), strict=True))
    for group in groups:
        score = 0
        for f in group:
            for g in globs:
                if fnmatch.fnmatchcase(f["check"], g):
                    break
            score = max(score, weights[f["severity"]])


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def store_path_s(cases: list[tuple[Case, list[Event]]], loaded: routing.Routing, directory: Path, repeat: int
                 ) -> tuple[list[float], list[float]]:
    """The same clocks evaluated by the runner from the SQLite store (the timelines read in batches), and, to
    compare, as the runner did before: one timeline read per case."""
    now = [START]
    store = CaseStore(directory / "cases.sqlite", clock=lambda: now[0])
    for case, events in cases:
        now[0] = case.created
        opened = store.open("t", priority=case.priority, category=case.category)
        for e in events:
            now[0] = e.at
            store.transition(opened.id, str(e.data["to"]))
    runner = SlaRunner(store, loaded, lambda audience, note: [], directory / "runs")
    at = START + 6 * 86400
    batched = [timed(lambda: runner.evaluate_all(at)) for _ in range(repeat)]
    per_case = [timed(lambda: [evaluate(c, store.timeline(c.id), loaded, at) for c in store.list()
                               if c.state != "closed"]) for _ in range(repeat)]
    store.close()
    return batched, per_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--per-case", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(15)
    loaded = routing.build(yamlload.loads(ROUTING), "bench routing")
    groups = findings(args.findings, args.per_case, rng)
    decisions: list[Any] = []
    route_s = [timed(lambda: decisions.__setitem__(slice(None), [decide(loaded, g, 12) for g in groups]))
               for _ in range(args.repeat)]
    cases = timelines(decisions, rng)
    now = START + 6 * 86400
    sla_s = [timed(lambda: [evaluate(c, e, loaded, now) for c, e in cases]) for _ in range(args.repeat)]
    globs = [r["check"] for r in loaded.categories if "check" in r]
    peer_s = [timed(lambda: peer(groups, globs)) for _ in range(args.repeat)]
    with tempfile.TemporaryDirectory() as tmp:
        store_s, per_case_s = store_path_s(cases, loaded, Path(tmp), args.repeat)
    total = statistics.median(route_s) + statistics.median(sla_s)
    print(f"{args.findings} findings, {len(groups)} cases, median of {args.repeat}:")
    print(f"  routing (decide)              {statistics.median(route_s) * 1000:8.1f} ms")
    print(f"  SLA clocks (evaluate, memory) {statistics.median(sla_s) * 1000:8.1f} ms")
    print(f"  routing + SLA                 {total * 1000:8.1f} ms  (target <= 1000 ms: "
          f"{'met' if total <= 1.0 else 'NOT met'})")
    print(f"  peer: bare glob + severity    {statistics.median(peer_s) * 1000:8.1f} ms  (routing / peer "
          f"{statistics.median(route_s) / statistics.median(peer_s):.1f}x)")
    print(f"  SLA clocks from the store     {statistics.median(store_s) * 1000:8.1f} ms  (SlaRunner.evaluate_all: "
          f"timelines read in batches)")
    print(f"  peer: a timeline per case     {statistics.median(per_case_s) * 1000:8.1f} ms  (the runner before; "
          f"batched / per case {statistics.median(store_s) / statistics.median(per_case_s):.2f})")
    print(f"  load average {os.getloadavg()[0]:.1f}")
    return 0 if total <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
