"""Which lines the scrubber's line rules look at (agent/redact/linemarks.py): exact marks and plans."""

from __future__ import annotations

import pytest

from medic.agent.redact import linemarks as lm

pytestmark = pytest.mark.usefixtures("redact_engine")  # both first passes: compiled and pure Python

KW, LONG = lm.KEY_MARK, lm.LONG_MARK
AWS = "wJalrXUtnFEMIK7MDENGbPxRfiCY0a9b8c7d6e5f"  # 40 characters standing alone: an AWS secret key's shape
HASH = "0123456789ABCDEF" * 2 + "01234567"  # 40 upper-case hex digits: a MySQL hash after a "*"
SHA1 = "078e2fe281206fd452af399d4f90ec396b4cc61b"  # a git commit, a checksum


@pytest.mark.parametrize(("text", "keyed", "marks"), [
    ("", True, {}), ("nothing here", True, {}),
    ("plan\nBearer abc\nmysql -px\n", True, {5: [KW, "bearer"], 16: ["mysql"]}),  # ("plain": AUTH PLAIN's hint)
    ("a\npassword=1\nb", True, {2: [KW, "password"]}),
    ("a\npassword=1\nb", False, {2: ["password"]}),  # no keyword marks where key rules are off
    ("PASSWORD=1", True, {0: [KW, "password"]}),  # hints are found in the lower-cased text
    ("k=1 password x\nsecond password", True, {0: [KW, "password"], 15: [KW, "password"]}),
    ("Bearer x Bearer y\nbearer", True, {0: [KW, "bearer"], 18: [KW, "bearer"]}),
    ("url http://u:p@h\nsshpass -p x\n", True, {0: ["://"], 17: [KW, "pass ", "sshpass"]}),  # (FTP's PASS x)
    ("curl -u a:b\nhooks.slack.com/x\n", True, {0: ["-u"], 12: ["hooks.slack.com"]}),  # shared fragment "hook"
    ("sql mysql\n", True, {0: ["mysql"]}),  # "sql" alone marks nothing
    ("$6$salt$hash\n{SSHA}abc\n", True, {0: [KW, "$"], 13: ["{"]}),  # crypt and LDAP hashes by one scan each
    (f"x {AWS}\ny", True, {0: [LONG]}), (f"x {AWS}0\ny", True, {}),  # exactly 40, standing alone
    (f"a {AWS} b {AWS}", True, {0: [LONG]}),
    ("ab\n" + AWS + "\nc " + AWS[::-1], True, {3: [LONG], 44: [LONG]}),
    ("ab\n" + "A" * 40 + "\nc " + SHA1, True, {}),  # one case: no AWS key, and not "*" + 40 (a MySQL hash)
    (f"x {SHA1} {AWS}\n", True, {0: [LONG]}),  # a later run on the line still counts
    ("x" * 41, True, {}),
    ("*" + HASH, True, {0: [LONG]}), ("*" + HASH + "x", True, {0: [LONG]}), ("a\n*" + HASH + "x", True, {2: [LONG]}),
    ("y" + HASH + "x", True, {}),
])
def test_hit_lines(text: str, keyed: bool, marks: dict[int, list[str]]) -> None:
    found = lm.hit_lines(text, text.lower(), keyed)
    assert {start: sorted(why) for start, why in found.items()} == marks


@pytest.mark.parametrize(("text", "keyed", "marks"), [
    ("bearer a\nbearer b\nbearer c", True, {0: [KW, "bearer"], 9: [KW, "bearer"], 18: [KW, "bearer"]}),
    ("password=1\npassword=2\npassword=3", False, {0: ["password"], 11: ["password"], 22: ["password"]}),
    ("password=1\nx\nsshpass -p y\nz", True, {0: [KW, "password"], 13: [KW, "pass ", "sshpass"]}),  # each its line
    ("\npassword=1", False, {1: ["password"]}),  # the line after a leading newline starts at 1
    ("$6$salt$hash\n{SSHA}abc\n", False, {0: ["$"], 13: ["{"]}),  # hashes are marked without the key rules too
    (AWS, True, {0: [LONG]}), (AWS + "\nx", True, {0: [LONG]}),  # a run at the very start
])
def test_hit_lines_marks_every_line_once(text: str, keyed: bool, marks: dict[int, list[str]]) -> None:
    """Every line holding a hint, not only the first and the last; no line is given another's marks."""
    found = lm.hit_lines(text, text.lower(), keyed)
    assert {start: sorted(why) for start, why in found.items()} == marks


@pytest.mark.parametrize(("why", "rules", "forms", "keyed", "keyless", "mysql"), [
    (set(), [], [], False, 0, False),
    ({"bearer"}, ["bearer_token"], [], False, 0, False),
    ({LONG}, ["aws_secret_access_key", "password_hash"], [], False, 0, False),
    ({KW}, [], [], True, 0, False),
    ({"mysql"}, [], [("getconnection", "mysql", "pdo", "ldap_bind", "ftp_login", "imap_open", "ssh2_auth")], False, 0,
     True), ({"mariadb"}, [], [], False, 0, True),
    ({"sshpass"}, [], [("sshpass",)], False, 1, False),
    ({"-u"}, [], [], False, 1, False),
    ({"$"}, ["password_hash"], [], False, 0, False),
    ({"redis-cli"}, [], [("redis-cli",)], False, 0, False),
    ({"bearer", "basic", LONG}, ["aws_secret_access_key", "bearer_token", "basic_auth", "password_hash"], [], False, 0,
     False),
])
def test_plan(why: set[str], rules: list[str], forms: list[tuple[str, ...]], keyed: bool, keyless: int,
              mysql: bool) -> None:
    line_rules, line_forms, keyed_marked, keyless_patterns, mysql_marked = lm.plan(frozenset(why))
    assert [r.name for r in line_rules] == rules
    assert [f.hints for f in line_forms] == forms
    assert (keyed_marked, len(keyless_patterns), mysql_marked) == (keyed, keyless, mysql)
    assert lm.plan(frozenset(why)) is lm.plan(frozenset(why))  # worked out once per set of marks
