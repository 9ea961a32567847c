"""Structured values (agent/redact/scrub.py): what a sensitive key redacts below it, name/value pairs, argv lists."""

from __future__ import annotations

from typing import Any

import pytest

from medic.agent.redact import Scrubber

S = "Zq9-hunter2-Xy7"


def test_a_sensitive_key_redacts_every_scalar_below_it_and_numbers_each_value() -> None:
    scrubber = Scrubber()
    out = scrubber.scrub_value({"password": {"nested": S, "list": [S, 5, None, True], "n": 3.5}, "Value": S,
                                "token": ("a", S)})
    assert out == {"password": {"nested": "[REDACTED:password#1]",
                                "list": ["[REDACTED:password#1]", "[REDACTED:password#2]", None, True],
                                "n": "[REDACTED:password#3]"},
                   "Value": S,  # a "Value" without a name beside it is no secret
                   "token": ["[REDACTED:token#4]", "[REDACTED:token#1]"]}
    assert scrubber.summary() == {"password": 4, "token": 2}


@pytest.mark.parametrize(("pair", "expected"), [
    ({"name": "DB_PASSWORD", "Value": S}, {"name": "DB_PASSWORD", "Value": "[REDACTED:password#1]"}),
    ({"Key": "api_key", "value": S}, {"Key": "api_key", "value": "[REDACTED:api_key#1]"}),
    ({"name": 5, "value": S}, {"name": 5, "value": S}),  # a name that is not text names nothing
    ({"name": "host", "value": S}, {"name": "host", "value": S}),
    ({"name": "DB_PASSWORD", "other": S}, {"name": "DB_PASSWORD", "other": S}),  # no value field
])
def test_name_value_pairs_exactly(pair: dict[str, Any], expected: dict[str, Any]) -> None:
    assert Scrubber().scrub_value(pair) == expected


def test_values_kept_under_sensitive_keys() -> None:
    kept = {"password": "${DB_PASS}", "secret": "", "token": False, "api_key": None}
    scrubber = Scrubber()
    assert scrubber.scrub_value(kept) == kept
    assert scrubber.summary() == {}
    assert Scrubber().scrub_value({"app_key": "hello", "app_keys": "aB3dE5fG7hJ9kL1mN3pQ"}) == {
        "app_key": "hello", "app_keys": "[REDACTED:key#1]"}  # a soft key: only a random-looking value


def test_containers_and_keys() -> None:
    assert Scrubber().scrub_value(("a", {"password": S})) == ["a", {"password": "[REDACTED:password#1]"}]
    assert Scrubber().scrub_value({frozenset({1})}) == [[1]]
    assert Scrubber().scrub_value({"password=x": 1}) == {"password=x": "[REDACTED:password#1]"}
    assert Scrubber().scrub_value({"note": f"password={S}"}) == {"note": "password=[REDACTED:password#1]"}
    assert Scrubber().scrub_value({f"token={S}": "v"}) == {"token=[REDACTED:token#1]": "[REDACTED:token#2]"}


def test_summary_is_sorted_by_rule() -> None:
    scrubber = Scrubber()
    scrubber.scrub_value({"token": S, "password": S, "auth": "x1y2z3w4v5u6"})
    assert list(scrubber.summary().items()) == [("auth", 1), ("password", 1), ("token", 1)]


@pytest.mark.parametrize(("argv", "expected"), [
    (["/usr/bin/mysql", "--password", "-", "--password", "x"],
     ["/usr/bin/mysql", "--password", "-", "--password", "x"]),
    (["tool", "--password", S, "--no-password", "secret1"], ["tool", "--password", "[REDACTED:password#1]",
                                                              "--no-password", "secret1"]),
    ([5, "--password", S], [5, "--password", "[REDACTED:password#1]"]),
    (["tool", "--password", 7], ["tool", "--password", 7]),  # a number after the option: not redacted as argv
    (["tool", "-p", S], ["tool", "-p", S]),  # -p is a password only for mysql, mariadb and sshpass
    (["mariadb-dump", "-p", S], ["mariadb-dump", "-p", "[REDACTED:password#1]"]),
    (["sshpass", "-p", "--", "ssh"], ["sshpass", "-p", "--", "ssh"]),
    (["tool", "--token", "[REDACTED:token#4]"], ["tool", "--token", "[REDACTED:token#4]"]),
    ([], []),
])
def test_argv_exactly(argv: list[Any], expected: list[Any]) -> None:
    assert Scrubber().scrub_value(argv) == expected
