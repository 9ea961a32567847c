"""Fleet triage over SSH: medic versus Ansible on the same loopback hosts, side by side in one run.

    .venv/bin/python bench/ssh_bench.py [--hosts 20,50] [--repeat 3] [--ansible-repeat 2] [--no-cold]

Starts N OpenSSH servers with ../shared/peers/sshhosts.sh (127.0.0.2..., port 2222, host key checking on for
both tools), then for each N and each repetition runs, interleaved so machine load hits all alike:

* ansible : ../shared/peers/ansible-run.sh N (ansible-triage.yml: the eight checks, forks 50, pipelining)
* warm    : medic run bench/ssh-triage.yaml --inventory ... (Prefect engine, server already running)
* cold    : the same with no PREFECT_API_URL (Prefect starts a temporary server for the run)
* inline  : the same with --engine inline (no Prefect), for reference

It prints medians, the ratios medic/Ansible, the cost per added host ((t(max N) - t(min N)) / (max N - min N))
and the peak RSS of each command's whole process tree (sampled every 50 ms), and writes the figures as JSON to
bench/results/. Needs root (sshd), psutil and network access once for Ansible's private venv.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = Path(os.environ.get("MEDIC_PEERS", REPO.parent / "shared" / "peers"))
MEDIC = str(Path(sys.executable).with_name("medic"))
PLAYBOOK = HERE / "ssh-triage.yaml"
CHECKS = 8


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def measure(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, exit code, output and peak RSS (whole process tree) of one command."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        ps = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                peak[0] = max(peak[0], tree_rss(ps))
            except psutil.Error:
                return
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    return {"wall_s": wall, "rc": proc.returncode, "stdout": out, "stderr": err,
            "peak_rss_mb": peak[0] / 2**20}


def start_hosts(n: int, directory: str) -> None:
    subprocess.run(["bash", str(PEERS / "sshhosts.sh"), str(n), directory], check=True,
                   stdout=subprocess.DEVNULL)


def write_inventory(n: int, directory: str, path: Path) -> None:
    hosts = {f"h{i}": {"address": f"127.0.0.{i}"} for i in range(2, n + 2)}
    body = {"known_hosts": f"{directory}/known_hosts",
            "defaults": {"user": "root", "port": 2222, "key_file": f"{directory}/client",
                         "python": "/usr/bin/python3"},  # as ansible-run.sh's interpreter_python
            "hosts": hosts}
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_prefect(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    prefect = str(Path(sys.executable).with_name("prefect"))
    server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            probe = subprocess.run(["curl", "-sf", f"{url}/health"], capture_output=True, check=False)
            if probe.returncode == 0:
                return server, url
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("the Prefect server did not become healthy within 120 s")


def medic_run(kind: str, n: int, inventory: Path, env: dict[str, str]) -> dict[str, Any]:
    limit = ",".join(f"h{i}" for i in range(2, n + 2))
    argv = [MEDIC, "run", str(PLAYBOOK), "--inventory", str(inventory), "--limit", limit, "--json"]
    if kind == "inline":
        argv += ["--engine", "inline"]
    m = measure(argv, env)
    try:
        doc = json.loads(m["stdout"])
    except ValueError:
        raise SystemExit(f"medic {kind} {n}: no JSON (exit {m['rc']}): {m['stderr'][-2000:]}") from None
    m["checks"] = sum(1 for f in doc["findings"] if f["check"] != "target.reachable")
    m["unreachable"] = doc["summary"]["unreachable"]
    if m["unreachable"] or len(doc["targets"]) != n:
        raise SystemExit(f"medic {kind} {n}: unreachable {m['unreachable']}, {len(doc['targets'])} targets")
    m["run_duration_s"] = doc["duration_s"]
    del m["stdout"], m["stderr"]
    return m


def ansible_run(n: int, directory: str) -> dict[str, Any]:
    m = measure(["bash", str(PEERS / "ansible-run.sh"), str(n), directory], dict(os.environ))
    recap = [line for line in m["stdout"].splitlines() if " ok=" in line]
    bad = [line for line in recap if "unreachable=0" not in line or "failed=0" not in line]
    if m["rc"] != 0 or len(recap) != n or bad:
        raise SystemExit(f"ansible {n}: exit {m['rc']}, {len(recap)} hosts in recap, bad: {bad[:3]}\n"
                         f"{m['stdout'][-1500:]}{m['stderr'][-1500:]}")
    del m["stdout"], m["stderr"]
    return m


def summarize(runs: dict[str, dict[int, list[dict[str, Any]]]], sizes: list[int]) -> dict[str, Any]:
    med = {k: {n: statistics.median(r["wall_s"] for r in v[n]) for n in sizes} for k, v in runs.items()}
    rss = {k: {n: max(r["peak_rss_mb"] for r in v[n]) for n in sizes} for k, v in runs.items()}
    lo, hi = min(sizes), max(sizes)
    per_host = {k: (med[k][hi] - med[k][lo]) / (hi - lo) if hi > lo else None for k in runs}
    ratio = {k: {n: med[k][n] / med["ansible"][n] for n in sizes} for k in runs if k != "ansible"}
    return {"median_wall_s": med, "peak_rss_mb": rss, "per_added_host_s": per_host, "ratio_vs_ansible": ratio}


def report(summary: dict[str, Any], sizes: list[int], kinds: list[str]) -> None:
    med, rss, per, ratio = (summary[k] for k in ("median_wall_s", "peak_rss_mb", "per_added_host_s",
                                                  "ratio_vs_ansible"))
    print(f"\n{'tool':<10}" + "".join(f"{f'{n} hosts':>12}{'RSS MB':>9}{'ratio':>8}" for n in sizes)
          + f"{'s/added host':>14}{'vs ansible':>11}")
    for k in kinds:
        row = f"{k:<10}"
        for n in sizes:
            r = f"{ratio[k][n]:.2f}" if k in ratio else "1"
            row += f"{med[k][n]:>11.2f}s{rss[k][n]:>9.0f}{r:>8}"
        p = per[k]
        rel = f"{p / per['ansible']:.2f}" if p is not None and per["ansible"] else "-"
        row += f"{p:>13.3f}s{rel:>11}" if p is not None else f"{'-':>14}{'-':>11}"
        print(row)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default="20,50", help="comma-separated fleet sizes (default 20,50)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each medic variant per size (median)")
    ap.add_argument("--ansible-repeat", type=int, default=2, help="Ansible runs per size (median)")
    ap.add_argument("--no-cold", action="store_true", help="skip medic with a temporary Prefect server")
    ap.add_argument("--dir", default="/tmp/medic-sshhosts", help="sshhosts.sh directory (keys, known_hosts)")
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.hosts.split(","))
    kinds = ["ansible", "warm", *([] if args.no_cold else ["cold"]), "inline"]
    start_hosts(max(sizes), args.dir)
    work = Path(tempfile.mkdtemp(prefix="medic-ssh-bench-"))
    inventory = work / "inventory.yaml"
    write_inventory(max(sizes), args.dir, inventory)
    base = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "XDG_STATE_HOME": str(work / "state"), "MEDIC_CONFIG": str(work / "config.yaml")}
    (work / "config.yaml").write_text("{}\n")
    base.pop("PREFECT_API_URL", None)
    server, url = start_prefect(work / "prefect-warm")
    envs = {"warm": {**base, "PREFECT_API_URL": url, "PREFECT_HOME": str(work / "prefect-warm")},
            "cold": {**base, "PREFECT_HOME": str(work / "prefect-cold")},
            "inline": base}
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {k: {n: [] for n in sizes} for k in kinds}
    try:
        for k in kinds:  # once untimed: Prefect creates its database (cold: in its own home) on first use
            if k != "ansible":
                medic_run(k, 1, inventory, envs[k])
        for n in sizes:
            for rep in range(max(args.repeat, args.ansible_repeat)):
                for k in kinds:
                    if k == "ansible" and rep < args.ansible_repeat:
                        runs[k][n].append(ansible_run(n, args.dir))
                    elif k != "ansible" and rep < args.repeat:
                        runs[k][n].append(medic_run(k, n, inventory, envs[k]))
                    else:
                        continue
                    last = runs[k][n][-1]
                    print(f"{n:>3} hosts  {k:<8} {last['wall_s']:6.2f} s  "
                          f"peak RSS {last['peak_rss_mb']:5.0f} MB", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = summarize(runs, sizes)
    report(summary, sizes, kinds)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (out / f"ssh-{stamp}.json").write_text(json.dumps({"sizes": sizes, "runs": runs, **summary}, indent=2,
                                                      default=str))
    print(f"\nload average at the end: {os.getloadavg()}; figures in bench/results/ssh-{stamp}.json")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
