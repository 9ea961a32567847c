"""The collector's limits against real servers: bundle size and daily quota (413), unfinished uploads per agent
and the request token bucket (429 + Retry-After), enrollments per address (429), the free-disk watermark (507),
expiry (410, `medic collector uploads list --incomplete`, `medic collector gc`). Every refusal is an RFC 9457
problem naming the request field at fault and the collector.yaml key of the limit."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from collector_helpers import (
    TUS,
    Running,
    create,
    make_bundle,
    medic,
    patch,
    pin,
    run_agent,
    start_collector,
    wait_for,
)


def refusal(answer: httpx.Response, status: int, field: str, limit: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    doc = dict(answer.json())
    assert doc["status"] == status and doc["type"].startswith("urn:medic:collector:") and doc["detail"]
    assert doc["field"] == field and doc.get("limit") == limit, doc
    return doc


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("limits"), "max_bundle_size: 1MiB\nmax_concurrent_uploads: 2\n"
                              "requests_per_second: 0.5\nrequest_burst: 20\nenroll_per_minute: 600\n")
    try:
        yield running
    finally:
        running.server.stop()


def test_bundle_size_and_daily_quota_413(collector: Running, tmp_path: Path) -> None:
    agent = collector.enroll("small-quota", quota=10_000)
    with collector.client(str(agent["token"])) as client:
        refusal(create(client, os.urandom(100), **{"Upload-Length": str((1 << 20) + 1)}), 413, "Upload-Length",
                "max_bundle_size")
        assert create(client, os.urandom(6000)).status_code == 201
        refusal(create(client, os.urandom(6000)), 413, "Upload-Length", "quota")
        assert create(client, os.urandom(4000)).status_code == 201  # what is left of the day's quota
    # the agent: one line, exit 5, the bundle kept
    state = tmp_path / "state"
    assert run_agent(state, "enroll", collector.server.url, "--code", collector.code("tiny", quota=100), "--pin",
                     pin(collector)).returncode == 0
    bundle = make_bundle(tmp_path / "medic-bundle-q.tar.gz")
    done = run_agent(state, "upload", str(bundle))
    assert done.returncode == 5 and bundle.exists(), done.stderr
    assert done.stderr.count("\n") == 1 and "daily quota of 100 bytes" in done.stderr, done.stderr


def test_unfinished_uploads_per_agent_429(collector: Running) -> None:
    agent = collector.enroll("many")
    with collector.client(str(agent["token"])) as client:
        first = create(client, os.urandom(100))
        assert first.status_code == 201 and create(client, os.urandom(100)).status_code == 201
        third = create(client, os.urandom(100))
        refusal(third, 429, "Authorization", "max_concurrent_uploads")
        assert third.headers["retry-after"].isdigit()
        assert client.delete(first.headers["location"], headers=TUS).status_code == 204
        assert create(client, os.urandom(100)).status_code == 201  # room again


def test_request_token_bucket_429_with_retry_after_per_agent(collector: Running) -> None:
    greedy, other = collector.enroll("greedy"), collector.enroll("calm")
    with collector.client(str(greedy["token"])) as client:
        answers = [client.head("/files/0", headers=TUS) for _ in range(40)]
        statuses = [a.status_code for a in answers]
        assert statuses[:20] == [404] * 20 and 429 in statuses, statuses  # the burst, then refused
        limited = answers[statuses.index(429)]
        refusal(client.get("/files/0/receipt", headers=TUS), 429, "Authorization", "requests_per_second")
        wait = int(limited.headers["retry-after"])
        assert 1 <= wait <= 2  # one token at 0.5/s
        with collector.client(str(other["token"])) as calm:  # another agent has its own bucket
            assert calm.head("/files/0", headers=TUS).status_code == 404
        wait_for("a token", lambda: client.head("/files/0", headers=TUS).status_code == 404, timeout=30)


@pytest.fixture
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Two enrollments a minute per address; a free-disk watermark far above the disk's real free space."""
    running = start_collector(tmp_path_factory.mktemp("tight"), "enroll_per_minute: 2\nmin_free_disk: 1000TiB\n")
    try:
        yield running
    finally:
        running.server.stop()


def test_enrollments_per_address_and_the_disk_watermark(tight: Running, tmp_path: Path) -> None:
    agent = tight.enroll("first")
    tight.enroll("second")
    with tight.server.client() as client:
        answer = client.post("/enroll", json={"code": tight.code("third"), "name": "third"})
    refusal(answer, 429, "code", "enroll_per_minute")
    assert int(answer.headers["retry-after"]) >= 1
    with tight.client(str(agent["token"])) as client:
        full = create(client, os.urandom(100))
        refusal(full, 507, "Upload-Length", "min_free_disk")
        assert full.headers["retry-after"].isdigit()
    assert not list((tight.directory / "uploads").iterdir())  # nothing created
    store = json.loads(medic("collector", "uploads", "list", "--json", "--dir", str(tight.directory)).stdout)
    assert store == []


@pytest.fixture
def expiring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("expiring"), "upload_expiry: 2s\n")
    try:
        yield running
    finally:
        running.server.stop()


def test_unfinished_uploads_expire_410_are_listed_and_gc_removes_them(expiring: Running) -> None:
    agent = expiring.enroll("slow")
    data = os.urandom(5000)
    with expiring.client(str(agent["token"])) as client:
        location = create(client, data).headers["location"]
        upload_id = location.rsplit("/", 1)[1]
        assert patch(client, location, 0, data[:1000]).status_code == 204
        listed = medic("collector", "uploads", "list", "--incomplete", "--dir", str(expiring.directory))
        assert upload_id in listed.stdout and "incomplete" in listed.stdout and "1000/5000" in listed.stdout
        wait_for("the upload to expire", lambda: client.head(location, headers=TUS).status_code == 410, timeout=30)
        refusal(patch(client, location, 1000, data[1000:]), 410, "upload_id")
        part = expiring.directory / "uploads" / f"{upload_id}.part"
        assert part.exists()
        gc = medic("collector", "gc", "--dir", str(expiring.directory))
        assert gc.returncode == 0 and f"removed 1 expired unfinished upload(s): {upload_id}" in gc.stdout, gc
        assert not part.exists()
        assert client.head(location, headers=TUS).status_code == 404
    after = json.loads(medic("collector", "uploads", "list", "--incomplete", "--json", "--dir",
                             str(expiring.directory)).stdout)
    assert after == []
