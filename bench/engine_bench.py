"""Foundation benchmarks, each side by side with a bare Prefect flow in the same run.

  1. cold `medic run triage` (Prefect's temporary server) vs a bare one-task flow on a temporary server
  2. warm: the same two against a long-running local Prefect server (PREFECT_API_URL)
  3. per-step overhead: a synthetic 200-step playbook inside a running flow vs 200 trivial Prefect tasks
  4. commands that run no flow (`medic playbooks list`, `medic --help`) and `import prefect`

Usage: python bench/engine_bench.py [--repeat 3] [--skip-warm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import time_command

HERE = Path(__file__).resolve().parent
PY = sys.executable
MEDIC = [PY, "-m", "medic.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def synthetic_playbook(path: Path, steps: int) -> Path:
    lines = ["name: synthetic", "steps:"]
    lines += [f"  - {{id: s{i}, check: system.os_info}}" for i in range(steps)]
    path.write_text("\n".join(lines) + "\n")
    return path


def per_step(env: dict[str, str], work: Path, steps: int) -> None:
    pb = synthetic_playbook(work / "synthetic.yaml", steps)
    code = (
        "import time, sys\n"
        "from medic.core.session import Session\n"
        "from medic.flows.runner import run_with_prefect\n"
        "from medic.core.engine import Engine\n"
        "from medic.plugins.targets.local import LocalTarget\n"
        "s = Session(config={})\n"
        f"pb = s.load_playbook({str(pb)!r})\n"
        "t = LocalTarget(s.registry.probes)\n"
        "t0 = time.perf_counter(); Engine(s.registry).run(pb, [t], {}); inline = time.perf_counter() - t0\n"
        "run_with_prefect(s, s.load_playbook('slow-system'), [LocalTarget(s.registry.probes)], {})  # warm-up\n"
        "t0 = time.perf_counter(); r = run_with_prefect(s, pb, [t], {}); total = time.perf_counter() - t0\n"
        "print(f'inline_s={inline:.4f} flow_total_s={total:.4f} engine_in_flow_s={r.duration_s:.4f}')\n"
    )
    medic_out = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    bare_out = subprocess.run([PY, str(HERE / "bare_flow.py"), str(steps)], capture_output=True, text=True,
                              env=env, check=True).stdout
    vals = dict(kv.split("=") for kv in medic_out.split())
    bare_inside = float(bare_out.split("inside_flow_s=")[1])
    in_flow = float(vals["engine_in_flow_s"])
    print(f"  {steps} steps, inline engine (no Prefect):  {float(vals['inline_s']) * 1000 / steps:.2f} ms/step")
    print(f"  {steps} steps inside a medic flow:          {in_flow * 1000 / steps:.2f} ms/step "
          f"(flow wall incl. creation {float(vals['flow_total_s']):.2f} s)")
    print(f"  {steps} trivial tasks in a bare flow:       {bare_inside * 1000 / steps:.2f} ms/task")
    print(f"  medic overhead per step over a bare task:  {(in_flow - bare_inside) * 1000 / steps:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--skip-warm", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medic-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update({"PREFECT_HOME": str(work / "prefect-home"), "MEDIC_STATE_DIR": str(work / "state"),
                "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    # as a user's machine: byte-code cached (a session may export PYTHONDONTWRITEBYTECODE), caches warm
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([*MEDIC, "run", "triage", "--engine", "inline"], env=env, capture_output=True, check=False)
    subprocess.run([PY, "-c", "import prefect"], env=env, capture_output=True, check=False)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, repeat {args.repeat}")

    print("\n[no-flow commands]")
    for label, argv in (("medic --help", [*MEDIC, "--help"]), ("medic playbooks list", [*MEDIC, "playbooks", "list"]),
                        ("medic checks list", [*MEDIC, "checks", "list"]),
                        ("python -c 'import prefect'", [PY, "-c", "import prefect"])):
        print(time_command(label, argv, repeat=5, env=env).line())

    print("\n[cold: Prefect temporary server]")
    bare = time_command("bare one-task flow (temporary server)", [PY, str(HERE / "bare_flow.py")], args.repeat, env)
    cold = time_command("medic run triage (temporary server)", [*MEDIC, "run", "triage"], args.repeat, env)
    inline = time_command("medic run triage --engine inline", [*MEDIC, "run", "triage", "--engine", "inline"],
                          args.repeat, env)
    for t in (bare, cold, inline):
        print(t.line())
    print(f"  cold medic - bare flow = {cold.median - bare.median:+.2f} s (ratio {cold.median / bare.median:.2f})")

    if not args.skip_warm:
        print("\n[warm: long-running local Prefect server]")
        port = free_port()
        server_env = {**env, "PREFECT_SERVER_API_PORT": str(port)}
        server = subprocess.Popen([PY, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                                   str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=server_env)
        try:
            api = f"http://127.0.0.1:{port}/api"
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.5)
            time.sleep(2)
            warm_env = {**env, "PREFECT_API_URL": api}
            wbare = time_command("bare one-task flow (warm server)", [PY, str(HERE / "bare_flow.py")],
                                 args.repeat, warm_env)
            warm = time_command("medic run triage (warm server)", [*MEDIC, "run", "triage"], args.repeat, warm_env)
            print(wbare.line())
            print(warm.line())
            print(f"  warm medic - bare flow = {warm.median - wbare.median:+.2f} s")
            print("\n[per-step overhead, warm server]")
            per_step(warm_env, work, args.steps)
        finally:
            server.terminate()
            server.wait(30)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
