"""Settings and references under secret-sounding keys (agent/redact/lookalikes.py): kept by the scrubber, not
flagged by the leak scan (corpus.LOOKALIKES); real secrets of the same shapes still removed whole and flagged."""

from __future__ import annotations

import pytest

from medic.agent.redact import Scrubber, scan_text
from medic.agent.redact.keys import keep_value

pytestmark = pytest.mark.usefixtures("redact_engine")

PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Vq3xPz"

# (line, the secret in it): each one next to a look-alike class; both layers must catch it
NEAR_MISSES = [
    ("ssl.need.client.auth=true|Zx81Kq0PLmN4vB7cT2sW", "true|Zx81Kq0PLmN4vB7cT2sW"),  # not every option a setting
    ("password.toHashes = hunter2x", "hunter2x"),  # a word password after " = "
    ("initiate.credential=correcthorse", "correcthorse"),  # a word, no blanks
    ("initiate.credential=Always-Imp3rs0nate", "Always-Imp3rs0nate"),  # hyphenated, not an enumeration
    ("db_password=LETMEINNOW", "LETMEINNOW"),  # upper case under a strong key: no enumeration there
    (f"tls_privatekey = {PEM_BODY}", PEM_BODY),  # the key inline in base64, not a path
    (f"MAIN_TLS_PRIVATEKEY = {PEM_BODY}==", f"{PEM_BODY}=="),
    ("secret = s3cr3tV4lue # rotate monthly", "s3cr3tV4lue"),  # a value, then a comment
    ("secret=hunter2x#1", "hunter2x#1"),  # '#' inside the value: no comment
    ("password=/s3cr3tPw", "/s3cr3tPw"),  # one path-like word is no file path
    ("password => 'hunter2x',", "hunter2x"), ("password => hunter2x,", "hunter2x"),  # Perl and Ruby pairs
    ("password => $ENVX{TWITTER},", "$ENVX{TWITTER}"),  # not the environment
    ('AWS_SECRET_ACCESS_KEY="/TFGCRB6gIS/zA2xP9c53HzRw4Nx2ByhkzvU0CAa"', "/TFGCRB6gIS/zA2xP9c53HzRw4Nx2ByhkzvU0CAa"),
    ("tls_privatekey = /Ab3dEf9hIj/kLm0pQr5tU/wXy2zAb4cD.key", "/Ab3dEf9hIj/kLm0pQr5tU/wXy2zAb4cD.key"),
]


@pytest.mark.parametrize(("line", "secret"), NEAR_MISSES, ids=[n for n, _ in NEAR_MISSES])
def test_secret_beside_a_lookalike_class_is_removed_whole(line: str, secret: str) -> None:
    out = Scrubber().scrub_text(line)
    assert "[REDACTED:" in out
    assert not any(part in out for part in secret.split() if len(part) >= 4)


# the scan takes any value starting with "/" for a path (PWD=/root in an environment) and "$" for a variable:
# its own, looser choices
SCANNED = [(line, secret) for line, secret in NEAR_MISSES if not secret.startswith(("/", "$"))]


@pytest.mark.parametrize(("line", "secret"), SCANNED, ids=[n for n, _ in SCANNED])
def test_leak_scan_flags_a_secret_beside_a_lookalike_class(line: str, secret: str) -> None:
    assert scan_text(line, "m"), line


def test_comment_that_may_hold_the_secret_is_not_a_reason_to_keep() -> None:
    # openssl.cnf's "secret = $insta::secret # pass:insta": the comment spells out the password
    assert Scrubber().scrub_text("secret = $insta::secret # pass:insta") == "secret = [REDACTED:secret#1]"


@pytest.mark.parametrize(("value", "key"), [
    ("true|false", "password.toHashes"), ("yes|no|auto", "auth"), ("always-impersonate", "credential"),
    ("PLAIN", "auth"), ("CRAM-MD5", "auth"), ("MAIN_TLS_PRIVATEKEY", "tls_privatekey"),
    ("CONFDIR/exim.key", "private_key"), ("$dir/private/cakey.pem", "private_key"),
    ("/path/to/private/key", "privateKey"), ("~/.ssh/id_ed25519.pem", "private_key"), ("$insta::secret", "secret"),
    ("# disable PBM", "secret"), ("#", "secret"),
    ("$dir/private/cakey.pem# The private key", "private_key"), ("<; ${if exists{CONFDIR/passwd.client} \\", "auth"),
])
def test_kept(value: str, key: str) -> None:
    assert keep_value(value, key)


@pytest.mark.parametrize(("value", "key"), [
    ("true|hunter2", "password"), ("hunter|false", "password"), ("correct-horse-battery", "password"),
    ("PLAIN", "password"), ("LETMEIN", "secret"), ("NOT_A_NAME", "password"), ("/s3cr3t", "password"),
    ("s3cr3t # rotate", "secret"), ("$x::y # pass:insta", "secret"), ("s3cr3t#", "secret"),
    ("/home/bob", "password"), ("/TFGCRB6gIS/zA2xP9c53HzRw4Nx2ByhkzvU0CAa", "aws_secret_access_key"),
    ("CONFDIR/exim.keys", "password"),
])
def test_not_kept(value: str, key: str) -> None:
    assert not keep_value(value, key)
