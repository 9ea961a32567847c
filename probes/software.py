"""Software probes: installed packages (dpkg, rpm, pip)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.params import Param
from medic.kernel.probe import Command, probe


def _run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv,
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "LC_ALL": "C"},
    )


def parse_dpkg(text: str, names: list[str]) -> dict[str, str | None]:
    """``dpkg-query -W -f '${Package}\\t${Version}\\t${db:Status-Abbrev}'`` output: installed ("ii") only."""
    found: dict[str, str | None] = dict.fromkeys(names)
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) == 3 and f[2].startswith("ii"):
            found[f[0].split(":")[0]] = f[1]
    return found


def parse_rpm(text: str, names: list[str]) -> dict[str, str | None]:
    """``rpm -q --qf '%{NAME}\\t%{VERSION}-%{RELEASE}'`` output; "package X is not installed" lines
    skipped."""
    found: dict[str, str | None] = dict.fromkeys(names)
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) == 2:
            found[f[0]] = f[1]
    return found


def parse_pip(text: str, names: list[str]) -> dict[str, str | None]:
    """``pip list --format=json`` output; names compared the way pip normalises them."""
    norm = {str(p["name"]).lower().replace("_", "-"): str(p["version"]) for p in json.loads(text)}
    return {n: norm.get(n.lower().replace("_", "-")) for n in names}


# each manager: the argv from the probe's parameters (names, python) and the parser of its output
DPKG = Command(lambda p: ["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\t${db:Status-Abbrev}\\n", *p["names"]],
               lambda text, p: parse_dpkg(text, list(p["names"])))
RPM = Command(lambda p: ["rpm", "-q", "--qf", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n", *p["names"]],
              lambda text, p: parse_rpm(text, list(p["names"])))
PIP = Command(lambda p: [p.get("python", "python3"), "-m", "pip", "list", "--format=json",
                         "--disable-pip-version-check"],
              lambda text, p: parse_pip(text, list(p["names"])))
MANAGERS = {"dpkg": DPKG, "rpm": RPM, "pip": PIP}


def _query(manager: str, names: list[str], python: str) -> dict[str, str | None]:
    command, params = MANAGERS[manager], {"names": names, "python": python}
    proc = _run(command.argv(params))
    if manager == "pip" and proc.returncode != 0:
        raise ProbeUnavailable(
            f"{python} -m pip failed: {proc.stderr.decode(errors='replace').strip()[:200]}"
        )
    return dict(command.parse(proc.stdout.decode(errors="replace"), params))


@probe(
    "packages",
    params=[
        Param("names", "list", description="package names", items="string"),
        Param(
            "manager",
            "string",
            "auto",
            "auto (dpkg, else rpm), dpkg, rpm or pip",
            choices=("auto", "dpkg", "rpm", "pip"),
        ),
        Param("python", "string", "python3", "interpreter whose pip packages to list (manager pip)"),
    ],
    description="Installed version of each named package (None when not installed).",
    cost=2,
)
def packages(names: list[str], manager: str = "auto", python: str = "python3") -> dict[str, Any]:
    if manager == "auto":
        manager = "dpkg" if shutil.which("dpkg-query") else "rpm" if shutil.which("rpm") else ""
        if not manager:
            raise ProbeUnavailable("no dpkg or rpm package database on this system")
    tool = {"dpkg": "dpkg-query", "rpm": "rpm", "pip": python}[manager]
    if shutil.which(tool) is None:
        raise ProbeUnavailable(f"{tool} is not installed here")
    return {"manager": manager, "packages": _query(manager, names, python)}
