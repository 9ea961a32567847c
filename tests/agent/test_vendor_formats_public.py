"""Vendor formats the public scanners know (gitleaks' rules, trufflehog's detectors, noseyparker's rules), found
missing by bench/redaction_public.py: each is redacted whole by the scrubber and flagged by the leak scan with
no key name near it, and a near miss of it (a placeholder body, a body one character short) is left alone.

Every value here is made up by the test (seeded random bodies of the vendor's documented alphabet and length).
"""

from __future__ import annotations

import random
import re
import string

import pytest

from medic.agent.redact import Scrubber, scan_text, tokens

HEX = "0123456789abcdef"
ALNUM = string.ascii_letters + string.digits
LOWER = string.ascii_lowercase + string.digits
_rng = random.Random(20261207)


def body(alphabet: str, n: int) -> str:
    """A random body; a mixed one (ALNUM) always has upper case, lower case and digits."""
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        if alphabet != ALNUM or (any(c.isupper() for c in value) and any(c.islower() for c in value)
                                 and any(c.isdigit() for c in value)):
            return value


def uuid_hex() -> str:
    return "-".join(body(HEX, n) for n in (8, 4, 4, 4, 12))


# (scrubber rule, token, near miss)
CASES = [
    ("openrouter_key", "sk-or-v1-" + body(HEX, 64), "sk-or-v1-" + "x" * 64),
    ("mailersend_token", "mlsn." + body(HEX, 64), "mlsn." + "0" * 64),
    ("bitbucket_app_password", "ATBB" + body(ALNUM, 32), "ATBB" + "X" * 32),
    ("slack_webhook", f"hooks.slack.com/workflows/T{body(ALNUM, 10)}/A{body(ALNUM, 10)}/{body(ALNUM, 24)}",
     "hooks.slack.com/workflows/" + "x" * 30),
    ("discord_webhook", f"discord.com/api/webhooks/{_rng.randrange(10**17, 10**18)}/{body(ALNUM + '_-', 68)}",
     f"discord.com/api/webhooks/{_rng.randrange(10**17, 10**18)}/{body(ALNUM, 20)}"),
    ("sourcegraph_token", f"sgp_{body(HEX, 16)}_{body(HEX, 40)}", f"sgp_{body(HEX, 16)}_{'0' * 40}"),
    ("sourcegraph_token", "sgp_local_" + body(HEX, 40), "sgp_local_" + body(HEX, 39)),
    ("sourcegraph_token", "slk_" + body(HEX, 64), "slk_" + "a" * 64),
    ("sourcegraph_token", "sgp_" + body(HEX, 40), "sgp_" + body(HEX, 24) + "a" * 16),  # a filler at the end
    ("authress_key", f"sc_{body(ALNUM, 10)}.{body(ALNUM, 5)}.acc_{body(HEX, 16)}.{body(ALNUM + '+/', 48)}",
     f"sc_{body(ALNUM, 10)}.{body(ALNUM, 5)}.acc_{body(HEX, 16)}.{body(ALNUM, 12)}"),
    ("aws_bedrock_key", "ABSK" + body(ALNUM + "+/", 132), "ABSK" + "EXAMPLE" * 19),
    ("aws_bedrock_key", "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + body(ALNUM, 80),
     "bedrock-api-key-" + body(ALNUM, 40)),
    ("lob_key", "live_" + body(HEX, 35), "live_" + body(HEX, 34)),
    ("lob_key", "test_pub_" + body(HEX, 31), "test_pub_" + "0" * 31),
    ("gocardless_token", "live_" + body(ALNUM + "_-", 39) + "Q", "live_" + "configuration_of_the_remote_servers_x"),
    ("posthog_key", "phx_" + body(ALNUM, 47), "phx_" + "x" * 47),
    ("nvidia_key", "nvapi-" + body(ALNUM + "_-", 64), "nvapi-" + "X" * 64),
    ("elevenlabs_key", "sk_" + body(HEX, 48), "sk_" + "0" * 48),
    ("iexcloud_key", "sk_" + body(HEX, 32), "sk_" + "f" * 32),
    ("tickettailor_key", f"sk_{_rng.randrange(1000, 9999)}_{_rng.randrange(100000, 999999)}_{body(HEX, 32)}",
     f"sk_{_rng.randrange(1000, 9999)}_{_rng.randrange(100000, 999999)}_{'0' * 32}"),
    ("recharge_token", "sk_test_1x1_" + body(HEX, 64), "sk_test_1x1_" + "a" * 64),
    ("rootly_key", "rootly_" + body(HEX, 64), "rootly_" + "0" * 64),
    ("salad_key", "salad_cloud_org_" + body(ALNUM, 48), "salad_cloud_org_" + "x" * 48),
    ("fleetbase_key", "flb_live_" + body(ALNUM, 20), "flb_live_" + "x" * 20),
    ("flexport_key", "shltm_" + body(ALNUM + "_-", 40), "shltm_" + "X" * 40),
    ("nightfall_key", "NF-" + body(ALNUM, 32), "NF-" + "x" * 32),
    ("pixie_key", "px-api-" + uuid_hex(), "px-api-" + body(HEX, 32)),
    ("apify_token", "apify_api_" + body(ALNUM, 36), "apify_api_" + "x" * 36),
    ("trufflehog_key", "thog-secret-" + body(HEX, 32), "thog-secret-" + body(HEX, 31)),
    ("photoroom_key", f"sk_pr_{body(ALNUM, 8)}_{body(HEX, 40)}", f"sk_pr_{body(ALNUM, 8)}_{'0' * 40}"),
    ("bannerbear_key", "bb_pr_" + body(HEX, 30), "bb_pr_" + "0" * 30),
    ("besttime_key", "pri_" + body(HEX, 32), "pri_" + "0" * 32),
    ("stackhawk_key", f"hawk.{body(ALNUM, 20)}.{body(ALNUM, 20)}", f"hawk.{body(ALNUM, 20)}.{body(ALNUM, 19)}"),
    ("ubidots_token", "BBFF-" + body(ALNUM, 30), "BBFF-" + "X" * 30),
    ("teamwork_token", "tkn.v1_" + body(ALNUM, 71) + "=", "tkn.v1_" + "x" * 71 + "="),
    ("spectralops_key", "spu-" + body(HEX, 32), "spu-" + "0" * 32),
    ("clickhouse_key", "4b1d" + body(ALNUM, 38), "4b1d" + body(HEX, 38)),
    ("harness_token", f"sat.{body(ALNUM, 22)}.{body(HEX, 24)}.{body(ALNUM, 20)}",
     f"sat.{body(ALNUM, 22)}.{body(HEX, 24)}.{body(ALNUM, 19)}"),
    ("typeform_token", "tfp_" + body(ALNUM + "_", 59), "tfp_" + "x" * 59),
    ("mailgun_key", "pubkey-" + body(HEX, 32), "pubkey-" + "0" * 32),
    ("mapbox_token", f"pk.{body(ALNUM, 60)}.{body(ALNUM, 22)}", f"pk.{'0' * 60}.{body(ALNUM, 22)}"),
    ("newrelic_key", "NRBR-" + body(HEX, 19), "NRBR-" + body(HEX, 18)),
    ("planetscale_token", f"pscale_pw_{body(ALNUM, 20)}=={body(ALNUM, 20)}", "pscale_pw_" + "x" * 20),
    ("doppler_token", f"dp.st.dev.{body(ALNUM, 43)}", f"dp.st.dev.{'x' * 43}"),
    ("aws_appsync_key", "da2-" + body(string.ascii_lowercase + string.digits, 26), "da2-" + string.ascii_lowercase),
    ("dynatrace_token", f"dt0c01.{body(ALNUM, 24)}.{body(ALNUM, 64)}", f"dt0c01.{body(ALNUM, 24)}.{body(ALNUM, 63)}"),
    # session 18: formats seen alone in trufflehog's and noseyparker's detector tests
    ("github_token", f"ghs_{body(ALNUM, 12)}_{body(ALNUM, 60)}", "ghs_" + "x" * 72),
    ("bitbucket_dc_token", "BBDC-" + body(ALNUM + "+/", 44), "BBDC-" + body(ALNUM, 43)),
    ("buildkite_token", "bkua_" + body(LOWER, 40), "bkua_" + body(LOWER, 39)),
    ("rubygems_key", "rubygems_" + body(LOWER, 48), "rubygems_" + body(LOWER, 47)),
    ("supabase_token", "sbp_" + body(LOWER, 40), "sbp_" + body(LOWER, 39)),
    ("figma_token", "figp_" + body(ALNUM, 40), "figp_" + "x" * 40),
    ("grafana_token", f"glsa_{body(ALNUM, 7)}_{body(ALNUM, 33)}", "glsa_" + "x" * 41),
    ("postman_key", "PMAK-" + body(ALNUM, 59), "PMAK-" + body(LOWER, 59)),
    ("tailscale_key", "tskey-" + body(ALNUM, 62), "tskey-" + body(LOWER, 62)),
    ("brevo_key", "xkeysib-" + body(ALNUM, 70), "xkeysib-" + body(LOWER, 70)),
    ("apify_token", f"apify_api_{body(ALNUM, 20)}-{body(ALNUM, 15)}", f"apify_api_{body(ALNUM, 20)}-{body(ALNUM, 14)}"),
    ("square_token", "EAAA" + body(ALNUM, 56), "EAAA" + "x" * 56),
    ("flutterwave_key", f"FLWSECK-{body(LOWER, 32)}-X", "FLWSECK-" + body(LOWER, 8)),
    ("salesforce_token", f"3MVG9{body(ALNUM, 40)}.{body(ALNUM, 40)}", "3MVG9" + body(ALNUM, 40)),
    ("zoho_token", f"1000.{body(HEX, 32)}.{body(HEX, 32)}", f"1000.{body(HEX, 32)}"),
    ("airtable_oauth_token", f"oaa{body(ALNUM, 14)}.v1.{body(ALNUM + '_-', 90)}",
     f"oaa{body(ALNUM, 14)}.v2.{body(LOWER, 90)}"),
    ("newrelic_mobile_token", f"AA{body(HEX, 40)}-NRMA", f"AA{body(HEX, 40)}-NRMB"),
    ("maxmind_license_key", f"{body(ALNUM, 6)}_{body(ALNUM, 29)}_mmk", f"{body(ALNUM, 6)}_{body(ALNUM, 28)}_mmk"),
    ("azure_entra_token", f"1.A{body(ALNUM + '_-', 50)}.AgAB{body(ALNUM + '_-', 120)}",
     f"1.A{body(ALNUM + '_-', 50)}.AgAC{body(LOWER, 120)}"),
    ("vault_legacy_token", "s." + body(ALNUM, 24), "s." + body(LOWER, 24)),
    ("jwt", "eyJhbGciOiJub25lIn0." + body(ALNUM + "_-", 60), "eyJhbGciOiJub25lIn0" + body(LOWER, 60)),
]
IDS = [f"{rule}-{i}" for i, (rule, _, _) in enumerate(CASES)]


