"""The compiled first pass (agent/firstpass.py, Hyperscan) gives exactly the pure-Python pass's line marks and
leak anchors, and is the one used when hyperscan is installed; the agent works without it."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from medic.agent import firstpass, leakfind
from medic.agent.redact import Scrubber, scan_text
from medic.agent.redact.linemarks import hit_lines

REPO = Path(__file__).resolve().parents[2]
needs_hyperscan = pytest.mark.skipif(not firstpass.available(), reason="hyperscan is not installed here")
# overlaps, look-aheads, hash heads, text outside ASCII (one "?" each in the compiled pass), lines without end
EDGES = ["", "pat", "pat=1 patoken\n pat  :x pat\"=y", "$2a$ $2$ $argon2id$ $argon2i$ $y$x $1ä",
         "{ssha256}x {pbkdf2-ä}",
         "{PBKDF2-SHA512}z {crypt}", "passpass\nsessession keykey", "eyjeyj ://x\n\n", "ämysql -pX\nßpassword=Ä",
         "net user\nnet  user x\nhooks.slack.com/x access_token$", "Password: x\r\nTOKEN=y\tPAT: z patx",
         "sshpass -p a -u b\n:apa91b :aa\nbasic bearer\n", "İpassword {\u017fsha}x \u212a{SSHA}y {PBKDF2\u017f}z pAt:1"]


def _texts() -> list[str]:
    rnd = random.Random(13)
    pieces = [w for e in EDGES for w in e.split(" ")] + ["\n", " ", "=", ":", "\"", "ä", "x"]
    mixed = ["".join(rnd.choice(pieces) for _ in range(60)) for _ in range(300)]
    sources = [p.read_text("utf-8", "replace") for p in sorted((REPO / "agent").rglob("*.py"))]
    return EDGES + mixed + sources


def _both(monkeypatch: pytest.MonkeyPatch, work: Callable[..., object], *args: object) -> tuple[object, object]:
    """``work(*args)`` with the pure-Python pass, then with the compiled one."""
    monkeypatch.setenv("MEDIC_REDACT_ENGINE", "python")
    reference = work(*args)
    monkeypatch.setenv("MEDIC_REDACT_ENGINE", "compiled")
    return reference, work(*args)


def _scrub_and_scan(text: str) -> tuple[str, list[object]]:
    return Scrubber().scrub_text(text), list(scan_text(text))


def _anchors(text: str) -> list[tuple[tuple[str, int], ...]]:
    """The anchors found in ``text`` as it is and given its lower case (both ways the scan calls it)."""
    return list(zip(leakfind._anchors(text, None), leakfind._anchors(text, text.lower()), strict=True))


@needs_hyperscan
@pytest.mark.parametrize("keyed", [True, False])
def test_line_marks_are_the_same(monkeypatch: pytest.MonkeyPatch, keyed: bool) -> None:
    for text in _texts():
        folded = text.lower()
        if len(folded) == len(text):  # (hit_lines' precondition; the scrubber takes every line otherwise)
            reference, compiled = _both(monkeypatch, hit_lines, text, folded, keyed)
            assert compiled == reference, text


@needs_hyperscan
def test_leak_anchors_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    for text in [*_texts(), *(t.upper() for t in EDGES)]:
        reference, compiled = _both(monkeypatch, _anchors, text)
        expected = [(m.group(0), m.start()) for m in leakfind._ANCHOR.finditer(text.lower())]
        assert compiled == reference == [(found, found) for found in expected], text


@needs_hyperscan
def test_scrub_and_scan_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    for text in _texts():
        reference, compiled = _both(monkeypatch, _scrub_and_scan, text)
        assert compiled == reference, text


@needs_hyperscan
def test_the_compiled_pass_is_used_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIC_REDACT_ENGINE", raising=False)
    monkeypatch.setattr(firstpass, "_BUILT", {})
    Scrubber().scrub_text("password=hunter2x\n" * 40)  # (a text of more than 512 characters: every pass built)
    scan_text("token=Xq9vT3mZp2LrW8sK\n")
    assert firstpass.enabled() and sorted(firstpass._BUILT) == ["leak-anchors", "line-marks-spots",
                                                                  "vendor-words"]


def test_without_hyperscan_the_python_pass_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(firstpass, "_hs", None)
    monkeypatch.setattr(firstpass, "_BUILT", {})
    assert not firstpass.enabled()
    assert Scrubber().scrub_text("password=hunter2x\n") == "password=[REDACTED:password#1]\n"
    assert [h.rule for h in scan_text("token=Xq9vT3mZp2LrW8sK\n")] == ["secret_assignment"]
    assert firstpass._BUILT == {}


@needs_hyperscan
def test_a_compile_that_fails_falls_back_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(self: firstpass.Matcher, patterns: object, **options: object) -> None:
        raise firstpass._hs.error("this CPU lacks SSSE3")  # what Hyperscan says on a machine it cannot run on

    monkeypatch.delenv("MEDIC_REDACT_ENGINE", raising=False)
    monkeypatch.setattr(firstpass, "_BUILT", {})
    monkeypatch.setattr(firstpass, "_PENDING", {})
    monkeypatch.setattr(firstpass, "_FAILED", [])
    monkeypatch.setattr(firstpass.Matcher, "__init__", unsupported)
    assert Scrubber().scrub_text("password=hunter2x\n" * 40) == "password=[REDACTED:password#1]\n" * 40
    assert not firstpass.enabled() and firstpass._FAILED == ["vendor-words: this CPU lacks SSSE3"]  # (built first)
    assert [h.rule for h in scan_text("token=Xq9vT3mZp2LrW8sK\n")] == ["secret_assignment"]


def _token_texts() -> list[str]:
    """Words of every vendor format's start, fragments and the generic shape, cut and joined at random."""
    from medic.agent.redact import tokens

    rnd = random.Random(17)
    body = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9r" * 3
    bodies = [body, "a1b2c3A4d5e6f7g8h9i0j1k2m3n4", "0123456789abcdef0123456789abcdef-us12", "ab1Q~" + body[:33]]
    heads = [*tokens._STARTS, *tokens._FRAGMENTS, "acme_", "acme-live-", "x1_", "Acme_", "eyJhbGciOi.eyJzdWIi.",
             "aA1_", "acme1234567_", ""]
    pieces = [h + rnd.choice(bodies)[:rnd.randint(0, 120)] for h in heads for _ in range(3)]
    pieces += [" ", "\n", "=", "/", "-", "_", ".", "ä", "~"]
    alone = ["filler " * 80 + h + b[:n] + " end" for h in heads for b in bodies for n in (24, 40, 120)]  # compiled
    return alone + ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 40))) for _ in range(3000)]


