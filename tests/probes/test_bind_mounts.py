"""A bind mount is one filesystem: disk_usage reports it once, with the same rule on every code path (psutil,
/proc without psutil, and the `df` command of the SSH plain-command fallback). The bind mount is real, made in
a private mount namespace (`unshare --mount`) so nothing leaks to the machine."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medic.probes.system_parse import PSEUDO_FS, one_per_filesystem, parse_mountinfo

# runs inside the namespace: the three code paths, and df's rows before folding (proof the bind mount shows)
INSIDE = """
import json, subprocess
from medic.probes import system
from medic.probes.system_parse import DF, parse_df, MOUNTINFO_MARK
text = subprocess.run(DF.argv({}), capture_output=True, text=True, check=True).stdout
out = {"psutil": system.disk_usage(), "fallback": parse_df(text, {}),
       "raw": parse_df(text.partition(MOUNTINFO_MARK)[0], {}),
       "mountinfo": open("/proc/self/mountinfo").read()}
system.psutil = None
out["proc"] = system.disk_usage()
print(json.dumps(out))
"""


def in_namespace(binds: list[tuple[Path, Path]]) -> dict[str, list[dict[str, object]]]:
    mounts = " && ".join(f"mount --bind {shlex.quote(str(a))} {shlex.quote(str(b))}" for a, b in binds)
    script = f"{mounts} && exec {shlex.quote(sys.executable)} -c {shlex.quote(INSIDE)}"
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    data: dict[str, list[dict[str, object]]] = json.loads(done.stdout)
    return data


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_a_bind_mount_is_reported_once_by_every_code_path(tmp_path):
    source, whole, part = tmp_path / "src", tmp_path / "bound dir", tmp_path / "again"
    for d in (source, whole, part):
        d.mkdir()
    fs_of_tmp = subprocess.run(["df", "-P", "-T", str(tmp_path)], capture_output=True, text=True).stdout
    if fs_of_tmp.splitlines()[-1].split()[1] in PSEUDO_FS:
        pytest.skip("the temporary directory is on a pseudo filesystem, which disk_usage leaves out anyway")
    out = in_namespace([(source, whole), (Path("/"), part)])  # a directory, and a whole filesystem
    raw = [r["mountpoint"] for r in out["raw"]]
    assert str(whole) in raw and str(part) in raw  # df alone lists them: the bind mounts are there
    for path in ("psutil", "proc", "fallback"):
        points = [r["mountpoint"] for r in out[path]]
        assert str(whole) not in points and str(part) not in points and "/" in points, (path, points)
        assert len(points) == len({(r["device"], r["total_bytes"]) for r in out[path]}), (path, points)
    assert [r["mountpoint"] for r in out["psutil"]] == [r["mountpoint"] for r in out["proc"]]
    assert sorted(r["mountpoint"] for r in out["psutil"]) == sorted(r["mountpoint"] for r in out["fallback"])
    assert parse_mountinfo(out["mountinfo"])[str(whole)][2].endswith("/src")  # space in a name unescaped


def test_same_device_different_source_and_no_mountinfo_are_kept():
    rows = [{"mountpoint": "/a"}, {"mountpoint": "/b"}, {"mountpoint": "/c"}, {"mountpoint": "/elsewhere"}]
    info = ("1 0 0:40 / /a rw - tmpfs one rw\n2 0 0:40 / /b rw - tmpfs two rw\n"
            "3 0 8:1 /x /c rw shared:1 - ext4 /dev/sda1 rw\n")
    assert one_per_filesystem(rows, info) == rows  # different sources: not bind mounts of each other
    assert one_per_filesystem(rows, "") == rows
