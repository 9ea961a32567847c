"""kill -9 in the middle of an upload, at 20 seeded random offsets each: of the agent (a new `medic-agent upload`
process resumes from HEAD, without hashing the bundle again) and of the collector (restarted under the same
agent process). Every acknowledged byte is kept (fsync before the 204), at most the chunk in flight is sent again
per interruption, the delivered file's hash is the agent's and the receipt verifies under the pinned key.

Small chunks and a small bundle keep a cycle (a Python start, a HEAD) well under a second on an idle machine.
A kill point is a random offset (the first acknowledgement at or past it), then a random pause of up to 3 ms, so
the kill lands at a random place in the next PATCH: before it, in its body, or after its 204 was sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import AGENT, TUS, Running, make_bundle, pin, run_agent, start_collector

from medic.agent.uplink.receipt import check_receipt

CHUNK = 16 * 1024
KILLS = 20


@pytest.fixture
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("crash"))
    try:
        yield running
    finally:
        running.server.stop()


def _enrolled(collector: Running, state: Path, name: str) -> dict[str, Any]:
    done = run_agent(state, "enroll", collector.server.url, "--code", collector.code(name), "--pin", pin(collector))
    assert done.returncode == 0, done.stderr
    return dict(json.loads((state / "enrollment.json").read_text()))


def _bundle(tmp_path: Path, seed: int) -> bytes:
    """About 2.4 MiB (150 chunks): room for 20 kills of 1-3 chunks each, with the agent running ahead."""
    path = make_bundle(tmp_path / "medic-bundle-crash.tar.gz", members=6, size=800 * 1024, seed=seed)
    return path.read_bytes()


def _agent(bundle: Path, state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([AGENT, "upload", str(bundle), "--json", "--chunk-size", str(CHUNK), "--retries", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MEDIC_AGENT_STATE_DIR": str(state)})


def _acks(events: list[dict[str, Any]]) -> list[int]:
    return [e["offset"] for e in events if e["event"] == "chunk"]


def _check_delivery(collector: Running, enrollment: dict[str, Any], data: bytes, location: str) -> None:
    """The delivered file is the agent's bundle, and the receipt the collector serves verifies."""
    with collector.client(enrollment["token"]) as client:
        document = client.get(f"{location}/receipt", headers=TUS).json()
    receipt = check_receipt(document, public_key=enrollment["public_key"], expected_key_id=enrollment["key_id"],
                            sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    delivered = collector.directory / "uploads" / f"{receipt['upload_id']}.tar.gz"
    assert delivered.read_bytes() == data


def _part(collector: Running, location: str) -> bytes:
    return (collector.directory / "uploads" / f"{location.rsplit('/', 1)[1]}.part").read_bytes()


def test_kill_9_of_the_agent_at_20_offsets_resumes_from_head(collector: Running, tmp_path: Path) -> None:
    state = tmp_path / "state"
    enrollment = _enrolled(collector, state, "agent-killed")
    data = _bundle(tmp_path, seed=21)
    bundle = tmp_path / "medic-bundle-crash.tar.gz"
    rng = random.Random(2026)
    acked, location, kills = 0, "", 0
    while True:
        proc = _agent(bundle, state)
        assert proc.stdout is not None
        events: list[dict[str, Any]] = []
        target = acked + rng.randint(1, 3) * CHUNK - rng.randrange(CHUNK) if kills < KILLS else len(data) + 1
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "chunk" and events[-1]["offset"] >= target:
                time.sleep(rng.uniform(0, 0.003))
                proc.send_signal(signal.SIGKILL)
                break
        events += [json.loads(line) for line in proc.stdout]  # what it printed before it died
        _, err = proc.communicate(timeout=60)
        if kills:  # a new process: the server's offset, the sha256 remembered, at most one chunk sent again
            resumed = events[0]
            assert resumed["event"] == "resumed" and resumed["location"] == location, events[:2]
            assert acked <= resumed["offset"] <= acked + CHUNK and resumed["hashed"] is False, (acked, resumed)
            if proc.returncode != 0:  # (the last one delivered: its .part is the bundle now)
                assert _part(collector, location)[:resumed["offset"]] == data[:resumed["offset"]]
        else:
            location = next(e["location"] for e in events if e["event"] == "created")
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err
        kills += 1
        acked = max([acked, *_acks(events)])
    assert kills == KILLS and not bundle.exists()
    assert any(e["event"] == "receipt" for e in events)
    _check_delivery(collector, enrollment, data, location)


def test_kill_9_of_the_collector_at_20_offsets_loses_no_acknowledged_byte(collector: Running,
                                                                          tmp_path: Path) -> None:
    state = tmp_path / "state"
    enrollment = _enrolled(collector, state, "crashy")
    data = _bundle(tmp_path, seed=9)
    rng = random.Random(1313)
    proc = _agent(tmp_path / "medic-bundle-crash.tar.gz", state)
    assert proc.stdout is not None
    events: list[dict[str, Any]] = []
    kills, target, location = 0, rng.randint(1, 3) * CHUNK - rng.randrange(CHUNK), ""
    try:
        for line in proc.stdout:
            events.append(json.loads(line))
            location = location or events[-1].get("location", "")
            acked = events[-1]["offset"] if events[-1]["event"] == "chunk" else 0
            if kills < KILLS and acked >= target:
                time.sleep(rng.uniform(0, 0.003))
                proc.send_signal(signal.SIGSTOP)  # the agent holds; the collector dies under it
                collector.server.kill()
                collector.server.start()
                with collector.client(enrollment["token"]) as client:
                    offset = int(client.head(location, headers=TUS).headers["upload-offset"])
                assert acked <= offset, (acked, offset)  # every acknowledged byte is there
                assert _part(collector, location)[:offset] == data[:offset]
                kills += 1
                target = offset + rng.randint(1, 3) * CHUNK - rng.randrange(CHUNK)
                proc.send_signal(signal.SIGCONT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert kills == KILLS
    retries = [i for i, e in enumerate(events) if e["event"] == "retry"]
    assert len(retries) >= KILLS
    for i in retries:  # after each failure the agent goes on from HEAD: at most the chunk in flight again
        before = _acks(events[:i])[-1]
        after = _acks(events[i:])[0]
        assert before <= after <= before + CHUNK, (before, after)
    _check_delivery(collector, enrollment, data, location)