@needs_hyperscan
def test_vendor_tokens_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from medic.agent.redact import tokens

    for text in _token_texts() + _texts():
        reference, compiled = _both(monkeypatch, lambda t: list(tokens.find(t)), text)
        assert compiled == reference, text


@needs_hyperscan
def test_heavy_matchers_are_built_once_the_texts_pay_for_them(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    """The key spots and token words (tenths of a second to build) wait for HEAVY_AFTER characters when no earlier
    run stored them; the output is the same before and after."""
    monkeypatch.delenv("MEDIC_REDACT_ENGINE", raising=False)
    monkeypatch.setenv("MEDIC_AGENT_CACHE_DIR", str(tmp_path))  # (nothing stored yet)
    monkeypatch.setattr(firstpass, "_BUILT", {})
    monkeypatch.setattr(firstpass, "_PENDING", {})
    monkeypatch.setattr(firstpass, "_OFFERED", {})
    monkeypatch.setattr(firstpass, "HEAVY_AFTER", 1000)
    text = "cache miss for key=user:1 session ok\npassword=hunter2x\n" * 12  # 648 characters
    first = Scrubber().scrub_text(text)
    assert sorted(firstpass._BUILT) == ["line-marks"]  # (the light one: hit_lines' literals)
    assert Scrubber().scrub_text(text) == first == text.replace("hunter2x", "[REDACTED:password#1]")
    assert sorted(firstpass._BUILT) == ["line-marks", "line-marks-spots", "vendor-words"]
