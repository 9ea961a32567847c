"""An independent leak scanner for finished bundles: different code and detectors from the scrubber.

It tokenises each line and tests tokens against a prefix table of high-confidence token formats, decodes
JWT headers and Basic credentials, parses URLs for passwords, recognises crypt hashes, looks for secret-like
assignments, and flags high-entropy tokens. A hit names the member, the rule and the line, never the value.
"""

from __future__ import annotations

import base64
import binascii
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
_TOKEN = re.compile(r"[A-Za-z0-9_.+/=~-]+")
_ENTROPY_TOKEN = re.compile(r"(?<![A-Za-z0-9+_])[A-Za-z0-9+_]{20,}={0,2}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_AUTH = re.compile(r"(?i)\b(bearer|basic)\s+([^\s\"',;]+)")
_CRYPT_IDS = frozenset({"1", "2a", "2b", "2x", "2y", "5", "6", "y", "gy", "7", "apr1", "argon2i", "argon2d",
                        "argon2id"})
_SECRET_WORD = re.compile(
    r"(?i)(?:^|[^a-z])pass(?:$|[^a-z])|password|passwd|passphrase|pwd|secret|api[_-]?key|access[_-]?key|"
    r"auth[_-]?token|private[_-]?key|credential|token|session(?:id)?|sessid|cookie")
# How a key and its value sit together: assignment (matched overlapping, so `a=B_TOKEN=x` is seen),
# XML element, XML key/value pair, command-line option.
_PAIRS = (
    re.compile(r"(?<![\w.-])(?=(?P<key>[\w.-]+)[\"']?[ \t]*[=:][ \t]*[\"']?(?P<val>[^\s\"',;&]+))"),
    re.compile(r"<(?P<key>[\w:.-]+)>(?P<val>[^<]+)</"),
    re.compile(r"(?i)\b(?:key|name)=[\"'](?P<key>[^\"']+)[\"']\s+value=[\"'](?P<val>[^\"']*)[\"']"),
    re.compile(r"(?<!\S)--?(?P<key>[\w-]+)[ \t]+(?P<val>[^\s-]\S*)"),
)
_META_END = re.compile(r"(?i)(?:_|-|\b)(?:len(?:gth)?|min|max|policy|ttl|timeout|expir\w*|file|path|type|name"
                       r"|url|count|enabled|required|method|mode|age|size|limit|format|at|id)$")
_TEMPLATE_STARTS = ("[REDACTED", "$", "{", "<", "%", "!")
_BENIGN = frozenset({"true", "false", "yes", "no", "null", "none", "on", "off", "required", "optional"})
_SKIP_BLOCK = re.compile(r"-----BEGIN (?:CERTIFICATE|(?:[A-Z]+ )?PUBLIC KEY|X509 CRL|CERTIFICATE REQUEST)")
_PUBLIC_CONTEXT = re.compile(r"(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-\S+|sk-ssh-\S+)\s+$|(?i:sha\d+[:-])$")


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


def _token_rules(token: str) -> Iterator[str]:
    for prefix, min_len in _PREFIXES.items():
        if token.startswith(prefix) and len(token) >= min_len:
            yield "token_format"
            break
    if token.count(".") == 2 and _is_jwt(token):
        yield "jwt"


def _crypt(line: str) -> bool:
    for candidate in re.findall(r"\$[\w]+\$[^\s:\"']+", line):
        parts = candidate.split("$")
        if parts[1] in _CRYPT_IDS and len(parts[-1]) >= 8 and "REDACTED" not in candidate:
            return True
    return False


def _url_password(line: str) -> bool:
    for url in _URL.findall(line):
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password and "REDACTED" not in password:
            return True
    return False


def _auth_header(line: str) -> bool:
    for scheme, value in _AUTH.findall(line):
        if "REDACTED" in value:
            continue
        if scheme.lower() == "bearer" and len(value) >= 16 and any(not c.isalpha() for c in value):
            return True
        decoded = _b64decode(value) if scheme.lower() == "basic" and len(value) >= 8 else None
        if decoded and b":" in decoded and decoded.decode("utf-8", "replace").isprintable():
            return True
    return False


def _assignment(line: str) -> bool:
    for match in (m for pattern in _PAIRS for m in pattern.finditer(line)):
        value, key = match.group("val"), match.group("key")
        if (not _SECRET_WORD.search(key) or _META_END.search(key)
                or (key.upper() in ("PWD", "OLDPWD") and value.startswith("/"))
                or value.lower() in _BENIGN or value.startswith(_TEMPLATE_STARTS)
                or value.isdigit() or len(value) < 4 or set(value) <= set("*x#.-")):
            continue
        return True
    return False


def _high_entropy(line: str) -> bool:
    for match in _ENTROPY_TOKEN.finditer(line):
        token = match.group(0)
        if (re.fullmatch(r"[0-9a-fA-F]+", token) or "REDACTED" in token
                or _PUBLIC_CONTEXT.search(line[: match.start()])):
            continue
        classes = sum((any(c.isupper() for c in token), any(c.islower() for c in token),
                       sum(c.isdigit() for c in token) >= 2))
        if classes == 3 and _entropy(token) >= max(3.7, 0.86 * math.log2(min(len(token), 64))):
            return True
    return False


_LINE_RULES = (("url_password", _url_password), ("auth_header", _auth_header), ("password_hash", _crypt),
               ("secret_assignment", _assignment))


def scan_text(text: str, member: str = "") -> list[LeakHit]:
    """Every suspected secret in ``text``, one hit per rule and line, without the values."""
    hits: list[LeakHit] = []
    in_public_block = False
    for number, line in enumerate(text.splitlines(), 1):
        found: set[str] = set()
        if "PRIVATE KEY-----" in line and "BEGIN" in line:
            found.add("private_key")
        for token in _TOKEN.findall(line):
            found.update(_token_rules(token))
        found.update(name for name, test in _LINE_RULES if test(line))
        if _SKIP_BLOCK.search(line) or in_public_block:
            in_public_block = "-----END" not in line
        elif _high_entropy(line) and not found:
            found.add("high_entropy")
        hits.extend(LeakHit(member, rule, number) for rule in sorted(found))
    return hits


def scan_members(members: Iterable[tuple[str, str | bytes]]) -> list[LeakHit]:
    """Scan (name, content) pairs; bytes are read as UTF-8 with undecodable bytes replaced."""
    hits: list[LeakHit] = []
    for name, content in members:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        hits.extend(scan_text(text, name))
    return hits
