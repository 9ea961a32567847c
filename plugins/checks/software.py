"""Software checks: a command's version against a required minimum."""

from __future__ import annotations

import re
from typing import Any

from medic.core.check import ProbeData, check
from medic.core.models import Outcome, ProbeCall, Status, errored, failed, passed
from medic.core.params import Param

VERSION = r"(\d+(?:\.\d+)+[a-z]?)"


def version_tuple(text: str) -> tuple[int | str, ...]:
    """'3.0.11' -> (3, 0, 11); '1.1.1w' -> (1, 1, 1, 'w'), comparable element by element."""
    parts: list[int | str] = []
    for piece in re.findall(r"\d+|[a-z]+", text.lower()):
        parts.append(int(piece) if piece.isdigit() else piece)
    return tuple(parts)


def version_at_least(found: str, minimum: str) -> bool:
    a, b = version_tuple(found), version_tuple(minimum)
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return x > y
        return str(x) > str(y)
    return len(a) >= len(b)


@check("software.command_version", title="Software version", category="software", severity="medium",
       needs=lambda p: {"out": ProbeCall.make("command_output", argv=p["command"])},
       params=[Param("command", "list", ["openssl", "version"], "program and arguments printing its version",
                     items="string"),
               Param("minimum", "string", "0", "lowest acceptable version"),
               Param("pattern", "string", VERSION, "regular expression; group 1 is the version")],
       remediation="Upgrade the package to at least the required version (apt/dnf/pip), or point PATH at the "
                   "right installation.",
       description="fail: command missing or version below minimum; error: no version found in its output.")
def command_version(data: ProbeData, p: dict[str, Any]) -> Outcome:
    out = data["out"]
    name = p["command"][0]
    if not out["found"]:
        return failed(f"{name} is not installed (command not found)", subject=name)
    if out["error"]:
        return errored(f"{name}: {out['error']}", subject=name)
    text = out["stdout"] + "\n" + out["stderr"]
    match = re.search(p["pattern"], text)
    if not match:
        first = text.strip().splitlines()[0][:200] if text.strip() else ""
        return errored(f"no version matching {p['pattern']!r} in the output of {name}", subject=name,
                       first_line=first)
    found = match.group(1) if match.groups() else match.group(0)
    evidence = {"version": found, "minimum": p["minimum"], "command": " ".join(p["command"])}
    if version_at_least(found, p["minimum"]):
        return passed(f"{name} {found} (minimum {p['minimum']})", subject=name, **evidence)
    return Outcome(Status.FAIL, f"{name} {found} is older than the required {p['minimum']}", evidence, name)
