"""An independent leak scanner for finished bundles: different code and detectors from the scrubber.

It searches the whole text for tokens from a prefix table of high-confidence formats, decodes JWT headers
and Basic credentials, parses URLs for passwords, recognises crypt hashes, looks for secret-like assignments
on lines that mention a secret word, and flags random-looking tokens. A hit names the member, the rule and
the line, never the value.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LeakHit:
    member: str
    rule: str
    line: int

    def __str__(self) -> str:
        return f"{self.member}:{self.line}: {self.rule}"


# prefix -> minimum whole-token length
_PREFIXES: dict[str, int] = {
    "ghp_": 40, "gho_": 40, "ghu_": 40, "ghs_": 40, "ghr_": 40, "github_pat_": 40, "glpat-": 26, "gldt-": 26,
    "glrt-": 26, "xoxb-": 15, "xoxp-": 15, "xoxa-": 15, "xoxr-": 15, "xoxe-": 15, "xoxs-": 15, "sk_live_": 24,
    "rk_live_": 24, "sk_test_": 24, "rk_test_": 24, "whsec_": 30, "SG.": 60, "npm_": 40, "pypi-": 60,
    "AKIA": 20, "ASIA": 20, "AIza": 39, "ya29.": 25, "GOCSPX-": 35, "hvs.": 28, "dop_v1_": 70,
    "dckr_pat_": 25, "shpat_": 38, "sk-ant-": 30, "sk-proj-": 30, "hf_": 33, "AGE-SECRET-KEY-1": 70,
    "ATATT3": 56, "key-": 36,
}
# Formats whose tail after the prefix is letters and digits only (so "npm_config_cache..." is not a token).
_ALNUM_TAIL = frozenset({"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_", "hf_", "key-", "AKIA", "ASIA",
                         "sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"})
_PREFIX = re.compile("(?P<p>" + "|".join(re.escape(p) for p in sorted(_PREFIXES, key=len, reverse=True))
                     + ")[A-Za-z0-9_.+/=~-]*")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+/=~-")
_PRIVATE_KEY = re.compile(r"BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_ENTROPY_TOKEN = re.compile(r"(?<![A-Za-z0-9+_])[A-Za-z0-9+_]{20,}={0,2}")
_URL_TAIL = re.compile(r"[^\s\"'<>]*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}$")
_AUTH = re.compile(r"(?i)\b(bearer|basic)\s+([^\s\"',;]+)")
_CRYPT = re.compile(r"\$(?:1|2[abxy]|5|6|y|gy|7|apr1|argon2(?:id|i|d))\$[^\s:\"']+")
_SECRET_WORD = re.compile(
    r"(?i)password|passwd|passphrase|pwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|private[_-]?key|"
    r"credential|token|session(?:id)?|sessid|cookie|(?:^|[^a-z])pass(?:$|[^a-z])")
_SECRET_HINT = re.compile(r"pass|pwd|secret|key|token|sess|cookie|credential")  # lower-cased text
# How a key and its value sit together: assignment (matched overlapping, so `a=B_TOKEN=x` is seen),
# XML element, PHP define, XML key/value pair, command-line option.
_PAIRS = (
    re.compile(r"(?<![\w.-])(?=(?P<key>[\w.-]+)[\"']?[ \t]*(?:=>?|:(?=[ \t\"']))[ \t]*[\"']?"
               r"(?P<val>[^\s\"',;&=:]+))"),
    re.compile(r"<(?P<key>[\w:.-]+)>(?P<val>[^<]+)</"),
    re.compile(r"\bdefine\(\s*[\"'](?P<key>[^\"']+)[\"']\s*,\s*[\"'](?P<val>[^\"']*)[\"']"),  # PHP
    re.compile(r"(?i)\b(?:key|name)=[\"'](?P<key>[^\"']+)[\"']\s+value=[\"'](?P<val>[^\"']*)[\"']"),
    re.compile(r"(?<!\S)--?(?P<key>[\w-]+)[ \t]+(?P<val>[^\s-]\S*)"),
)
_META_END = re.compile(  # key endings that describe a secret rather than hold it (also after camelCase)
    r"(?:[_.-]|\b|(?<=[a-z])(?=[A-Z]))(?i:len(?:gth)?|min|max|policy|ttl|timeout|expir\w*|file|path|type|name"
    r"|url|count|enabled|required|method|mode|age|size|limit|format|at|id|sec(?:onds?)?|address|addr|dir"
    r"|role|encryption|algorithm|plugin|module|socket|sock)$")
_TEMPLATE_STARTS = ("[REDACTED", "${", "$(", "{", "<", "%", "!")
_ENV_REFERENCE = re.compile(r"\$[A-Z_][A-Z0-9_]*(?:[/.][\w./-]*)?")  # $HOME/.xsession
_BENIGN = frozenset({"true", "false", "yes", "no", "null", "none", "on", "off", "required", "optional"})
_PUBLIC_BLOCK = re.compile(
    r"-----BEGIN (?:CERTIFICATE|[A-Z0-9 ]*PUBLIC KEY(?: BLOCK)?|X509 CRL|CERTIFICATE REQUEST"
    r"|PGP SIGNATURE)-----.*?(?:-----END|\Z)",
    re.S)
_PUBLIC_CONTEXT = re.compile(  # an SSH public key earlier on the line, or a digest prefix right before
    r"(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-[\w-]+|sk-[\w-]+@openssh\.com)\s|(?i:sha\d+[:-])$")


def _entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(c / len(token) * math.log2(c / len(token)) for c in counts.values())


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _is_jwt(token: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or len(parts[0]) < 10:
        return False
    header = _b64decode(parts[0])
    try:
        return header is not None and isinstance(loaded := json.loads(header), dict) and "alg" in loaded
    except (ValueError, UnicodeDecodeError):
        return False


class _Text:
    """The text being scanned, with line numbers for offsets and the lines themselves on demand."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self._lines: list[str] | None = None

    def line_of(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def line(self, number: int) -> str:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines[number - 1]


def _tokens(t: _Text) -> Iterator[tuple[int, str]]:
    for match in _PREFIX.finditer(t.text):
        start, token = match.start(), match.group(0)
        prefix = match.group("p")
        standalone = start == 0 or t.text[start - 1] not in _TOKEN_CHARS
        shaped = prefix not in _ALNUM_TAIL or token[len(prefix):].isalnum()
        if standalone and shaped and len(token) >= _PREFIXES[prefix]:
            yield start, "token_format"
    for match in _JWT.finditer(t.text):
        if _is_jwt(match.group(0)):
            yield match.start(), "jwt"
    for match in _PRIVATE_KEY.finditer(t.text):
        yield match.start(), "private_key"


def _credentials(t: _Text) -> Iterator[tuple[int, str]]:
    for match in re.finditer("://", t.text):
        scheme = _SCHEME.search(t.text, max(0, match.start() - 31), match.start())
        tail = _URL_TAIL.match(t.text, match.end())
        if scheme and tail and "@" in tail.group(0):
            try:
                password = urlsplit(scheme.group(0) + "://" + tail.group(0)).password
            except ValueError:
                continue
            if password and "REDACTED" not in password:
                yield match.start(), "url_password"
    for match in _AUTH.finditer(t.text):
        if _auth_value(match.group(1), match.group(2)):
            yield match.start(), "auth_header"
    for match in _CRYPT.finditer(t.text):
        if len(match.group(0).split("$")[-1]) >= 8 and "REDACTED" not in match.group(0):
            yield match.start(), "password_hash"


def _auth_value(scheme: str, value: str) -> bool:
    if "REDACTED" in value:
        return False
    if scheme.lower() == "bearer":
        return len(value) >= 16 and any(not c.isalpha() for c in value)
    decoded = _b64decode(value) if len(value) >= 8 else None
    return bool(decoded and b":" in decoded and decoded.decode("utf-8", "replace").isprintable())


def _assignments(t: _Text) -> Iterator[tuple[int, str]]:
    lines = sorted({t.line_of(m.start()) for m in _SECRET_HINT.finditer(t.text.lower())})
    for number in lines:
        if _assignment(t.line(number)):
            yield (t.newlines[number - 2] + 1 if number > 1 else 0), "secret_assignment"


def _assignment(line: str) -> bool:
    for match in (m for pattern in _PAIRS for m in pattern.finditer(line)):
        value, key = match.group("val"), match.group("key")
        if (not _SECRET_WORD.search(key) or _META_END.search(key)
                or (key.upper() in ("PWD", "OLDPWD") and value.startswith("/"))
                or value.lower() in _BENIGN or value.startswith(_TEMPLATE_STARTS)
                or _ENV_REFERENCE.fullmatch(value)
                or not _secret_shaped(value) or set(value) <= set("*x#.-!")
                or (value.startswith("/") and "/" in value[1:])):  # a path
            continue
        return True
    return False


def _char_class(c: str) -> int:
    return 0 if c.isupper() else 1 if c.islower() else 2 if c.isdigit() else 3


def _secret_shaped(value: str) -> bool:
    """Long enough, and not a plain word or number: has a digit or symbol, or is 12+ characters."""
    if len(value) < 6 or value.isdigit():
        return False
    return len(value) >= 12 or not value.isalpha()


def _random_looking(token: str) -> bool:
    """Mixed classes, varied characters, and class changes at most positions: random tokens switch between
    upper case, lower case and digits about 60% of the time, CamelCase identifiers well under 45%."""
    token = token[:256]  # judging a long blob by its start keeps the scan linear
    if "REDACTED" in token or all(c in "0123456789abcdefABCDEF" for c in token.rstrip("=")):
        return False
    classes = [_char_class(c) for c in token if c.isalnum()]  # "_" and "+" separate words, ignore them
    if len(classes) < 20 or not ({0, 1} <= set(classes) and classes.count(2) >= 2):
        return False
    switches = sum(classes[i] != classes[i - 1] for i in range(1, len(classes))) / (len(classes) - 1)
    return switches >= 0.45 and _entropy(token) >= 3.5


def _high_entropy(t: _Text, lines_with_hits: set[int]) -> Iterator[tuple[int, str]]:
    public = [m.span() for m in _PUBLIC_BLOCK.finditer(t.text)]
    for match in _ENTROPY_TOKEN.finditer(t.text):
        start = match.start()
        if t.line_of(start) in lines_with_hits or any(a <= start < b for a, b in public):
            continue
        line_start = t.text.rfind("\n", 0, start) + 1
        context = _PUBLIC_CONTEXT.search(t.text, line_start, start)
        if _random_looking(match.group(0)) and not context:
            yield start, "high_entropy"


def scan_text(text: str, member: str = "") -> list[LeakHit]:
    """Every suspected secret in ``text``, one hit per rule and line, without the values."""
    t = _Text(text)
    finders = (_tokens, _credentials, _assignments)
    found = {(t.line_of(pos), rule) for find in finders for pos, rule in find(t)}
    found |= {(t.line_of(pos), rule) for pos, rule in _high_entropy(t, {line for line, _ in found})}
    return [LeakHit(member, rule, line) for line, rule in sorted(found)]


def scan_members(members: Iterable[tuple[str, str | bytes]]) -> list[LeakHit]:
    """Scan (name, content) pairs; bytes are read as UTF-8 with undecodable bytes replaced."""
    hits: list[LeakHit] = []
    for name, content in members:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        hits.extend(scan_text(text, name))
    return hits
