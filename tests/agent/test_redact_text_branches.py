"""Text scrubbing (agent/redact/text.py), one branch at a time: the exact output of the cases where a helper's
guard decides (a key's strength, where a value ends, where a block's indentation comes from).

Each case was found by mutation testing (tests/MUTATION.md): without it, changing that guard left the suite green.
"""

from __future__ import annotations

from collections import Counter

import pytest

from medic.agent.redact.pseudo import SecretLabels
from medic.agent.redact.text import TextScrubber

P1 = "[REDACTED:password#1]"
S1 = "[REDACTED:secret#1]"
LK1 = "[REDACTED:license_key#1]"
GH = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
LONG = "a1B2" * 16  # a value longer than the 61 characters looked back from the end of the line
# GlobalSign Root R46's last base64 line has 40 characters: the shape of an AWS secret key, in a public certificate
CERT = ("-----BEGIN CERTIFICATE-----\nMIIFWjCCA0KgAwIBAgISEdK7udcjGJ5AXwqdLdDfJWfRMA0GCSqGSIb3DQEBDAUA\n"
        "vouXsXgxT7PntgMTzlSdriVZzH81Xwj3QEUxeCp6\n-----END CERTIFICATE-----\n")


@pytest.mark.parametrize(("text", "expected", "counts"), [
    # -p is a mysql password only after "mysql" on its line, not before it
    ("tool -phunter2 && mysql db", "tool -phunter2 && mysql db", {}),
    ("mysql -phunter2 && tool -pother1", f"mysql -p{P1} && tool -p[REDACTED:password#2]", {"password": 2}),
    # key=value inside a value already redacted is not scanned again
    ("x password=abc:token=xyz", f"x password={P1}", {"password": 1}),
    # key:value without a blank: strong keys only, never a weak one, a ${VAR:-default} or a colon-separated field
    ("x secret:a7Bx9q", "x secret:[REDACTED:secret#1]", {"secret": 1}),
    ("auth:a7Bx9q", "auth:a7Bx9q", {}), ("pass:a7Bx9q", "pass:a7Bx9q", {}),
    ("echo ${TOKEN:-a7Bx9q}", "echo ${TOKEN:-a7Bx9q}", {}), ("urn:secret:a7Bx9q", "urn:secret:a7Bx9q", {}),
    # key value at the end of a line: strong keys only; prose, a working directory and a soft key's word kept
    ("ENV DB_PASSWORD secretX", f"ENV DB_PASSWORD {P1}", {"password": 1}),  # not a plain word once X is kept
    ("x pass a7Bx9q", "x pass a7Bx9q", {}), ("pwd /home/bob", "pwd /home/bob", {}),
    ("ENV APP_KEY hello-world", "ENV APP_KEY hello-world", {}),
    # key = value and Key: value at the start of a line take the rest of the line, not only its first word
    ("password = correct horse battery", f"password = {P1}", {"password": 1}),
    ("Password: correct horse battery", f"Password: {P1}", {"password": 1}),
    ('password="abc', f"password={P1}", {"password": 1}),  # an unbalanced quote is part of the value
    ("password=Xhunter2X", f"password={P1}", {"password": 1}),  # only quotes are taken off a value
    ('x <password>"hunter2"</password>', f'x <password>"{P1}"</password>', {"password": 1}),
    # calls and options judge weak keys and values starting with "-" (options) as the key rules do not
    ('ds.setAuth("a7Bx9q")', 'ds.setAuth("a7Bx9q")', {}), ('ds.setPassword("-x9")', 'ds.setPassword("-x9")', {}),
    ("backup --password --verbose", "backup --password --verbose", {}),
    ("<auth>hunter2x</auth>", "<auth>[REDACTED:auth#1]</auth>", {"auth": 1}),
    ("<password>-x9Y</password>", f"<password>{P1}</password>", {"password": 1}),
    # ADO.NET takes a value up to its semicolon, blanks included
    ("Server=db;Password=two words;Encrypt=yes;", f"Server=db;Password={P1};Encrypt=yes;", {"password": 1}),
    # .netrc: the password wherever it stands on a machine line, indented or not; a directive spelt with a long s
    ("machine h password hunter2 login u", f"machine h password {P1} login u", {"password": 1}),
    ("  machine h password hunter2 login u", f"  machine h password {P1} login u", {"password": 1}),
    ("ma\u017fterauth hunter2", f"ma\u017fterauth {P1}", {"password": 1}),  # (?i) matches the long s
    # key "value" anywhere on a line; key value at its end, found from the last blank (or tab) before the value
    (f'set db_secret "hunter2" then {"y" * 70} end', f'set db_secret "{S1}" then {"y" * 70} end', {"secret": 1}),
    (f"set db_secret 'hunter2' then {'y' * 70} end", f"set db_secret '{S1}' then {'y' * 70} end", {"secret": 1}),
    (f"x password {LONG} ", f"x password {P1} ", {"password": 1}),  # trailing blanks after a long value
    (f"x password {LONG}\t", f"x password {P1}\t", {"password": 1}),
    ("db_password\thunter2x", f"db_password\t{P1}", {"password": 1}),  # a tab is the only blank
    ("db_password hunter2x", f"db_password {P1}", {"password": 1}),  # the key at the start of the line
    # forms: a license key only a form finds (its words and separator present), each form after one skipped
    ("Activation key : ABCDE-FGHIJ-KLMNO-PQRST-UVWXY", f"Activation key : {LK1}", {"license_key": 1}),
    ("Activation key: ABCDE-FGHIJ-KLMNO-PQRST-UVWXY (id=3)", f"Activation key: {LK1} (id=3)", {"license_key": 1}),
    ("rocommunity s3cr3tX # key", "rocommunity [REDACTED:community#1] # key", {"community": 1}),
    ("rocommunity s3cr3tX # key=1", "rocommunity [REDACTED:community#1] # key=1", {"community": 1}),
    # a text whose lower() changes length (dotted I) is scrubbed line by line, every line from its first character
    ("\u0130 sshpass -p hunter2 ssh h", f"\u0130 sshpass -p {P1} ssh h", {"password": 1}),
    ("\u0130\npassword=hunter2", f"\u0130\npassword={P1}", {"password": 1}),
    ("password=hunter2 \u0130", f"password={P1}", {"password": 1}),  # (the rest of the line is the value)
    # every secret of a line or text is kept track of, not only the last one
    ("x password=hunter2 token=abc123", f"x password={P1} token=[REDACTED:token#2]", {"password": 1, "token": 1}),
    (f"a {GH} b {GH[:-1]}6 c", "a [REDACTED:github_token#1] b [REDACTED:github_token#2] c", {"github_token": 2}),
    ("\n\u0130 password=hunter2", f"\n\u0130 password={P1}", {"password": 1}),  # an empty first line
    # a block scalar's replacement keeps its first line's indentation, whatever the next lines have
    ("db:\n  password: |\n      line1\n    line2\nport: 5", f"db:\n  password: |\n      {P1}\nport: 5",
     {"password": 1}),
])
def test_scrub_branch(text: str, expected: str, counts: dict[str, int]) -> None:
    scrubber = TextScrubber()
    assert scrubber.scrub(text) == expected
    assert dict(scrubber.counts) == counts


