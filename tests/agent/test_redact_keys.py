"""Which keys name a secret and which values are kept (agent/redact/keys.py): exact answers, edges included."""

from __future__ import annotations

import pytest

from medic.agent.redact.keys import keep_value, key_words, looks_random, sensitive_key, tag, weak_key


@pytest.mark.parametrize(("key", "rule", "weak"), [
    ("DB_PASSWORD", "password", False), ("dbPassword", "password", False), ("db_pass", "password", False),
    ("pass_word", "password", False), ("my.pw", "password", False), ("pw", "password", False),
    ("a" * 92 + "password", "password", False), ("a" * 93 + "password", None, False),  # keys over 100 characters
    ("password_length", None, False), ("token_ttl", None, False),  # describes a secret, does not hold it
    ("auth_pass", "password", False),  # a strong word wins over the weak "auth"
    ("auth_session", "auth", True), ("session_auth", "session", True),  # only weak words: the first
    ("auth", "auth", True), ("sessionid", "session", True), ("cookie_jar", "cookie", True),
    ("session_token", "token", False), ("X-Auth-Token", "token", False), ("keyData", "private_key", False),
    ("jwt", "token", False), ("BEARER", "token", False), ("psk", "secret", False), ("api_keys", "api_key", False),
    ("app_key", "key", False), ("key_hash", "key", False),  # soft last words: only random values count
    ("keys", None, False), ("public_key", None, False), ("pub_key", None, False), ("host_key", None, False),
    ("publishable_key", None, False),
    ("pass", "password", True), ("Pass", "password", True), ("passes", None, False),
    ("", None, False), ("___", None, False), ("k", None, False),
])
def test_sensitive_key(key: str, rule: str | None, weak: bool) -> None:
    assert sensitive_key(key) == rule
    assert weak_key(key) is weak


@pytest.mark.parametrize(("key", "words"), [
    ("X-Auth-Token", ["x", "auth", "token"]), ("dbPassword", ["db", "password"]), ("my.pw", ["my", "pw"]),
    ("___", []), ("keyData2", ["key", "data2"]), ("HTTPServer", ["httpserver"]),
])
def test_key_words(key: str, words: list[str]) -> None:
    assert key_words(key) == words


@pytest.mark.parametrize(("value", "key"), [
    ("", ""), ("true", ""), (" 'Yes' ", ""), ("amd64", ""), ("scram-sha-256", ""),  # settings
    ("****", ""), ("x", ""), ("!", ""), ("!*", ""),  # masks, locked accounts
    ("$DB_PASS", ""), ("${X}/y", ""), ("$(cat /f)", ""), ("$(cat", ""), ("${X", ""),  # references
    ("|", ""), (">-", ""), ("!vault |", ""),  # YAML block scalar headers
    ("<your-token>", ""), ("{{ vault_x }}", ""), ("%(pw)s", ""), ("{pw}", ""), ("REDACTED", ""), ("[REDACTED]", ""),
    ("masked", ""), ("vault:secret/db#pw", ""), ("arn:aws:secretsmanager:us-east-1:000000000012:secret:db", ""),
    ("files", "session"), ("noneSuch", "session"), ("fooBarBaz", "cookie"), ("123456", "session"), ("Abc", "auth"),
    ("5", "Pass"), ("5 Fail: 0", "Pass"),  # "Pass: 5 Fail: 0" is a test count
    ("hello", "app_key"),  # a soft key's value that is not random
    ("/home/bob", "PWD"), ("/home/bob", "OLDPWD"), ("/home/bob", "pwd"),  # the shell's working directory
    ("[REDACTED:password#1]", ""), ("Bearer [REDACTED:token#2]", ""), ('"[REDACTED:token#1]",', ""),
])
def test_values_kept(value: str, key: str) -> None:
    assert keep_value(value, key) is True


@pytest.mark.parametrize(("value", "key"), [
    ("hunter2", ""), ("$uperSecret1", ""), ("files", "password"), ("hunter2x!", "session"), ("1234567", "session"),
    ("aB3dE5fG7hJ9kL1mN3pQ", "app_key"), ("/home/bob", "password"), ("home", "PWD"),
    ("[REDACTED:x#1]abc", ""), ("6 Fail", "password"),
])
def test_values_redacted(value: str, key: str) -> None:
    assert keep_value(value, key) is False


@pytest.mark.parametrize(("value", "expected"), [
    ("aB3dE5fG7hJ9kL1", False), ("aB3dE5fG7hJ9kL1m", True),  # 16 characters at least
    ("base64:aB3dE5fG7hJ9kL1mN3pQ", True), ("base64:aB3dE5fG7hJ9kL1", False), ("hex:" + "0a" * 16, True),
    ("aB3dE5fG 7hJ9kL1mN3", False), ("https://aB3dE5fG7hJ9kL1m", False), ("/usr/lib/aB3dE5fG7hJ9kL1m", False),
    ("./aB3dE5fG7hJ9kL1m", False),
    ("0123456789abcdef" * 2, True), ("0123456789ABCDEF" * 2, True), ("abcdefghabcdefghabcdefghabcdefgh", False),
    ("abcdefgh12345678", False), ("ABCDEFGH12345678", False), ("abcdefghABCDEFGHIJ", False),  # two classes
    ("abc-defgh12345678", True), ("abcdefgh12345678!", True), ("Abcdefgh12345678", True),
    ("abcdefghijklmnopqrst123", False), ("abcdefghijklmnopqrstu123", True),  # 24+ with 3 digits and 3 letters
    ("abcdefghijklmnopqrstuv12", False), ("123456789012345678901abc", True), ("1234567890123456789012ab", False),
    ("1234567890123456789012345", False),
    ("base64:abc:aB3dE5fG7hJ9kL1mN3", True), ("base64:aB3dE5fG7hJ9kL1mN3:x", True),  # only the first ":" splits
    ("hex:" + "abcdef" * 5 + "ab", True), ("abcdef" * 5 + "ab", True),  # 32 hex digits, with or without "hex:"
    ("0" * 31 + "a", True), ("0" * 31 + "A", True), ("0" * 30 + "a", False),  # hex: 32 digits at least
    ("0" * 31 + "X", False), ("X123456789012345", False),  # not hex; two classes, under 24
    ("abcdefghABCDEFGH-", False),  # three classes but no digit
])
def test_looks_random(value: str, expected: bool) -> None:
    assert looks_random(value) is expected


def test_tag() -> None:
    assert tag("password") == "[REDACTED:password]"
    assert tag("password", 3) == "[REDACTED:password#3]"
    assert tag("api_key", 0) == "[REDACTED:api_key]"
