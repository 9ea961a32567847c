"""Vendor tokens by format (agent/redact/tokens.py): exact rule and span of each find, and the dispatch table's parts.

Formats come from the vendors' documentation (prefix, length, alphabet); a span is the token and nothing around it.
"""

from __future__ import annotations

import pytest

from medic.agent.redact import Scrubber, tokens

BODY = "A1b2" * 9  # 36 characters of [A-Za-z0-9]
RANDOM = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9"  # 27 characters, three classes, a switch at every character


@pytest.mark.parametrize(("text", "expected"), [
    (f"x ghp_{BODY} y", [("github_token", 2, 42)]),
    (f"ghp_{BODY} and npm_{BODY}", [("github_token", 0, 40), ("npm_token", 45, 85)]),
    (f"\u00e9 ghp_{BODY} \u00fc", [("github_token", 2, 42)]),  # text outside ASCII: the regular expression path
    (f"\u00e9 ghp_{BODY}\u00fc", []),  # \u00fc is a word character there: the token does not end
    (f"x\u00e9ghp_{BODY}", []),  # glued to a word (outside ASCII too): part of that word, not a token
    ("z" * 18 + f" ghp_{BODY}", [("github_token", 19, 59)]),  # after a long word that is no token
    (f"+ghp_{BODY}", []), (f"/ghp_{BODY}", []), (f"%ghp_{BODY}", []),  # inside a longer base64/url word
    (f"ghp_{BODY[:35]}", [("vendor_token", 0, 39)]),  # one character short: only the generic vendor shape
    ("ghp_" + "a" * 36, [("github_token", 0, 40)]),  # github's format asks no random-looking body
    ("AKIAABCDEFGHIJKLMNOP", [("aws_access_key_id", 0, 20)]),
    ("ASIAABCDEFGHIJKLMNOP", [("aws_access_key_id", 0, 20)]),
    ("AKIAABCDEFGHIJKLMNOPQ", []),  # 17 characters after the prefix: not an access key id
    (f"ghX_{BODY}", []),  # "gh" starts a prefix, the literal "gh" too, but no format matches
    ("whsec_" + "A" * 24 + "==", [("stripe_key", 0, 32)]),
    # "=" is in whsec's alphabet, not in a word's: the match runs over the next word, and the search goes on after it
    ("whsec_" + "A" * 24 + "==" + "B" * 16 + f" ghp_{BODY}", [("stripe_key", 0, 48), ("github_token", 49, 89)]),
    ("sk-ant-api03-" + "a" * 80, [("anthropic_key", 0, 93)]),
    ("M" + "T" + "a" * 23 + ".abcdef." + "b" * 27, [("discord_bot_token", 0, 60)]),
    ("MQ" + "a" * 23 + ".abcdef." + "b" * 27, [("discord_bot_token", 0, 60)]),
    ("sec abc8Q~" + RANDOM + "1234567", [("azure_client_secret", 4, 44)]),  # no prefix: found by "Q~"
    ("0123456789abcdef0123456789abcdef-us12", [("mailchimp_key", 0, 37)]),
    ("1/12345678901234:0123456789abcdef0123456789abcdef", [("asana_token", 0, 49)]),
    ("Ab12Cd34Ef56Gh.atlasv1." + "q7Zk2mW9" * 8, [("terraform_token", 0, 87)]),  # (x * 64: a placeholder)
    ("acme_" + RANDOM, [("vendor_token", 0, 32)]),  # a vendor not in the table: prefix, separator, random body
    ("acme-live-" + RANDOM, [("vendor_token", 0, 37)]),
    ("zqx_" + RANDOM, [("vendor_token", 0, 31)]), ("zqx-" + RANDOM, [("vendor_token", 0, 31)]),  # no known prefix
    ("x1_" + RANDOM, [("vendor_token", 0, 30)]),
    ("id acme_" + RANDOM + " ok", [("vendor_token", 3, 35)]),
    ("acme_" + "abcdefghijklmnopqrstuvwxyz", []),  # a body that is not random
    ("pk_live_" + RANDOM, []), ("cus_" + RANDOM, []),  # public ids of that shape
    ("Acme_" + RANDOM, []),  # the generic shape starts lower case
    ("acmecorporation_" + RANDOM, []),  # the separator comes too late for a prefix
])
def test_find(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert list(tokens.find(text)) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ("AaAaAbbbbbbbbbbbbbbbb123", True),  # three classes, 6 switches in 24: exactly a quarter
    ("AaAaAbbbbbbbbbbbbbbbbb123", True),  # 6 switches in 25: a quarter, rounded down
    ("a1a1aAbbbbbbbbbbbbbbbbbb", True),  # 6 switches: four between letter and digit, two of case
    ("1aAaAabbbbbbbbbbbbbbbbbb", False),  # 5 switches
    ("aAaAaAbbbbbbbbbbbbbbbbbb", False),  # 6 switches but no digit
    ("AAAAAA1bbbbbbbbbbbbbbbbb", False),
    (RANDOM, True),
])
def test_random_body(body: str, expected: bool) -> None:
    assert tokens._random_body(body) is expected


