"""Scrubbing: no planted secret survives, look-alikes do, formats still parse, the summary holds no values."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from medic.agent.redact import Scrubber, scan_text
from medic.agent.redact.keys import sensitive_key

pytestmark = pytest.mark.usefixtures("redact_engine")  # both first passes: compiled and pure Python


class _TagTolerantLoader(yaml.SafeLoader):
    """Safe loading that accepts application tags such as Ansible's ``!vault``."""


_TagTolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def _parses(fmt: str, text: str) -> Any:
    return yaml.load(text, Loader=_TagTolerantLoader) if fmt == "yaml" else json.loads(text)


def test_no_planted_secret_survives(planted: Any) -> None:
    scrubber = Scrubber()
    out = scrubber.scrub_text(planted.text, path=planted.path)
    for secret in planted.secrets:
        assert secret not in out
    assert "[REDACTED:" in out
    assert sum(scrubber.summary().values()) >= 1


def test_scrubbed_structured_formats_still_parse(structured: Any) -> None:
    planted = structured
    before = _parses(planted.fmt, planted.text)
    after = _parses(planted.fmt, Scrubber().scrub_text(planted.text))
    assert type(after) is type(before)
    if isinstance(before, dict):
        assert after.keys() == before.keys()


def test_summary_counts_rules_never_values(planted: Any) -> None:
    scrubber = Scrubber()
    scrubber.scrub_text(planted.text, path=planted.path)
    summary = scrubber.summary()
    dumped = json.dumps(summary)
    assert all(isinstance(n, int) and n > 0 for n in summary.values())
    for secret in planted.secrets:
        assert secret not in dumped


def test_scrubbing_is_idempotent(planted: Any) -> None:
    once = Scrubber().scrub_text(planted.text, path=planted.path)
    again = Scrubber()
    assert again.scrub_text(once, path=planted.path) == once
    assert again.summary() == {}


def test_lookalikes_survive(lookalike: str) -> None:
    scrubber = Scrubber()
    assert scrubber.scrub_text(lookalike) == lookalike
    assert scrubber.summary() == {}


def test_replacement_keeps_structure() -> None:
    assert Scrubber().scrub_text("password: hunter2") == "password: [REDACTED:password#1]"
    assert Scrubber().scrub_text('{"token": "abc123"}') == '{"token": "[REDACTED:token#1]"}'
    assert Scrubber().scrub_text("export API_KEY='abc123'") == "export API_KEY='[REDACTED:api_key#1]'"
    assert (Scrubber().scrub_text("postgres://app:pw123456@db/app")
            == "postgres://app:[REDACTED:url_password#1]@db/app")


def test_summary_counts_per_rule() -> None:
    scrubber = Scrubber()
    scrubber.scrub_text("password=a1b2c3\npassword: x9y8z7\nDATABASE=postgres://u:p4ssw0rd@h/d")
    assert scrubber.summary() == {"password": 2, "url_password": 1}


@pytest.mark.parametrize(("key", "rule"), [
    ("DB_PASSWORD", "password"), ("passwd", "password"), ("MYSQL_PWD", "password"), ("db_pass", "password"),
    ("client_secret", "client_secret"), ("X-Auth-Token", "token"), ("apiKey", "api_key"),
    ("aws_access_key_id", "access_key"), ("private_key", "private_key"), ("Authorization", "auth"),
    ("credentials", "credential"), ("Set-Cookie", "cookie"), ("PHPSESSID", "session"), ("sig", "signature"),
    ("ConnectionString", "connection_string"), ("auth", "auth"),
])
def test_sensitive_keys(key: str, rule: str) -> None:
    assert sensitive_key(key) == rule


@pytest.mark.parametrize("key", [
    "password_min_length", "token_ttl", "secret_name", "token_type", "auth_method", "author", "user",
    "passenger", "bypass", "keyboard", "password_file", "description",
])
def test_non_sensitive_keys(key: str) -> None:
    assert sensitive_key(key) is None


def test_scrubbed_output_does_not_trip_the_leak_scanner(planted: Any) -> None:
    out = Scrubber().scrub_text(planted.text, path=planted.path)
    assert scan_text(out, "m") == []


def test_leak_scanner_quiet_on_lookalikes(lookalike: str) -> None:
    assert scan_text(lookalike, "m") == []


def test_corpus_is_broad() -> None:
    from medic_agent_corpus import CORPUS  # registered by conftest.py

    assert len({p.kind for p in CORPUS}) >= 40
    assert len({p.id for p in CORPUS}) == len(CORPUS)
    assert sum(1 for p in CORPUS if p.fmt) >= 10


def test_keyword_gate_covers_every_sensitive_key_form() -> None:
    """Lines without a KEYWORD skip the key-based rules, so every sensitive key must contain one."""
    from medic.agent.redact import keys

    needles = [n for n, _ in keys._CONTAINS] + list(keys._WORDS) + list(keys._WORDS_IN_COMPOUND)
    assert all(keys.KEYWORD.search(n) for n in needles)


# Sized so that a quadratic pass would take minutes while the linear ones take well under a second.
PATHOLOGICAL = {
    "key-chain": "password=" + "a=" * 25_000,
    "many-keys": "token " + "key=" * 25_000,
    "long-value": "password=" + "x" * 200_000,
    "long-b64": "A" * 200_000,
    "many-mysql": "mysql " * 25_000 + "-px",
    "url-at-signs": "http://" + "a:" * 25_000 + "@" * 25_000,
    "pem-headers": "-----BEGIN PRIVATE KEY-----\n" * 5_000,
    "yaml-block-heads": "password: |\n" * 5_000,
    "quotes": '"password":' * 25_000,
    "colons": "secret: " + "a: " * 25_000,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=list(PATHOLOGICAL))
def test_pathological_input_stays_fast(text: str) -> None:
    import time

    started = time.perf_counter()
    Scrubber().scrub_text(text)
    scan_text(text)
    # bounds a hang (catastrophic backtracking), not a speed: ~0.6 s at most here; speed is bench/'s business
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("/etc/nsswitch.conf", "passwd:         files systemd", "passwd:         files systemd"),
    ("/etc/other.conf", "passwd: s3cret", "passwd: [REDACTED:password#1]"),
    ("/home/bob/.pgpass", "db:5432:app:bob:pw1", "db:5432:app:bob:[REDACTED:password#1]"),
    ("/etc/shadow", "bob:plaintext:19700:0:99999:7:::", "bob:[REDACTED:password_hash#1]:19700:0:99999:7:::"),
    ("/etc/shadow", "sshd:!:20782::::::", "sshd:!:20782::::::"),
    ("/etc/pam.d/common-password", "password\trequisite\t\t\tpam_deny.so", "password\trequisite\t\t\tpam_deny.so"),
    ("/etc/ldap.secret", "s3cr3t-bind\n", "[REDACTED:secret#1]\n"),
])
def test_file_specific_rules(path: str, text: str, expected: str) -> None:
    assert Scrubber().scrub_text(text, path=path) == expected
