"""``medic deploy`` and ``medic worker`` against a real Prefect server, runs started as the UI starts them.

One server for the session (tests/prefectsvc.py); one deploy, one worker subprocess for this module. Runs are
created with ``POST /deployments/{id}/create_flow_run`` and form parameters, as Prefect's UI does, and followed
until they end: the state must say what medic found, with the two artifacts.
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
from typing import Any

import pytest
from prefectsvc import Api, PrefectService, medic

FORM_PLAYBOOK = """\
    name: svc-form
    description: A playbook whose inputs make a form.
    inputs:
      path: {type: string, description: the file to look in}
      pattern: {type: string, default: ok, description: what the file must hold}
      level: {type: string, default: low, choices: [low, high], description: how hard to look}
      api_token: {type: string, default: "", description: a secret the form hides}
      tries: {type: int, default: 2, description: how many tries}
    targets: [local]
    steps:
      - id: holds
        title: The file holds the pattern
        verify: change.file_contains
        with: {path: "{{ inputs.path }}", pattern: "{{ inputs.pattern }}"}
"""


@pytest.fixture(scope="module")
def site(prefect_service: PrefectService, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("svc")
    (base / "books").mkdir()
    (base / "books" / "svc-form.yaml").write_text(textwrap.dedent(FORM_PLAYBOOK))
    (base / "config.yaml").write_text(textwrap.dedent(f"""\
        playbook_paths: [{base / 'books'}]
        schedules:
          nightly-form: {{playbook: svc-form, cron: "0 2 * * *", timezone: Europe/Paris,
                         inputs: {{path: /etc/hostname}}, targets: [local]}}
        deploy: {{concurrency: 3}}
        """))
    (base / "books" / "svc-served.yaml").write_text(textwrap.dedent(FORM_PLAYBOOK).replace("svc-form", "svc-served"))
    (base / "good.txt").write_text("all ok here\n")
    env = prefect_service.subprocess_env(MEDIC_CONFIG=str(base / "config.yaml"), XDG_STATE_HOME=str(base / "state"),
                                         XDG_CONFIG_HOME=str(base / "cfg"), PREFECT_WORKER_QUERY_SECONDS="1",
                                         PREFECT_RUNNER_POLL_FREQUENCY="1")
    first = medic(env, "deploy", "--playbook", "svc-form", "--playbook", "verify")
    assert first.returncode == 0, first.stderr
    api = Api(prefect_service)
    before = {d["name"]: d["id"] for d in api.deployments() if d["name"] in ("svc-form", "verify")}
    second = medic(env, "deploy", "--playbook", "svc-form", "--playbook", "verify")
    assert second.returncode == 0, second.stderr
    return {"base": base, "env": env, "api": api, "before": before, "deploy_out": first.stdout}


@pytest.fixture(scope="module")
def worker(site: dict[str, Any]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "medic", "--limit", "4",
                             "--start", "warm"],
                            env=site["env"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def test_deploy_twice_updates_the_same_deployments(site: dict[str, Any]) -> None:
    api: Api = site["api"]
    after = {d["name"]: d["id"] for d in api.deployments() if d["name"] in ("svc-form", "verify")}
    assert after == site["before"] and set(after) == {"svc-form", "verify"}  # (svc-served: the serve test's)
    form = api.deployment("svc-form")
    assert form["work_pool_name"] == "medic" and form["entrypoint"] == "medic.flows.deployed:svc-form"
    assert set(form["tags"]) == {"medic", "playbook:svc-form"}
    assert (form["global_concurrency_limit"] or {}).get("limit") == 3, form
    [schedule] = form["schedules"]
    assert schedule["slug"] == "nightly-form" and schedule["schedule"]["cron"] == "0 2 * * *"
    assert schedule["schedule"]["timezone"] == "Europe/Paris"
    assert schedule["parameters"] == {"path": "/etc/hostname", "targets": ["local"]}
    pool = api.http.get("/work_pools/medic").json()
    assert pool["type"] == "process"
    automations = [a for a in api.post("/automations/filter", {}).json() if a["name"] == "medic: crash silent runs"]
    assert len(automations) == 1 and automations[0]["trigger"]["within"] == 90  # deploy.crashed_after_s's default


def test_the_form_comes_from_the_playbook_inputs(site: dict[str, Any]) -> None:
    schema = site["api"].deployment("svc-form")["parameter_openapi_schema"]
    props = schema["properties"]
    assert list(props) == ["path", "pattern", "level", "api_token", "tries", "targets", "inventory"]
    assert schema["required"] == ["path"]
    assert props["level"] == {"title": "level", "position": 2, "type": "string", "enum": ["low", "high"],
                              "default": "low", "description": "how hard to look"}
    assert props["tries"]["type"] == "integer" and props["tries"]["default"] == 2
    assert props["api_token"]["format"] == "password"
    assert props["targets"]["type"] == "array" and props["targets"]["items"] == {"type": "string"}


def test_parameters_outside_the_schema_are_refused(site: dict[str, Any]) -> None:
    api: Api = site["api"]
    answer = api.post(f"/deployments/{api.deployment('svc-form')['id']}/create_flow_run",
                      {"parameters": {"path": "/etc/hostname", "level": "medium"}})
    assert answer.status_code == 409 and "medium" in answer.text


def test_runs_from_the_ui_end_in_states_that_say_what_was_found(site: dict[str, Any],
                                                                 worker: subprocess.Popen[str]) -> None:
    api: Api = site["api"]
    good = str(site["base"] / "good.txt")
    clean = api.start("svc-form", {"path": good, "pattern": "ok", "api_token": "hunter2", "targets": ["local"]})
    failing = api.start("svc-form", {"path": good, "pattern": "missing-word"})
    down = api.start("verify", {"port": 22, "targets": ["ssh://nobody@127.0.0.1:1"]})
    runs = {name: api.wait(run_id) for name, run_id in (("clean", clean), ("failing", failing), ("down", down))}
    assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
    assert runs["clean"]["state"]["type"] == "COMPLETED", runs["clean"]["state"]
    assert runs["failing"]["state"]["type"] == "FAILED"
    assert runs["failing"]["state"]["message"].startswith("change.file_contains on local:")
    assert runs["down"]["state"]["type"] == "FAILED"
    assert "127.0.0.1:1" in runs["down"]["state"]["message"] and "cannot connect" in runs["down"]["state"]["message"]
    assert {"medic", "playbook:svc-form", "target:local"} <= set(runs["clean"]["tags"])
    artifacts = api.artifacts(clean)
    table = json.loads(artifacts["medic-findings"]["data"])
    assert [(row["check"], row["status"]) for row in table] == [("change.file_contains", "pass")]
    report = artifacts["medic-report"]["data"]
    assert "# Fault analysis report: svc-form" in report and "hunter2" not in report and "`***`" in report
    failed = json.loads(api.artifacts(failing)["medic-findings"]["data"])
    assert [row["status"] for row in failed] == ["fail"]


def test_the_worker_forks_runs_from_a_warm_process(site: dict[str, Any], worker: subprocess.Popen[str]) -> None:
    """``medic worker --start warm`` keeps a fork server (flows.fork_server) that imported Prefect and medic once;
    runs are its children, not fresh ``python -m prefect.engine`` processes (flows.warm_worker)."""
    import psutil

    api: Api = site["api"]
    run = api.wait(api.start("svc-form", {"path": str(site["base"] / "good.txt"), "pattern": "ok"}))
    assert run["state"]["type"] == "COMPLETED", run["state"]
    tree = [p.cmdline() for p in psutil.Process(worker.pid).children(recursive=True)]
    # the forkserver, and any run process forked from it that is still ending, carry its command line
    servers = [c for c in tree if "from medic.flows.fork_server import serve" in " ".join(c)]
    assert servers and all("medic.flows.deployed_run" in " ".join(c) for c in servers), tree
    assert not [c for c in tree if "prefect.engine" in c], tree  # no cold engine process left or started


def test_medic_serve_runs_what_the_ui_starts(site: dict[str, Any]) -> None:
    api: Api = site["api"]
    proc = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "serve", "--playbook", "svc-served",
                             "--limit", "2"], env={**site["env"], "PREFECT_LOGGING_LEVEL": "INFO"},
                            stdout=subprocess.DEVNULL, stderr=open(site["base"] / "serve.log", "w"),  # noqa: SIM115
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while api.http.get("/deployments/name/medic-playbook/svc-served").status_code == 404:
            assert proc.poll() is None and time.monotonic() < deadline, (site["base"] / "serve.log").read_text()
            time.sleep(0.25)
        served = api.deployment("svc-served")
        assert served["work_pool_name"] is None
        assert next(iter(served["parameter_openapi_schema"]["properties"])) == "path"
        run = api.wait(api.start("svc-served", {"path": str(site["base"] / "good.txt"), "pattern": "nowhere"}))
        assert run["state"]["type"] == "FAILED", (site["base"] / "serve.log").read_text()[-3000:]
        assert run["state"]["message"].startswith("change.file_contains on local")
        assert set(api.artifacts(run["id"])) == {"medic-findings", "medic-report"}
        # warm by default, as the worker (flows.warm_serve): the run came from the forkserver, no cold engine
        import psutil

        tree = [c.cmdline() for c in psutil.Process(proc.pid).children(recursive=True)]
        assert any("from medic.flows.fork_server import serve" in " ".join(c) for c in tree), tree
        assert not [c for c in tree if "prefect.engine" in c], tree  # a cold run: python -m prefect.engine
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)


def test_fleet_run_splits_hosts_into_shards_and_reports_each_host_once(site: dict[str, Any],
                                                                        worker: subprocess.Popen[str]) -> None:
    hosts = [f"h{i}" for i in range(5)]
    inventory = site["base"] / "hosts.yaml"
    inventory.write_text("defaults: {port: 1, user: nobody, connect_timeout: 2}\nhosts:\n"
                         + "".join(f"  {h}: {{address: 127.0.0.1}}\n" for h in hosts)
                         + "groups:\n  web: {hosts: [" + ", ".join(hosts) + "]}\n")
    notes = site["base"] / "fleet-notes.jsonl"
    out = medic(site["env"], "fleet", "run", "verify", "--inventory", str(inventory), "--target", "web",
                "--shards", "3", "-i", "port=22", "--wait", "--notify", f"file:{notes}")
    assert out.returncode == 3, out.stderr
    shard_lines = [line for line in out.stdout.splitlines() if line.startswith("shard ")]
    assert len(shard_lines) == 3 and all("FAILED" in line for line in shard_lines), out.stdout
    results = sorted((site["base"] / "state" / "medic" / "fleet").glob("*/shard-*.json"))
    assert len(results) == 3
    seen = [row["target"] for path in results for row in json.loads(path.read_text())["findings"]]
    assert sorted(seen) == hosts  # every host exactly once, each from its own shard
    assert "5 host(s)" in out.stderr
    [note] = [json.loads(line) for line in notes.read_text().splitlines()]  # one for the fleet, none per shard
    assert note["event"] == "run.finished" and note["status"] == "error", note
    assert note["data"]["hosts"] == 5 and len(note["data"]["unfinished"]) == 3 and not note["data"]["needs_recover"]


NOTIFY_PLAYBOOK = """\
    name: svc-notify
    inputs:
      path: {type: string}
    targets: [local]
    notify: ["file:NOTES"]
    steps:
      - id: holds
        verify: change.file_contains
        with: {path: "{{ inputs.path }}", pattern: never-there}
