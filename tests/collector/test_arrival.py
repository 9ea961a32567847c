"""Triage on arrival against a real collector: a bundle `medic-agent collect` made is uploaded, the triage
playbook runs on its ``bundle:`` target, and the case the cases plugin opened gets the run and the report
(``medic cases show ID --json``). A full triage queue never refuses an upload: the skipped triage says why."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from collector_helpers import (
    Running,
    make_bundle,
    medic,
    pin,
    run_agent,
    start_collector,
    upload,
    wait_for,
)

from medic.core import catalog


def triage_record(collector: Running, case_id: str, upload_id: str) -> dict[str, Any]:
    path = collector.directory / "cases" / case_id / f"triage-{upload_id}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def case(collector: Running, case_id: str) -> dict[str, Any]:
    shown = medic("cases", "show", case_id, "--json", env=collector.server.env)
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout))


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("arrival"))
    try:
        yield running
    finally:
        running.server.stop()


def test_a_collected_bundle_is_triaged_and_the_run_joins_its_case(collector: Running, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = run_agent(tmp_path / "state", "collect", "--quiet", "--profile", "network", "--output", str(out),
                     "--upload", collector.server.url, "--code", collector.code("laptop-7"), "--pin", pin(collector),
                     "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    (finished,) = [e for e in events if e["event"] == "done"]
    case_id, upload_id = finished["case_id"], finished["upload_id"]
    record = wait_for("the triage to finish",
                      lambda: (r := triage_record(collector, case_id, upload_id)).get("status") in
                      ("done", "failed", "skipped") and r)
    assert record["status"] == "done", record
    case_dir = collector.directory / "cases" / case_id
    findings = json.loads((case_dir / f"findings-{upload_id}.json").read_text())
    assert findings["run_id"] == record["run_id"] and findings["playbook"] == "triage"
    (target,) = findings["targets"]
    assert target["kind"] == "bundle" and target["path"] == str(collector.directory / "uploads" /
                                                                 f"{upload_id}.tar.gz")
    assert any(f["status"] == "pass" for f in findings["findings"]), "the triage checked nothing in the bundle"
    report = case_dir / f"report-{upload_id}.md"
    assert report.read_text().strip()
    # the cases plugin (collector_bundle_triaged) attached the run and the report to the case it opened
    shown = wait_for("the run on the case", lambda: (c := case(collector, case_id))["runs"] and c)
    assert shown["source"] == "bundle" and shown["host"] == target["host"]
    assert [b["data"]["upload_id"] for b in shown["bundles"]] == [upload_id]
    (run,) = shown["runs"]
    assert run["ref"] == record["run_id"] and run["data"]["playbook"] == "triage"
    assert run["data"]["report"] == str(report)


@pytest.fixture
def held_triage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Path]]:
    """A collector whose triage playbook is a FIFO: each triage waits, in "running", until the test writes the
    playbook into it. One bundle can wait in the queue."""
    base = tmp_path_factory.mktemp("held")
    fifo = base / "triage.yaml"
    os.mkfifo(fifo)
    running = start_collector(base, f"triage_queue: 1\ntriage_playbook: {fifo}\n")
    try:
        yield running, fifo
    finally:
        running.server.stop()


def test_a_full_triage_queue_refuses_no_upload_and_says_why(held_triage: tuple[Running, Path],
                                                           tmp_path: Path) -> None:
    collector, fifo = held_triage
    agent = collector.enroll("busy-host")
    delivered: list[tuple[str, str]] = []  # (case id, upload id)
    with collector.client(str(agent["token"])) as client:
        for seed in range(3):
            data = make_bundle(tmp_path / f"b{seed}.tar.gz", seed=seed, host="busy-host").read_bytes()
            _, signed = upload(client, data)
            assert "receipt" in signed, signed  # every upload delivered, the full queue notwithstanding
            delivered.append((signed["receipt"]["case_id"], signed["receipt"]["upload_id"]))
            if seed == 0:  # the worker holds the first one (reading the FIFO): the next one waits in the queue
                wait_for("the first triage to start",
                         lambda: triage_record(collector, *delivered[0]).get("status") == "running")
    states = [triage_record(collector, *d) for d in delivered]
    assert [s["status"] for s in states] == ["running", "queued", "skipped"], states
    assert "triage queue full (1 bundles waiting)" in states[2]["reason"]
    playbook = catalog.resolve("triage").read_text()
    for d in delivered[:2]:  # release the held triage, then the queued one, each once the one before is over:
        # a second write while the first reader still holds the FIFO open would go into that same reader
        writer = threading.Thread(target=fifo.write_text, args=(playbook,), daemon=True)
        writer.start()
        writer.join(120)
        assert not writer.is_alive()
        record = wait_for("the triage to finish", lambda d=d: (r := triage_record(collector, *d)).get("status")
                          in ("done", "failed", "skipped") and r)
        assert record["status"] == "done", record
    assert triage_record(collector, *delivered[2])["status"] == "skipped"  # nobody runs it later
    listed = json.loads(medic("collector", "uploads", "list", "--json", "--dir", str(collector.directory)).stdout)
    triage = {u["upload_id"]: u["triage"] for u in listed}
    assert [triage[u] for _, u in delivered] == ["done", "done", "skipped: triage queue full (1 bundles waiting)"]
    text = medic("collector", "uploads", "list", "--dir", str(collector.directory)).stdout
    assert "triage skipped: triage queue full" in text
    runs = {r["ref"] for r in case(collector, delivered[0][0])["runs"]}
    assert runs == {triage_record(collector, *d)["run_id"] for d in delivered[:2]}
