"""The agent end to end: one command, a verified bundle, secrets gone, the same checks run on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from medic.agent.pipeline import collect_bundle
from medic.agent.profile import load_profile, parse_profile
from medic.core.engine import Engine
from medic.kernel import yamlload
from medic.kernel.bundle import open_bundle
from medic.kernel.models import Status
from medic.plugins.targets.local import LocalTarget

AWS_KEY = "AKIA" + "QZ7W3JX5K2LMNOPQ"
PG_URL = "postgresql://app:" + "Sup3rS3cret!@db.internal:5432/prod"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "IBAAKCAQEAtesttesttest\n-----END RSA PRIVATE KEY-----"


def agent(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.agent.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=180)


def app_profile(tmp_path: Path, log: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(textwrap.dedent(f"""
        name: app
        playbooks: [triage]
        probes: [memory]
        logs: [{{path: {log}, lines: 100}}]
        commands: [[echo, "api_key=abcdef0123456789abcdef"]]
        budgets: {{total_seconds: 60}}
    """))
    return path


def test_cli_collects_a_verified_bundle_without_secrets(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(f"connecting to {PG_URL}\naws key {AWS_KEY}\n{PEM}\nall good\n")
    out = agent("collect", "--profile", str(app_profile(tmp_path, log)), "--output", str(tmp_path),
                "--note", "after the update it says password: hunter2hunter2", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    bundle_path = Path(out.stdout.strip().rsplit(" (", 1)[0])
    assert bundle_path.exists() and bundle_path.suffix == ".gz"
    with open_bundle(bundle_path) as bundle:
        manifest = bundle.manifest
        everything = "\n".join(bundle.read_text(m.path) for m in manifest.members)
        assert "all good" in everything and "after the update" in everything
    for secret in ("Sup3rS3cret!", AWS_KEY, "MIIEowIBAAKCAQEA", "hunter2hunter2", "abcdef0123456789abcdef"):
        assert secret not in everything
    with tarfile.open(bundle_path) as tar:  # the raw archive, manifest included, holds none either
        raw = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert b"Sup3rS3cret!" not in raw and AWS_KEY.encode() not in raw
    assert sum(manifest.redaction.values()) >= 5 and all(isinstance(v, int) for v in manifest.redaction.values())
    assert {p.key for p in manifest.probes} >= {"memory", "disk_usage", "routes"}


def test_leak_scan_blocks_a_bundle_the_scrubber_missed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.agent import pipeline

    class BrokenScrubber(pipeline.Scrubber):  # a scrubber bug must not let a secret out
        def scrub_text(self, text: str, path: str = "") -> str:
            return text

    monkeypatch.setattr(pipeline, "Scrubber", BrokenScrubber)
    log = tmp_path / "app.log"
    log.write_text(f"aws key {AWS_KEY}\n")
    profile = load_profile(str(app_profile(tmp_path, log)))
    outcome = pipeline.collect_bundle(profile, tmp_path, low_priority=False)
    assert outcome.blocked and outcome.path.name.endswith(".tar.gz.blocked")
    assert not list(tmp_path.glob("*.tar.gz"))
    assert any(hit.member.startswith("logs/") for hit in outcome.leaks)
    assert AWS_KEY not in "".join(str(h) for h in outcome.leaks)


LOOKALIKE = "artifact Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1b built"  # random-looking, reviewed as not secret


def test_a_reviewed_false_positive_passes_with_a_baseline_and_a_new_finding_still_blocks(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(f"{LOOKALIKE}\n")
    profile = app_profile(tmp_path, log)
    out = tmp_path / "out"
    out.mkdir()
    blocked = agent("collect", "--profile", str(profile), "--output", str(out), "-q", cwd=tmp_path)
    assert blocked.returncode == 4 and "high_entropy" in blocked.stderr and "Traceback" not in blocked.stderr
    assert "Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1b" not in blocked.stderr and "leaks baseline" in blocked.stderr
    bundle = next(out.glob("*.blocked"))
    scanned = agent("leaks", "scan", str(bundle), cwd=tmp_path)
    assert scanned.returncode == 4 and f"logs{log}:1: high_entropy" in scanned.stderr
    written = agent("leaks", "baseline", str(bundle), "-o", str(tmp_path / "baseline.json"), cwd=tmp_path)
    assert written.returncode == 0 and "wrote 1 finding" in written.stderr
    assert "Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1b" not in (tmp_path / "baseline.json").read_text()
    assert agent("leaks", "scan", str(bundle), "--leak-baseline", str(tmp_path / "baseline.json"),
                 cwd=tmp_path).returncode == 0
    passed = agent("collect", "--profile", str(profile), "--output", str(out), "-q",
                   "--leak-baseline", str(tmp_path / "baseline.json"), cwd=tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert "1 reviewed finding(s) passed" in passed.stderr and Path(passed.stdout.split(" (")[0]).exists()
    log.write_text(f"{LOOKALIKE}\nsession AbC9dEf8GhI7jKl6MnO5pQr4StU3vWx2 opened\n")  # a new finding
    again = agent("collect", "--profile", str(profile), "--output", str(out), "-q",
                  "--leak-baseline", str(tmp_path / "baseline.json"), cwd=tmp_path)
    assert again.returncode == 4 and f"logs{log}:2:" in again.stderr and f"logs{log}:1:" not in again.stderr


def test_the_leak_scan_cannot_be_switched_off_and_a_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    gone = agent("collect", "--allow-leaks", "--output", str(tmp_path), cwd=tmp_path)
    assert gone.returncode == 2 and "--allow-leaks" in gone.stderr
    (tmp_path / "bad.json").write_text("[]")
    bad = agent("collect", "--leak-baseline", str(tmp_path / "bad.json"), "--output", str(tmp_path), cwd=tmp_path)
    assert bad.returncode == 2 and "bad.json" in bad.stderr and "Traceback" not in bad.stderr
    assert not list(tmp_path.glob("medic-bundle-*"))


def test_pseudonyms_replace_the_host_and_the_mapping_stays_outside(tmp_path: Path) -> None:
    import socket

    log = tmp_path / "app.log"
    host = socket.gethostname()
    log.write_text(f"request from {host} 10.1.2.3 by alice@example.com\n")
    profile = load_profile(str(app_profile(tmp_path, log)))
    outcome = collect_bundle(profile, tmp_path, pseudonymise=True, low_priority=False)
    assert outcome.mapping_path is not None and outcome.mapping_path.stat().st_mode & 0o077 == 0
    mapping = json.loads(outcome.mapping_path.read_text())
    with open_bundle(outcome.path) as bundle:
        assert bundle.manifest.host != host
        text = bundle.read_text(f"logs{log}")
        assert "10.1.2.3" not in text and "alice@example.com" not in text
        names = [m.path for m in bundle.manifest.members]
    assert not any(n.endswith("pseudonyms.json") for n in names)
    assert "10.1.2.3" in mapping or "10.1.2.3" in mapping.values()


def test_triage_on_a_bundle_matches_local_for_every_offline_check(tmp_path: Path, session) -> None:  # type: ignore[no-untyped-def]
    """Parity: the same checks, on live data and on the bundle collected from it, agree."""
    outcome = collect_bundle(load_profile("default"), tmp_path, low_priority=False)
    from medic.plugins.targets.bundle import BundleTarget

    playbook = session.load_playbook("triage")
    engine = Engine(session.registry)
    local = engine.run(playbook, [LocalTarget(session.registry.probes)], {})
    offline = engine.run(playbook, [BundleTarget(outcome.path)], {})
    # load and memory move between two collections; everything else must agree exactly
    moving = {"system.cpu_load", "system.memory", "system.uptime"}
    live = {c for c in session.registry.checks if session.registry.checks[c].live}
    got_local = {(f.check, f.subject): f.status for f in local.findings() if f.check not in moving | live}
    got_bundle = {(f.check, f.subject): f.status for f in offline.findings() if f.check not in moving | live}
    assert got_local and got_local == got_bundle
    assert all(f.status == Status.SKIPPED for f in offline.findings() if f.check in live)


def test_medic_reads_the_bundle_and_refuses_a_tampered_one(tmp_path: Path) -> None:
    outcome = collect_bundle(parse_profile(yamlload.loads("name: m\nprobes: [memory, os_release]\n"), "m.yaml"),
                             tmp_path, low_priority=False)
    env = {**os.environ, "MEDIC_ENGINE": "inline"}
    medic = [sys.executable, "-m", "medic.cli.main"]
    shown = subprocess.run([*medic, "bundles", "inspect", str(outcome.path)], capture_output=True, text=True,
                           env=env, timeout=60)
    assert shown.returncode == 0 and "verified" in shown.stdout and "os_release" in shown.stdout
    tampered = tmp_path / "tampered.tar.gz"
    import gzip

    raw = gzip.decompress(outcome.path.read_bytes())
    at = raw.rindex(b'"probe": "os_release"')  # in the member, after the manifest
    tampered.write_bytes(gzip.compress(raw[:at] + b'"probe": "os_relxxxx"' + raw[at + 21:]))
    for cmd in (["bundles", "inspect", str(tampered)], ["run", "triage", "--target", f"bundle:{tampered}"]):
        out = subprocess.run([*medic, *cmd], capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 3 and "probes/" in out.stderr and "sha256" in out.stderr
        assert "Traceback" not in out.stderr


def test_a_pseudonymised_bundle_still_answers_the_playbooks_probe_calls(tmp_path: Path, session) -> None:  # type: ignore[no-untyped-def]
    from medic.plugins.targets.bundle import BundleTarget

    outcome = collect_bundle(load_profile("default"), tmp_path, pseudonymise=True, low_priority=False)
    playbook = session.load_playbook("triage")
    run = Engine(session.registry).run(playbook, [BundleTarget(outcome.path)], {})
    by_check = {f.check: f for f in run.findings()}
    for check in ("system.disk_space", "system.memory", "software.command_version", "network.default_route"):
        assert by_check[check].status != Status.SKIPPED, by_check[check].summary