@pytest.mark.parametrize(("pattern", "prefixes", "literal"), [
    (r"(?:AKIA|ASIA)[A-Z0-9]{16}", ["AK", "AS"], ""),  # an alternation: each alternative's first two
    (r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16}", ["rk", "sk"], ""),
    (r"gh[pousr]_[A-Za-z0-9]{36,251}", ["gh"], "gh"),  # two literal characters
    (r"github_pat_[A-Za-z0-9_]{60,255}", ["gi"], "github_pat_"),
    (r"sk-ant-(?:api|admin|sid)\d\d-[\w-]{80,}", ["sk"], "sk-ant"),  # the literal ends before its last "-"
    (r"t1\.[A-Z0-9a-z_-]+", ["t1"], "t1"),
    (r"M[TQ][\w-]{22,26}\.[\w-]{6}", ["MT", "MQ"], "M"),  # a character, then a small class
    (r"[\w~.-]{3}\dQ~[\w~.-]{31,34}", [], ""),  # no fixed start: tried on every word holding "Q~"
    (r"1/\d{14,16}:[a-f0-9]{32}", ["1/"], "1"),  # a "/" second: Asana's, under "1/" (a path is no candidate)
    (r"A{22}[A-Za-z0-9%]{80,}", [], "A"),
])
def test_prefixes_and_literal(pattern: str, prefixes: list[str], literal: str) -> None:
    assert tokens._prefixes(pattern) == prefixes
    assert tokens._literal(pattern) == literal


def test_every_format_is_reachable() -> None:
    """Each format's pattern is tried: under its first two characters, or on every word (no fixed start)."""
    indexed = {id(p) for group in tokens._BY_PREFIX.values() for _, p in group} | {id(p) for _, p in tokens._UNPREFIXED}
    assert len(indexed) == sum(len(patterns) for patterns in tokens._FORMATS.values())
    # and every format without a fixed start has its fragment, so most words skip it
    assert {name for name, _ in tokens._UNPREFIXED} == set(tokens._INSIDE)


@pytest.mark.parametrize(("word", "possible"), [
    ("abc_" + "aB3" * 9, True), ("abc-" + "aB3" * 9, True),
    ("abc_" + "ab3" * 9, False),  # one case: _random_body would say no
    ("e56c9bb5-3920-21a6-729d-be06d4237a99", False), ("session-7830.scope", False), ("Abc_" + "aB3" * 9, False),
])
def test_generic_possible(word: str, possible: bool) -> None:
    """The cheap test before _GENERIC: a word it rules out is never a generic vendor token (checked here)."""
    assert tokens._generic_possible(word) is possible
    if not possible:
        assert list(tokens.find(word)) == []


@pytest.mark.parametrize("placeholder", ["ghp_" + "x" * 36, "AKIA" + "X" * 16, "glpat-" + "X" * 20,
                                         "sk-proj-" + "x" * 48 + "T3BlbkFJ" + "x" * 20])
def test_a_vendor_shape_filled_with_x_is_a_placeholder_and_kept(placeholder: str) -> None:
    line = f"export EXAMPLE_VALUE like {placeholder} in the docs\n"
    assert Scrubber().scrub_text(line) == line
    real = placeholder.replace("x" * 6, "q7Zk2m").replace("X" * 6, "Q7ZK2M")  # one run of six changed: a token
    assert real not in Scrubber().scrub_text(f"export EXAMPLE_VALUE like {real} in the docs\n")
