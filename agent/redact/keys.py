"""Which key names hold secrets, and which values are safe to keep: shared by the text and value scrubbers."""

from __future__ import annotations

import functools
import re

from medic.agent.arches import ARCHITECTURES
from medic.agent.redact.lookalikes import kept_lookalike
from medic.agent.redact.references import documented_example, masked, reference
from medic.agent.redact.syntax import DEFAULT
from medic.agent.wordtrie import factored

# A substring of the normalised key (lower case, letters and digits only) -> the rule it counts under.
_CONTAINS: tuple[tuple[str, str], ...] = (
    ("privatekey", "private_key"),
    ("keydata", "private_key"),  # kubeconfig client-key-data
    ("clientsecret", "client_secret"),
    ("password", "password"),
    ("passwd", "password"),
    ("passphrase", "password"),
    ("storepass", "password"),
    ("presharedkey", "secret"),  # IPsec, WPA (wpa2-pre-shared-key=, ikev1 pre-shared-key x)
    ("psksecret", "secret"),  # FortiOS  # keytool -storepass, -srcstorepass, -deststorepass
    ("keypass", "password"),  # keytool -keypass, -srckeypass, -destkeypass
    ("requirepass", "password"),
    ("masterauth", "password"),
    ("bindpw", "password"),
    ("rootpw", "password"),
    ("userpwd", "password"),
    ("community", "community"),  # SNMP  # CURLOPT_USERPWD
    ("wpapassphrase", "password"),
    ("activationkey", "license_key"),
    ("licensekey", "license_key"),
    ("licencekey", "license_key"),
    ("productkey", "license_key"),
    ("serialkey", "license_key"),
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
    ("authtok", "password"),  # SSSD ldap_default_authtok (after "token": X-Auth-Token is a token)
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
# Alone these name a secret only when the value does not read as a setting ("Pass: 5", "pass = none")
_WEAK_WORDS = {"pass": "password"}

# The last word of a key that holds a secret only when its value looks random ("app_key", "devops pat")
_SOFT_WORDS = frozenset({"key", "keys", "pat", "hash"})

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
    "mechanism", "mechanisms", "service", "library", "lib", "map", "maps", "arn", "ref",
    "var", "algo", "days", "day", "weeks", "reqd", "warn", "command", "cmd", "helper", "store", "stores",
    "source", "kind", "stdin",
})
# nginx's proxy_pass, fastcgi_pass...: the upstream a request is passed to, not a password
_UPSTREAM_PASS = [[module, "pass"] for module in ("proxy", "fastcgi", "uwsgi", "scgi", "grpc", "memcached")]
# Weak evidence of a secret ("--session", "tcp_syncookies=1"): short words and numbers under such keys are
# kept, and command-line options are not judged by them.
WEAK_RULES = frozenset({"session", "cookie", "auth", "signature"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Every sensitive key, lower-cased, contains one of these: lines without any skip the key-based rules.
# (Searched in lower-cased text: a case-insensitive pattern is several times slower.)
# (Factored by prefix, see wordtrie: the same matches as the plain alternation of these words, faster.)
KEYWORDS = ("pass", "pw", "secret", "token", "key", "cred", "auth", "cookie", "sess", "conn", "dsn", "sig", "jwt",
            "bearer", "otp", "psk", "community", "hash")  # and "pat" (not "path"), with its look-ahead
KEYWORD = re.compile(factored({**dict.fromkeys(KEYWORDS, ""), "pat": "(?![a-z])"}))
TAG = re.compile(r"\[REDACTED:[a-z0-9_]+(?:#\d+)?\]")
_SCHEME_VALUE = re.compile(r"(?i)(?:bearer|basic|digest|token|negotiate|ntlm|bot|apikey)[ \t]+(?P<rest>\S.*)")
_SCHEME_WORDS = re.compile(r"(?i)\b(?:bearer|basic|digest|token|negotiate|ntlm|bot|apikey)\b")
_CLOSERS = frozenset(")]}>%")
_OPENERS = frozenset("[{(")
_TEST_NAME = re.compile(r"(?:Test|Benchmark|Example|Fuzz)\w*(?:/\S*)?|\S*(?i:test)\S*")
_BLOCK_INDICATOR = re.compile(r"(?:!\S+\s+)?[|>][-+0-9]*")
# Values that are settings, not secrets: booleans, null, and the enumerations auth/session keys take.
_KEEP_VALUES = frozenset(
    ["", "true", "false", "yes", "no", "on", "off", "null", "none", "nil", "~", "undefined", "required",
     "optional", "disabled", "enabled", "peer", "trust", "ident", "md5", "scram-sha-256", "basic",
     "digest", "ntlm", "negotiate", "kerberos", "ldap", "pam", "local", "always", "never", "infinity", "auto",
     "default", "strict", "lax", "secure", "httponly", "public"]
) | ARCHITECTURES  # `libsecret-1-0:amd64` in dpkg and apt logs: a package and its architecture
# a word, a camelCase phrase or a small number
_SETTING = re.compile(r"[a-z]{1,20}(?:[A-Z][a-z]{1,20}){0,3}|[A-Z][a-z]{1,20}|\d{1,6}")
# $VAR, ${VAR}/x, $(cmd): upper-case names only, so a password like "$uperSecret1" is not mistaken for one
# <your-token>, {{ jinja }}, %(name)s, {name}, REDACTED (secret-manager references: references.py)
_PLACEHOLDER = re.compile(
    r"<[\w .-]{1,40}>|\{\{[^{}]{1,80}\}\}|%\(\w{1,40}\)[sd]|\{\w{1,40}\}|\[?REDACTED\]?|(?i:redacted|masked|hidden)")
_REFERENCE = re.compile(r"\$(?:\{[^}\s]*\}|\([^)]*\)|[A-Z_][A-Z0-9_]*)(?:[/.][\w./-]*)?")


def key_words(key: str) -> list[str]:
    return [w for w in _NON_ALNUM.split(_CAMEL.sub("_", key).lower()) if w]


@functools.lru_cache(maxsize=4096)  # the same keys come back on every line of a log
def sensitive_key(key: str) -> str | None:
    """The rule name if ``key`` names a secret (``DB_PASSWORD`` -> ``password``), else None."""
    words = key_words(key)
    if not words or len(key) > 100 or words[-1] in _META_WORDS or words[-2:] in _UPSTREAM_PASS:
        return None
    if words[-1][-1].isdigit() and not words[-1].isdigit():
        words[-1] = words[-1].rstrip("0123456789")  # "salesforce_key1", "sumoKey2", "pw2": numbered, the same key
    flat = "".join(words)
    for needle, rule in _CONTAINS:
        if needle in flat:
            return rule
    found = [_WORDS[w] if w in _WORDS else _WORDS_IN_COMPOUND[w] for w in words
             if w in _WORDS or (len(words) > 1 and w in _WORDS_IN_COMPOUND)]
    if found:  # "auth_pass" is a password, not weak "auth"
        return next((rule for rule in found if rule not in WEAK_RULES), found[0])
    if len(words) > 1 and words[-1] in _SOFT_WORDS and not {"public", "pub", "publishable", "host"} & set(words):
        return "key"  # "dd_app_key", "cosmos primary key": only random-looking values count (keep_value)
    return _WEAK_WORDS.get(flat)


def weak_key(key: str) -> bool:
    """Evidence too weak to redact a plain word or a small number under it."""
    return sensitive_key(key) in WEAK_RULES or "".join(key_words(key)) in _WEAK_WORDS


def keep_value(value: str, key: str = "") -> bool:
    """True for values that cannot be secrets: settings, masks, variable references, already redacted."""
    stripped = value.strip().strip("\"'").strip()
    default = DEFAULT.fullmatch(stripped)
    if default is not None and not keep_value(default.group("d"), key):
        return False  # ${DB_PASSWORD:-s3cr3t}: a variable's default written out is the secret (compose files)
    if stripped.rstrip(".,;").lower() in _KEEP_VALUES or masked(stripped) or _REFERENCE.fullmatch(stripped):
        return True  # ("gir1.2-secret-1:arm64." in dpkg's status lines: a sentence's full stop after the setting)
    if set(stripped) <= _CLOSERS or stripped in _OPENERS:
        return True  # the end of a template or a call another form read as a value ("{{ x_password }}"), or a
        # list's start on the key's line (`pass_expects = [`: its items, if any, are judged below it)
    scheme = _SCHEME_VALUE.fullmatch(stripped)
    if scheme is not None and keep_value(scheme.group("rest")):
        return True  # "Bearer ${API_TOKEN}": an auth scheme, then a variable or placeholder
    if documented_example(stripped) or reference(stripped.rstrip(",;"), sensitive_key):
        return True  # AWS's documented example keys; a secret manager's, the environment's or the code's name
    if _BLOCK_INDICATOR.fullmatch(stripped):
        return True  # a YAML block scalar header; the block itself is scrubbed separately
    if stripped.startswith(("$(", "${")) and not looks_random(stripped[stripped.find("})"[stripped[1] == "("]) + 1:]):
        return True  # a shell command substitution or parameter expansion (not one glued to a random string)
    if _PLACEHOLDER.fullmatch(stripped):
        return True
    if key and weak_key(key) and _SETTING.fullmatch(stripped):
        return True
    if key and "".join(key_words(key)) in _WEAK_WORDS and _SETTING.fullmatch(stripped.split(None, 1)[0]):
        return True  # "Pass: 5 Fail: 0"
    if key and sensitive_key(key) == "key" and not looks_random(stripped):
        return True
    if key.lower() in ("pwd", "oldpwd") and stripped.startswith("/"):
        return True  # the shell's working directory, not a password
    if key == "PASS" and _TEST_NAME.fullmatch(stripped):
        return True  # a test runner's result (`--- PASS: TestLogin`, automake's `PASS: tests/x.test`)
    rest = _SCHEME_WORDS.sub("", TAG.sub("", stripped)).strip(" \"',;")
    if TAG.search(stripped) and not rest:
        return True
    rule = sensitive_key(key) if key else None
    return kept_lookalike(stripped, rule, bool(key) and weak_key(key), _KEEP_VALUES, sensitive_key)


_PATH = re.compile(r"(?:~|\.{1,2})?(?:/[\w.@-]{1,64})+/?")


def kept_then_pairs(value: str, key: str) -> bool:
    """A line's value that is kept (a marker another tool left, a reference, a setting) and then more pairs:
    ``password=[REDACTED] token: [REDACTED] x=1`` is three pairs, not one password running to the line's end.
    (``password=correct horse battery`` has no pair after its first word: the line's rest stays the value.)"""
    lead = _LEAD_VALUE.match(value)
    head = lead.group("head") if lead else ""
    return bool(head) and (masked(head) or any(c.isalnum() for c in head)) and keep_value(head, key)


_LEAD_VALUE = re.compile(r"(?P<head>[^\s\"']+)[ \t]+(?=[A-Za-z_][\w.-]{0,80}[ \t]*(?::=|=|:[ \t]))")


def looks_random(value: str) -> bool:
    """A generated key, not a word, path, number or name: 16+ characters, no blanks, digits and letters, three
    character classes (upper, lower, digits, base64/url punctuation) or 24+ characters; or 32+ hex digits."""
    body = value.split(":", 1)[1] if value.startswith(("base64:", "hex:")) else value
    if len(body) < 16 or any(c.isspace() for c in body) or "://" in body or _PATH.fullmatch(body):
        return False
    if len(body) >= 32 and all(c in "0123456789abcdefABCDEF" for c in body):
        return True
    classes = (any(c.isupper() for c in body), any(c.islower() for c in body), any(c.isdigit() for c in body),
               any(c in "+/=_-.~!#%^*" for c in body))
    digits, letters = sum(c.isdigit() for c in body), sum(c.isalpha() for c in body)
    return bool(digits and letters) and (sum(classes) >= 3 or (len(body) >= 24 and min(digits, letters) >= 3))


def tag(rule: str, label: int = 0) -> str:
    """``[REDACTED:password#3]``: the rule, and the number of this value within the bundle (if given)."""
    return f"[REDACTED:{rule}#{label}]" if label else f"[REDACTED:{rule}]"
