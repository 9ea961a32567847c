"""Software checks: command versions, installed packages, OS release support."""

from __future__ import annotations

import datetime
import json
import re
from importlib import resources
from typing import Any, cast

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, Status, errored, failed, passed
from medic.kernel.params import Param
from medic.kernel.probe import ProbeSpec
from medic.plugins.checks.shape import mapping
from medic.probes.software import packages

# the probe's own declaration of what it takes, passed on as they are
PACKAGE_PARAMS = tuple(
    q for q in cast(ProbeSpec, packages.spec).params if q.name in ("names", "manager")  # type: ignore[attr-defined]
)

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


@check(
    "software.command_version",
    title="Software version",
    category="software",
    severity="medium",
    needs=lambda p: {"out": ProbeCall.make("command_output", argv=p["command"])},
    params=[
        Param(
            "command",
            "list",
            ["openssl", "version"],
            "program and arguments printing its version",
            items="string",
        ),
        Param("minimum", "string", "0", "lowest acceptable version"),
        Param("pattern", "string", VERSION, "regular expression; group 1 is the version"),
    ],
    remediation="Upgrade the package to at least the required version (apt/dnf/pip), or point PATH at the "
    "right installation.",
    description="fail: command missing or version below minimum; error: no version found in its output.",
)
def command_version(data: ProbeData, p: dict[str, Any]) -> Outcome:
    out = mapping(data, "out")
    name = p["command"][0]
    if not out["found"]:
        return failed(f"{name} is not installed (command not found)", subject=name)
    if out["error"]:
        return errored(f"{name}: {out['error']}", subject=name)
    text = out["stdout"] + "\n" + out["stderr"]
    match = re.search(p["pattern"], text)
    if not match:
        first = text.strip().splitlines()[0][:200] if text.strip() else ""
        return errored(
            f"no version matching {p['pattern']!r} in the output of {name}", subject=name, first_line=first
        )
    found = match.group(1) if match.groups() else match.group(0)
    evidence = {"version": found, "minimum": p["minimum"], "command": " ".join(p["command"])}
    if version_at_least(found, p["minimum"]):
        return passed(f"{name} {found} (minimum {p['minimum']})", subject=name, **evidence)
    return Outcome(Status.FAIL, f"{name} {found} is older than the required {p['minimum']}", evidence, name)


@check(
    "software.package_installed",
    title="Package installed",
    category="software",
    severity="medium",
    needs=lambda p: {"pkgs": ProbeCall.make("packages", names=p["names"], manager=p["manager"])},
    params=[
        *PACKAGE_PARAMS,
        Param("minimum", "string", "", "lowest acceptable version for every named package (optional)"),
    ],
    remediation="Install the package (apt-get install / dnf install / pip install NAME) or upgrade it to the "
    "required version.",
    description="One outcome per package: fail when not installed or older than minimum.",
)
def package_installed(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    d = mapping(data, "pkgs")
    out = []
    for name in p["names"]:
        version = d["packages"].get(name)
        if version is None:
            out.append(
                failed(f"{name} is not installed ({d['manager']})", subject=name, manager=d["manager"])
            )
        elif p["minimum"] and not version_at_least(version.split(":")[-1], p["minimum"]):
            out.append(
                failed(
                    f"{name} {version} is older than {p['minimum']}",
                    subject=name,
                    version=version,
                    minimum=p["minimum"],
                )
            )
        else:
            out.append(passed(f"{name} {version}", subject=name, version=version, manager=d["manager"]))
    return out


def eol_table() -> dict[str, dict[str, str]]:
    raw = json.loads(resources.files("medic.plugins.checks").joinpath("data/os_eol.json").read_text())
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def _release_key(table: dict[str, str], version: str) -> str | None:
    for candidate in (version, ".".join(version.split(".")[:2]), version.split(".")[0]):
        if candidate in table:
            return candidate
    return None


@check(
    "software.os_supported",
    title="OS release still supported",
    category="software",
    severity="high",
    needs={"os": "os_release", "now": "clock"},
    params=[
        Param("warn_days", "int", 180, "warn when support ends within this many days"),
        Param("include_lts", "bool", True, "count Debian LTS (longer, community) support as supported"),
    ],
    remediation="Plan the upgrade to a supported release (do-release-upgrade, or a new Debian/RHEL major "
    "release): an unsupported OS no longer gets security fixes.",
    description="Looks the OS id and VERSION_ID up in the end-of-life table "
    "(plugins/checks/data/os_eol.json): "
    "fail after the end date, warn within warn_days; skipped for releases not in the table.",
)
def os_supported(data: ProbeData, p: dict[str, Any]) -> Outcome:
    o, now = mapping(data, "os"), float(mapping(data, "now")["epoch"])
    table = eol_table()
    family = o["id"] + ("_lts" if p["include_lts"] and f"{o['id']}_lts" in table else "")
    releases = table.get(family)
    key = _release_key(releases, o["version_id"]) if releases else None
    if releases is None or key is None:
        return Outcome(
            Status.SKIPPED,
            f"{o['pretty_name']}: not in the end-of-life table",
            {"id": o["id"], "version_id": o["version_id"]},
        )
    end = datetime.date.fromisoformat(releases[key])
    today = datetime.datetime.fromtimestamp(now, datetime.UTC).date()
    days = (end - today).days
    ev = {"id": o["id"], "version_id": o["version_id"], "end_of_support": end.isoformat(), "days_left": days}
    if days < 0:
        return failed(f"{o['pretty_name']} support ended {end.isoformat()} ({-days} days ago)", **ev)
    if days <= p["warn_days"]:
        return Outcome(Status.WARN, f"{o['pretty_name']} support ends {end.isoformat()} (in {days} days)", ev)
    return passed(f"{o['pretty_name']} supported until {end.isoformat()}", **ev)
