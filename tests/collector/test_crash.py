"""kill -9 of the collector in the middle of an upload, at random offsets: after a restart HEAD answers at
least every acknowledged byte (fsync before the 204), the same agent process resumes from there, and the
delivered bundle's hash is the agent's."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_helpers import AGENT, TUS, Running, make_bundle, pin, run_agent, start_collector

CHUNK = 64 * 1024


@pytest.fixture
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("crash"))
    try:
        yield running
    finally:
        running.server.stop()


def test_kill_9_of_the_collector_loses_no_acknowledged_byte(collector: Running, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert run_agent(state, "enroll", collector.server.url, "--code", collector.code("crashy"), "--pin",
                     pin(collector)).returncode == 0
    token = json.loads((state / "enrollment.json").read_text())["token"]
    bundle = make_bundle(tmp_path / "medic-bundle-crash.tar.gz", members=4, size=512 * 1024, seed=9)
    data = bundle.read_bytes()
    targets = sorted(random.Random(1313).sample(range(CHUNK, len(data) - 2 * CHUNK), 4))
    proc = subprocess.Popen([AGENT, "upload", str(bundle), "--json", "--chunk-size", str(CHUNK), "--retries", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MEDIC_AGENT_STATE_DIR": str(state)})
    assert proc.stdout is not None
    events, kills = [], []
    try:
        for line in proc.stdout:
            events.append(json.loads(line))
            acked = events[-1].get("offset", 0) if events[-1]["event"] == "chunk" else 0
            if targets and acked >= targets[0]:
                targets = [t for t in targets if t > acked]
                proc.send_signal(signal.SIGSTOP)  # the agent holds; the collector dies under it
                collector.server.kill()
                collector.server.start()
                location = next(e["location"] for e in events if e["event"] == "created")
                with collector.client(token) as client:
                    offset = int(client.head(location, headers=TUS).headers["upload-offset"])
                assert acked <= offset <= acked + CHUNK, (acked, offset)  # every acknowledged byte is there
                part = collector.directory / "uploads" / f"{location.rsplit('/', 1)[1]}.part"
                assert part.read_bytes()[:offset] == data[:offset]
                kills.append((acked, offset))
                proc.send_signal(signal.SIGCONT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert len(kills) == 4 and any(e["event"] == "retry" for e in events)
    (receipt,) = [e["receipt"] for e in events if e["event"] == "receipt"]
    assert receipt["bundle_sha256"] == hashlib.sha256(data).hexdigest() and not bundle.exists()
    delivered = collector.directory / "uploads" / f"{receipt['upload_id']}.tar.gz"
    assert hashlib.sha256(delivered.read_bytes()).hexdigest() == receipt["bundle_sha256"]
