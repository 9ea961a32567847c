"""The fast path of ``medic run`` beside an empty served flow, submitted and followed the same way (issue 18).

Starts a Prefect server (temporary home, an auth string, a free loopback port) and ONE serving process
(``serve()``, ``PREFECT_RUNNER_POLL_FREQUENCY=1``) with two deployments: ``medic-playbook/triage`` (medic's flow)
and ``bench-empty/empty`` (a flow that does nothing). Then, alternating, ``--repeat`` times each:

- ``medic run triage`` (the whole command: Python's start, submit, follow, findings; the CLI never imports Prefect);
- triage submitted and followed by this script (``POST /deployments/{id}/create_flow_run``, then the run's state
  every 0.1 s until it ends, then its ``medic-findings`` artifact): what the fast path costs without the command;
- the empty flow submitted and followed the same way.

Medians and the differences. ``--breakdown`` also prints, for the last triage run, where the time went (the
timestamps Prefect records: created, scheduled start, Pending, Running, end).

``--warm-worker`` then measures the moonshot (submit to report <= 1.5 s): the serving process stops, ``medic
deploy --pool bench-warm --playbook triage`` moves the triage deployment to a work pool, and ``medic worker
--start warm`` (each run forked from a process that imported Prefect and medic once) polls it every
``--query-seconds``; ``medic run triage`` is timed again, whole command, with the breakdown of a followed run.

    .venv/bin/python bench/fast_path_bench.py --repeat 7 --breakdown [--warm-worker --query-seconds 0.5]
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

AUTH = "bench:fast-path"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}
REPO = Path(__file__).resolve().parents[1]


def serve_both() -> None:
    """The serving process: triage (as medic deploys it) and the empty flow, one serve() loop."""
    from medic.flows import prefect_env

    prefect_env.configure()
    from prefect import flow, serve
    from prefect.utilities.callables import ParameterSchema

    from medic.core.session import Session
    from medic.flows.deployed import entrypoint
    from medic.flows.playbook_flow import parameter_schema, playbook_flow

    playbook = Session().load_playbook("triage")
    triage = playbook_flow(playbook).to_deployment(name="triage", tags=["medic", "playbook:triage"])
    triage.entrypoint = entrypoint("triage")  # the module entrypoint medic deploy gives it
    triage._parameter_openapi_schema = ParameterSchema(**parameter_schema(playbook))
    empty = flow(name="bench-empty", persist_result=False)(_empty).to_deployment(name="empty")
    empty.entrypoint = "bench.fast_path_bench:empty_flow"
    serve(triage, empty, print_starting_message=False)


def _empty() -> None:
    return None


def __getattr__(name: str) -> Any:  # the served process imports the empty flow by entrypoint
    if name == "empty_flow":
        from prefect import flow

        return flow(name="bench-empty", persist_result=False)(_empty)
    raise AttributeError(name)


def load() -> str:
    """The load average (1, 5, 15 min): the machine is shared, every section prints it."""
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, ready: Any, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.2)


def submit_and_follow(http: httpx.Client, deployment_id: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    for attempt in range(12):  # a busy SQLite server answers 503; Prefect's client and medic's ask again
        answer = http.post(f"deployments/{deployment_id}/create_flow_run", json={"parameters": {}})
        if answer.status_code != 503:
            break
        time.sleep(min(0.2 * 2**attempt, 3.0))
    if answer.status_code >= 400:
        raise SystemExit(f"create_flow_run: HTTP {answer.status_code} {answer.text[:500]}")
    run = answer.json()
    while True:
        got = http.get(f"flow_runs/{run['id']}")
        if got.status_code == 200:
            run = got.json()
        if got.status_code == 200 and run["state"]["type"] in TERMINAL:
            break
        time.sleep(0.1)
    http.post("artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    return time.perf_counter() - started, run


def medic_run(env: dict[str, str]) -> float:
    return medic_run_timed(env)[0]


# ``medic run`` with its follower's event stream turned off (medic.cli.run_events never opens it): the follower
# then polls every 0.15 s, as it did before the stream. For --follow-ab only.
POLL_ONLY = ("import sys; from medic.cli import run_events; run_events.RunEvents.start = lambda self: self; "
             "from medic.cli.main import entry; sys.argv[0] = 'medic'; sys.exit(entry())")


def medic_run_timed(env: dict[str, str], poll_only: bool = False) -> tuple[float, float, float, str]:
    """The whole command's wall, its CPU (user + system of the child), when it started (epoch) and its run id."""
    before = os.times()
    started_at, started = time.time(), time.perf_counter()
    command = ([str(REPO / ".venv/bin/python"), "-c", POLL_ONLY] if poll_only else [str(REPO / ".venv/bin/medic")])
    done = subprocess.run([*command, "run", "triage", "--submit", "server"], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode not in (0, 1):
        raise SystemExit(f"medic run triage: exit {done.returncode}\n{done.stderr[-2000:]}")
    found = re.search(r"\(([0-9a-f-]{36})\)", done.stderr)
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, started_at, found.group(1) if found else ""


def breakdown(run: dict[str, Any]) -> str:
    def at(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

    created, start, end = at(run.get("created")), at(run.get("start_time")), at(run.get("end_time"))
    if not (created and start and end):
        return "  (no timestamps)"
    waited, ran = (start - created).total_seconds(), (end - start).total_seconds()
    return (f"  created -> Running (the poll, the run's process started): {waited:.2f} s\n"
            f"  Running -> end (the flow itself):                         {ran:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--warm-worker", action="store_true", help="then the same through medic worker --start warm")
    parser.add_argument("--query-seconds", type=float, default=0.5, help="the warm worker's poll (default 0.5 s)")
    parser.add_argument("--medic-serve", action="store_true",
                        help="then the same through medic serve --playbook triage (warm starts, poll 1 s)")
    parser.add_argument("--follow-ab", action="store_true",
                        help="with --warm-worker: then medic run triage with and without its event stream, in "
                             "interleaved pairs, by phase")
    parser.add_argument("--skip-served", action="store_true",
                        help="skip the served empty flow and Prefect's serve() (for --follow-ab alone)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_both()
        return
    print(f"start {time.strftime('%H:%M:%S', time.gmtime())} UTC, {load()}", flush=True)
    base = Path(tempfile.mkdtemp(prefix="medic-fast-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    quiet = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env = {**os.environ, **quiet, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    server_env = {**env, "PREFECT_HOME": str(base / "server"), "PREFECT_SERVER_API_AUTH_STRING": AUTH,
                  "PREFECT_UI_ENABLED": "false"}
    client_env = {**env, "PREFECT_HOME": str(base / "client"), "PREFECT_API_URL": url,
                  "PREFECT_API_AUTH_STRING": AUTH, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    procs = []
    try:
        procs.append(subprocess.Popen([str(REPO / ".venv/bin/prefect"), "server", "start", "--host", "127.0.0.1",
                                       "--port", str(port), "--no-ui"], env=server_env, start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        header = {"Authorization": "Basic " + base64.b64encode(AUTH.encode()).decode()}
        http = httpx.Client(base_url=url + "/", headers=header, timeout=30)
        wait_for("server", lambda: _ok(http, "health"))
        procs.append(subprocess.Popen([sys.executable, __file__, "--serve"], env=client_env, cwd=REPO,
                                      start_new_session=True, stdout=subprocess.DEVNULL,
                                      stderr=open(base / "serve.log", "wb")))  # noqa: SIM115
        names = ("medic-playbook/triage", "bench-empty/empty")
        wait_for("deployments", lambda: all(_ready(http, n) for n in names))
        ids = {n: http.get(f"deployments/name/{n}").json()["id"] for n in names}
        submit_and_follow(http, ids["bench-empty/empty"])  # a first run of each warms the OS caches
        submit_and_follow(http, ids["medic-playbook/triage"])
        cli, triage, empty = [], [], []
        last: dict[str, Any] = {}
        for _ in range(0 if args.skip_served else args.repeat):
            empty.append(submit_and_follow(http, ids["bench-empty/empty"])[0])
            wall, last = submit_and_follow(http, ids["medic-playbook/triage"])
            triage.append(wall)
            cli.append(medic_run(client_env))
        if not args.skip_served:
            print(f"served (Prefect's serve(), cold starts, poll 1 s), {load()}:")
            report(cli, triage, empty)
        if args.breakdown and last:
            print("last triage run, from the server's timestamps:")
            print(breakdown(last))
        if args.warm_worker or args.medic_serve:
            os.killpg(procs.pop().pid, signal.SIGTERM)  # the serve() process: the worker takes triage from here
        if args.medic_serve:
            served = medic_serve(http, client_env, base, procs)
            timed_runs("medic serve --playbook triage (warm starts, poll 1 s)", http, ids["medic-playbook/triage"],
                       client_env, args)
            os.killpg(served.pid, signal.SIGINT)
            served.wait(timeout=60)
            procs.remove(served)
        if args.warm_worker:
            warm_worker(http, ids["medic-playbook/triage"], client_env, base, args, procs)
        print(f"end {time.strftime('%H:%M:%S', time.gmtime())} UTC, {load()}", flush=True)
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def medic_serve(http: httpx.Client, env: dict[str, str], base: Path, procs: list[subprocess.Popen[bytes]]
                ) -> subprocess.Popen[bytes]:
    """``medic serve --playbook triage``: Prefect's runner with medic's warm starts (flows.warm_serve)."""
    proc = subprocess.Popen([str(REPO / ".venv/bin/medic"), "serve", "--playbook", "triage"], env=env, cwd=REPO,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=open(base / "medic-serve.log", "wb"))  # noqa: SIM115
    procs.append(proc)
    time.sleep(5)  # its deployment is applied again (same id), then polled
    wait_for("medic serve", lambda: _ready(http, "medic-playbook/triage"))
    return proc


def timed_runs(label: str, http: httpx.Client, triage_id: str, env: dict[str, str], args: argparse.Namespace
               ) -> None:
    submit_and_follow(http, triage_id)  # the first run warms the forkserver and the OS caches
    cli, followed = [], []
    for _ in range(args.repeat):
        followed.append(submit_and_follow(http, triage_id)[0])
        cli.append(medic_run(env))
    print(f"{label}, {load()}:")
    print(f"{'medic run triage (fast path, whole command)':<52} median {statistics.median(cli):6.2f} s  "
          f"[{', '.join(f'{w:.2f}' for w in cli)}]")
    print(f"{'triage submitted and followed (httpx, this script)':<52} median {statistics.median(followed):6.2f} s  "
          f"[{', '.join(f'{w:.2f}' for w in followed)}]")
    if args.breakdown:
        phases(http, env, args.repeat)


def warm_worker(http: httpx.Client, triage_id: str, env: dict[str, str], base: Path, args: argparse.Namespace,
                procs: list[subprocess.Popen[bytes]]) -> None:
    medic = str(REPO / ".venv/bin/medic")
    deployed = subprocess.run([medic, "deploy", "--pool", "bench-warm", "--playbook", "triage"], env=env,
                              capture_output=True, text=True, check=False)
    if deployed.returncode != 0:
        raise SystemExit(f"medic deploy: exit {deployed.returncode}\n{deployed.stderr[-2000:]}")
    worker_env = {**env, "PREFECT_WORKER_QUERY_SECONDS": str(args.query_seconds)}
    procs.append(subprocess.Popen([medic, "worker", "--pool", "bench-warm", "--start", "warm"], env=worker_env,
                                  cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=open(base / "worker.log", "wb")))  # noqa: SIM115
    submit_and_follow(http, triage_id)  # the first run waits for the worker to start and warms its forkserver
    if args.follow_ab and args.skip_served:
        follow_ab(http, env, args.repeat)
        return
    cli, followed, runs = [], [], []
    for _ in range(args.repeat):
        wall, run = submit_and_follow(http, triage_id)
        followed.append(wall)
        runs.append(run)
        cli.append(medic_run(env))
    median = statistics.median(cli)
    print(f"warm worker (medic worker --start warm, poll {args.query_seconds:g} s), {load()}:")
    print(f"{'medic run triage (fast path, whole command)':<52} median {median:6.2f} s  "
          f"[{', '.join(f'{w:.2f}' for w in cli)}]  moonshot <= 1.5 s: {'met' if median <= 1.5 else 'not met'}")
    print(f"{'triage submitted and followed (httpx, this script)':<52} median {statistics.median(followed):6.2f} s  "
          f"[{', '.join(f'{w:.2f}' for w in followed)}]")
    if args.breakdown:
        print("last followed triage run, from the server's timestamps:")
        print(breakdown(runs[-1]))
        phases(http, env, args.repeat)
    if args.follow_ab:
        follow_ab(http, env, args.repeat)


def follow_ab(http: httpx.Client, env: dict[str, str], repeat: int) -> None:
    """``medic run triage`` following its run through the event stream, and polling only (POLL_ONLY), in
    interleaved pairs (which goes first alternates): the phases of each, medians."""
    rows: dict[bool, dict[str, list[float]]] = {False: {}, True: {}}
    print(f"follow A/B, event stream vs poll only ({repeat} pairs), {load()}:", flush=True)
    for pair in range(repeat):
        for poll_only in ((False, True) if pair % 2 == 0 else (True, False)):
            wall, _, started_at, run_id = medic_run_timed(env, poll_only)
            if run_id:
                for name, seconds in run_phases(http, run_id, started_at, started_at + wall).items():
                    rows[poll_only].setdefault(name, []).append(seconds)
    for poll_only, label in ((False, "event stream (medic run as shipped)"), (True, "poll only (0.15 s)")):
        print(f"  {label}:")
        for name, values in rows[poll_only].items():
            print(f"    {name:<58} {statistics.median(values):6.3f} s  [{', '.join(f'{v:.2f}' for v in values)}]")
    print(f"  {load()}", flush=True)


def phases(http: httpx.Client, env: dict[str, str], repeat: int) -> None:
    """Where a whole ``medic run triage`` goes, median of ``repeat`` runs: the server's timestamps of its flow
    run, its states, task runs and artifacts, against when the command started and ended (same clock)."""
    rows: dict[str, list[float]] = {}
    cpus = []
    for _ in range(repeat):
        wall, cpu, started_at, run_id = medic_run_timed(env)
        cpus.append(cpu)
        if not run_id:
            continue
        for name, seconds in run_phases(http, run_id, started_at, started_at + wall).items():
            rows.setdefault(name, []).append(seconds)
    print(f"whole medic run triage, by phase (median of {repeat}; CPU of the command: median "
          f"{statistics.median(cpus):.2f} s):")
    for name, values in rows.items():
        print(f"  {name:<58} {statistics.median(values):6.3f} s  [{', '.join(f'{v:.2f}' for v in values)}]")


def run_phases(http: httpx.Client, run_id: str, started_at: float, ended_at: float) -> dict[str, float]:
    def at(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    run = http.get(f"flow_runs/{run_id}").json()
    states = {st["type"]: at(st["timestamp"]) for st in http.get("flow_run_states/", params={"flow_run_id": run_id}
                                                                  ).json()}
    tasks = http.post("task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}}).json()
    arts = http.post("artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
    created, end = at(run["created"]), at(run["end_time"])
    pending, running = states.get("PENDING", created), states.get("RUNNING", created)
    first = min((at(t["start_time"]) for t in tasks if t.get("start_time")), default=running)
    last = max((at(t["end_time"]) for t in tasks if t.get("end_time")), default=first)
    art = max((at(a["created"]) for a in arts), default=last)
    return {"CLI start to the run created (Python, imports, GET deployment, POST)": created - started_at,
            "created -> Pending (the worker's poll picks it up)": pending - created,
            "Pending -> Running (fork, engine set-up, flow loaded)": running - pending,
            "Running -> first task starts (session, playbook, targets, tags)": first - running,
            f"first task start -> last task end ({len(tasks)} task runs)": last - first,
            "last task end -> last artifact created (history, publish)": art - last,
            "last artifact -> run ends (final state)": end - art,
            "run ends -> command exits (follow poll, artifacts, table)": ended_at - end,
            "whole command": ended_at - started_at}


def _ok(http: httpx.Client, path: str) -> bool:
    try:
        return http.get(path).status_code == 200
    except httpx.HTTPError:
        return False


def _ready(http: httpx.Client, name: str) -> bool:
    try:
        answer = http.get(f"deployments/name/{name}")
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.json().get("status") == "READY"


def report(cli: list[float], triage: list[float], empty: list[float]) -> None:
    def line(label: str, walls: list[float]) -> str:
        return f"{label:<52} median {statistics.median(walls):6.2f} s  [{', '.join(f'{w:.2f}' for w in walls)}]"

    print(line("medic run triage (fast path, whole command)", cli))
    print(line("triage submitted and followed (httpx, this script)", triage))
    print(line("empty flow submitted and followed (httpx, this script)", empty))
    print(f"medic run triage - empty flow: {statistics.median(cli) - statistics.median(empty):+.2f} s; "
          f"triage followed - empty flow: {statistics.median(triage) - statistics.median(empty):+.2f} s")


if __name__ == "__main__":
    main()
