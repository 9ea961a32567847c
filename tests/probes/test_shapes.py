"""Parity of the Python probes (psutil, and /proc without it) with the plain-command fallback's commands and
parsers (what a host without Python answers over SSH), on machine shapes made in a private mount namespace:
bind mounts, tmpfs, overlay, a loop-mounted ext4 filesystem with a bind mount of one of its directories, mount
points with spaces, and a non-English locale (German messages and headers from df)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")

# inside the namespace: every covered probe both ways; the fallback's commands run in the environment given
INSIDE = """
import json, os, subprocess, sys
from medic.probes import system
from medic.kernel.probes import by_name
env = json.loads(sys.argv[1])
out = {}
for name in ("disk_usage", "os_release", "memory", "cpu_load"):
    spec = by_name()[name]
    text = subprocess.run(spec.command.argv({}), capture_output=True, text=True, check=True,
                          env={**os.environ, **env}).stdout
    out[name] = {"fallback": spec.command.parse(text, {}), "psutil": spec.collect()}
    psutil, system.psutil = system.psutil, None
    out[name]["proc"] = spec.collect()
    system.psutil = psutil
    out[name]["text"] = text
print(json.dumps(out))
"""


def shape(base: Path) -> list[str]:
    """Shell commands building the shape under ``base`` (run in the namespace)."""
    q = {k: shlex.quote(str(base / k)) for k in ("src", "bound dir", "tmp fs", "lower", "upper", "work",
                                                  "merged", "img", "ext4", "ext4 part")}
    for d in ("src", "bound dir", "tmp fs", "lower", "upper", "work", "merged", "ext4", "ext4 part"):
        (base / d).mkdir()
    return [
        f"mount --bind {q['src']} {q['bound dir']}",
        f"mount -t tmpfs -o size=64m tmpfs {q['tmp fs']}",
        f"mount -t overlay overlay -o lowerdir={q['lower']},upperdir={q['upper']},workdir={q['work']} {q['merged']}",
        f"truncate -s 64M {q['img']} && mkfs.ext4 -q -F {q['img']} && mount -o loop {q['img']} {q['ext4']}",
        f"mkdir {q['ext4']}/data && mount --bind {q['ext4']}/data {q['ext4 part']}",
    ]


def german(base: Path) -> dict[str, str]:
    locales = base / "locales"
    locales.mkdir()
    made = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(locales / "de_DE.UTF-8")],
                          capture_output=True, timeout=120)
    if made.returncode not in (0, 1) or not (locales / "de_DE.UTF-8").exists():  # 1: warnings only
        pytest.skip(f"cannot build the de_DE locale: {made.stderr[-300:]!r}")
    return {"LOCPATH": str(locales), "LANG": "de_DE.UTF-8", "LANGUAGE": "de", "LC_ALL": ""}


def run_in_shape(base: Path, env: dict[str, str]) -> dict[str, Any]:
    script = " && ".join([*shape(base), f"exec {shlex.quote(sys.executable)} -c {shlex.quote(INSIDE)} "
                                        f"{shlex.quote(json.dumps(env))}"])
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0 and "loop" in done.stderr:
        pytest.skip(f"no loop devices here: {done.stderr[-200:]}")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def disks(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((r["mountpoint"], r["device"], r["fstype"], r["total_bytes"], r["inodes_total"]) for r in rows)


@pytest.mark.parametrize("locale", ["C", "de_DE"])
def test_probes_and_fallback_agree_on_every_shape(tmp_path, locale):
    env = german(tmp_path) if locale == "de_DE" else {"LC_ALL": "C"}
    out = run_in_shape(tmp_path, env)
    if locale == "de_DE":
        assert "Dateisystem" in out["disk_usage"]["text"]  # df really spoke German
    d = out["disk_usage"]
    points = {r["mountpoint"] for r in d["psutil"]}
    assert str(tmp_path / "ext4") in points and str(tmp_path / "ext4 part") not in points
    assert str(tmp_path / "bound dir") not in points and "/" in points
    assert str(tmp_path / "tmp fs") not in points and str(tmp_path / "merged") not in points  # pseudo filesystems
    assert disks(d["psutil"]) == disks(d["proc"]) == disks(d["fallback"])
    assert out["os_release"]["psutil"] == out["os_release"]["proc"] == out["os_release"]["fallback"]
    memory = out["memory"]
    assert memory["psutil"]["total_bytes"] == memory["proc"]["total_bytes"] == memory["fallback"]["total_bytes"]
    cpus = {out["cpu_load"][k]["cpus"] for k in ("psutil", "proc", "fallback")}
    assert len(cpus) == 1
