"""The independent leak scanner: catches unscrubbed secrets on its own, keeps look-alikes, never shows a value."""

from __future__ import annotations

import base64
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from medic.agent.leakbaseline import load_baseline, write_baseline
from medic.agent.redact import LeakHit, Scrubber, scan_members, scan_text
from medic.kernel.errors import UsageError

pytestmark = pytest.mark.usefixtures("redact_engine")  # both first passes: compiled and pure Python

RECALL_TARGET = 0.95


def _load_leakcorpus() -> Any:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("medic_leakcorpus", Path(__file__).with_name("leakcorpus.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


leakcorpus = _load_leakcorpus()
LOOKALIKES, samples = leakcorpus.LOOKALIKES, leakcorpus.samples


def test_scanner_catches_unscrubbed_secret(scannable: Any) -> None:
    """Secrets recognisable without their file's context; the others are the scrubber's job alone."""
    assert scan_text(scannable.text, "raw.txt"), scannable.id


def test_scanner_covers_most_of_the_scrubber_corpus() -> None:
    from medic_agent_corpus import CORPUS  # registered by conftest.py

    caught = [p for p in CORPUS if scan_text(p.text)]
    assert len(caught) / len(CORPUS) >= 0.9
    assert all(scan_text(p.text) for p in CORPUS if p.scanner)


def test_recall_alone_on_the_planted_set_per_kind() -> None:
    """Scrubber off: >= 95 % of planted secrets flagged, and every kind caught in at least one of its contexts."""
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for sample in samples():
        by_kind[sample.kind].append(bool(scan_text(sample.text, sample.context)))
    found = sum(sum(v) for v in by_kind.values())
    total = sum(len(v) for v in by_kind.values())
    missed = sorted(kind for kind, v in by_kind.items() if not all(v))
    print(f"leak scan alone: {found}/{total} planted secrets = {found / total:.1%}, {len(by_kind)} kinds; "
          f"kinds with a miss: {missed}")
    assert len(by_kind) >= 150
    assert found / total >= RECALL_TARGET
    assert [kind for kind, v in by_kind.items() if not any(v)] == []


@pytest.mark.parametrize("text", [t for _, t in LOOKALIKES], ids=[n for n, _ in LOOKALIKES])
def test_lookalikes_do_not_block(text: str) -> None:
    assert [str(h) for h in scan_text(text, "m")] == []


def test_hits_name_member_rule_and_line_and_mask_the_value() -> None:
    secret = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    hits = scan_members([("logs/app.log", f"ok\nok\ntoken {secret} used\n"), ("probes/0001.json", b"{}")])
    assert hits == [LeakHit("logs/app.log", "token_format", 3)]
    assert hits[0].kind == "github-pat" and hits[0].excerpt == "token *** used"
    assert str(hits[0]) == "logs/app.log:3: token_format (github-pat): token *** used"
    assert secret not in repr(hits) and secret not in str(hits[0])
    assert len(hits[0].line_hash) == 32 and len(hits[0].value_hashes) == 1


@pytest.mark.parametrize(("argv", "kind"), [
    (["mysql", "-uroot", "-pS3cr3t!x9"], "mysql-password"),
    (["mysqldump", "-pS3cr3t!x9", "app"], "mysql-password"),
    (["sshpass", "-p", "S3cr3t!x9", "ssh", "db01"], "sshpass-password"),
    (["redis-cli", "-a", "S3cr3t!x9"], "redis-cli-password"),
])
def test_client_password_in_a_json_argv_list(argv: list[str], kind: str) -> None:
    """A process probe's cmdline in a bundle's JSON: the scan reads it as the command line it is."""
    text = '{"pid": 7}\n' + json.dumps({"pid": 4242, "cmdline": argv})
    hits = scan_text(text, "probes/0003.json")
    assert [(h.member, h.rule, h.line, h.kind) for h in hits] == [("probes/0003.json", "secret_assignment", 2, kind)]
    assert "S3cr3t!x9" not in hits[0].excerpt and "***" in hits[0].excerpt


@pytest.mark.parametrize("argv", [
    ["mysql", "-uroot", "-p[REDACTED:password#1]"], ["mysql", "-p[REDACTED:password#1]", "inventory"],
    ["sshpass", "-p", "[REDACTED:password#2]", "ssh", "db01"], ["mysql", "-p", "app"], ["mysql", "-p$MYSQL_PWD"],
])
def test_client_placeholder_in_a_json_argv_list_is_not_a_leak(argv: list[str]) -> None:
    assert scan_text(json.dumps({"cmdline": argv}), "probes/0003.json") == []


def test_every_flagged_value_on_a_line_is_masked() -> None:
    aws_id, aws_secret = "AKIA" + "QZ7W3JX5K2LMNOPQ", "wJalrXUtnFEMIK7MDENGbPxRfiCY0a9b8c7d6e5f"
    hit, = scan_text(f"keys {aws_id} password={aws_secret} done", "m")[:1]
    assert aws_id not in hit.excerpt and aws_secret not in hit.excerpt and hit.excerpt.count("***") == 2


@pytest.mark.parametrize(("text", "rule"), [
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAA\n", "private_key"),
    ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU", "jwt"),
    ("postgres://app:pa55word@db/app", "url_password"),
    ("Authorization: Basic YWRtaW46c2VjcmV0cGFzcw==", "auth_header"),
    ("root:$6$saltsalt$0123456789abcdefABCDEF:19700::::::", "password_hash"),
    ("DB_PASSWORD=hunter2x", "secret_assignment"),
    ("smtp_pass Zq9vX2kT7w", "secret_assignment"),  # a *_pass that is not one of nginx's upstreams
    ("mysqldump -u root -pS3cr3t! --all-databases", "secret_assignment"),
    ("blob q8Xz3VbN0mKp7LwR2tYc9HsJ4dGf6AeQ end", "high_entropy"),
    ("sent with xoxb-123456789012-1234567890123-aBcDeFgHiJkLmNoPqRsTuVwX", "token_format"),
])
def test_scanner_rules(text: str, rule: str) -> None:
    assert rule in {h.rule for h in scan_text(text)}


def test_base64_private_key_is_caught_and_base64_certificate_is_not() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    cert = key.replace("PRIVATE KEY", "CERTIFICATE")
    assert "private-key-base64" in {h.kind for h in scan_text("client-key-data: "
                                                              + base64.b64encode(key.encode()).decode())}
    assert scan_text("certificate-authority-data: " + base64.b64encode(cert.encode()).decode()) == []


def test_certificate_blocks_are_not_entropy_hits() -> None:
    body = "\n".join(["MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ"] * 5)
    assert scan_text(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n") == []


def test_scanner_is_independent_of_scrubber_rules() -> None:
    import medic.agent.leakfind
    import medic.agent.leakkeys
    import medic.agent.leaktokens
    import medic.agent.redact.leaks

    for module in (medic.agent.redact.leaks, medic.agent.leakfind, medic.agent.leakkeys, medic.agent.leaktokens):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert not any(f"redact.{m}" in source for m in ("rules", "text", "keys", "syntax", "scrub")), module


def test_scrubbed_corpus_bundle_is_clean() -> None:
    from medic_agent_corpus import CORPUS

    scrubber = Scrubber()
    members = [(f"m{i}.txt", scrubber.scrub_text(p.text, path=p.path)) for i, p in enumerate(CORPUS)]
    assert scan_members(members) == []


@pytest.mark.parametrize("text", [
    "eyJ" * 70_000, "mysql " * 25_000 + "-px", "api_key=" * 30_000, "a://" * 50_000, ("Ab1" * 30 + " ") * 5_000,
    '"password":"' * 25_000, "-----BEGIN PRIVATE KEY-----\n" * 5_000,
], ids=["jwt-heads", "clients", "keys", "schemes", "runs", "quotes", "pem-heads"])
def test_pathological_input_stays_linear(text: str) -> None:
    started = time.process_time()  # CPU time: a loaded machine's preemption does not count
    scan_text(text)
    assert time.process_time() - started < 10  # generous for a loaded machine; quadratic would take minutes


class TestBaseline:
    LINE = "artifact Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1b done"

    def test_a_reviewed_finding_passes_and_a_new_value_does_not(self, tmp_path: Path) -> None:
        hits = scan_text(f"first\n{self.LINE}\n", "logs/app.log")
        assert [h.rule for h in hits] == ["high_entropy"]
        assert write_baseline(hits, tmp_path / "b.json", source="x.blocked") == 1
        assert (tmp_path / "b.json").stat().st_mode & 0o077 == 0
        baseline = load_baseline(tmp_path / "b.json")
        moved = scan_text(f"a\nb\nc\n{self.LINE}\n", "logs/other.log")  # same line elsewhere: passes
        assert baseline.split(moved) == ([], moved)
        same_value = scan_text("got Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1b again", "m")  # same value, other line: passes
        assert baseline.split(same_value)[0] == []
        other = scan_text(self.LINE.replace("Zq8X", "Yq9W"), "logs/app.log")  # a different value: blocks
        assert baseline.split(other) == (other, [])

    def test_the_baseline_file_holds_no_value(self, tmp_path: Path) -> None:
        write_baseline(scan_text(self.LINE, "m"), tmp_path / "b.json", source="x")
        assert "Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1b" not in (tmp_path / "b.json").read_text()

    @pytest.mark.parametrize(("content", "message"), [
        (None, "no such file"), ("{", "not a readable JSON file"), ('{"format": "x"}', "expected a JSON object"),
        ('{"format": "medic-leak-baseline", "version": 1, "findings": [{"rule": 1}]}', "finding 1 needs"),
    ])
    def test_a_bad_baseline_is_a_usage_error_naming_the_file(self, tmp_path: Path, content: str | None,
                                                              message: str) -> None:
        path = tmp_path / "b.json"
        if content is not None:
            path.write_text(content)
        with pytest.raises(UsageError, match=message) as info:
            load_baseline(path)
        assert str(path) in str(info.value) and info.value.exit_code == 2
