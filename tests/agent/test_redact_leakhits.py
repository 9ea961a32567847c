"""The leak scan's hits (agent/redact/leaks.py): one per rule and line, exact excerpts, line numbers and hashes."""

from __future__ import annotations

import hashlib

import pytest

from medic.agent.redact.leaks import LeakHit, _Lines, _masked, digest, scan_members, scan_text

GHP = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
RANDOM = "Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1b"


def _seen(hits: list[LeakHit]) -> list[tuple[str, str, int, str, str, int]]:
    return [(h.member, h.rule, h.line, h.kind, h.excerpt, len(h.value_hashes)) for h in hits]


def test_two_rules_on_one_line_are_two_hits_with_one_excerpt() -> None:
    hits = scan_text(f"ok\npassword=hunter2x and {GHP}\nend", "m.txt")
    excerpt = "password=*** and ***"
    assert _seen(hits) == [("m.txt", "secret_assignment", 2, "key", excerpt, 1),
                           ("m.txt", "token_format", 2, "github-pat", excerpt, 1)]
    assert hits[0].line_hash == hits[1].line_hash == digest(f"password=hunter2x and {GHP}")
    assert hits[0].value_hashes == (digest("hunter2x"),) and hits[1].value_hashes == (digest(GHP),)


def test_the_same_value_twice_on_a_line_is_one_hit_with_one_hash() -> None:
    hits = scan_text(f"  {GHP} then {GHP}  ", "m")
    assert _seen(hits) == [("m", "token_format", 1, "github-pat", "*** then ***", 1)]
    assert hits[0].line_hash == digest(f"{GHP} then {GHP}")


def test_hits_on_several_lines_come_in_line_order() -> None:
    text = f"{GHP}\n\nline three\nDB_PASSWORD=hunter2x\r\n{GHP}"
    assert [(h.line, h.rule) for h in scan_text(text, "m")] == [
        (1, "token_format"), (4, "secret_assignment"), (5, "token_format")]


def test_a_private_key_is_one_hit_not_one_per_body_line() -> None:
    body = "Zq8XvN3mKp7LwR2tYc9HsJ4dGf6AeQ1bYt5Rk2Lm9Np3Qs7Wv1Xz4Bc8Df6Gh0Jk"  # random-looking on its own:
    assert [(h.line, h.rule) for h in scan_text(body, "k")] == [(1, "high_entropy")]
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n" + body[::-1] + "\n-----END RSA PRIVATE KEY-----\n"
    assert _seen(scan_text(pem, "k")) == [("k", "private_key", 1, "pem", "***", 1)]
    one_line = "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n"
    assert _seen(scan_text(one_line, "k")) == [("k", "private_key", 1, "pem", "***", 1)]  # its body is part of it
    # a random string after the key block is its own finding
    assert [(h.line, h.rule) for h in scan_text(pem + RANDOM + "\n", "k")] == [(1, "private_key"), (5, "high_entropy")]


def test_a_random_string_beside_a_known_secret_adds_no_hit() -> None:
    assert _seen(scan_text(f"token {RANDOM} and password=hunter2x", "m")) == [
        ("m", "secret_assignment", 1, "key", f"token {RANDOM} and password=***", 1)]
    assert _seen(scan_text(RANDOM, "m")) == [("m", "high_entropy", 1, "random", "***", 1)]


def test_nothing_found() -> None:
    assert scan_text("plain words only\nand more", "m") == []
    assert scan_text("", "m") == []


@pytest.mark.parametrize(("line", "spans", "expected"), [
    ("abcdef", [(1, 3)], "a***def"), ("abcdef", [(1, 3), (2, 5)], "a******f"), ("abcdef", [(1, 1)], "abcdef"),
    ("abcdef", [(4, 5), (0, 2)], "***cd***f"), ("  ab  ", [(2, 3)], "***b"),
    ("a" * 58 + "SECRET" + "b" * 59, [(58, 64)], "a" * 58 + "***" + "b" * 59),  # 120 characters: kept whole
    ("a" * 58 + "SECRET" + "b" * 60, [(58, 64)], "a" * 58 + "***" + "b" * 59 + "..."),
    ("a" * 60 + "SECRET" + "b" * 100, [(60, 66)], "a" * 60 + "***" + "b" * 57 + "..."),
    ("a" * 61 + "SECRET" + "b" * 100, [(61, 67)], "..." + "a" * 60 + "***" + "b" * 57 + "..."),
    ("a" * 100 + "SECRET" + "b" * 30, [(100, 106)], "..." + "a" * 60 + "***" + "b" * 30),
    ("a" * 80 + "SECRET" + "b" * 10, [(80, 86)], "a" * 80 + "***" + "b" * 10),  # short enough: never cut
    ("a" * 10 + "S1" + "b" * 200 + "S2" + "c" * 10, [(10, 12), (212, 214)],
     "a" * 10 + "***" + "b" * 107 + "..."),  # cut around the first secret
])
def test_masked_excerpt(line: str, spans: list[tuple[int, int]], expected: str) -> None:
    assert _masked(line, spans) == expected


def test_line_numbers_forward_and_back() -> None:
    lines = _Lines("a\nb\nc\n")
    assert [lines.number(p) for p in (0, 2, 4, 1, 5, 6)] == [1, 2, 3, 1, 3, 4]
    starts_blank = _Lines("\nab\nc")
    assert [starts_blank.number(p) for p in (1, 4, 1, 0)] == [2, 3, 2, 1]


def test_digest_is_a_short_sha256_of_utf8() -> None:
    assert digest("x") == hashlib.sha256(b"x").hexdigest()[:32] == "2d711642b726b04401627ca9fbac32f5"
    assert digest("\udcff") == "8f1d0f9c88065271ef888ba5a7790e55"  # a lone surrogate does not raise


def test_scan_members_reads_bytes_as_utf8_with_replacement() -> None:
    hits = scan_members([("a.txt", b"ok\npassword=\xffhunter2x"), ("b", "fine"), ("c.txt", f"{GHP}")])
    assert _seen(hits) == [("a.txt", "secret_assignment", 2, "key", "password=***", 1),
                           ("c.txt", "token_format", 1, "github-pat", "***", 1)]
    assert hits[0].value_hashes == (digest("\ufffdhunter2x"),)


def test_hit_as_text() -> None:
    assert str(LeakHit("m", "token_format", 3, kind="github-pat", excerpt="x ***")) == \
        "m:3: token_format (github-pat): x ***"
    assert str(LeakHit("m", "key", 1, kind="key")) == "m:1: key"
    assert str(LeakHit("m", "key", 1)) == "m:1: key"
    assert LeakHit("m", "key", 1, kind="a", excerpt="b") == LeakHit("m", "key", 1)  # compared by member, rule, line
