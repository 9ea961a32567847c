"""The independent leak scanner: catches unscrubbed secrets, names member/rule/line, never the value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medic.agent.redact import LeakHit, Scrubber, scan_members, scan_text


def test_scanner_catches_unscrubbed_secret(scannable: Any) -> None:
    """Secrets recognisable without their file's context; the others are the scrubber's job alone."""
    assert scan_text(scannable.text, "raw.txt"), scannable.id


def test_scanner_covers_most_of_the_corpus() -> None:
    from medic_agent_corpus import CORPUS  # registered by conftest.py

    caught = [p for p in CORPUS if scan_text(p.text)]
    assert len(caught) / len(CORPUS) >= 0.8
    assert all(scan_text(p.text) for p in CORPUS if p.scanner)


def test_hits_name_member_rule_and_line_without_values() -> None:
    secret = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    hits = scan_members([("logs/app.log", f"ok\nok\ntoken {secret}\n"), ("probes/0001.json", b"{}")])
    assert hits == [LeakHit("logs/app.log", "token_format", 3)]
    assert secret not in str(hits[0]) and secret not in repr(hits)
    assert str(hits[0]) == "logs/app.log:3: token_format"


@pytest.mark.parametrize(("text", "rule"), [
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "private_key"),
    ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU", "jwt"),
    ("postgres://app:pa55word@db/app", "url_password"),
    ("Authorization: Basic YWRtaW46c2VjcmV0cGFzcw==", "auth_header"),
    ("root:$6$saltsalt$0123456789abcdefABCDEF:19700::::::", "password_hash"),
    ("DB_PASSWORD=hunter2x", "secret_assignment"),
    ("blob Zk9xV2pTMlRyQmw3c1VhOHlXcE1uR2hKa0x6Y3ZCbk0 end", "high_entropy"),
])
def test_scanner_rules(text: str, rule: str) -> None:
    assert rule in {h.rule for h in scan_text(text)}


def test_scanner_is_independent_of_scrubber_rules() -> None:
    import medic.agent.redact.leaks as leaks

    source = Path(leaks.__file__).read_text(encoding="utf-8")
    assert "redact.rules" not in source and "redact.text" not in source and "redact.keys" not in source


def test_certificate_blocks_are_not_entropy_hits() -> None:
    body = "\n".join(["MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ"] * 5)
    assert scan_text(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n") == []


def test_scrubbed_corpus_bundle_is_clean() -> None:
    from medic_agent_corpus import CORPUS

    scrubber = Scrubber()
    members = [(f"m{i}.txt", scrubber.scrub_text(p.text, path=p.path)) for i, p in enumerate(CORPUS)]
    assert scan_members(members) == []
