"""The fast path of ``medic run`` and ``medic runs`` against a real Prefect server and a real ``medic worker``.

One server for the session (tests/prefectsvc.py); ``medic deploy --playbook fastprobe`` and one ``medic worker``
subprocess for this module (worker poll 1 s). The fast path must give the same findings and exit code as
``--engine inline``, name the flow run it submitted, write the run's report, and ``medic runs`` must list, show
and cancel server runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefectsvc import PrefectService

PLAYBOOK = """\
    name: fastprobe
    description: Deterministic checks for the fast path tests.
    inputs:
      minimum_version: {type: version, default: "3.8", description: lowest acceptable Python}
    targets: [local]
    steps:
      - id: dns
        check: network.dns_resolve
        with: {host: localhost}
      - id: version
        check: software.command_version
        with: {command: [python3, --version], minimum: "{{ inputs.minimum_version }}"}
"""


def medic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture(scope="module")
def served(prefect_service: PrefectService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The env of a client of the server where a ``medic worker`` polls medic-playbook/fastprobe (READY)."""
    base = tmp_path_factory.mktemp("fast")
    (base / "playbooks").mkdir()
    (base / "playbooks" / "fastprobe.yaml").write_text(textwrap.dedent(PLAYBOOK))
    env = prefect_service.subprocess_env(MEDIC_PLAYBOOK_PATH=str(base / "playbooks"),
                                         MEDIC_STATE_DIR=str(base / "state"), PREFECT_WORKER_QUERY_SECONDS="1",
                                         MEDIC_CONFIG=str(base / "config.yaml"))
    (base / "config.yaml").write_text("{}\n")
    deployed = medic(env, "deploy", "--playbook", "fastprobe")
    assert deployed.returncode == 0, deployed.stderr
    log = open(base / "serve.log", "wb")  # noqa: SIM115 - closed after the process ends
    server = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    http = httpx.Client(base_url=prefect_service.api_url, headers=prefect_service.headers, timeout=10)
    try:
        deadline = time.monotonic() + 90
        while True:
            answer = http.get("/deployments/name/medic-playbook/fastprobe")
            if answer.status_code == 200 and answer.json().get("status") == "READY":
                break
            assert server.poll() is None and time.monotonic() < deadline, (base / "serve.log").read_text()[-3000:]
            time.sleep(0.25)
        yield env
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
        http.close()


def findings(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["check"], f["target"], f["status"]) for f in doc["findings"]]


@pytest.mark.parametrize(("inputs", "code"), [([], 0), (["-i", "minimum_version=99"], 1)])
def test_fast_path_gives_the_findings_and_exit_code_of_an_inline_run(served: dict[str, str], inputs: list[str],
                                                                      code: int) -> None:
    fast = medic(served, "run", "fastprobe", "--json", *inputs)
    inline = medic(served, "run", "fastprobe", "--json", "--engine", "inline", *inputs)
    assert (fast.returncode, inline.returncode) == (code, code), fast.stderr + inline.stderr
    assert "submitted to medic-playbook/fastprobe" in fast.stderr
    fast_doc, inline_doc = json.loads(fast.stdout), json.loads(inline.stdout)
    assert fast_doc["schema"] == "medic.remote-run/1" and fast_doc["exit_code"] == code
    assert findings(fast_doc) == findings(inline_doc)
    assert fast_doc["state"] == ("Completed" if code == 0 else "Failed")


