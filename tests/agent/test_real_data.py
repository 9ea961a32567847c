"""This machine's own process list and environment, scrubbed into a bundle: the leak scanner must stay quiet.

Real data is where false positives live (a scanner that blocks every bundle gets overridden by habit), and
where a secret the scrubber misses would show up as a hit.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from medic.agent.leakscan import scan_bundle
from medic.agent.redact import Scrubber
from medic.kernel.bundle import BundleWriter, open_bundle
from medic.kernel.models import ProbeResult


def _processes() -> list[dict[str, object]]:
    out = []
    for proc in psutil.process_iter(["pid", "name", "username", "cmdline"]):
        info = proc.info
        out.append({k: info.get(k) for k in ("pid", "name", "username", "cmdline")})
    return out


# Variables every machine has, with this machine's values. Not the whole environment: whatever else a CI or a
# shell holds (a token under a name that says nothing) is one the scanner is right to flag, so it would make this
# test fail for the environment's sake, not the scanner's.
STANDARD_VARIABLES = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "LANG", "LANGUAGE", "TERM",
                      "HOSTNAME", "SHLVL", "TZ", "MAIL", "EDITOR", "PAGER", "LS_COLORS", "_")


def _environment() -> dict[str, str]:
    found = {k: v for k, v in os.environ.items() if k in STANDARD_VARIABLES or k.startswith(("LC_", "XDG_"))}
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8", **found}


def test_scrubbed_bundle_of_this_machine_has_no_leak_hits(tmp_path: Path) -> None:
    results = [
        ProbeResult("processes", {}, True, _processes()),
        ProbeResult("environment", {}, True, _environment()),
    ]
    texts = {}
    for path in ("/etc/os-release", "/etc/hosts", "/etc/resolv.conf", "/etc/fstab", "/proc/mounts"):
        if os.access(path, os.R_OK):
            texts["files" + path] = Path(path).read_text(errors="replace")
    scrubber = Scrubber()
    dest = tmp_path / "this-machine.tar.gz"
    with BundleWriter(dest, host="host-1") as writer:
        for result in results:
            writer.add_probe_result(scrubber.scrub_result(result))
        for name, text in texts.items():
            writer.add_text(name, scrubber.scrub_text(text, path=name), kind="file")
        writer.set_redaction(scrubber.summary())
    assert scan_bundle(dest) == []
    with open_bundle(dest) as bundle:
        assert len(bundle.probe_results()) == 2