def contexts(token: str) -> list[tuple[str, str]]:
    """No key name near the token: a setting named for nothing, a log message, a JSON value, a bare line."""
    return [("/etc/app/app.conf", f"value={token}\nretries=3\n"),
            ("/var/log/app/app.log", f"2026-12-07 12:00:01 INFO worker received {token} from upstream\n"),
            ("/var/lib/app/state.json", f'{{"id": 42, "value": "{token}"}}\n'),
            ("/var/lib/app/notes.txt", f"pasted:\n{token}\n")]


# a webhook's host and path are left in place, as the URL rules leave them: they say what was removed
PUBLIC_HEAD = re.compile(r"hooks\.slack\.com/\w+/|discord\.com/api/webhooks/")


def secret_part(token: str) -> str:
    head = PUBLIC_HEAD.match(token)
    return token[head.end():] if head else token


@pytest.mark.parametrize(("rule", "token", "near"), CASES, ids=IDS)
def test_tokens_find_the_format_whole(rule: str, token: str, near: str) -> None:
    head = len(token) - len(secret_part(token))
    assert list(tokens.find(f"x {token} y")) == [(rule, 2 + head, 2 + len(token))]


@pytest.mark.parametrize(("rule", "token", "near"), CASES, ids=IDS)
def test_scrubber_removes_it_everywhere(rule: str, token: str, near: str) -> None:
    scrubber = Scrubber()
    for path, text in contexts(token):
        out = scrubber.scrub_text(text, path=path)
        token = secret_part(token)
        assert token not in out and f"[REDACTED:{rule}#" in out, (path, out)
        rest = re.sub(r"\[REDACTED:[^\]]*\]", "", out)  # (a tag may name the vendor: rubygems_key)
        assert not any(token[i:i + 8] in rest for i in range(len(token) - 7)), (path, out)  # nothing of it left


