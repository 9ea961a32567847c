"""Scrubbing structured probe results (any JSON value) and pseudonymisation."""

from __future__ import annotations

import json

import pytest

from medic.agent.redact import Pseudonymiser, Scrubber
from medic.agent.redact.pseudo import ipv4_pseudonym
from medic.kernel.models import ProbeResult

SECRET = "Zq9-hunter2-Xy7"


def test_sensitive_keys_redact_scalars_and_nested_values() -> None:
    data = {"db": {"password": SECRET, "port": 5432, "token": 123456, "enabled": True},
            "credentials": {"user": "app", "key": SECRET, "list": [SECRET, None]}, "note": "fine"}
    out = Scrubber().scrub_value(data)
    assert SECRET not in json.dumps(out)
    assert out["db"] == {"password": "[REDACTED:password#1]", "port": 5432, "token": "[REDACTED:token#2]",
                         "enabled": True}
    assert out["credentials"]["list"] == ["[REDACTED:credential#1]", None]  # the same value: the same number
    assert out["note"] == "fine"


def test_environment_probe_result() -> None:
    env = {"PATH": "/usr/bin", "PWD": "/home/bob", "AWS_SECRET_ACCESS_KEY": SECRET, "GITHUB_TOKEN": SECRET,
           "DATABASE_URL": f"postgres://app:{SECRET}@db/app", "LANG": "C.UTF-8"}
    scrubber = Scrubber()
    out = scrubber.scrub_value(env)
    assert SECRET not in json.dumps(out)
    assert out["PATH"] == "/usr/bin" and out["PWD"] == "/home/bob" and out["LANG"] == "C.UTF-8"
    assert out["DATABASE_URL"] == "postgres://app:[REDACTED:url_password#1]@db/app"
    assert scrubber.summary() == {"secret": 1, "token": 1, "url_password": 1}


@pytest.mark.parametrize("argv", [
    ["mysql", "-u", "root", "--password", SECRET, "app"],
    ["/usr/bin/sshpass", "-p", SECRET, "ssh", "host"],
    ["java", "-jar", "app.jar", "--db-password", SECRET],
    ["tool", f"--api-key={SECRET}"],
    ["mysqldump", f"-p{SECRET}", "db"],
    ["curl", "-H", f"Authorization: Bearer {SECRET}x1", "https://x"],
])
def test_argv_lists(argv: list[str]) -> None:
    out = Scrubber().scrub_value({"processes": [{"pid": 1, "cmdline": argv}]})
    assert SECRET not in json.dumps(out)
    assert out["processes"][0]["pid"] == 1
    assert len(out["processes"][0]["cmdline"]) == len(argv)


@pytest.mark.parametrize(("argv", "expected"), [
    (["mysql", "-uroot", f"-p{SECRET}"], ["mysql", "-uroot", "-p[REDACTED:password#1]"]),
    (["/usr/bin/mariadb", "-h", "db01", f"-p{SECRET}"], ["/usr/bin/mariadb", "-h", "db01", "-p[REDACTED:password#1]"]),
    (["sshpass", f"-p{SECRET}"], ["sshpass", "-p[REDACTED:password#1]"]),
    (["mysql", f"-p{SECRET}"], ["mysql", "-p[REDACTED:password#1]"]),
    (["mysql", f"-p{SECRET}", 3306], ["mysql", "-p[REDACTED:password#1]", 3306]),
    (["tool", "--password"], ["tool", "--password"]),
    (["mysql", "-p"], ["mysql", "-p"]),
])
def test_argv_password_in_the_last_argument(argv: list[object], expected: list[object]) -> None:
    """mysql -pSECRET as the last argument (or before a non-string) is redacted like anywhere else."""
    scrubber = Scrubber()
    assert scrubber.scrub_value(argv) == expected
    assert scrubber.summary() == ({"password": 1} if expected != argv else {})


@pytest.mark.parametrize("argv", [
    ["mysql", "-p[REDACTED:password#1]", "inventory"],
    ["/usr/bin/sshpass", "-p[REDACTED:password#1]", "ssh", "db01"],
    ["mysqldump", "-uroot", "-p[REDACTED:password#3]", "app", "--single-transaction"],
])
def test_argv_already_scrubbed_password_keeps_the_next_argument(argv: list[str]) -> None:
    scrubber = Scrubber()
    assert scrubber.scrub_value(argv) == argv
    assert scrubber.summary() == {}


def test_argv_scrubbing_twice_changes_nothing_more() -> None:
    once = Scrubber().scrub_value(["mysql", f"-p{SECRET}", "inventory"])
    assert once == ["mysql", "-p[REDACTED:password#1]", "inventory"]
    assert Scrubber().scrub_value(once) == once


def test_argv_keeps_harmless_options() -> None:
    argv = ["ssh", "-p", "2222", "--no-password", "host", "--timeout", "5"]
    assert Scrubber().scrub_value(argv) == argv


@pytest.mark.parametrize("pair", [
    {"name": "DB_PASSWORD", "value": SECRET}, {"key": "ApiKey", "value": SECRET},
    {"Name": "token", "Value": SECRET},
])
def test_name_value_pairs(pair: dict[str, str]) -> None:
    out = Scrubber().scrub_value([pair])
    assert SECRET not in json.dumps(out)
    assert set(out[0]) == set(pair)


def test_unknown_types_are_scrubbed_as_text() -> None:
    class Opaque:
        def __str__(self) -> str:
            return f"password={SECRET}"

    assert Scrubber().scrub_value({"x": Opaque()}) == {"x": "password=[REDACTED:password#1]"}


