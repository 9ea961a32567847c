"""How soon the collector lets go of an upload whose agent was killed mid-PATCH, and where a restart's time goes.

    .venv/bin/python bench/collector_release.py [--kills 15] [--chunk 8388608]

Each round: `medic-agent upload --json` is killed with SIGKILL a random moment into a PATCH; at once this process
sends HEAD on a TLS connection it opened beforehand. The collector answers HEAD only when no PATCH holds the upload
(patch.wait_idle), so kill -> HEAD answered is what the collector adds to a resume (the dropped PATCH's bytes still
in flight are read, then truncated away). Then a new `medic-agent upload` resumes and is timed from its start to its
"resumed" event (Python, imports, state, TLS, HEAD), against `python -c pass` and the agent's imports alone.
Byte code compiled once, as installed (bench/collector_bench.py, ``--bytecode``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from collector_bench import AGENT, AGENT_MODULES, bytecode, make_bundle, startup, timed  # noqa: E402
from collector_helpers import TUS, start_collector  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=15)
    parser.add_argument("--chunk", type=int, default=8 << 20)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        bytecode("cached", base)
        bundle = make_bundle(base / "medic-bundle-bench.tar.gz", 2 * (args.kills + 2) * args.chunk >> 20)
        running = start_collector(base / "c", extra_config="default_quota: 1TiB\n")
        pem = (base / "c" / "pki" / "server.pem").read_text()
        pin = "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
        env = {**os.environ, "MEDIC_AGENT_STATE_DIR": str(base / "state")}
        timed([AGENT, "enroll", running.server.url, "--code", running.code("release", 1 << 40), "--pin", pin], env)
        token = json.loads((base / "state" / "enrollment.json").read_text())["token"]
        argv = [AGENT, "upload", str(bundle), "--keep", "--json", "--chunk-size", str(args.chunk)]
        release, restart, alone = [], [], []
        try:
            with running.client(token) as client:
                for _ in range(args.kills):
                    started = time.perf_counter()
                    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
                    assert proc.stdout is not None
                    location, start = "", 0
                    for line in proc.stdout:
                        event = json.loads(line)
                        if event["event"] in ("created", "resumed"):
                            location, start = event["location"], event["offset"]
                            if event["event"] == "resumed":
                                restart.append(time.perf_counter() - started)
                        if event["event"] == "chunk" and event["offset"] > start:  # acked: kill inside the next PATCH
                            client.options("/files/")  # the connection is open and warm (HEAD would wait)
                            time.sleep(rng.uniform(0.2, 0.8) * args.chunk / (200 << 20))
                            proc.send_signal(signal.SIGKILL)
                            killed = time.perf_counter()
                            answer = client.head(location, headers=TUS)
                            release.append(time.perf_counter() - killed)
                            assert answer.status_code == 200, answer.text
                            again = time.perf_counter()
                            client.head(location, headers=TUS)  # nothing to wait for now: HEAD's own time
                            alone.append(time.perf_counter() - again)
                            break
                    proc.wait()
        finally:
            running.server.stop()
        python = startup([sys.executable, "-c", "pass"])
        imports = startup([sys.executable, "-c", AGENT_MODULES])
    ms = [round(r * 1000, 1) for r in sorted(release)]
    print(f"kill -> HEAD answered (the collector lets go of the dropped PATCH): median "
          f"{statistics.median(release) * 1000:.1f} ms, max {max(release) * 1000:.1f} ms over {len(release)}: {ms}; "
          f"a HEAD right after it {statistics.median(alone) * 1000:.1f} ms (median)")
    print(f"new medic-agent upload, start -> resumed: median {statistics.median(restart) * 1000:.1f} ms over "
          f"{len(restart)}; python -c pass {python * 1000:.1f} ms, with the agent's imports {imports * 1000:.1f} ms "
          f"(medians of 5); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