@pytest.mark.parametrize(("rule", "token", "near"), CASES, ids=IDS)
def test_scan_flags_it_on_its_own(rule: str, token: str, near: str) -> None:
    for path, text in contexts(token):
        assert any(h.rule == "token_format" for h in scan_text(text, path)), (path, text)


@pytest.mark.parametrize(("rule", "token", "near"), CASES, ids=IDS)
def test_near_miss_is_no_token(rule: str, token: str, near: str) -> None:
    assert [found for found in tokens.find(f"x {near} y") if found[0] == rule] == []
    scrubber = Scrubber()
    for path, text in contexts(near):
        assert near in scrubber.scrub_text(text, path=path), (path, text)
        assert not any(h.rule == "token_format" for h in scan_text(text, path)), (path, text)


@pytest.mark.parametrize("text", [
    "eyJ" + "a" * 50_000 + "=" + ".a" * 50_000,  # a JWT's parts, never closed
    "1.A" + "a." * 50_000 + "AgAB",
    "s." + "aB1" * 30_000,
    "AA" + "0" * 100_000 + "-NRM",
])
def test_pathological_input_stays_fast(text: str) -> None:
    import time

    started = time.perf_counter()
    Scrubber().scrub_text(text + "\n", path="/var/log/app.log")
    scan_text(text + "\n", "/var/log/app.log")
    assert time.perf_counter() - started < 30  # bounds a hang (catastrophic backtracking), not a speed