"""


def test_deployed_runs_tell_the_playbooks_channels_but_shards_do_not(site: dict[str, Any],
                                                                     worker: subprocess.Popen[str]) -> None:
    """A scheduled or UI-started run notifies like ``medic run`` (the config's and the playbook's ``notify:``);
    a fleet's shard (tagged ``shard:N``) leaves that to its parent."""
    api: Api = site["api"]
    notes = site["base"] / "deployed-notes.jsonl"
    (site["base"] / "books" / "svc-notify.yaml").write_text(
        textwrap.dedent(NOTIFY_PLAYBOOK).replace("NOTES", str(notes)))
    deployed = medic(site["env"], "deploy", "--playbook", "svc-notify")
    assert deployed.returncode == 0, deployed.stderr
    good = str(site["base"] / "good.txt")
    run = api.wait(api.start("svc-notify", {"path": good}))
    assert run["state"]["type"] == "FAILED", run["state"]
    [note] = [json.loads(line) for line in notes.read_text().splitlines()]
    assert note["event"] == "run.finished" and note["status"] == "fail", note
    assert note["data"]["playbook"] == "svc-notify" and note["data"]["counts"]["fail"] == 1, note
    answer = api.post(f"/deployments/{api.deployment('svc-notify')['id']}/create_flow_run",
                      {"parameters": {"path": good}, "tags": ["shard:0"]})
    shard = api.wait(answer.json()["id"])
    assert shard["state"]["type"] == "FAILED", shard["state"]
    assert len(notes.read_text().splitlines()) == 1  # still the first run's only


