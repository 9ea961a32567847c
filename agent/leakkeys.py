"""Which keys name a secret and which values under them look like one: the judgement behind the leak scan's
``secret_assignment`` rule. Written apart from the scrubber's key rules on purpose (an independent layer).

A key is split into words (``DbPassword``, ``db_password``, ``db.password`` and ``DB-PASSWORD`` alike) and
scored: STRONG for password-like words, TOKEN for API keys and tokens, WEAK for words that only sometimes
hold a secret (``key``, ``auth``, ``session``); a key whose last word describes the secret (``_length``,
``_file``, ``_ttl``...) holds none. The stronger the key, the less a value has to look random.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

from medic.agent.arches import ARCHITECTURES

NONE, WEAK, TOKEN, STRONG = 0, 1, 2, 3

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_STRONG = frozenset({
    "password", "passwd", "pwd", "pw", "pass", "passphrase", "passcode", "secret", "secrets", "credential",
    "credentials", "creds", "authtok", "psk", "requirepass", "masterauth", "bindpw", "pword", "passwort",
    "kennwort", "contrasena", "senha", "motdepasse", "wachtwoord", "parola", "haslo", "salasana", "losenord",
    "community", "rocommunity", "rwcommunity", "passwd_client",
})
_NOT_PASS = frozenset({"bypass", "compass", "encompass", "overpass", "underpass", "surpass", "trespass",
                       "impass", "multipass", "onepass", "firstpass", "secondpass", "secretary", "secretaries"})
# nginx's proxy_pass, fastcgi_pass...: the upstream a request is passed to, not a password
_UPSTREAM_PASS = frozenset({"proxy", "fastcgi", "uwsgi", "scgi", "grpc", "memcached"})
_KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "client", "license", "licence", "activation", "product", "serial",
    "registration", "master", "encryption", "signing", "account", "auth", "app", "application", "subscription",
    "storage", "service", "shared", "session", "consumer", "webhook", "integration", "deploy", "admin", "root",
    "hmac", "jwt", "cipher", "decryption", "install", "sas", "primary", "secondary", "ingest", "write", "read",
})
_WEAK = frozenset({"key", "auth", "authorization", "session", "sessionid", "sessid", "sid", "cookie", "sig",
                   "bearer", "apikey"})
_META = frozenset({
    "len", "length", "min", "max", "minimum", "maximum", "policy", "policies", "ttl", "timeout", "expiry",
    "expires", "expiration", "expire", "expired", "lifetime", "age", "file", "files", "path", "paths", "dir",
    "directory", "type", "types", "name", "names", "url", "uri", "endpoint", "count", "enabled", "enable",
    "disabled", "required", "require", "method", "methods", "mode", "size", "limit", "format", "at", "id", "ids",
    "sec", "secs", "seconds", "address", "addr", "role", "roles", "encryption", "algorithm", "algo", "alg",
    "plugin", "module", "socket", "sock", "hint", "prompt", "field", "fields", "header", "param", "params",
    "env", "var", "version", "provider", "backend", "command", "cmd", "helper", "manager", "reset", "change",
    "changed", "strength", "quality", "rounds", "iterations", "cost", "authentication", "check", "validation",
    "validator", "regex", "pattern", "rule", "rules", "complexity", "history", "attempts", "retries", "prefix",
    "suffix", "label", "description", "desc", "help", "title", "placeholder", "location", "host", "server",
    "user", "username", "login", "owner", "group", "chars", "characters", "digits", "level", "flags", "flag",
    "option", "options", "usage", "error", "errors", "failed", "failure", "fail", "failures", "success",
    "status", "state", "used", "index", "idx", "bits", "bytes", "encoding", "charset", "source", "src", "scope",
    "scopes", "class", "kind", "log", "debug", "verbose", "interval", "period", "days", "hours", "minutes",
    "warn", "warning", "store", "storage", "cache", "generator", "gen", "lookup", "mapping", "map", "list",
    "set", "file_name", "filename", "stdin", "fd", "env_var", "number", "num", "tries", "delay",
    "management", "refresh", "request", "response", "spec", "schema", "handler", "callback",
})
_NO_VALUE = frozenset({
    "true", "false", "yes", "no", "null", "none", "nil", "on", "off", "required", "optional", "empty", "unset",
    "undefined", "default", "hidden", "masked", "redacted", "changeme", "password", "passwd", "secret", "token",
    "example", "placeholder", "dummy", "string", "value", "xxx", "xxxx", "yourpassword", "your_password",
    "mypassword", "my_password", "your-token", "your_token", "yourtoken", "your_api_key", "secure", "insecure",
    "disabled", "enabled", "auto", "prompt", "ask", "inherit", "file", "env", "environment", "stdin", "plain",
    "plaintext", "md5", "sha1", "sha256", "sha512", "scram-sha-256", "crypt", "bcrypt", "argon2", "trust",
    "peer", "ident", "reject", "any", "all", "local", "never", "always", "expired", "invalid", "missing",
    "sufficient", "requisite", "include", "substack", "use_authtok", "try_first_pass", "use_first_pass",
}) | ARCHITECTURES  # `libsecret-1-0:amd64` in dpkg and apt logs is a package name, not `key: value`
_PLACEHOLDER_START = ("${", "$(", "{{", "%(", "<", "[REDACTED", "{%", "#{", "@{", "&lt;", "$env:", "${{")
_REFERENCE = re.compile(r"\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|@[A-Za-z_]+@|\{\d*\}|%[sdr]"
                        r"|\$\w+::\w+|[\w.-]*/[\w./-]*\.[a-z][a-z0-9]{0,4}"  # $section::name, dir/file.ext
                        r"|(?:vault|hash|arn|file|env|secret|ssm|kms|op|ref\+\w+|awssm|gcpsm|azkv):\S+")  # references
# Written apart from the scrubber's references.py: a secret kept elsewhere (a secret manager, the environment, a
# program's variable), AWS's documented example secret key, a bullet mask; a value so named is not the secret.
_ELSEWHERE = re.compile(
    r"[A-Za-z0-9/+]{30}EXAMPLEKEY|[\u2022\u25cf]+|@Microsoft\.KeyVault\((?:[\w=.:/;-]+\)|VaultName=[\w-]+)|os\.environ/[A-Z_][A-Z0-9_]*"
    r"|projects/[\w-]+/secrets/[\w-]+(?:/versions/\w+)?|process\.env\.[A-Z_][A-Z0-9_]*|\{env:[A-Z_][A-Z0-9_]*\}"
    r"|(?:os\.environ\[|os\.environ\.get\(|os\.getenv\(|(?:std::)?env::var\(|process\.env\[|ENV\[)"
    r"[\"'][A-Z_][A-Z0-9_]*[\"'][\])][,;]?")
_CODE_NAME = re.compile(r"(?P<first>[a-z_][a-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)+[,;]?|:[a-z]+(?:_[a-z0-9]+)+")
_COMPOUND_NAME = re.compile(r"[A-Za-z0-9]*(?:_[A-Za-z0-9]+|[a-z][A-Z])[A-Za-z0-9_]*")
_YAML_TAG = re.compile(r"!!?[a-z]+|[|>][+-]?")
_FILE_LIKE = re.compile(r"(?i)^(?:[a-z]:\\|\.{0,2}/|~/|file:)|\.(?:pem|key|crt|cer|txt|conf|cfg|json|ya?ml|"
                        r"xml|properties|env|ini|p12|pfx|jks|gpg|asc|pub|der|secret|token|sh)$")
_HEX = frozenset("0123456789abcdefABCDEF-")


_FILE_EXTENSIONS = frozenset({"exp", "c", "h", "cc", "cpp", "py", "js", "ts", "rb", "go", "rs", "java", "txt", "log",
                              "conf", "cfg", "ini", "xml", "json", "yaml", "yml", "sh", "html", "md", "so", "o"})


@functools.lru_cache(maxsize=4096)  # logs repeat their keys
def key_strength(key: str) -> int:
    if (key.rsplit(".", 1)[-1] in _FILE_EXTENSIONS and "." in key) or sum(c.isdigit() for c in key) >= 4:
        return NONE  # a file name (`pass-by-ref.exp: ...` in a test log) or a random string, not a key
    words = [w.lower() for w in _WORDS.findall(key)]
    if not words or words[-1] in _META:
        return NONE
    if any(w in ("public", "publishable", "pub") for w in words):
        return NONE  # a public key, a publishable key
    if words[-2:] == ["authentication", "string"]:
        return STRONG  # MySQL's authentication_string: a password hash
    best = NONE
    for i, word in enumerate(words):
        best = max(best, _word_strength(word, words[i - 1] if i else ""))
    return best


def _word_strength(word: str, previous: str) -> int:
    if word in _NOT_PASS or (word == "pass" and previous in _UPSTREAM_PASS):
        return NONE
    if (word in _STRONG or "password" in word or "passwd" in word or "secret" in word
            or word.endswith(("pass", "pwd")) or (word.endswith("pw") and len(word) <= 8)):
        return STRONG
    if ("token" in word and not word.startswith("tokeniz")) or word == "pat":
        return TOKEN
    if word == "key":
        return TOKEN if previous in _KEY_QUALIFIERS else WEAK
    if word.endswith("key") and word[:-3] in _KEY_QUALIFIERS:
        return TOKEN
    return WEAK if word in _WEAK else NONE


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def placeholder(value: str) -> bool:
    """Empty, a template or reference, a masked value, a path or file name, a word that is not a secret."""
    low = value.lower()
    return (not value or low in _NO_VALUE or value.startswith(_PLACEHOLDER_START) or "REDACTED" in value
            or bool(_YAML_TAG.fullmatch(value)) or _mask(value) or _reference(value)
            or bool(_FILE_LIKE.search(value)) or "://" in value
            or ("|" in value and all(part in _NO_VALUE for part in low.split("|")))
            or bool(_ELSEWHERE.fullmatch(value)) or _code_name(value))


def _mask(value: str) -> bool:
    """``****``, ``xxxx``, ``!*``, not ``****x`` (the password's last letter after a mask)."""
    return set(value) <= set("*xX#.-_!?0") and not (
        value.strip("xX-_") and (value[0] in "xX" or value[-1] in "xX"))


def _reference(value: str) -> bool:
    """A reference (``${X}``, ``dir/file.ext``, ``vault:kv/db#pw``), not a random string after a scheme."""
    if not _REFERENCE.fullmatch(value):
        return False
    scheme = re.match(r"(?:vault|hash|arn|file|env|secret|ssm|kms|op|ref\+\w+|awssm|gcpsm|azkv):", value)
    return scheme is None or not any(random_looking(p, minimum=12) for p in re.split(r"[:/#]+", value))


def _code_name(value: str) -> bool:
    """``settings.DB_PASSWORD``, ``cfg.RedisPassword``, ``:new_password``: names in a program, one of them compound
    (``_`` or camelCase) and naming a secret, none random (``conf.Qv4Tr8zKw9``, ``s.TwDxqurUdVCKOcq`` are values)."""
    if _CODE_NAME.fullmatch(value) is None:
        return False
    parts = [p for p in re.split(r"[.:]", value.rstrip(",;")) if p]
    return (any(_COMPOUND_NAME.fullmatch(p) and key_strength(p) != NONE for p in parts)
            and not any(random_looking(p, minimum=8) or _generated(p) for p in parts))


def _generated(part: str) -> bool:
    """Upper and lower case and a digit in 8 characters or more, or 24 without a separator: not a name."""
    mixed = any(c.isupper() for c in part) and any(c.islower() for c in part) and any(c.isdigit() for c in part)
    return (mixed and len(part) >= 8) or (len(part) >= 24 and "_" not in part)


def _classes(value: str) -> int:
    return sum((any(c.islower() for c in value), any(c.isupper() for c in value),
                any(c.isdigit() for c in value), any(not c.isalnum() for c in value)))


_SHORTEST = {NONE: 10**9, WEAK: 16, TOKEN: 8, STRONG: 4}


def may_be_secret(value: str, strength: int, spaced: bool) -> bool:
    """The cheap part of :func:`secret_value` (length and separator only): False rules a value out, so a caller
    can skip its other checks. Most candidates in a log are short words or follow a blank."""
    if spaced and strength in (WEAK, TOKEN):
        return False  # `session opened`, `token abc`: only strong keys take a value after a blank
    return len(value) >= _SHORTEST[strength] and not (strength == STRONG and spaced and len(value) < 6)


def secret_value(value: str, strength: int, spaced: bool, prose_after: bool) -> bool:
    """Does ``value``, found under a key of ``strength``, look like a secret? ``spaced``: the separator was
    only whitespace (``password X``); ``prose_after``: more words follow on the line, as in a sentence."""
    if not may_be_secret(value, strength, spaced):
        return False
    if placeholder(value) or (spaced and value.startswith("-")):
        return False
    if _prose_or_enum(value):
        return False
    if strength == STRONG:
        if spaced:
            return (len(value) >= 6 and not value.isalpha() and _classes(value) >= 2 and not prose_after
                    and not any(c in value for c in "/\\[]{}()^$"))  # not a port/proto, option or regex
        if prose_after and value.isalpha():
            return False
        return len(value) >= 4
    if strength == TOKEN:
        if spaced or len(value) < 8 or (value.isalpha() and value.islower()):
            return False
        return not prose_after or random_looking(value, minimum=12)
    return not spaced and random_looking(value, minimum=16) and not set(value) <= _HEX


_IDENTIFIER_WORDS = re.compile(r"[A-Za-z]+\d*(?:[_.-][A-Za-z]+\d*)+")  # openssl_aes128_set_key
_ENUM = re.compile(r"[A-Za-z]+(?:[-_:][A-Za-z]+)+")  # always-impersonate, softfail:neutral (exim's spf = pass:...)
_SAMPLE_WORDS = ("pass", "pwd", "secret", "token", "key", "example", "sample", "demo", "changeme")


def _prose_or_enum(value: str) -> bool:
    """A sentence (``optional; leave empty if not used.``), an option word (``always-impersonate``) or a
    sample value made of the key's own word (``proxypass``, ``repopwd``): documentation, not a secret."""
    if " " in value.strip() and (value.rstrip().endswith(".") or "; " in value or ", " in value
                                 or value.count(" ") >= 4):
        return True
    if _ENUM.fullmatch(value):
        return True
    return value.isalpha() and value.islower() and any(w in value for w in _SAMPLE_WORDS)


def random_looking(value: str, minimum: int = 20) -> bool:
    """Letters and digits mixed, varied characters: an API key, not a word, a date or an identifier."""
    if len(value) < minimum or value.isalpha() or value.isdigit() or _IDENTIFIER_WORDS.fullmatch(value):
        return False
    digits = sum(c.isdigit() for c in value)
    alnum = sum(c.isalnum() for c in value)
    return digits >= 2 and alnum >= 0.8 * len(value) and entropy(value[:128]) >= 3.2
