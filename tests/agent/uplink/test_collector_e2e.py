"""End to end: a real `medic collector serve` process, the real `medic-agent` command (enroll, upload, kill -9 and
resume, a receipt under another key), and the one-file agent served by the collector, run with `python3 -I`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_helpers import Running, make_bundle, start_collector
from cryptography.hazmat.primitives import serialization

AGENT = str(Path(sys.executable).with_name("medic-agent"))
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("collector"), extra_config="enroll_per_minute: 600\n")
    try:
        yield running
    finally:
        running.server.stop()


def _pin(collector: Running) -> str:
    der = ssl.PEM_cert_to_DER_cert((collector.directory.parent / "pki" / "server.pem").read_text())
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _agent(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIC_AGENT_STATE_DIR": str(state)}
    return subprocess.run([AGENT, *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def enrolled(collector: Running, tmp_path: Path) -> Path:
    state = tmp_path / "state"
    done = _agent(state, "enroll", collector.server.url, "--code", collector.code(), "--pin", _pin(collector))
    assert done.returncode == 0, done.stderr
    return state


def _big_bundle(tmp_path: Path, seed: int) -> Path:
    return make_bundle(tmp_path / f"medic-bundle-{seed}.tar.gz", members=4, size=512 * 1024, seed=seed)


def test_enroll_upload_and_the_bundle_goes_only_after_the_receipt(collector: Running, enrolled: Path,
                                                                  tmp_path: Path) -> None:
    status = json.loads(_agent(enrolled, "status", "--json").stdout)
    assert status["enrollment"]["url"] == collector.server.url and "token" not in status["enrollment"]
    assert (enrolled / "enrollment.json").stat().st_mode & 0o777 == 0o600
    bundle = make_bundle(tmp_path / "medic-bundle-small.tar.gz")
    done = _agent(enrolled, "upload", str(bundle))
    assert done.returncode == 0, done.stderr
    case_id = done.stdout.strip()
    assert case_id and f"case {case_id}, receipt verified" in done.stderr, done.stdout + done.stderr
    assert "receipt verified" in done.stderr and not bundle.exists()
    # the code was single-use: enrolling again with it is refused, exit 6, one line
    code = collector.code()
    assert _agent(tmp_path / "s2", "enroll", collector.server.url, "--code", code, "--pin", _pin(collector)) \
        .returncode == 0
    again = _agent(tmp_path / "s3", "enroll", collector.server.url, "--code", code, "--pin", _pin(collector))
    assert again.returncode == 6 and len(again.stderr.strip().splitlines()) == 1, again.stderr


def test_a_wrong_pin_sends_nothing_exit_7(collector: Running, tmp_path: Path) -> None:
    code = collector.code()
    done = _agent(tmp_path / "s", "enroll", collector.server.url, "--code", code, "--pin", "sha256:" + "0" * 64)
    assert done.returncode == 7 and "nothing was sent" in done.stderr
    assert _agent(tmp_path / "s", "enroll", collector.server.url, "--code", code, "--pin", _pin(collector)) \
        .returncode == 0  # the code was never sent, so it still works


def test_kill_9_at_random_offsets_resumes_with_at_most_one_chunk_resent(collector: Running, enrolled: Path,
                                                                        tmp_path: Path) -> None:
    bundle = _big_bundle(tmp_path, 1)
    data = bundle.read_bytes()
    rng = random.Random(13)
    env = {**os.environ, "MEDIC_AGENT_STATE_DIR": str(enrolled)}
    acked = 0
    for target in sorted(rng.sample(range(CHUNK, len(data) - CHUNK), 4)):
        proc = subprocess.Popen([AGENT, "upload", str(bundle), "--json", "--chunk-size", str(CHUNK)],
                                stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        events = []
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "chunk" and events[-1]["offset"] >= target:
                proc.send_signal(signal.SIGKILL)
                break
        events += [json.loads(line) for line in proc.stdout]
        proc.wait(timeout=30)
        resumed = [e for e in events if e["event"] == "resumed"]
        if acked:  # the new process starts from the server's offset: every acknowledged byte kept
            assert resumed and acked <= resumed[0]["offset"] <= acked + CHUNK, (acked, resumed)
        acked = max(e["offset"] for e in events if e["event"] == "chunk")
        assert bundle.exists()
    done = subprocess.run([AGENT, "upload", str(bundle), "--json", "--chunk-size", str(CHUNK)],
                          capture_output=True, text=True, env=env, timeout=120)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0, done.stderr
    assert acked <= events[0]["offset"] <= acked + CHUNK and events[0]["event"] == "resumed"
    (receipt,) = [e["receipt"] for e in events if e["event"] == "receipt"]
    assert receipt["bundle_sha256"] == hashlib.sha256(data).hexdigest() and not bundle.exists()


def test_a_receipt_not_under_the_pinned_key_keeps_the_bundle(collector: Running, enrolled: Path,
                                                             tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                   serialization.PublicFormat.Raw)
    saved = json.loads((enrolled / "enrollment.json").read_text())
    saved.update(public_key=base64.b64encode(other).decode(), key_id=hashlib.sha256(other).hexdigest()[:16])
    (enrolled / "enrollment.json").write_text(json.dumps(saved))
    bundle = make_bundle(tmp_path / "medic-bundle-kept.tar.gz", seed=7)
    done = _agent(enrolled, "upload", str(bundle))
    assert done.returncode == 5 and bundle.exists(), done.stderr
    assert "not the pinned" in done.stderr and f"kept at {bundle}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_the_one_file_agent_from_the_collector_runs_isolated(collector: Running, tmp_path: Path) -> None:
    context = ssl.create_default_context(cafile=str(collector.ca))
    with urllib.request.urlopen(f"{collector.server.url}/agent/medic-agent.pyz", context=context,
                                timeout=300) as answer:
        pyz = tmp_path / "medic-agent.pyz"
        pyz.write_bytes(answer.read())
    clean = tmp_path / "clean"
    clean.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LC_ALL": "C.UTF-8"}
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    helped = subprocess.run([python, "-I", str(pyz), "--help"], capture_output=True, text=True, cwd=clean,
                            env=env, timeout=120)
    assert helped.returncode == 0 and "medic-agent" in helped.stdout, helped.stderr
    # extracted once: a restart neither extracts again nor imports what extracting needs
    again = subprocess.run([python, "-I", "-X", "importtime", str(pyz), "--version"], capture_output=True,
                           text=True, cwd=clean, env=env, timeout=120)
    imported = {line.rsplit("|", 1)[1].strip() for line in again.stderr.splitlines() if line.count("|") == 2}
    assert again.returncode == 0 and "medic.agent.cli" in imported, again.stderr[-2000:]
    assert not imported & {"zipfile", "tempfile", "platform"}, sorted(imported)  # (shutil: argparse's --version)
    assert len(list((tmp_path / "home" / ".cache" / "medic-agent").iterdir())) == 1
    # the one-click line: enroll, collect, redact, upload, verify the receipt, print the case id (--keep: look at it)
    collected = subprocess.run([python, "-I", str(pyz), "collect", "--quiet", "--profile", "network", "--upload",
                                collector.server.url, "--code", collector.code("pyz"), "--pin", _pin(collector),
                                "--keep"], capture_output=True, text=True, cwd=clean, env=env, timeout=300)
    assert collected.returncode == 0, collected.stderr[-2000:]
    case_id = collected.stdout.strip()
    assert case_id and f"case {case_id}, receipt verified" in collected.stderr
    enrollment = tmp_path / "home" / ".local" / "state" / "medic-agent" / "enrollment.json"
    assert enrollment.stat().st_mode & 0o777 == 0o600
    (bundle,) = clean.glob("medic-bundle-*.tar.gz")
    from medic.kernel.bundle import open_bundle

    with open_bundle(bundle) as opened:
        assert opened.probe_results()
    # uploaded again (the collector's dedupe answers the same receipt): what every restarted upload imports leaves
    # out argparse, pathlib, urllib.parse and the idna codec (bench/README-collector.md, session 14)
    again = subprocess.run([python, "-I", "-X", "importtime", str(pyz), "upload", str(bundle), "--keep", "--json"],
                           capture_output=True, text=True, cwd=clean, env=env, timeout=300)
    imported = {line.rsplit("|", 1)[1].strip() for line in again.stderr.splitlines() if line.count("|") == 2}
    assert again.returncode == 0 and "medic.agent.uplink.tus" in imported, again.stderr[-2000:]
    assert not imported & {"argparse", "pathlib", "urllib.parse", "encodings.idna"}, again.stderr[-3000:]


def test_collect_upload_deletes_the_bundle_after_the_receipt(collector: Running, tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    out.mkdir()
    done = _agent(state, "collect", "--quiet", "--profile", "network", "--output", str(out), "--upload",
                  collector.server.url, "--code", collector.code("one-click"), "--pin", _pin(collector))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() and list(out.glob("medic-bundle-*")) == []
    # enrolled already with that URL: the (used) code is not sent again
    again = _agent(state, "collect", "--quiet", "--profile", "network", "--output", str(out), "--upload",
                   collector.server.url, "--code", "used-code", "--pin", _pin(collector))
    assert again.returncode == 0, again.stderr[-2000:]
