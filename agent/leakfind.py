"""The leak scan's anchored detectors (the token-run pass is :mod:`medic.agent.leakruns`). Two passes over the
text, each one regular expression:

1. anchors, found in the lower-cased text: secret words (``pass``, ``pw``, ``secret``, ``token``, ``key``...),
   ``-----begin``, ``eyj``, ``://``, crypt ``$id$``, ``bearer``/``basic`` and a few clients' names; each hit is
   then checked where it stands (key and value parsed, header decoded, URL split);
2. runs of token characters of 20 or more: vendor token formats by prefix (:mod:`medic.agent.leaktokens`),
   then random-looking strings that stand alone.

A finding is ``(start, end, rule, kind)``: offsets of the secret in the text, never the secret itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator

from medic.agent import firstpass, leakforms, leakkeys
from medic.agent.leakservice import CLIENTS, client_password
from medic.agent.wordtrie import factored

Finding = tuple[int, int, str, str]

# Anchor words, found in the lower-cased text by one factored expression (wordtrie: the same matches as a plain
# alternation, as no word starts another; faster)
_ANCHOR_WORDS = {w: "" for w in (
    "pass", "pw", "psk", "secret", "sess", "sig=", "sshpass", "token", "key", "cred", "cookie", "curl", "community",
    "auth", "bearer", "basic", "-----begin", "eyj", "django-insecure-", "://", *CLIENTS)}
_CRYPT_ANCHOR = r"\$(?:[12567y]|2[abxy]|apr1|argon2(?:id|i|d)|gy)\$"
_LDAP_ANCHOR = r"\{(?:s?sha(?:256|512)?|s?md5|crypt|pbkdf2[\w-]*)\}"
_ANCHOR = re.compile("|".join((factored({**_ANCHOR_WORDS, "pat": r"(?=[\"' \t]*[=:])"}), _CRYPT_ANCHOR, _LDAP_ANCHOR)))
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_AFTER_KEY = re.compile(
    r"(?P<close>\\?[\"'\]]?)[ \t]*(?P<sep>=>|:=|=|:(?!:)|,(?=[ \t]*[\"'])|\((?=[ \t]*[\"'])|[ \t](?=[ \t]*\S))"
    r"[ \t]*(?:\\(?=[\"']))?(?P<open>[\"'`]?)")  # (\": JSON written inside a string, its quotes escaped)
_QUOTED = {'"': re.compile(r'[^"\n]{0,256}'), "'": re.compile(r"[^'\n]{0,256}"), "`": re.compile(r"[^`\n]{0,256}")}
_BARE = re.compile(r"[^\s\"'`<>]{1,256}")
_SHELL_VARIABLE = re.compile(r"\$\{?[A-Za-z_]\w*\}?")
_VARIABLE_EXPRESSION = re.compile(r"\$[A-Za-z_]\w*(?:->|::|\{|\[)")
_NEXT_KEY = re.compile(r"[;,&](?=[A-Za-z_][\w.-]*=)")
_NAME_VALUE = re.compile(r"\bname[\"']?[ \t]*[:=][ \t]*[\"']?$")
_NEXT_VALUE = re.compile(r"[ \t-]*value[ \t]*:[ \t]*[\"']?(?P<val>[^\s\"']+)")
_XML_VALUE = re.compile(r"[^<\n]*(?=</)")
_ATTR_PAIR = re.compile(r"[\"'][ \t]+value=[\"'](?P<val>[^\"'\n]*)")
_DIRECTIVES = frozenset({"requirepass", "masterauth", "bindpw", "rootpw", "olcrootpw", "ldap_default_authtok"})
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_.-]*")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$.]*")
_PROSE = re.compile(r"[\"'`]?[ \t]+[A-Za-z]")
_PREVIOUS_WORD = re.compile(r"([A-Za-z]+)[ \t]+$")
_PEM_PRIVATE = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:\\[rn]|[\s\"'])*"
    r"(?:(?:Proc-Type|DEK-Info|Version|Comment|Hash):[^\n]*(?:\n|\\n)(?:\\[rn]|\s)*)*[A-Za-z0-9+/]{16}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{10,}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}$")
_SENTRY_DSN = re.compile(r"([0-9a-f]{32})@[\w.-]*sentry")
_USERINFO = re.compile(r"[^\s/:@\"'<>]*:(?P<pw>[^\s/\"'<>]+)@[\w.\-\[\]:]*")
_NON_SPACE = re.compile(r"\S+")
_LDAP_HASH = re.compile(r"\{[A-Za-z0-9-]+\}[A-Za-z0-9+/$.]{16,}={0,2}")
_CRYPT = re.compile(r"\$(?:1|2[abxy]|5|6|7|y|gy|apr1|argon2(?:id|i|d))\$[^\s:\"',;]+")
_AUTH = re.compile(r"(?i)(bearer|basic)[ \t]+([A-Za-z0-9._~+/=-]+)")
_KEY_TAIL = re.compile(r"[A-Za-z0-9_.-]*")
def anchored(text: str, lower: str | None = None) -> Iterator[Finding]:
    """The anchored findings; ``lower``: ``text.lower()`` if the caller has it (else made only where needed)."""
    # Checks read at most _WINDOW characters; a command line or token run already read for one anchor is not
    # read again for the next (`mysql mysql mysql ...`, `eyJeyJeyJ...`), so the scan stays linear.
    skip = {"client": 0, "jwt": 0}
    for word, pos in _anchors(text, lower):
        found: Finding | None = None
        if word in _KEY_WORDS:  # most anchors in logs (`session`, `key`, `password`): the same check as below
            found = _assignment(text, pos)[0]
        elif word == "-----begin":
            found = _private_key(text, pos)
        elif word == "eyj":
            if pos < skip["jwt"]:
                continue
            skip["jwt"] = _TOKEN_RUN.match(text, pos, pos + 8 * _WINDOW).end()  # type: ignore[union-attr]
            found = _jwt(text, pos)
        elif word == "://":
            found = _url_password(text, pos)
        elif word.startswith("$"):
            found = _crypt(text, pos)
        elif word in ("bearer", "basic"):
            found = _auth_header(text, pos)
        elif word in CLIENTS:
            if pos < skip["client"]:
                continue
            skip["client"] = _line_end(text, pos)
            found = client_password(text, pos, word, skip["client"])
        elif word.startswith("{"):
            found = _ldap_hash(text, pos)
        elif word == "django-insecure-":
            found = _django_key(text, pos)
        else:
            found = _assignment(text, pos)[0]
        if found:
            yield found


_PAT_AFTER = re.compile(r"[\"' \t]*[=:]")  # what "pat" needs after it to be an anchor (_ANCHOR's look-ahead)
_LDAP, _LDAP_ANY_CASE = re.compile(_LDAP_ANCHOR), re.compile(_LDAP_ANCHOR, re.IGNORECASE)
# For the compiled pass every anchor is a literal, so its start is its end less its length: the words, each crypt
# `$id$` (_CRYPT_ANCHOR spelt out), and the heads of the LDAP schemes (the whole match then read by _LDAP: its
# [\w-]* takes letters outside ASCII too)
_LITERALS = sorted({*_ANCHOR_WORDS, "pat", *(f"${i}$" for i in ("1", "2", "5", "6", "7", "y", "2a", "2b", "2x", "2y",
                                                                 "apr1", "argon2id", "argon2i", "argon2d", "gy")),
                    "{sha", "{ssha", "{md5", "{smd5", "{crypt", "{pbkdf2"})


def _anchor_matcher() -> firstpass.Matcher:
    return firstpass.Matcher([firstpass.literal(w) for w in _LITERALS], caseless=True)


def _anchors(text: str, lower: str | None) -> Iterator[tuple[str, int]]:
    """(word, start) of each ``_ANCHOR`` match in ``text.lower()``, as ``finditer`` finds them; compiled
    (:mod:`medic.agent.firstpass`) when it is on: every literal found, then the leftmost, non-overlapping matches
    kept in order (no two can start at one offset: no word starts another, and "$", "{" start none). Compiled,
    an ASCII text is searched without case as it is (the same matches as in its lower case: no copy made)."""
    compiled = firstpass.matcher("leak-anchors", _anchor_matcher)
    if compiled is None:
        lower = text.lower() if lower is None else lower
        yield from ((match.group(0), match.start()) for match in _ANCHOR.finditer(lower))
        return
    source = lower if lower is not None else text if text.isascii() else text.lower()
    found = []
    for pattern, end in compiled.scan(firstpass.one_byte_per_character(source)):
        word = _LITERALS[pattern]
        start = end - len(word)
        if word == "pat" and not _PAT_AFTER.match(source, end):
            continue
        if word[0] == "{":
            ldap = (_LDAP if source is lower else _LDAP_ANY_CASE).match(source, start)
            if ldap is None:
                continue
            word, end = ldap.group(0).lower(), ldap.end()
        found.append((start, end, word))
    after = 0
    for start, end, word in sorted(found):
        if start >= after:
            yield word, start
            after = end


# the anchor words that name a key: each reaches the last branch of anchored() (none is special there)
_KEY_WORDS = frozenset({"pass", "pw", "psk", "secret", "sess", "sig=", "token", "key", "cred", "cookie", "community",
                        "auth", "pat"})
assert not _KEY_WORDS & set(CLIENTS) and not _KEY_WORDS & {"-----begin", "eyj", "://", "bearer", "basic"}
_WINDOW = 1024  # how far a check looks from its anchor: the scan stays linear in the text


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos, pos + _WINDOW)
    return min(len(text), pos + _WINDOW) if end < 0 else end


def _private_key(text: str, pos: int) -> Finding | None:
    match = _PEM_PRIVATE.match(text, pos, pos + _WINDOW)
    if not match:
        return None
    end = text.find("-----END", match.end(), match.end() + 20_000)  # the whole block: its lines are this hit
    return pos, match.end() if end < 0 else end, "private_key", "pem"


def b64decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _jwt(text: str, pos: int) -> Finding | None:
    match = _JWT.match(text, pos, pos + 8 * _WINDOW)
    if not match or (pos and text[pos - 1].isalnum()):
        return None
    header = b64decode(match.group(0).split(".", 1)[0])
    try:
        loaded = json.loads(header) if header else None
    except (ValueError, UnicodeDecodeError):
        return None
    return (pos, match.end(), "jwt", "jwt") if isinstance(loaded, dict) and "alg" in loaded else None


def _url_password(text: str, pos: int) -> Finding | None:
    if not _SCHEME.search(text, max(0, pos - 31), pos):
        return None
    match = _USERINFO.match(text, pos + 3, _line_end(text, pos))
    if not match:
        dsn = _SENTRY_DSN.match(text, pos + 3, _line_end(text, pos))
        return (dsn.start(1), dsn.end(1), "url_password", "sentry-dsn") if dsn else None
    password = match.group("pw")
    if leakkeys.placeholder(password) or password.startswith("$"):
        return None
    return match.start("pw"), match.end("pw"), "url_password", "url"


def _crypt(text: str, pos: int) -> Finding | None:
    match = _CRYPT.match(text, pos, pos + _WINDOW)
    if not match or len(match.group(0).rsplit("$", 1)[-1]) < 8 or "REDACTED" in match.group(0):
        return None
    return pos, match.end(), "password_hash", match.group(0).split("$")[1]


def _auth_header(text: str, pos: int) -> Finding | None:
    if pos and text[pos - 1].isalnum():
        return None
    match = _AUTH.match(text, pos, pos + _WINDOW)
    if not match:
        return None
    scheme, value = match.group(1).lower(), match.group(2)
    if leakkeys.placeholder(value) or value.startswith("$"):
        return None
    if scheme == "bearer":
        ok = len(value) >= 16 and not value.isalpha()
    else:
        decoded = b64decode(value) if len(value) >= 8 else None
        text_form = decoded.decode("utf-8", "replace") if decoded else ""
        ok = ":" in text_form and text_form.isprintable() and not text_form.endswith(":")
    return (match.start(2), match.end(2), "auth_header", scheme) if ok else None


def _django_key(text: str, pos: int) -> Finding | None:
    match = _NON_SPACE.match(text, pos, pos + _WINDOW)
    return (pos, match.end(), "token_format", "django-secret-key") if match and match.end() - pos > 40 else None


def _ldap_hash(text: str, pos: int) -> Finding | None:
    match = _LDAP_HASH.match(text, pos, pos + _WINDOW)
    return (pos, match.end(), "password_hash", "ldap") if match else None


def _key_bounds(text: str, pos: int) -> tuple[int, int]:
    start = pos
    while start > 0 and text[start - 1] in _KEY_CHARS and pos - start < 80:
        start -= 1
    return start, _KEY_TAIL.match(text, pos, pos + 80).end()  # type: ignore[union-attr]


def _assignment(text: str, pos: int) -> tuple[Finding | None, int]:
    """The finding, if the key at ``pos`` holds a secret, and how far the check read (the value's end)."""
    start, end = _key_bounds(text, pos)
    if start and (text[start - 1] in "/\\" or text.endswith("REDACTED:", 0, start)
                  or "arn:" in text[max(0, start - 80):start]):
        return None, 0  # a path (/usr/bin/passwd), an AWS ARN, or the scrubber's own [REDACTED:password]
    key, end = text[start:end].strip("-."), leakforms.key_end(text, start, end)  # (var NAME TYPE =, NAME[25] =)
    strength = leakkeys.key_strength(key)
    if key.lower() == "pass":  # "PASS: test_x" in test logs: a bare `pass` needs more evidence
        strength = leakkeys.NONE if key.isupper() and text.startswith(":", end) else leakkeys.TOKEN
    elif key.lower() in ("key", "token", "code", "number") and strength < leakkeys.TOKEN:
        previous = _PREVIOUS_WORD.search(text, max(0, start - 24), start)
        word = previous.group(1).lower() if previous else ""
        if word in ("activation", "license", "licence", "product", "serial", "registration", "api", "secret",
                    "access", "private"):
            strength = leakkeys.TOKEN
        elif word in ("public", "publishable", "host"):
            strength = leakkeys.NONE
    if strength == leakkeys.NONE or (strength in _SPACED_NEVER and key.lower() not in _DIRECTIVES  # (MasterAuth: weak)
                                     and _only_spaced(text, start, end)):
        return None, 0
    span = _value_span(text, start, end)
    if span is None:
        return None, 0
    vstart, vend, spaced = span
    # `requirepass 12345678`, `--api-token X`: after these the value is always a secret
    spaced = spaced and key.lower() not in _DIRECTIVES and not text.startswith("--", start)
    value = text[vstart:vend].strip().rstrip(":.;,)\\")
    if not leakkeys.may_be_secret(value, strength, spaced):
        return None, vend  # secret_value's cheap test first: the checks below only ever rule values out
    if text[vstart - 1:vstart] not in "\"'`" and _code(text, value, vstart, vend):
        return None, vend  # code: `pass_height = height;`, `password = getPassword();`
    if _variable(text, value, vstart):
        return None, vend
    prose = bool(_PROSE.match(text, vend))
    if not leakkeys.secret_value(value, strength, spaced, prose):
        return None, vend
    return (vstart, vend, "secret_assignment", "key"), vend


_SPACED_NEVER = (leakkeys.WEAK, leakkeys.TOKEN)  # keys whose value never follows a blank (may_be_secret)


def _only_spaced(text: str, start: int, end: int) -> bool:
    """True when ``_value_span`` finds no value or one after a blank only (`session opened`, `key "x"` is not):
    the common case of a weak or token key in a log's prose. Only its plain path is judged (no `<key>`, no quote
    before the key, no `name` just before it, no `--`: False there)."""
    before = text[max(0, start - 12):start]
    if (before and before[-1] in "<\"'") or "name" in before or text.startswith("--", start):
        return False  # (--api-key X: a value after a blank counts)
    after = _AFTER_KEY.match(text, end, _line_end(text, end))
    return after is None or (after.group("sep").isspace() and not after.group("open"))


def _variable(text: str, value: str, vstart: int) -> bool:
    """A variable, not its value: "$user" in a shell script, `$password' in Perl's prose quotes, Perl and PHP
    expressions (`$ctx->digest()`, `$ENV{PASSWORD}`, `"$opt{w}"`), `password => $pw` in a Perl hash. A
    single-quoted '$x' in shell is a literal, and so is `password: $x` in a config file."""
    if _VARIABLE_EXPRESSION.match(text[vstart:vstart + len(value) + 2].lstrip()):  # the value stops at `->`'s >
        return True
    variable = _SHELL_VARIABLE.match(value)
    if not variable:
        return False
    if text[vstart - 1:vstart] in '"`':
        return value[variable.end():][:1] in ("", "'", '"', "`")
    return variable.end() == len(value) and text[max(0, vstart - 4):vstart].rstrip().endswith("=>")


def _code(text: str, value: str, vstart: int, vend: int) -> bool:
    """An identifier or call on the right of `x = ...` in source code, not a secret (random-looking ones are)."""
    ident = _IDENTIFIER.match(value)
    if not ident or leakkeys.random_looking(ident.group(0), minimum=8):
        return False
    rest = value[ident.end():]
    if rest.startswith(("(", "[")):
        return True
    spaced_equals = text[max(0, vstart - 3):vstart].endswith((" = ", " =", "= "))
    ends = text[vstart:vend].rstrip()[-1:] + text[vend:vend + 1]
    return not rest and spaced_equals and any(c in ";)," for c in ends)


def _value_span(text: str, start: int, end: int) -> tuple[int, int, bool] | None:
    """Where the value of the key at ``start:end`` is: after `=`, `:`, `=>`, whitespace, `, "`, `("`, as an
    XML element's text or in a ``key="..." value="..."`` pair."""
    if start and text[start - 1] == "<":  # <password>x</password>, <Pass encoding="base64">x</Pass>
        close = text.find(">", end, _line_end(text, end))
        match = _XML_VALUE.match(text, close + 1, _line_end(text, end)) if close >= 0 else None
        return (match.start(), match.end(), False) if match else None
    pair = _NAME_VALUE.search(text, max(0, start - 12), start)
    if pair:  # Kubernetes `- name: DB_PASSWORD` then `  value: x` on the next line
        value = _NEXT_VALUE.match(text, text.find("\n", end) + 1 if "\n" in text[end:end + 200] else end)
        if value and value.group("val"):
            return value.start("val"), value.end("val"), False
    if start and text[start - 1] in "\"'":
        pair = _ATTR_PAIR.match(text, end, end + _WINDOW)
        if pair:
            return pair.start("val"), pair.end("val"), False
    line_end = _line_end(text, end)
    after = _AFTER_KEY.match(text, end, line_end)
    if not after:
        return None
    opening = after.group("open")
    value = (_QUOTED[opening] if opening else _BARE).match(text, after.end(), line_end)
    if not value or value.end() == value.start():
        return None
    vend = value.end()
    if not opening:  # an unquoted value ends where the next `key=` starts: `pwd=x;Encrypt=yes`, `a=1,b=2`
        next_key = _NEXT_KEY.search(text, value.start(), vend)
        vend = next_key.start() if next_key else vend
    return value.start(), vend, after.group("sep").isspace() and not opening