def test_a_block_scalar_is_numbered_as_the_value_yaml_reads() -> None:
    """The block's lines joined by newlines: the number a JSON copy of the same secret gets elsewhere in the
    bundle (the labels and counts given are the ones used)."""
    labels, counts = SecretLabels(), Counter({"token": 3})
    labels.number("seen before")
    out = TextScrubber(counts, labels).scrub("db:\n  password: |\n    line1\n    line2\n")
    assert out == "db:\n  password: |\n    [REDACTED:password#2]\n"
    assert labels.number("line1\nline2\n") == 2
    assert labels.number("line1 line2") == 3
    assert counts == {"token": 3, "password": 1}


@pytest.mark.parametrize(("text", "path", "expected"), [
    (CERT, "", CERT),  # a public certificate is left whole, even where a line looks like a secret
    (f"{CERT}password=a1\n{CERT}token=b2", "", f"{CERT}password={P1}\n{CERT}token=[REDACTED:token#2]"),
    ("h:5432:d:u:hunter", "/home/bob/.pgpass", f"h:5432:d:u:{P1}"),  # no keyword: the path says what it is
    (f"h:5432:d:u:hunter\n{CERT}", "/home/bob/.pgpass", f"h:5432:d:u:{P1}\n{CERT}"),
    (f"{CERT}h:5432:d:u:hunter", "/home/bob/.pgpass", f"{CERT}h:5432:d:u:{P1}"),
    ("passwd: |\n  files", "/etc/nsswitch.conf", "passwd: |\n  files"),  # no key rules there, blocks neither
    ("\u0130\npasswd:  files", "/etc/nsswitch.conf", "\u0130\npasswd:  files"),  # nor on every line
])
def test_public_pem_blocks_and_paths(text: str, path: str, expected: str) -> None:
    assert TextScrubber().scrub(text, path) == expected
