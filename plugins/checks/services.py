"""Service checks: expected processes running."""

from __future__ import annotations

import re
from typing import Any

from medic.core.check import ProbeData, check
from medic.core.models import Outcome, failed, passed
from medic.core.params import Param


@check("services.process_running", title="Process running", category="software", severity="high",
       needs={"procs": "processes"},
       params=[Param("names", "list", description="process names (exact) or command-line regexes with match: "
                                                  "cmdline", items="string"),
               Param("match", "string", "name", "what to match: name or cmdline", choices=("name", "cmdline")),
               Param("min_count", "int", 1, "fail when fewer processes match")],
       remediation="Start the service (systemctl start NAME, or its init script) and read its log for why it "
                   "stopped; if it crashes at start, check its configuration and recent changes.",
       description="One outcome per expected process: fail when fewer than min_count processes match.")
def process_running(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    procs = data["procs"]
    out = []
    for wanted in p["names"]:
        if p["match"] == "name":
            hits = [x for x in procs if x["name"] == wanted]
        else:
            rx = re.compile(wanted)
            hits = [x for x in procs if rx.search(x["cmdline"])]
        pids = sorted(x["pid"] for x in hits)[:10]
        if len(hits) >= p["min_count"]:
            out.append(passed(f"{wanted}: {len(hits)} running", subject=wanted, pids=pids))
        else:
            out.append(failed(f"{wanted}: {len(hits)} running, expected at least {p['min_count']}",
                              subject=wanted, pids=pids))
    return out
