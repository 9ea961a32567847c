"""Checks written for verifying changes: a file contains a pattern, a command succeeds."""

from __future__ import annotations

import re
from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, failed, passed
from medic.kernel.params import Param


@check(
    "change.file_contains",
    title="File contains",
    category="configuration",
    severity="high",
    needs=lambda p: {"file": ProbeCall.make("file_tail", path=p["path"], lines=100000)},
    params=[
        Param("path", "string", description="text file"),
        Param("pattern", "string", description="regular expression searched line by line"),
        Param("present", "bool", True, "false: the pattern must not appear"),
    ],
    remediation="The file does not hold the expected setting: look at the diff of the change.",
    description="fail: the pattern is missing (or present when `present: false`).",
)
def file_contains(data: ProbeData, p: dict[str, Any]) -> Outcome:
    lines = data["file"]["lines"]
    hit = next((line for line in lines if re.search(p["pattern"], line)), None)
    if (hit is not None) == p["present"]:
        return passed(
            f"{p['path']}: {'has' if p['present'] else 'has no'} {p['pattern']!r}",
            subject=p["path"],
            line=hit,
        )
    return failed(
        f"{p['path']}: {'no line matches' if p['present'] else 'a line matches'} {p['pattern']!r}",
        subject=p["path"],
        line=hit,
    )


@check(
    "change.command_succeeds",
    title="Command succeeds",
    category="software",
    severity="high",
    needs=lambda p: {"out": ProbeCall.make("command_output", argv=p["argv"], timeout=p["timeout"])},
    params=[
        Param("argv", "list", description="program and arguments (no shell)", items="string"),
        Param("timeout", "float", 30.0, "seconds"),
    ],
    remediation="The service rejects its configuration or is not healthy; see the command's output.",
    description="fail: the command is missing, times out or exits non-zero (a config test, a health probe).",
)
def command_succeeds(data: ProbeData, p: dict[str, Any]) -> Outcome:
    out = data["out"]
    name = " ".join(p["argv"])
    if out["exit_code"] == 0:
        return passed(f"{name}: exit 0", subject=p["argv"][0])
    why = out["error"] or f"exit {out['exit_code']}"
    return failed(
        f"{name}: {why}", subject=p["argv"][0], stderr=out["stderr"][-500:], stdout=out["stdout"][-500:]
    )