@pytest.mark.parametrize(("line", "rule"), [
    ("git clone http://ghs_{}@github.com/team/repo.git", "github_token"),  # a token as a URL's user name
    ("http://hooks.slack.com/services/T{}/B0DD08H5G/x", "slack_webhook"),  # no https
    ("//hooks.slack.com/workflows/T{}/A04J3BAF7AA/4426/y", "slack_webhook"),
])
def test_a_token_right_after_a_urls_slashes_is_found(line: str, rule: str) -> None:
    token_body = body(ALNUM, 36)
    text = line.format(token_body)
    for prefix in ("", "x" * 600 + "\n"):  # a short text (every word) and a long one (the compiled first pass)
        out = Scrubber().scrub_text(prefix + text + "\n", path="/home/a/notes.txt")
        assert token_body not in out and f"[REDACTED:{rule}#" in out, out
        assert out.count("[REDACTED") == 1, out  # and no other rule reads the tag as the URL's user and password


def test_a_telegram_bot_token_with_a_shorter_secret_is_removed_with_its_bot_number() -> None:
    # noseyparker's test tokens hold 32 or 33 characters after "AA" (the URL rule's pattern took 33 only)
    for length in (31, 32, 33):
        token = f"{_rng.randrange(10**8, 10**10)}:AA{body(ALNUM + '_-', length)}"
        out = Scrubber().scrub_text(f"2026-12-08 INFO bot started with {token} ok\n", path="/var/log/bot.log")
        assert token[:8] not in out and token[-8:] not in out and "[REDACTED:telegram_bot_token#1]" in out, out
