"""Backup + verify of a directory tree on an SSH host, against the bare remote command in the same run.

    medic run backup-before-change -t h2 -i path=TREE     (backup and its verification on the host in one
                                                           call: the tar re-read by a child process as it is
                                                           written, hash and members checked; entry here)
    ssh -p 2222 root@127.0.0.2 'tar -cf - TREE | sha256sum'   (the peer: archive and hash once, no verification)

The host is one of ../shared/peers/sshhosts.sh (OpenSSH on 127.0.0.2, port 2222); the tree is the same mixed
tree as bench/change_bench.py. Medians of --repeat pairs (the order within a pair alternating, after one
medic run that compiles its byte-code and writes its plugin index) and each pair's ratio; the load average at
the start and the end.

    .venv/bin/python bench/ssh_change_bench.py --size-mb 512 --repeat 3
    ... --other "PYTHON WRAPPER.py"   (one more side in every round, repeatable: another medic, e.g. a wrapper that
                                       imports an older checkout's plugins; the order rotates within each round)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from change_bench import make_tree  # bench/ is on the path: the scripts run from there
from ssh_bench import start_hosts, write_inventory

HOSTS_DIR = "/tmp/medic-sshhosts"


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])}... exited {proc.returncode}: {proc.stderr[-1500:]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--other", action="append", default=[], help="command prefix of another medic (instead "
                        "of python -m medic.cli.main) timed in the same rounds; repeatable")
    args = parser.parse_args()
    start_hosts(1, HOSTS_DIR)
    work = Path(tempfile.mkdtemp(prefix="medic-sshchange-"))
    try:
        tree = work / "tree"
        files = make_tree(tree, args.size_mb)
        inventory = work / "inventory.yaml"
        write_inventory(1, HOSTS_DIR, inventory)
        text = inventory.read_text().replace("hosts:\n  h2:\n    address: 127.0.0.2\n",
                                             f"hosts:\n  h2:\n    address: 127.0.0.2\n    vars:\n"
                                             f"      backup_dir: {work / 'remote-backups'}\n")
        inventory.write_text(text)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(MEDIC_STATE_DIR=str(work / "state"), MEDIC_ENGINE="inline")
        medic = [sys.executable, "-m", "medic.cli.main", "run", "backup-before-change", "--inventory",
                 str(inventory), "-t", "h2", "-i", f"path={tree}"]
        peer = ["ssh", "-p", "2222", "-i", f"{HOSTS_DIR}/client", "-o", f"UserKnownHostsFile={HOSTS_DIR}/known_hosts",
                "-o", "StrictHostKeyChecking=yes", "root@127.0.0.2", f"tar -cf - -C {tree} . | sha256sum"]
        argvs = {"peer": peer, "medic": medic}
        for n, other in enumerate(args.other, 1):
            argvs[f"other{n}"] = other.split() + medic[3:]
        subprocess.run(["sync"], check=True)
        for side in argvs:  # byte-code compiled and the plugin index written once, as on a user's machine
            if side != "peer":
                timed(argvs[side], env)
        times: dict[str, list[float]] = {side: [] for side in argvs}
        print(f"load average at the start: {os.getloadavg()[0]:.2f}")
        for i in range(args.repeat):
            order = list(argvs)
            for side in order[i % len(order):] + order[: i % len(order)]:  # the order rotates
                shutil.rmtree(work / "remote-backups", ignore_errors=True)
                times[side].append(timed(argvs[side], env))
        print(f"tree: {args.size_mb} MiB in {files} files, on host h2 (127.0.0.2:2222)")
        labels = {"peer": "ssh tar -cf - | sha256sum", "medic": "medic backup + verify over SSH"}
        for side, runs in times.items():
            label = labels.get(side, side + " (--other)")
            print(f"{label:<32} median {statistics.median(runs):7.2f} s  {[round(t, 2) for t in runs]}")
        for side in [s for s in times if s != "peer"]:
            ratios = [ours / theirs for ours, theirs in zip(times[side], times["peer"], strict=True)]
            print(f"ratio {side}/peer: median {statistics.median(ratios):.2f}  {[round(r, 2) for r in ratios]}")
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
