"""The gate before the key rules (agent/redact/keyspots.py): a keyword line without a key spot is one the key rules
leave as it is, whatever it holds; the compiled scan finds the spots the pattern defines."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from medic.agent import firstpass
from medic.agent.redact import Scrubber, keys
from medic.agent.redact import keyspots as ks
from medic.agent.redact.text import TextScrubber

SPOTS = re.compile("|".join(ks.SPOTS), re.M)  # the same patterns in Python's re (slow: tests only)
_KEYS = ["password", "PASSWORD", "db_pass", "pa_ss", "Pass", "p.w", "pw", "pwd", "api_key", "apiKey", "key", "KEY",
         "k_ey", "my-key", "pubkey", "public_key", "session", "Session", "sess", "sessid", "token", "X-Auth-Token",
         "auth", "secret", "client.secret", "cred", "credentials", "conn", "connstr", "dsn", "sig", "jwt", "bearer",
         "otp", "psk", "community", "hash", "pat", "my_pat", "path", "cookie", "user", "name", "value", "machine",
         "requirepass", "ENV PASSWORD", "--password", "-p", "--db-pass", "<password>", "</password>", "setPassword",
         "CURLOPT_PASSWORD", "default", "pa ss", "my key", "[REDACTED:password#1]", "AccountKey", "Pwd",
         "SharedAccessKey=", "license", "Product Key", "cd-key", "activation_code", "IDENTIFIED BY", "PASSWORD(",
         "https://", "ftp://u:", "://", "@", "code", "LICENCE-KEY"]
_SEPS = ["=", ": ", ":", " = ", " ", "\t", "=>", ":=", "(", ", ", "\"", "'", "\" : ", "', '", ">", " value=", ";",
         "-", "--", "\x0c", "\x1f", "\r", "[0]=", "_", ".", "/"]
_VALUES = ["hunter22x", "S3cr3t!x", "\"q9Zx7pLm2Kd\"", "'p4ss w0rd'", "abc", "true", "5", "$VAR", "wJalrXUtnFEMIK7MD"
           "ENGbPxRfiCY0a9b8c7d6e5f", "x", "of user app.", "for deploy", "user:35315", "-x", "\"token\" in"]


def _lines(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    pieces = [_KEYS, _SEPS, _VALUES, [" ", "  ", "x", "1"]]
    return ["".join(rnd.choice(rnd.choice(pieces)) for _ in range(rnd.randint(1, 9))) for _ in range(count)]


def test_every_sensitive_key_holds_a_key_word() -> None:
    """What the gate relies on: each word table of keys.py names a key through one of the keyword tables' words."""
    tables = [needle for needle, _ in keys._CONTAINS] + [*keys._WORDS, *keys._WORDS_IN_COMPOUND, *keys._WEAK_WORDS,
                                                        *keys._SOFT_WORDS]
    assert all(any(w in entry for w in ks.KEY_WORDS) for entry in tables), tables


@pytest.mark.parametrize("word", ks.NEVER_ALONE)
def test_never_alone_words_name_no_secret_alone(word: str) -> None:
    """Whatever case and whatever key characters stand between its letters, the word alone names no secret."""
    for seps in itertools.product(["", "_", ".", "-", " ", ":", "["], repeat=len(word) - 1):
        spelt = word[0] + "".join(s + c for s, c in zip(seps, word[1:], strict=True))
        for cased in (spelt, spelt.upper(), spelt.title(), spelt[:-1] + spelt[-1].upper()):
            assert keys.sensitive_key(cased) is None, cased


def test_a_line_without_a_spot_is_left_alone_by_the_key_rules() -> None:
    scrubber = TextScrubber()
    lines = [
        *_lines(20000, 7), "Dec  8 20:37:04 web-16 systemd[1]: Started session-2468.scope - Session of user app.",
        "Dec  8 20:37:04 web-16 sshd[30698]: Accepted publickey for deploy from 10.66.189.235 port 42630 ssh2",
        "2026-12-05 10:00:00,123 WARN [pool-5-thread-4] cache miss for key=user:35315 etag=78633074b7970386",
        "PHP Warning:  Undefined array key \"token\" in /var/www/html/auth/session.php on line 155",
        "<add key=\"DbPass\" value=\"hunter22\" />", "machine h login u password p0ss extra"]
    skipped = 0
    for line in lines:
        if line.isascii() and "\n" not in line and not SPOTS.search(line.lower()):
            skipped += 1
            assert scrubber._keyed_line(line) == line, line
    assert skipped > 5000


@pytest.mark.parametrize(("line", "spot"), [
    ("Started session-2468.scope - Session of user app.", False), ("Accepted publickey for deploy", False),
    ("cache miss for key=user:1 etag=abc", False), ("Undefined array key \"token\" in x.php", False),
    ("password=x", True), ("pa_ss=x", True), ("my key = x", False), ("my_key = x", True), ("key=x", False),
    ("\"my key\": 1", True), ("\"key\": 1", False), ("session opened for user root", False),
    ("--db-password x", True), ("-x password x y", False), ("auth x", True), ("<pass>x</pass>", True),
    ("  requirepass\tx y", True), ("machine h login u passwd p0 x", True), ("setPassword(\"x\")", True),
    ("<add key=\"DbPass\" value=\"x\" />", True),
])
def test_spots(line: str, spot: bool) -> None:
    assert bool(SPOTS.search(line.lower())) is spot


