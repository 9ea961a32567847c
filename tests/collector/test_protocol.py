"""tus 1.0.0 against a real collector over TLS: every status of the protocol contract, with raw requests, and the
independent `tuspy` client uploading a bundle end to end."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from collector_helpers import (
    TUS,
    Running,
    checksum,
    create,
    make_bundle,
    medic,
    metadata,
    patch,
    start_collector,
    upload,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from medic.plugins.collector.keys import canonical


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("protocol"), "max_bundle_size: 1MiB\n")
    try:
        yield running
    finally:
        running.server.stop()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_bundle(tmp_path_factory.mktemp("b") / "b.tar.gz", members=4, size=30_000).read_bytes()


def problem(answer: httpx.Response, status: int, field: str | None) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if answer.request.method == "HEAD":  # no body: the same answer as GET would have, headers only
        return {}
    doc = answer.json()
    assert doc["status"] == status and doc["title"] and doc["detail"] and doc["type"].startswith("urn:")
    assert doc.get("field") == field
    return dict(doc)


def test_options_advertises_the_server(collector: Running) -> None:
    with collector.server.client() as client:
        answer = client.options("/files/")
    assert answer.status_code == 204
    assert answer.headers["tus-version"] == "1.0.0" and answer.headers["tus-resumable"] == "1.0.0"
    assert set(answer.headers["tus-extension"].split(",")) == {"creation", "checksum", "termination", "expiration"}
    assert answer.headers["tus-max-size"] == str(1 << 20)
    assert answer.headers["tus-checksum-algorithm"] == "sha1,sha256"


def test_a_whole_upload_gets_a_receipt_signed_by_the_enrollment_key(collector: Running, tmp_path: Path) -> None:
    agent = collector.enroll()
    # its own host: a bundle of a host with an open case (another test's upload) joins that case
    bundle = make_bundle(tmp_path / "own.tar.gz", members=4, size=30_000, host="receipt-host").read_bytes()
    with collector.client(str(agent["token"])) as client:
        location, signed = upload(client, bundle, chunk=40_000)
        head = client.head(location, headers=TUS)
    assert head.headers["upload-offset"] == head.headers["upload-length"] == str(len(bundle))
    assert head.headers["cache-control"] == "no-store"
    receipt = signed["receipt"]
    key = agent["receipt_key"]
    assert isinstance(key, dict)
    raw = base64.b64decode(key["public_key"])
    Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(signed["signature"]), canonical(receipt))
    assert receipt["key_id"] == key["key_id"] == hashlib.sha256(raw).hexdigest()[:16]
    assert receipt["bundle_sha256"] == hashlib.sha256(bundle).hexdigest() and receipt["bundle_size"] == len(bundle)
    assert receipt["agent_id"] == agent["agent_id"] and receipt["members_verified"] == 4
    assert receipt["upload_id"] == location.rsplit("/", 1)[1]
    # the cases plugin (collector_bundle_received) opened a case for the bundle, or joined the open case of the
    # same host (every bundle of this module comes from host web01), and attached the bundle to it
    case = json.loads(medic("cases", "show", receipt["case_id"], "--json", env=collector.server.env).stdout)
    assert case["source"] == "bundle" and case["state"] != "closed"
    bundles = [(b["ref"], b["data"]["upload_id"]) for b in case["bundles"]]
    assert bundles == [(receipt["bundle_sha256"], receipt["upload_id"])]
    assert time.strptime(receipt["received_at"], "%Y-%m-%dT%H:%M:%SZ")
    stored = collector.directory / "cases" / receipt["case_id"] / f"receipt-{receipt['upload_id']}.json"
    assert json.loads(stored.read_text()) == signed
    # the same bundle again: the delivered upload, complete, with the same receipt (dedupe per agent)
    with collector.client(str(agent["token"])) as client:
        again = create(client, bundle)
        assert again.status_code == 201 and again.headers["location"] == location
        assert client.get(f"{location}/receipt", headers=TUS).json() == signed


def test_location_comes_from_the_public_url_not_from_the_request(collector: Running, bundle: bytes) -> None:
    agent = collector.enroll()
    with collector.client(str(agent["token"])) as client:
        answer = create(client, bundle[:100] + b"x", **{"Host": "evil.example", "X-Forwarded-Host": "evil.example",
                                                         "X-Forwarded-Proto": "http"})
    assert answer.status_code == 201
    assert answer.headers["location"].startswith(f"{collector.server.url}/files/")
    assert "upload-expires" in answer.headers


def test_request_errors(collector: Running, bundle: bytes) -> None:
    agent = collector.enroll()
    with collector.client(str(agent["token"])) as client:
        location = create(client, bundle).headers["location"]
        problem(client.head(location), 412, "Tus-Resumable")
        problem(client.head(location, headers={"Tus-Resumable": "0.2.2"}), 412, "Tus-Resumable")
        problem(patch(client, location, 0, b"abc", **{"Content-Type": "text/plain"}), 415, "Content-Type")
        problem(patch(client, location, 0, b"abc", **{"Upload-Checksum": "md5 AAAA"}), 400, "Upload-Checksum")
        problem(patch(client, location, 0, b"abc", **{"Upload-Checksum": ""}), 400, "Upload-Checksum")
        problem(patch(client, location, 0, b"abc", **{"Upload-Offset": "x"}), 400, "Upload-Offset")
        problem(create(client, bundle, **{"Upload-Length": str(2 << 20)}), 413, "Upload-Length")
        problem(create(client, bundle, **{"Upload-Length": ""}), 400, "Upload-Length")
        problem(create(client, bundle, **{"Upload-Metadata": "sha256 bm90aGV4"}), 400, "Upload-Metadata")
        problem(create(client, bundle, **{"Upload-Metadata": metadata(bundle + b"x")}), 400, "Upload-Metadata")
        problem(client.get(f"{location}/receipt", headers=TUS), 409, "upload_id")
        problem(client.head("/files/0123", headers=TUS), 404, "upload_id")
    with collector.server.client("not-a-token") as stranger:
        answer = stranger.head(location, headers=TUS)
        problem(answer, 401, "Authorization")
        assert answer.headers["www-authenticate"].startswith("Bearer")
    other = collector.enroll("pc-2")
    with collector.client(str(other["token"])) as client:
        problem(client.head(location, headers=TUS), 404, "upload_id")  # another agent's upload is not there


def test_wrong_offset_409_and_corrupt_chunk_460_change_nothing(collector: Running, bundle: bytes) -> None:
    agent = collector.enroll()
    with collector.client(str(agent["token"])) as client:
        location = create(client, bundle).headers["location"]
        assert patch(client, location, 0, bundle[:1000]).status_code == 204
        wrong = patch(client, location, 500, bundle[500:1500])
        problem(wrong, 409, "Upload-Offset")
        assert wrong.headers["upload-offset"] == "1000"
        corrupt = bundle[1000:2000][:-1] + b"\0"
        bad = patch(client, location, 1000, corrupt, **{"Upload-Checksum": checksum(bundle[1000:2000])})
        problem(bad, 460, "Upload-Checksum")
        assert client.head(location, headers=TUS).headers["upload-offset"] == "1000"
        part = collector.directory / "uploads" / f"{location.rsplit('/', 1)[1]}.part"
        assert part.read_bytes() == bundle[:1000]  # the corrupt bytes were discarded
        problem(patch(client, location, 1000, bundle[1000:] + b"extra"), 413, "Upload-Offset")
        sha1 = patch(client, location, 1000, bundle[1000:], **{"Upload-Checksum": checksum(bundle[1000:], "sha1")})
        assert sha1.status_code == 204 and sha1.headers["upload-offset"] == str(len(bundle))
        assert client.get(f"{location}/receipt", headers=TUS).json()["receipt"]["bundle_size"] == len(bundle)
        problem(patch(client, location, len(bundle), b""), 409, "Upload-Offset")  # complete: nothing more
        problem(client.delete(location, headers=TUS), 409, "upload_id")  # a delivered bundle is kept


def test_termination_and_expiry(collector: Running, bundle: bytes) -> None:
    agent = collector.enroll()
    with collector.client(str(agent["token"])) as client:
        location = create(client, bundle).headers["location"]
        upload_id = location.rsplit("/", 1)[1]
        assert client.delete(location, headers=TUS).status_code == 204
        problem(client.head(location, headers=TUS), 404, "upload_id")
        assert not (collector.directory / "uploads" / f"{upload_id}.part").exists()
        expiring = create(client, bundle[:-1]).headers["location"]
        with sqlite3.connect(collector.directory / "state.sqlite") as db:
            db.execute("UPDATE uploads SET expires_at = 0 WHERE upload_id = ?", (expiring.rsplit("/", 1)[1],))
        problem(client.head(expiring, headers=TUS), 410, "upload_id")
        problem(patch(client, expiring, 0, bundle[:10]), 410, "upload_id")


def test_a_second_patch_while_one_is_writing_gets_423(collector: Running, bundle: bytes) -> None:
    agent = collector.enroll()
    started, release = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield bundle[:1000]
        started.set()
        release.wait(10)
        yield bundle[1000:2000]

    with collector.client(str(agent["token"])) as client:
        location = create(client, bundle).headers["location"]
        answers: list[httpx.Response] = []
        first = threading.Thread(target=lambda: answers.append(client.patch(location, content=slow_body(), headers={
            **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0",
            "Upload-Checksum": checksum(bundle[:2000])})))
        first.start()
        assert started.wait(10)
        deadline = time.monotonic() + 10
        while (second := patch(client, location, 0, bundle[:10])).status_code != 423:  # until the first is in
            assert second.status_code == 409 or time.monotonic() < deadline, second.text
        problem(second, 423, "upload_id")
        release.set()
        first.join(10)
        assert answers[0].status_code == 204 and answers[0].headers["upload-offset"] == "2000"


def test_tuspy_uploads_with_its_sha1_checksums(collector: Running, bundle: bytes, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tusclient.client import TusClient

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(collector.ca))  # tuspy (requests) trusts the test's CA
    agent = collector.enroll()
    (path := tmp_path / "b.tar.gz").write_bytes(bundle)
    client = TusClient(f"{collector.server.url}/files/", headers={"Authorization": f"Bearer {agent['token']}"})
    uploader = client.uploader(str(path), chunk_size=25_000, upload_checksum=True, metadata={
        "filename": "b.tar.gz", "sha256": hashlib.sha256(bundle).hexdigest(), "size": str(len(bundle))})
    assert uploader.checksum_algorithm_name == "sha1"
    uploader.upload()
    with collector.client(str(agent["token"])) as http:
        receipt = http.get(f"{uploader.url}/receipt", headers=TUS).json()["receipt"]
    assert receipt["bundle_sha256"] == hashlib.sha256(bundle).hexdigest()
