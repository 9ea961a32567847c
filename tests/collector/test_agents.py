"""Agents against a real collector: a revocation made with `medic collector agents revoke` stops an upload in
flight (the next PATCH gets 401; the agent keeps its bundle and exits 6 with one line); enrollment codes are
single-use and expire; `agents rotate` gives a new token and the old one gets 401."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_helpers import (
    AGENT,
    TUS,
    Running,
    create,
    make_bundle,
    medic,
    pin,
    run_agent,
    start_collector,
)

from medic.plugins.collector.store import Store


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("agents"), "enroll_per_minute: 600\n")
    try:
        yield running
    finally:
        running.server.stop()


def refused(answer: object, status: int, field: str) -> None:
    import httpx

    assert isinstance(answer, httpx.Response)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if answer.request.method != "HEAD":
        assert answer.json()["field"] == field and answer.json()["status"] == status


def test_a_revocation_stops_the_upload_in_flight_and_the_bundle_stays(collector: Running, tmp_path: Path) -> None:
    state = tmp_path / "state"
    enrolled = run_agent(state, "enroll", collector.server.url, "--code", collector.code("to-revoke"), "--pin",
                         pin(collector), "--name", "to-revoke")
    assert enrolled.returncode == 0, enrolled.stderr
    bundle = make_bundle(tmp_path / "medic-bundle-r.tar.gz", members=4, size=512 * 1024, seed=3)
    proc = subprocess.Popen([AGENT, "upload", str(bundle), "--json", "--chunk-size", str(64 * 1024)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MEDIC_AGENT_STATE_DIR": str(state)})
    assert proc.stdout is not None and proc.stderr is not None
    try:
        for line in proc.stdout:
            event = json.loads(line)
            if event["event"] == "chunk" and event["offset"] > 0:  # one PATCH acknowledged: hold the agent there
                proc.send_signal(signal.SIGSTOP)
                break
        revoked = medic("collector", "agents", "revoke", "to-revoke", "--dir", str(collector.directory))
        assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
        proc.send_signal(signal.SIGCONT)
        rest, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 6, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "refused this agent's token" in err and f"kept at {bundle}" in err
    assert bundle.exists()
    events = [json.loads(line) for line in rest.splitlines()]
    assert events[-1]["event"] == "error" and events[-1]["exit_code"] == 6
    listed = json.loads(medic("collector", "uploads", "list", "--incomplete", "--json", "--dir",
                              str(collector.directory)).stdout)
    agents = json.loads(medic("collector", "agents", "list", "--json", "--dir", str(collector.directory)).stdout)
    (agent,) = [a for a in agents if a["name"] == "to-revoke"]
    assert agent["revoked_at"] and "token_hash" not in agent
    (unfinished,) = [u for u in listed if u["agent_id"] == agent["agent_id"]]
    assert 0 < unfinished["offset"] < unfinished["length"]  # it stopped mid-upload, nothing more was taken


def test_codes_are_single_use_and_expire(collector: Running) -> None:
    code = collector.code("once")
    with collector.server.client() as client:
        assert client.post("/enroll", json={"code": code, "name": "once"}).status_code == 201
        refused(client.post("/enroll", json={"code": code, "name": "once-again"}), 401, "code")
        refused(client.post("/enroll", json={"code": collector.code("late", ttl=-1), "name": "late"}), 401, "code")
        refused(client.post("/enroll", json={"code": "never-issued", "name": "x"}), 401, "code")
    agents = json.loads(medic("collector", "agents", "list", "--json", "--dir", str(collector.directory)).stdout)
    assert [a["name"] for a in agents].count("once") == 1 and "late" not in [a["name"] for a in agents]


def test_rotate_gives_a_new_token_and_the_old_one_gets_401(collector: Running, tmp_path: Path) -> None:
    agent = collector.enroll("rotating")
    data = make_bundle(tmp_path / "b.tar.gz", seed=5).read_bytes()
    with collector.client(str(agent["token"])) as old:
        location = create(old, data).headers["location"]
        assert old.head(location, headers=TUS).status_code == 200
        rotated = medic("collector", "agents", "rotate", str(agent["agent_id"]), "--dir", str(collector.directory))
        assert rotated.returncode == 0, rotated.stderr
        token = rotated.stdout.strip().rsplit(" ", 1)[1]
        assert token != agent["token"] and len(token) >= 43  # 256 bits, url-safe base64
        refused(old.head(location, headers=TUS), 401, "Authorization")
        refused(create(old, data), 401, "Authorization")
    with collector.client(token) as new:  # the same agent: its unfinished upload is still its own
        assert new.head(location, headers=TUS).headers["upload-offset"] == "0"
    store_text = b"".join(p.read_bytes() for p in collector.directory.glob("state.sqlite*"))  # with the WAL
    assert token.encode() not in store_text and str(agent["token"]).encode() not in store_text  # hashed only


def test_codes_never_look_like_an_option(tmp_path: Path) -> None:
    """`--code CODE` on the agent's command line: a code starting with "-" is taken for an option (CI found one)."""
    store = Store(tmp_path / "state.sqlite")
    try:
        codes = [store.new_code("pc", 1 << 30, 60) for _ in range(300)]
    finally:
        store.close()
    assert not [c for c in codes if c.startswith("-")] and len(set(codes)) == 300
