"""The factored word expressions behind the scrubber's keyword marks and the leak scan's anchors find exactly what
the plain alternation of the same words finds."""

from __future__ import annotations

import random
import re

import pytest

from medic.agent import leakfind
from medic.agent.redact.keys import KEYWORD
from medic.agent.wordtrie import factored

WORDS = ["pass", "pw", "psk", "secret", "sess", "sig=", "token", "key", "net user", "-----begin", "://", "redis-cli"]


def _texts() -> list[str]:
    rnd = random.Random(7)
    pieces = [*WORDS, "pa", "p", "s", "se", "ke", "net", " ", "\n", "=", ":", "x", "-", "/", "passw", "tokens"]
    return ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40))) for _ in range(2000)]


def test_a_factored_expression_matches_as_the_plain_alternation_does() -> None:
    plain = re.compile("|".join(re.escape(w) for w in WORDS))
    trie = re.compile(factored(dict.fromkeys(WORDS, "")))
    assert trie.pattern.startswith(r"\-\-\-\-\-begin|://|key|net\ user|p(?:ass|sk|w)|")
    for text in _texts():
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_a_tail_follows_its_word_only() -> None:
    pattern = re.compile(factored({"pat": "(?![a-z])", "pass": ""}))
    assert [m.group() for m in pattern.finditer("path pat pass pat=")] == ["pat", "pass", "pat"]


def test_a_word_that_starts_another_is_refused() -> None:
    # either could match at one position, and the order of the branches would decide which
    with pytest.raises(ValueError, match="start of another"):
        factored(dict.fromkeys(["pass", "password"], ""))


def test_keyword_and_anchor_expressions_match_their_plain_forms() -> None:
    keyword = re.compile(
        r"pass|pw|secret|token|key|cred|auth|cookie|sess|conn|dsn|sig|jwt|bearer|otp|psk|community|pat(?![a-z])|hash")
    anchor = re.compile(
        r"p(?:ass|w|sk)|s(?:ecret|ess|ig=|shpass)|token|key|c(?:red|ookie|url|ommunity)|auth|b(?:earer|asic)"
        r"|-----begin|eyj|django-insecure-|pat(?=[\"' \t]*[=:])|://|\$(?:[12567y]|2[abxy]|apr1|argon2(?:id|i|d)|gy)\$"
        r"|\{(?:s?sha(?:256|512)?|s?md5|crypt|pbkdf2[\w-]*)\}|" + "|".join(re.escape(w) for w in leakfind.CLIENTS))
    rnd = random.Random(11)
    pieces = ["pass", "pat", "pat =", "path", "sshpass", "htpasswd", "cmdkey", "curl", "$6$", "$2a$", "{ssha}", "eyj",
              "sess", "sig=", "secret", "mysql", "identified by", "net user", "conn", "hash", "x", " ", "\n", "'"]
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
        assert [m.span() for m in KEYWORD.finditer(text)] == [m.span() for m in keyword.finditer(text)]
        assert [m.span() for m in leakfind._ANCHOR.finditer(text)] == [m.span() for m in anchor.finditer(text)]