def _hint_spots(line: str) -> set[str]:
    return {m for marks, pattern in ks.HINT_SPOTS if re.search(pattern, line.lower()) for m in marks}


@pytest.mark.parametrize("hint", sorted({m for marks, _ in ks.HINT_SPOTS for m in marks}))
def test_a_line_without_a_hint_spot_is_left_alone_by_its_rules(hint: str) -> None:
    """The rules and forms a hint calls for (linemarks.plan) change no line without that hint's spot."""
    scrubber = TextScrubber()
    skipped = 0
    for line in [*_lines(20000, 5), "x AccountKey=abcdefghijklmnopqrstuvwx", "Password 'x'", "http://u:p@h",
                 "CD-Key: ABCDE-12345", "Product Code = XYZ12-34567"]:
        if hint in line.lower() and line.isascii() and "\n" not in line and hint not in _hint_spots(line):
            skipped += 1
            assert scrubber._line(line, True, frozenset({hint})) == line, line
    assert skipped > 100


@pytest.mark.skipif(not firstpass.available(), reason="hyperscan is not installed here")
def test_the_compiled_scan_finds_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_REDACT_ENGINE", "compiled")
    lines = [line.replace("\n", " ") for line in _lines(3000, 11)] + ["pässword=x", "x ä", ""]
    folded = "\n".join(lines).lower()
    starts = list(itertools.accumulate([0] + [len(line) + 1 for line in lines[:-1]]))
    expected = {s: ks._ALL if not line.isascii() else frozenset(_hint_spots(line) | ({ks.KEY_MARK} if SPOTS.search(
        line) else set())) for s, line in zip(starts, folded.split("\n"), strict=True)}
    assert ks.spot_lines(folded) == {s: v for s, v in expected.items() if v}


@pytest.mark.usefixtures("redact_engine")  # both first passes: compiled and pure Python
@pytest.mark.parametrize(("text", "out"), [
    # a rule before the key rules wrote a key the key rules then take (KEY_LATE): the same as without the gate
    ("{\"wJalrXUtnFEMIK7MDENGbPxRfiCY0a9b8c7d6e5f\": \"hunter22x\"} session started ok",
     "{\"[REDACTED:aws_secret_access_key#1]\": \"[REDACTED:secret#2]\"} session started ok"),
    ("Started session-2468.scope - Session of user app.", "Started session-2468.scope - Session of user app."),
    ("x pa_ssword=hunter22 key=1", "x pa_ssword=[REDACTED:password#1] key=1"),
])
def test_scrubbed_the_same_with_and_without_the_gate(text: str, out: str) -> None:
    assert Scrubber().scrub_text(text + "\n", "x.log") == out + "\n"


@pytest.mark.skipif(not firstpass.available(), reason="hyperscan is not installed here")
def test_line_marks_in_one_scan_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """line_marks' one compiled scan gives what hit_lines then unmark_spotless give, line by line and mark by mark."""
    from medic.agent.redact.linemarks import hit_lines

    monkeypatch.setenv("MEDIC_REDACT_ENGINE", "compiled")
    rnd = random.Random(3)
    lines = _lines(6000, 13)
    hashes = ["*" + "0123456789ABCDEF" * 2 + "01234567" + tail for tail in ("", "8", " x", "_")]
    runs = [pad + "wJalrXUtnFEMIK7MDENGbPxRfiCY0a9b8c7d6e5f" + tail for pad in ("", "x ", "_", "=") for tail in
            ("", " y", "-", "0")]
    lines += ["x Bearer abcdefghijklmnop12 y z", "curl -u a:b session ok now", "sshpass -p x token y z", *hashes,
              *runs] * 10
    texts = ["\n".join(rnd.sample(lines, 40)) for _ in range(300)] + ["", "\n", "password=x", "pässword=x\nkey=1"]
    for text in texts:
        for keyed in (True, False):
            folded = text.lower()
            expected = ks.unmark_spotless(hit_lines(text, folded, keyed), folded, keyed)
            assert ks.line_marks(text, folded, keyed) == expected, text


@pytest.mark.skipif(not firstpass.available(), reason="hyperscan is not installed here")
def test_the_whole_text_hints_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """prescan's words and block flag: what text.py's whole-text steps find with ``in`` and BLOCK_SCALAR."""
    from medic.agent.redact.linemarks import BLOCK_SCALAR

    monkeypatch.setenv("MEDIC_REDACT_ENGINE", "compiled")
    rnd = random.Random(5)
    pieces = [*_lines(500, 17), "a: |", "b: >-", "c:  !!binary |", "d:\t!t\t>", "e: !t|", "f: x|", "value:", "Value:",
              "\"value\"", "PRIVATE KEY", "private-lines", "private  key", ":\n|", "\x0c|", "password: |+2"]
    for _ in range(2000):
        text = "".join(rnd.choice(pieces) + rnd.choice(["\n", " ", "", ":"]) for _ in range(rnd.randint(1, 6)))
        folded = text.lower()
        scanned = ks.prescan(folded)
        if not folded.isascii():
            assert scanned is None
            continue
        assert scanned is not None
        assert scanned.words == {w for w in ks._WHOLE if w in folded}, text
        assert scanned.block == bool(BLOCK_SCALAR.search(text)), text
