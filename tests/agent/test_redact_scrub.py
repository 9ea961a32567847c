"""Structured values (agent/redact/scrub.py): what a sensitive key redacts below it, name/value pairs, argv lists."""

from __future__ import annotations

from typing import Any

import pytest

from medic.agent.redact import Pseudonymiser, Scrubber
from medic.kernel.models import ProbeResult

S = "Zq9-hunter2-Xy7"
OTHER = "Kp4-plain-Value8"


def test_a_sensitive_key_redacts_every_scalar_below_it_and_numbers_each_value() -> None:
    scrubber = Scrubber()
    out = scrubber.scrub_value({"password": {"nested": S, "list": [S, 5, None, True], "n": 3.5}, "Value": OTHER,
                                "token": ("a", S)})
    assert out == {"password": {"nested": "[REDACTED:password#1]",
                                "list": ["[REDACTED:password#1]", "[REDACTED:password#2]", None, True],
                                "n": "[REDACTED:password#3]"},
                   "Value": OTHER,  # a "Value" without a name beside it is no secret
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
    (["mysql", f"-p{S}", "--password", S], ["mysql", "-p[REDACTED:password#1]", "--password", "[REDACTED:password#1]"]),
    (["tool", "--token", "[REDACTED:token#4]", "--password", "x1y2z3"],
     ["tool", "--token", "[REDACTED:token#4]", "--password", "[REDACTED:password#1]"]),
    (["tool", "--password", "--verbose"], ["tool", "--password", "--verbose"]),  # an option, not a value
    # mongo's, mongosh's and redis-cli's short password options
    (["mongo", "-u", "bob", "-p", S, "admin"], ["mongo", "-u", "bob", "-p", "[REDACTED:password#1]", "admin"]),
    (["/usr/bin/mongosh", "-p", S], ["/usr/bin/mongosh", "-p", "[REDACTED:password#1]"]),
    (["mongodump", f"-p{S}", "--db", "app"], ["mongodump", "-p[REDACTED:password#1]", "--db", "app"]),
    (["mongosh", "-p", "--authenticationDatabase", "admin"], ["mongosh", "-p", "--authenticationDatabase", "admin"]),
    (["redis-cli", "-a", S, "ping"], ["redis-cli", "-a", "[REDACTED:password#1]", "ping"]),
    (["redis-cli", "--pass", S], ["redis-cli", "--pass", "[REDACTED:password#1]"]),
    (["redis-cli", "-aS3cr3t"], ["redis-cli", "-aS3cr3t"]),  # not an option redis-cli reads: no password there
    (["tool", "-a", S], ["tool", "-a", S]), (["tool", "-pS3cr3t"], ["tool", "-pS3cr3t"]),  # only for those clients
    # remote-console, BMC, MQTT and archive clients (mosquitto and ipmitool: -p is the port, -P the password)
    (["rdesktop", "-u", "bob", "-p", S, "host"], ["rdesktop", "-u", "bob", "-p", "[REDACTED:password#1]", "host"]),
    (["ipmitool", "-p", "623", "-P", S], ["ipmitool", "-p", "623", "-P", "[REDACTED:password#1]"]),
    (["mosquitto_sub", "-p", "1883", "-P", S], ["mosquitto_sub", "-p", "1883", "-P", "[REDACTED:password#1]"]),
    (["7z", "a", f"-p{S}", "b.7z"], ["7z", "a", "-p[REDACTED:password#1]", "b.7z"]),
    (["unzip", "-P", S, "b.zip"], ["unzip", "-P", "[REDACTED:password#1]", "b.zip"]),
])
def test_argv_exactly(argv: list[Any], expected: list[Any]) -> None:
    assert Scrubber().scrub_value(argv) == expected


def test_probe_result_without_error() -> None:
    result = ProbeResult("files", {"path": "/etc/x", "token": "abc123xyz"}, True, data={"password": "hunter2"},
                         error=None, duration_s=0.1)
    assert Scrubber().scrub_result(result) == ProbeResult(
        "files", {"path": "/etc/x", "token": "[REDACTED:token#1]"}, True, data={"password": "[REDACTED:password#2]"},
        error=None, duration_s=0.1)


def test_scrub_bytes_uses_the_path() -> None:
    assert Scrubber().scrub_bytes(b"db:5432:app:bob:pw1", path="/home/bob/.pgpass") == \
        b"db:5432:app:bob:[REDACTED:password#1]"
    assert Scrubber().scrub_bytes(b"db:5432:app:bob:pw1") == b"db:5432:app:bob:pw1"


class TestPseudonymiserParts:
    def test_pseudonyms_are_not_pseudonymised_again(self) -> None:
        p = Pseudonymiser(users=["alice"])
        text = "user-1@example.invalid and Alice@Corp.com and USER-1@EXAMPLE.INVALID"
        assert p.text(text) == "user-1@example.invalid and user-1@example.invalid and USER-1@EXAMPLE.INVALID"
        assert p.mapping == {"Alice": "user-1", "Alice@Corp.com": "user-1@example.invalid"}

    def test_value_walks_keys_lists_and_tuples(self) -> None:
        p = Pseudonymiser(users=["alice"], hosts=["db01"])
        value = {"db01": ["alice", ("10.1.2.3", 5)], "n": None, "b": True, "x": {"k": "bob@example.org"}}
        assert p.value(value) == {"host-1": ["user-1", ["10.255.0.1", 5]], "n": None, "b": True,
                                  "x": {"k": "user-2@example.invalid"}}
        assert p.mapping == {"db01": "host-1", "alice": "user-1", "10.1.2.3": "10.255.0.1",
                             "bob@example.org": "user-2@example.invalid"}

    def test_two_letter_names_and_stable_pseudonyms(self) -> None:
        p = Pseudonymiser(users=["al", "b"])  # one letter is too short to be told from text
        assert p.text("al and b logged in") == "user-1 and b logged in"
        once = p.text("from 192.168.1.1 and 10.0.0.1")
        assert once == "from 10.255.0.1 and 10.255.0.2"
        assert p.text(once) == once  # pseudonyms are never pseudonymised again

    def test_not_an_address(self) -> None:
        assert Pseudonymiser().text("999.1.1.1 and 1.2.3.4") == "999.1.1.1 and 10.255.0.1"


def test_secret_labels_take_any_string() -> None:
    from medic.agent.redact.pseudo import SecretLabels

    labels = SecretLabels()  # undecodable bytes of a member arrive as lone surrogates
    assert [labels.number("a\udcffb"), labels.number(" a\udcffb "), labels.number("x")] == [1, 1, 2]


def test_probe_result_error_is_scrubbed() -> None:
    result = ProbeResult("http_get", {}, False, error="HTTPError: 401 for token=abc123xyz")
    assert Scrubber().scrub_result(result).error == "HTTPError: 401 for token=[REDACTED:token#1]"


def test_failure_without_a_path_names_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.agent.redact import RedactionError
    from medic.agent.redact.text import TextScrubber

    def broken(self: TextScrubber, text: str, path: str = "") -> str:
        raise KeyError(text)

    monkeypatch.setattr(TextScrubber, "scrub", broken)
    with pytest.raises(RedactionError) as info:
        Scrubber().scrub_text(f"password={S}")
    assert str(info.value) == "could not scrub text (KeyError)"
