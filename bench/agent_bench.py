"""Endpoint agent benchmark: default collection vs `sos report --batch` in the same run.

Measures wall time and peak RSS (wait4) of each, medians over --repeat runs, the number of files each writes,
and `medic-agent --version` start-up. Installs Debian's sosreport when missing (root).

Usage: python bench/agent_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from common import time_command

PY = sys.executable


def ensure_sos() -> str:
    sos = shutil.which("sos")
    if sos:
        return sos
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "sosreport"], check=True, stdout=subprocess.DEVNULL,
                   env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return shutil.which("sos") or "/usr/bin/sos"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sos = ensure_sos()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user's machine: byte-code cached
    subprocess.run([PY, "-m", "medic.agent.cli", "--version"], capture_output=True, check=False)
    work = Path(tempfile.mkdtemp(prefix="medic-agent-bench-"))
    (work / "sos").mkdir()
    (work / "medic").mkdir()
    version = time_command("medic-agent --version", [PY, "-m", "medic.agent.cli", "--version"], repeat=7)
    sos_t = time_command("sos report --batch (default plugins)",
                         [sos, "report", "--batch", "--tmp-dir", str(work / "sos"), "--quiet"], args.repeat)
    medic_t = time_command("medic-agent collect (default profile)",
                           [PY, "-m", "medic.agent.cli", "collect", "--output", str(work / "medic"), "--quiet"],
                           args.repeat)
    print(version.line())
    print(sos_t.line())
    print(medic_t.line())
    archives = (work / "sos").glob("sosreport-*.tar*")
    sos_archives = sorted(p for p in archives if p.name.endswith((".tar.xz", ".tar.gz", ".tar")))
    medic_bundles = sorted((work / "medic").glob("medic-bundle-*.tar.gz"))
    if sos_archives:
        with tarfile.open(sos_archives[-1]) as tar:
            print(f"  sos archive: {sum(1 for m in tar if m.isfile())} files, "
                  f"{sos_archives[-1].stat().st_size / 1024:.0f} KiB")
    if medic_bundles:
        with tarfile.open(medic_bundles[-1]) as tar:
            print(f"  medic bundle: {sum(1 for m in tar if m.isfile())} files, "
                  f"{medic_bundles[-1].stat().st_size / 1024:.0f} KiB")
    print(f"  ratio medic/sos wall (medians): {medic_t.median / sos_t.median:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
