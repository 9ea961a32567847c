"""Software checks: command versions, installed packages, OS release support."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any, cast

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, Status, errored, failed, passed
from medic.kernel.params import Param
from medic.kernel.probe import ProbeSpec
from medic.plugins.checks import versions
from medic.plugins.checks.shape import mapping
from medic.probes.software import packages

# the probe's own declaration of what it takes, passed on as they are
PACKAGE_PARAMS = tuple(
    q for q in cast(ProbeSpec, packages.spec).params if q.name in ("names", "manager")  # type: ignore[attr-defined]
)

VERSION = r"(\d+(?:\.\d+)+[a-z]?)"


SCHEME_PARAM = Param(
    "scheme",
    "string",
    "auto",
    "version ordering: python (PEP 440: 1.0rc1 < 1.0), debian (dpkg's: 1.2.3~beta1 < 1.2.3, epochs, revisions) "
    "or auto (the package manager's; else python when both versions are PEP 440, debian otherwise)",
    choices=versions.SCHEMES,
)


def _ordered(found: str, minimum: str, scheme: str) -> tuple[int, str] | str:
    """(comparison, scheme used), or why the versions cannot be compared."""
    try:
        return versions.compare(found, minimum, scheme)
    except versions.VersionError as exc:
        return str(exc)


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
        Param("minimum", "version", "0", "lowest acceptable version (0: any, the version is only reported)"),
        Param("pattern", "string", VERSION, "regular expression; group 1 is the version"),
        SCHEME_PARAM,
    ],
    remediation="Upgrade the package to at least the required version (apt/dnf/pip), or point PATH at the "
    "right installation.",
    description="fail: command missing or version below minimum; error: no version found in its output, or one "
    "the scheme cannot read. The finding names the ordering used (python or debian).",
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
    if p["minimum"] in ("", "0"):  # no minimum asked for: report what is there, whatever its form
        return passed(f"{name} {found}", subject=name, version=found, command=" ".join(p["command"]))
    ordered = _ordered(found, p["minimum"], p["scheme"])
    if isinstance(ordered, str):
        return errored(f"{name}: cannot compare {found} with {p['minimum']}: {ordered}", subject=name)
    cmp, scheme = ordered
    evidence = {"version": found, "minimum": p["minimum"], "scheme": scheme, "command": " ".join(p["command"])}
    if cmp >= 0:
        return passed(f"{name} {found} (minimum {p['minimum']}, {scheme} ordering)", subject=name, **evidence)
    return Outcome(
        Status.FAIL, f"{name} {found} is older than the required {p['minimum']} ({scheme} ordering)", evidence, name
    )


@check(
    "software.package_installed",
    title="Package installed",
    category="software",
    severity="medium",
    needs=lambda p: {"pkgs": ProbeCall.make("packages", names=p["names"], manager=p["manager"])},
    params=[
        *PACKAGE_PARAMS,
        Param("minimum", "string", "", "lowest acceptable version for every named package (optional)"),
        SCHEME_PARAM,
    ],
    remediation="Install the package (apt-get install / dnf install / pip install NAME) or upgrade it to the "
    "required version.",
    description="One outcome per package: fail when not installed or older than minimum (auto: dpkg's ordering "
    "for dpkg and rpm packages, PEP 440 for pip's; the finding names it; a minimum without an epoch is compared "
    "with the package's version without its epoch); error: a version it cannot read.",
)
def package_installed(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    d = mapping(data, "pkgs")
    scheme = p["scheme"] if p["scheme"] != "auto" else "python" if d["manager"] == "pip" else "debian"
    return [_package_outcome(name, d["packages"].get(name), d["manager"], p["minimum"], scheme) for name in p["names"]]


def _package_outcome(name: str, version: str | None, manager: str, minimum: str, scheme: str) -> Outcome:
    if version is None:
        return failed(f"{name} is not installed ({manager})", subject=name, manager=manager)
    if not minimum:
        return passed(f"{name} {version}", subject=name, version=version, manager=manager)
    # a minimum without an epoch names an upstream version: the package's epoch (1:1.1.1n, kept when upstream
    # numbering restarted) only orders that package's own versions
    compared = version.split(":", 1)[-1] if scheme == "debian" and ":" not in minimum else version
    ordered = _ordered(compared, minimum, scheme)
    if isinstance(ordered, str):
        return errored(f"{name}: cannot compare {version} with {minimum}: {ordered}", subject=name)
    evidence = {"version": version, "minimum": minimum, "scheme": scheme, "manager": manager}
    if ordered[0] < 0:
        return failed(f"{name} {version} is older than {minimum} ({scheme} ordering)", subject=name, **evidence)
    return passed(f"{name} {version} (minimum {minimum}, {scheme} ordering)", subject=name, **evidence)


def eol_table() -> dict[str, dict[str, str]]:
    from importlib import resources

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
