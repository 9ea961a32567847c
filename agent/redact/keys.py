"""Which key names hold secrets, and which values are safe to keep: shared by the text and value scrubbers."""

from __future__ import annotations

import functools
import re

# A substring of the normalised key (lower case, letters and digits only) -> the rule it counts under.
_CONTAINS: tuple[tuple[str, str], ...] = (
    ("privatekey", "private_key"),
    ("keydata", "private_key"),  # kubeconfig client-key-data
    ("clientsecret", "client_secret"),
    ("password", "password"),
    ("passwd", "password"),
    ("passphrase", "password"),
    ("requirepass", "password"),
    ("masterauth", "password"),
    ("bindpw", "password"),
    ("rootpw", "password"),
    ("secret", "secret"),
    ("apikey", "api_key"),
    ("accesskey", "access_key"),
    ("accountkey", "access_key"),
    ("sharedaccesskey", "access_key"),
    ("sharedaccesssignature", "signature"),
    ("signingkey", "secret"),
    ("encryptionkey", "secret"),
    ("masterkey", "secret"),
    ("token", "token"),
    ("credential", "credential"),
    ("authorization", "auth"),
    ("authkey", "auth"),
    ("cookie", "cookie"),
    ("sessionid", "session"),
    ("sessid", "session"),
    ("sessionkey", "session"),
    ("connectionstring", "connection_string"),
    ("connstr", "connection_string"),
)

# Whole words of a key (split at separators and camelCase) -> rule. "pass" alone ("Pass: 5") is not a secret.
_WORDS = {
    "pwd": "password",
    "pw": "password",
    "auth": "auth",
    "session": "session",
    "sig": "signature",
    "dsn": "connection_string",
    "jwt": "token",
    "bearer": "token",
    "otp": "secret",
    "psk": "secret",
}
_WORDS_IN_COMPOUND = {"pass": "password"}

# A key whose last word is one of these describes a secret (its length, file, expiry), it does not hold it.
_META_WORDS = frozenset({
    "length", "len", "minlength", "maxlength", "min", "max", "policy", "policies", "expiry", "expires",
    "expiration", "expire", "ttl", "timeout", "age", "lifetime", "file", "files", "path", "dir", "type",
    "method", "mode", "enabled", "enable", "required", "url", "uri", "endpoint", "name", "names",
    "count", "size", "limit", "bits", "algorithm", "alg", "format", "location", "rotation", "prompt",
    "reset", "changed", "updated", "last", "date", "time", "at", "strength", "complexity", "history",
    "attempts", "retries", "label", "hint", "sec", "secs", "seconds", "ms", "interval", "delay", "duration",
    "address", "addr", "host", "port", "socket", "sock", "scheme", "schemes", "role", "encryption", "cipher",
    "level", "dirs", "provider", "backend", "server", "realm", "plugin", "plugins", "module", "modules",
    "mechanism", "mechanisms", "service", "library", "lib",
})
# Weak evidence of a secret ("--session", "tcp_syncookies=1"): short words and numbers under such keys are
# kept, and command-line options are not judged by them.
WEAK_RULES = frozenset({"session", "cookie", "auth", "signature"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Every sensitive key, lower-cased, contains one of these: lines without any skip the key-based rules.
# (Searched in lower-cased text: a case-insensitive pattern is several times slower.)
KEYWORD = re.compile(r"pass|pw|secret|token|key|cred|auth|cookie|sess|conn|dsn|sig|jwt|bearer|otp|psk")
TAG = re.compile(r"\[REDACTED:[a-z0-9_]+\]")
_SCHEME_WORDS = re.compile(r"(?i)\b(?:bearer|basic|digest|token|negotiate|ntlm|bot|apikey)\b")
_BLOCK_INDICATOR = re.compile(r"(?:!\S+\s+)?[|>][-+0-9]*")
# Values that are settings, not secrets: booleans, null, and the enumerations auth/session keys take.
_KEEP_VALUES = frozenset(
    ["", "true", "false", "yes", "no", "on", "off", "null", "none", "nil", "~", "undefined", "required",
     "optional", "disabled", "enabled", "peer", "trust", "ident", "md5", "scram-sha-256", "basic",
     "digest", "ntlm", "negotiate", "kerberos", "ldap", "pam", "local", "always", "never", "infinity", "auto",
     "default", "strict", "lax", "secure", "httponly"]
)
# a word, a camelCase phrase or a small number
_SETTING = re.compile(r"[a-z]{1,20}(?:[A-Z][a-z]{1,20}){0,3}|[A-Z][a-z]{1,20}|\d{1,6}")
_MASK = frozenset("*x#.-!")  # "****", "x" (passwd), "!" and "!*" (locked accounts in shadow)
# $VAR, ${VAR}/x, $(cmd): upper-case names only, so a password like "$uperSecret1" is not mistaken for one
_REFERENCE = re.compile(r"\$(?:\{[^}\s]*\}|\([^)]*\)|[A-Z_][A-Z0-9_]*)(?:[/.][\w./-]*)?")


def key_words(key: str) -> list[str]:
    return [w for w in _NON_ALNUM.split(_CAMEL.sub("_", key).lower()) if w]


@functools.lru_cache(maxsize=4096)  # the same keys come back on every line of a log
def sensitive_key(key: str) -> str | None:
    """The rule name if ``key`` names a secret (``DB_PASSWORD`` -> ``password``), else None."""
    words = key_words(key)
    if not words or len(key) > 100 or words[-1] in _META_WORDS:
        return None
    flat = "".join(words)
    for needle, rule in _CONTAINS:
        if needle in flat:
            return rule
    for word in words:
        if word in _WORDS:
            return _WORDS[word]
        if len(words) > 1 and word in _WORDS_IN_COMPOUND:
            return _WORDS_IN_COMPOUND[word]
    return None


def keep_value(value: str, key: str = "") -> bool:
    """True for values that cannot be secrets: settings, masks, variable references, already redacted."""
    stripped = value.strip().strip("\"'").strip()
    if stripped.lower() in _KEEP_VALUES or set(stripped) <= _MASK or _REFERENCE.fullmatch(stripped):
        return True
    if _BLOCK_INDICATOR.fullmatch(stripped):
        return True  # a YAML block scalar header; the block itself is scrubbed separately
    if stripped.startswith(("$(", "${")):
        return True  # a shell command substitution or parameter expansion
    if key and sensitive_key(key) in WEAK_RULES and _SETTING.fullmatch(stripped):
        return True
    if key.lower() in ("pwd", "oldpwd") and stripped.startswith("/"):
        return True  # the shell's working directory, not a password
    rest = _SCHEME_WORDS.sub("", TAG.sub("", stripped)).strip(" \"',;")
    return bool(TAG.search(stripped)) and not rest


def tag(rule: str) -> str:
    return f"[REDACTED:{rule}]"