def test_the_sla_clocks_run_as_a_scheduled_deployment_on_the_worker(site: dict[str, Any],
                                                                     worker: subprocess.Popen[str]) -> None:
    from medic.plugins.cases.store import CaseStore

    api: Api = site["api"]
    answer = api.http.get("/deployments/name/medic-sla/clocks")
    assert answer.status_code == 200, answer.text
    clocks = answer.json()
    assert clocks["work_pool_name"] == "medic" and clocks["entrypoint"] == "medic.flows.sla_flow:sla_clocks"
    [schedule] = clocks["schedules"]
    assert schedule["schedule"]["interval"] == 60 and schedule["active"]  # deploy.sla_interval_s's default
    assert (clocks["global_concurrency_limit"] or {}).get("limit") == 1
    assert "deployment medic-sla/clocks: " in site["deploy_out"]
    # an urgent case opened two hours ago and never acknowledged: response (1 h) and dispatch (30 min) breached
    store = CaseStore(site["base"] / "state" / "medic" / "cases.sqlite", clock=lambda: time.time() - 7200)
    case = store.open("mail server down", priority="urgent")
    store.close()
    made = api.post(f"/deployments/{clocks['id']}/create_flow_run", {"parameters": {}})
    made.raise_for_status()
    run = api.wait(str(made.json()["id"]), timeout=180)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    store = CaseStore(site["base"] / "state" / "medic" / "cases.sqlite")
    try:
        kinds = [e.kind for e in store.timeline(case.id)]
        assert kinds.count("sla.breach") == 2 and store.get(case.id).tier == 3, kinds  # a tier per breach
    finally:
        store.close()


def test_a_deployed_run_whose_channel_is_unknown_fails_naming_it(site: dict[str, Any],
                                                                  worker: subprocess.Popen[str]) -> None:
    """The playbook's ``notify:`` is checked on the worker before the run (it may have changed since ``medic
    deploy``): an unknown channel fails the run with a message naming the playbook and the channel."""
    api: Api = site["api"]
    book = site["base"] / "books" / "svc-badnote.yaml"
    book.write_text(textwrap.dedent(NOTIFY_PLAYBOOK).replace("svc-notify", "svc-badnote")
                    .replace("NOTES", str(site["base"] / "badnote.jsonl")))
    deployed = medic(site["env"], "deploy", "--playbook", "svc-badnote")
    assert deployed.returncode == 0, deployed.stderr
    book.write_text(book.read_text().replace('notify: ["file:', 'notify: ["no-such-channel:'))
    run = api.wait(api.start("svc-badnote", {"path": str(site["base"] / "good.txt")}))
    assert run["state"]["type"] in ("FAILED", "CRASHED"), run["state"]
    message = run["state"]["message"] or ""
    assert "svc-badnote" in message and "no-such-channel" in message, message
    assert not (site["base"] / "badnote.jsonl").exists()
