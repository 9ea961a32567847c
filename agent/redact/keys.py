"""Which key names hold secrets, and which values are safe to keep: shared by the text and value scrubbers."""

from __future__ import annotations

import re

# A substring of the normalised key (lower case, letters and digits only) -> the rule it counts under.
_CONTAINS: tuple[tuple[str, str], ...] = (
    ("privatekey", "private_key"),
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
    ("sharedaccess", "access_key"),
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
    "attempts", "retries", "label", "hint",
})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

TAG = re.compile(r"\[REDACTED:[a-z0-9_]+\]")
_SCHEME_WORDS = re.compile(r"(?i)\b(?:bearer|basic|digest|token|negotiate|ntlm|bot|apikey)\b")
_BLOCK_INDICATOR = re.compile(r"(?:!\S+\s+)?[|>][-+0-9]*")
_KEEP_VALUES = frozenset(
    ["", "true", "false", "yes", "no", "on", "off", "null", "none", "nil", "~", "undefined", "required",
     "optional"]
)


def key_words(key: str) -> list[str]:
    return [w for w in _NON_ALNUM.split(_CAMEL.sub("_", key).lower()) if w]


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
    """True for values that cannot be secrets: empty, booleans, null, masks, already redacted."""
    stripped = value.strip().strip("\"'").strip()
    if stripped.lower() in _KEEP_VALUES or set(stripped) <= set("*x#.-"):
        return True
    if _BLOCK_INDICATOR.fullmatch(stripped):
        return True  # a YAML block scalar header; the block itself is scrubbed separately
    if key.lower() in ("pwd", "oldpwd") and stripped.startswith("/"):
        return True  # the shell's working directory, not a password
    rest = _SCHEME_WORDS.sub("", TAG.sub("", stripped)).strip(" \"',;")
    return bool(TAG.search(stripped)) and not rest


def tag(rule: str) -> str:
    return f"[REDACTED:{rule}]"
