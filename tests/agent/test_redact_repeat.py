"""A secret redacted once is redacted at its other occurrences too (agent/redact/repeat.py), across a bundle."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from medic.agent.pipeline import collect_bundle
from medic.agent.profile import load_profile
from medic.agent.redact import Scrubber
from medic.agent.redact.repeat import KnownSecrets, worth_repeating
from medic.kernel.bundle import open_bundle
from medic.kernel.models import ProbeResult

PW = "Wq7-Rt5!kLm9xPz"


@pytest.mark.parametrize(("value", "repeated"), [
    (PW, True), ("s3cr3tPass1", True), ("Tr0ub4dor&3", True), ("123456789012", True),
    ("postgres", False),  # a plain word: every "postgres" in the logs would go
    ("correcthorsebatterystaple", False), ("medic-agent", False), ("self.password", False),  # words and names
    ("Password", False), ("8080", False), ("1701234567", False),  # a port, a timestamp
    ("re.compile(r", False), ("list[Record]", False), ("$session_id", False), (".vault-token", False),  # code
    ("C:/deploy/setup.cmd", False), ("https://localhost", False),  # a path or URL under a secret key
    ("/etc/ssl/private/app.key", False), ("Ed25519PrivateKey", False), ("Summer2024x", True),
    ("g48QWZXPpNeQjaUghu3aqKTxqcMtjVoY", True),  # random, with capitalised words by chance
    ("self._password", False), ("_ffi.NULL:", False), ("self._lib.NID_aes_256_cbc", False),
    ("$this->secret", False), ("Foo::BAR", False),  # code
    ("5BE8A3F6C8A5C01D106C0AD820B1A390B168D356", False), ("0123456789abcdef0123456789abcdef", True),  # a fingerprint
    ("two words here", False), ("short1", False), ("[REDACTED:password#1]", False),
    ("wjXKCFzOWEPRqhTmmbWtVQ", True), ("qhRTbvkAWmpxOLseYU", True),  # random letters only: no word
    ("correcthorse", False), ("Administrators", False), ("InternalServerError", False),
])
def test_only_values_that_cannot_be_ordinary_words_are_repeated(value: str, repeated: bool) -> None:
    assert worth_repeating(value) is repeated


def test_the_same_value_elsewhere_in_a_text_gets_the_same_tag_before_and_after_its_key() -> None:
    scrubber = Scrubber()
    out = scrubber.scrub_text(f"login retried with {PW}\n[db]\npassword = {PW}\nforeign_id = {PW}\n")
    assert PW not in out
    assert out.count("[REDACTED:password#1]") == 3
    assert scrubber.summary() == {"password": 3}


def test_a_value_is_replaced_only_where_it_stands_whole() -> None:
    scrubber = Scrubber()
    out = scrubber.scrub_text(f"password = s3cr3tPass1\nx{'s3cr3tPass1'}2 s3cr3tPass1_old s3cr3tPass1.\n")
    assert out.splitlines()[1] == "xs3cr3tPass12 s3cr3tPass1_old [REDACTED:password#1]."


def test_quotes_around_a_redacted_value_are_not_part_of_what_is_repeated() -> None:
    out = Scrubber().scrub_text(f"password: '{PW}'\nsee {PW} above\n")
    assert PW not in out


def test_a_plain_word_password_is_redacted_under_its_key_only() -> None:
    out = Scrubber().scrub_text("password: postgres\nuser=postgres database=postgres\n")
    assert out.splitlines()[1] == "user=postgres database=postgres" and "password: [REDACTED" in out


def test_texts_scrubbed_before_the_secret_was_found_are_mended_by_again() -> None:
    scrubber = Scrubber()
    early = scrubber.scrub_text(f"retry with {PW}\n")
    result = scrubber.scrub_result(ProbeResult("p", {}, True, data={"argv": ["app", PW], PW: 1}))
    assert PW in early  # nothing known yet
    scrubber.scrub_value({"env": {"DB_PASSWORD": PW}})
    assert scrubber.again_text(early) == "retry with [REDACTED:password#1]\n"
    assert scrubber.again_result(result).data == {"argv": ["app", "[REDACTED:password#1]"],
                                                  "[REDACTED:password#1]": 1}


def test_longer_values_win_over_shorter_ones_they_contain() -> None:
    known = KnownSecrets()
    known.remember("Abc123-xyz", "password", "[A]")
    known.remember("Abc123-xyz-Long99", "token", "[B]")
    counted: list[str] = []
    assert known.redact("Abc123-xyz-Long99 Abc123-xyz", counted.append) == "[B] [A]"
    assert counted == ["token", "password"]


def test_a_bundle_holds_a_secret_nowhere_when_a_later_file_names_it(tmp_path: Path) -> None:
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    first.write_text(f"12:00:01 auth: retrying with {PW} for app\n")
    second.write_text(f"db_password = {PW}\n")
    profile = tmp_path / "p.yaml"
    profile.write_text(textwrap.dedent(f"""
        name: repeat
        probes: [memory]
        logs: [{{path: {first}, lines: 100}}, {{path: {second}, lines: 100}}]
        commands: [[echo, "connect --to db {PW}"]]
        budgets: {{total_seconds: 60}}
    """))
    outcome = collect_bundle(load_profile(str(profile)), tmp_path, low_priority=False)
    with open_bundle(outcome.path) as bundle:
        everything = "\n".join(bundle.read_text(m.path) for m in bundle.manifest.members)
    assert PW not in everything
    assert "retrying with [REDACTED:password#1] for app" in everything
    assert outcome.redaction["password"] >= 3
