"""A secret redacted once is redacted wherever else it stands in the bundle, with the same tag.

A password found under its key in one file is often written elsewhere with no key near it: on the next line
under a name no rule knows, in a log message, in a process' arguments. The values are held in memory while one
bundle is written and never stored. Only values that cannot be ordinary words are repeated (8+ characters, no
blanks, not words alone, a short number, a URL, a path or code), and only where they stand whole: ``s3cr3tPass1`` is
not redacted inside ``xs3cr3tPass12``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MIN, _NUMBER_UNDER = 8, 12
_EDGE = r"[A-Za-z0-9_]"
_WORDS = re.compile(r"[._-]?[A-Za-z]+(?:[-_.:/][A-Za-z]+)*[._-]?")  # `medic-agent`, `self.token`: names
# `Ed25519PrivateKey`, `HttpClient2`: a class's name in code, made of capitalised words (and numbers) only
_CLASS_NAME = re.compile(r"[A-Z]?[a-z]+(?:\d*[A-Z][a-z]+)*\d*")  # (each repetition takes a capital: linear)
_CLASS_WORDS = re.compile(r"[A-Z][a-z]{2,}")
_ATTRIBUTE = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+")
_DIGEST = re.compile(r"[0-9a-f]{40}|[0-9A-F]{40}|[0-9a-f]{64}|[0-9A-F]{64}")  # SHA-1/SHA-256: commits, fingerprints
_CODE = frozenset("()[]{}<>$;,'\"`\\")  # `re.compile(r`, `list[Record]`, `$session_id`: code taken for a value


def worth_repeating(value: str) -> bool:
    """Long and strange enough that another occurrence is the same secret, not a word that happens to match."""
    if len(value) < _MIN or any(c.isspace() for c in value) or "REDACTED" in value:
        return False
    if "://" in value or value.startswith(("/", "~/", "./")) or value[1:3] in (":/", ":\\"):  # an address, a path
        return False
    if any(c in _CODE for c in value):
        return False
    if _CLASS_NAME.fullmatch(value) and len(_CLASS_WORDS.findall(value)) >= 2:
        return False
    if _ATTRIBUTE.fullmatch(value.rstrip(":;,.)")):  # `self._password`, `_ffi.NULL:`: code, not a value
        return False
    if _DIGEST.fullmatch(value):  # a key's fingerprint or a commit named again is an id, wherever it stands
        return False
    if _WORDS.fullmatch(value) and not _random_letters(value):  # `password: postgres` must not redact every
        return False  # "postgres", nor a name every use of it
    return not (value.isdigit() and len(value) < _NUMBER_UNDER)  # ports, pids, timestamps


def _random_letters(value: str) -> bool:
    """16+ letters whose case changes at least every fourth one (`wjXKCFzOWEPRqhTmmbWtVQ`): no word, no name."""
    switches = sum(1 for a, b in zip(value, value[1:]) if a.isupper() != b.isupper())
    return len(value) >= 16 and value.isalpha() and switches >= len(value) // 4


class KnownSecrets:
    """The values redacted so far (value -> its tag), and a finder for their other occurrences."""

    def __init__(self) -> None:
        self._tags: dict[str, tuple[str, str]] = {}  # value -> (rule, tag)
        self._finder: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return len(self._tags)

    def remember(self, value: str, rule: str, tagged: str) -> None:
        value = value.strip()
        if len(value) > 2 and value[0] == value[-1] and value[0] in "\"'":  # the quotes are not the secret
            value = value[1:-1]
        if value not in self._tags and worth_repeating(value):
            self._tags[value] = (rule, tagged)
            self._finder = None

    def redact(self, text: str, count: Callable[[str], None]) -> str:
        """``text`` with every whole occurrence of a known value replaced by its tag (``count(rule)`` for each)."""
        if not self._tags or not text:
            return text
        if self._finder is None:
            self._finder = _finder(self._tags)
        if not self._finder.search(text):
            return text

        def sub(match: re.Match[str]) -> str:
            rule, tagged = self._tags[match.group(0)]
            count(rule)
            return tagged
        return self._finder.sub(sub, text)


def _finder(values: dict[str, tuple[str, str]]) -> re.Pattern[str]:
    # longest first: a value that holds a shorter one is replaced whole; the edges only where the value has a
    # word character there (a value ending in `!` may be followed by anything)
    parts = []
    for value in sorted(values, key=len, reverse=True):
        head = f"(?<!{_EDGE})" if re.match(_EDGE, value[0]) else ""
        tail = f"(?!{_EDGE})" if re.match(_EDGE, value[-1]) else ""
        parts.append(head + re.escape(value) + tail)
    return re.compile("|".join(parts))