def test_fast_path_prints_the_findings_and_writes_the_report(served: dict[str, str], tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    done = medic(served, "run", "fastprobe", "-i", "minimum_version=99", "--report", str(report))
    assert done.returncode == 1, done.stderr
    assert "Probable cause: software.command_version on local" in done.stdout
    assert "Completed version" in done.stderr  # each step as its task run ended
    assert report.read_text().startswith("# Fault analysis report: fastprobe")


def test_fast_path_falls_back_or_refuses(served: dict[str, str]) -> None:
    bad = medic(served, "run", "fastprobe", "-i", "nosuch=1")
    assert bad.returncode == 2 and "unknown input 'nosuch'" in bad.stderr
    here = medic(served, "run", "triage", "--json", "--engine", "prefect", "--submit", "server")
    assert here.returncode == 2
    # other tests deploy triage to this session's server without serving it: either refusal names the deployment
    assert ("cannot submit this run: no deployment medic-playbook/triage" in here.stderr
            or "cannot submit this run: deployment medic-playbook/triage is not served now" in here.stderr), here.stderr
    bundle = medic(served, "run", "fastprobe", "--submit", "server", "-t", "bundle:/nonexistent.tar")
    assert bundle.returncode == 2 and "bundle:/nonexistent.tar is a file on this machine" in bundle.stderr


def test_runs_list_show_cancel_against_the_server(served: dict[str, str], prefect_service: PrefectService) -> None:
    done = medic(served, "run", "fastprobe", "--json")
    run = json.loads(done.stdout)
    listed = medic(served, "runs", "list", "--json")
    assert run["flow_run_id"] in {r["id"] for r in json.loads(listed.stdout)}, listed.stderr
    shown = medic(served, "runs", "show", run["flow_run_name"])
    header = f"{run['flow_run_id']} ({run['flow_run_name']}): fastprobe Completed"
    assert shown.returncode == 0 and header in shown.stdout
    http = httpx.Client(base_url=prefect_service.api_url, headers=prefect_service.headers, timeout=10)
    flow = http.get("/flows/name/medic-playbook").json()
    later = {"type": "SCHEDULED", "state_details": {"scheduled_time": "2099-01-01T00:00:00Z"}}
    waiting = http.post("/flow_runs/", json={"flow_id": flow["id"], "state": later,
                                             "tags": ["medic", "playbook:fastprobe"]}).json()
    cancelled = medic(served, "runs", "cancel", waiting["id"])
    assert cancelled.returncode == 0 and cancelled.stdout.strip().endswith("Cancelled"), cancelled.stderr
    assert http.get(f"/flow_runs/{waiting['id']}").json()["state"]["type"] == "CANCELLED"
    again = medic(served, "runs", "cancel", waiting["id"])
    assert again.returncode == 2 and "already ended Cancelled" in again.stderr


def test_run_events_report_each_step_and_the_run_end(served: dict[str, str], monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    """The event stream (medic.cli.run_events) hands over each step that ended and the run's end, as they happen."""
    from medic.cli.run_events import RunEvents, task_step
    from medic.plugins.server import settings as cfg
    from medic.plugins.server.api import PrefectAPI

    for key in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING"):
        monkeypatch.setenv(key, served[key])
    settings = cfg.prepare()
    assert settings is not None
    with PrefectAPI(settings) as api:
        deployment = api.deployment("fastprobe")
        assert deployment is not None
        run = api.create_flow_run(deployment["id"], {}, "fastprobe")
    events = RunEvents(settings, run["id"], run["created"]).start()
    steps, end, deadline = set(), None, time.monotonic() + 120
    try:
        while end is None or len(steps) < 2:
            kind, event = events.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if kind == "run":
                end = event
            else:
                steps.add(task_step(event)[1:])
        assert events.live.is_set()
    finally:
        events.close()
    assert {name.split(" @ ")[0] for _, name in steps} == {"dns", "version"}, steps
    assert {state for state, _ in steps} == {"Completed"}
    assert end["resource"]["prefect.state-type"] == "COMPLETED"


def test_fast_path_sees_the_run_end_on_the_event_stream(served: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """With both polls at 10 minutes (the first one is made at once, the run still Scheduled), only the stream's
    events can end the follow in time: the steps printed as they ended, the findings, the exit code."""
    import argparse

    from medic.cli import remote_follow
    from medic.plugins.server import settings as cfg
    from medic.plugins.server.api import PrefectAPI

    for key in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING"):
        monkeypatch.setenv(key, served[key])
    monkeypatch.setattr(remote_follow, "POLL_S", 600.0)
    monkeypatch.setattr(remote_follow, "STREAM_POLL_S", 600.0)
    settings = cfg.prepare()
    assert settings is not None
    args = argparse.Namespace(json=True, verbose=False, report=None, playbook="fastprobe")
    started = time.monotonic()
    with PrefectAPI(settings) as api:
        deployment = api.deployment("fastprobe")
        assert deployment is not None
        code = remote_follow.Follower(api, args, "medic-playbook/fastprobe").run(deployment["id"], {})
    assert time.monotonic() - started < 300
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["state"] == "Completed"
    assert {f["check"] for f in doc["findings"]} >= {"network.dns_resolve", "software.command_version"}


QUICK_EXIT_PROBE = """
import atexit, sys
class Probe:
    def __del__(self):
        sys.stderr.write("PROBE: interpreter torn down\\n")
probe = Probe()  # finalized when the interpreter tears its modules down, not by os._exit
atexit.register(lambda: sys.stderr.write("PROBE: atexit ran\\n"))
from medic.cli.main import entry
sys.argv[0] = "medic"
entry()
"""


def test_fast_path_leaves_without_tearing_the_interpreter_down(served: dict[str, str]) -> None:
    """medic run's fast path exits at once after its findings (medic.cli.quick_exit): the atexit functions run,
    the interpreter's teardown does not; every other command exits as before."""
    fast = subprocess.run([sys.executable, "-c", QUICK_EXIT_PROBE, "run", "fastprobe"], capture_output=True,
                          text=True, env=served, timeout=120)
    assert fast.returncode == 0, fast.stderr
    assert "submitted to medic-playbook/fastprobe" in fast.stderr and "fastprobe" in fast.stdout
    assert "PROBE: atexit ran" in fast.stderr and "PROBE: interpreter torn down" not in fast.stderr
    other = subprocess.run([sys.executable, "-c", QUICK_EXIT_PROBE, "--version"], capture_output=True, text=True,
                           env=served, timeout=120)
    assert other.returncode == 0 and "PROBE: interpreter torn down" in other.stderr, other.stderr