def test_probe_result_params_data_and_error() -> None:
    result = ProbeResult("http_get", {"url": f"https://u:{SECRET}@h/"}, False,
                         data={"headers": {"Authorization": f"Bearer {SECRET}"}},
                         error=f"HTTPError: 401 for token={SECRET}", duration_s=0.5)
    out = Scrubber().scrub_result(result)
    assert SECRET not in json.dumps(out.to_dict())
    assert (out.probe, out.ok, out.duration_s) == ("http_get", False, 0.5)
    assert result.data["headers"]["Authorization"].endswith(SECRET)  # the input is not modified


def test_scrub_bytes_keeps_undecodable_bytes() -> None:
    raw = b"\xff\xfe password=" + SECRET.encode() + b"\n\x00bin"
    out = Scrubber().scrub_bytes(raw)
    assert out == b"\xff\xfe password=[REDACTED:password#1]\n\x00bin"


class TestPseudonymiser:
    def test_consistent_pseudonyms_and_separate_mapping(self) -> None:
        p = Pseudonymiser(users=["alice"], hosts=["web01.corp.example.com"])
        text = ("alice@corp.com on web01.corp.example.com (WEB01) from 192.168.1.20 to 2001:db8::5; "
                "again 192.168.1.20, bob@example.org, /home/alice")
        out = p.text(text)
        assert out == ("user-1@example.invalid on host-1 (host-1) from 10.255.0.1 to fd00:ffff::1; "
                       "again 10.255.0.1, user-2@example.invalid, /home/user-1")
        assert p.mapping == {"alice": "user-1", "alice@corp.com": "user-1@example.invalid",
                             "bob@example.org": "user-2@example.invalid", "web01.corp.example.com": "host-1",
                             "192.168.1.20": "10.255.0.1", "2001:db8::5": "fd00:ffff::1"}

    @pytest.mark.parametrize("text", [
        "127.0.0.1 ::1 0.0.0.0 255.255.255.0 255.255.0.0 224.0.0.251 ff02::1", "v1.2.3.4 build 1.2.3",
        "10:30:45 aa:bb:cc:dd:ee:ff", "alice-pc alicesmith",
    ])
    def test_leaves_non_identifying_values(self, text: str) -> None:
        assert Pseudonymiser(users=["alice"]).text(text) == text

    def test_options_switch_parts_off(self) -> None:
        p = Pseudonymiser(emails=False, ips=False)
        assert p.text("bob@example.org 10.1.2.3") == "bob@example.org 10.1.2.3"

    def test_scrubber_runs_pseudonymiser_after_scrubbing(self) -> None:
        pseudo = Pseudonymiser(users=["alice"], hosts=["db01"])
        scrubber = Scrubber(pseudo)
        out = scrubber.scrub_value({"url": f"postgres://alice:{SECRET}@db01/app", "db01": "10.0.0.9"})
        assert out == {"url": "postgres://user-1:[REDACTED:url_password#1]@host-1/app", "host-1": "10.255.0.1"}
        assert SECRET not in json.dumps(pseudo.mapping)

    def test_many_ipv4_pseudonyms_stay_valid(self) -> None:
        import ipaddress

        p = Pseudonymiser()
        outs = [p.text(str(ipaddress.IPv4Address(0xC0A80000 + i))) for i in range(2_000)]  # 192.168.x.y
        assert len(set(outs)) == len(outs) and outs[0] == "10.255.0.1"
        numbered = [ipv4_pseudonym(n) for n in range(1, 70_000)]
        assert len(set(numbered)) == len(numbered)
        assert (numbered[65_023], numbered[65_024]) == ("10.255.255.254", "10.254.0.1")
        assert all(ipaddress.IPv4Address(o) in ipaddress.IPv4Network("10.0.0.0/8") for o in numbered)


def test_scrubbing_failure_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.agent.redact import RedactionError
    from medic.agent.redact.text import TextScrubber

    def broken(self: TextScrubber, text: str, path: str = "") -> str:
        raise ValueError(f"cannot handle {text}")

    monkeypatch.setattr(TextScrubber, "scrub", broken)
    with pytest.raises(RedactionError, match=r"could not scrub /etc/app\.conf \(ValueError\)") as info:
        Scrubber().scrub_text(f"password={SECRET}", path="/etc/app.conf")
    assert SECRET not in str(info.value)


def test_the_same_secret_gets_the_same_placeholder_in_every_file_of_a_bundle() -> None:
    scrubber = Scrubber()  # the pipeline uses one per bundle
    env = scrubber.scrub_text(f"DB_PASSWORD={SECRET}\nAPI_TOKEN=other-{SECRET}", path="/srv/app/.env")
    config = scrubber.scrub_text(f"db:\n  password: '{SECRET}'\n", path="/etc/app/config.yaml")
    url = scrubber.scrub_value({"dsn_url": f"postgres://app:{SECRET}@db/app"})
    argv = scrubber.scrub_value(["backup", "--password", SECRET])
    assert env == "DB_PASSWORD=[REDACTED:password#1]\nAPI_TOKEN=[REDACTED:token#2]"
    assert config == "db:\n  password: '[REDACTED:password#1]'\n"
    assert url == {"dsn_url": "postgres://app:[REDACTED:url_password#1]@db/app"}
    assert argv == ["backup", "--password", "[REDACTED:password#1]"]
    held = repr(vars(scrubber.labels))
    assert SECRET not in held  # only digests are kept, and never written anywhere
    assert Scrubber().scrub_text(f"password={SECRET}x") == "password=[REDACTED:password#1]"  # a new bundle
