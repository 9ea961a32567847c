"""The leak scan's detectors. Two passes over the text, each one regular expression:

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

from medic.agent import leakkeys
from medic.agent.leaktokens import infix_token, vendor_token

Finding = tuple[int, int, str, str]

_ANCHOR = re.compile(  # factored by first letter: Python's re tries alternatives one by one
    r"p(?:ass|w|sk)|s(?:ecret|ess|ig=|shpass)|token|key|c(?:red|ookie|url)|auth|b(?:earer|asic)|-----begin|eyj"
    r"|://|\$(?:[12567y]|2[abxy]|apr1|argon2(?:id|i|d)|gy)\$|m(?:ysql|ariadb|ongo)|redis-cli")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_AFTER_KEY = re.compile(
    r"(?P<close>[\"'\]]?)[ \t]*(?P<sep>=>|:=|=|:(?!:)|,(?=[ \t]*[\"'])|\((?=[ \t]*[\"'])|[ \t](?=[ \t]*\S))"
    r"[ \t]*(?P<open>[\"'`]?)")
_QUOTED = {'"': re.compile(r'[^"\n]{0,256}'), "'": re.compile(r"[^'\n]{0,256}"), "`": re.compile(r"[^`\n]{0,256}")}
_BARE = re.compile(r"[^\s\"'`,;&<>()]{1,256}")
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
_USERINFO = re.compile(r"[^\s/:@\"'<>]*:(?P<pw>[^\s/\"'<>]+)@[\w.\-\[\]:]*")
_CRYPT = re.compile(r"\$(?:1|2[abxy]|5|6|7|y|gy|apr1|argon2(?:id|i|d))\$[^\s:\"',;]+")
_AUTH = re.compile(r"(?i)(bearer|basic)[ \t]+([A-Za-z0-9._~+/=-]+)")
_CLIENT_PASSWORD = {
    "mysql": re.compile(r"[ \t]-p(?![ \t])(\S+)"), "mariadb": re.compile(r"[ \t]-p(?![ \t])(\S+)"),
    "sshpass": re.compile(r"[ \t]-p[ \t]+(\S+)"), "mongo": re.compile(r"[ \t]-p[ \t]+(\S+)"),
    "redis-cli": re.compile(r"[ \t]-a[ \t]+(\S+)"),
    "curl": re.compile(r"[ \t](?:-u|--user)[ \t=]+[\"']?[^:\s\"']*:([^\s\"'@]+)"),
}
_HEX_DIGITS = "0123456789abcdef"
_KEY_TAIL = re.compile(r"[A-Za-z0-9_.-]*")
_RUN = re.compile(r"[A-Za-z0-9_.+/~-]{20,}={0,2}")
_DIGEST_CONTEXT = re.compile(
    r"(?i)(?:sha\d*|md5|digest|hash|checksum|integrity|etag|fingerprint|nonce|uuid|trace|span|request|"
    r"correlation|build|commit|rev|revision|signature|id|ssh-\w+|ecdsa-[\w-]+|x509\w*|modulus|cipher)\w*[\W_]{0,3}$")
_DIGEST_AFTER = re.compile(r"(?i)\W{0,3}</[\w:]*(?:signature|digest|certificate|modulus|exponent|x509|cipher)")
_PUBLIC_BLOCK = re.compile(r"-----BEGIN (?:CERTIFICATE|[A-Z0-9 ]*PUBLIC KEY(?: BLOCK)?|X509 CRL|CERTIFICATE "
                           r"REQUEST|PGP SIGNATURE|PGP MESSAGE)-----.*?(?:-----END|\Z)", re.S)
_WORD_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_FILE_NAME = re.compile(r"\.[A-Za-z]{1,4}\d?$")
_DATA_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"\x1f\x8b", b"PK\x03\x04", b"RIFF", b"<svg",
               b"<?xml", b"BZh")


def anchored(text: str, lower: str) -> Iterator[Finding]:
    # Checks read at most _WINDOW characters; a command line or token run already read for one anchor is not
    # read again for the next (`mysql mysql mysql ...`, `eyJeyJeyJ...`), so the scan stays linear.
    skip = {"client": 0, "jwt": 0}
    for match in _ANCHOR.finditer(lower):
        word, pos = match.group(0), match.start()
        found: Finding | None = None
        if word == "-----begin":
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
        elif word in _CLIENT_PASSWORD:
            if pos < skip["client"]:
                continue
            skip["client"] = _line_end(text, pos)
            found = _client_password(text, pos, word)
        else:
            found = _assignment(text, pos)[0]
        if found:
            yield found


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


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _jwt(text: str, pos: int) -> Finding | None:
    match = _JWT.match(text, pos, pos + 8 * _WINDOW)
    if not match or (pos and text[pos - 1].isalnum()):
        return None
    header = _b64decode(match.group(0).split(".", 1)[0])
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
        return None
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
        decoded = _b64decode(value) if len(value) >= 8 else None
        text_form = decoded.decode("utf-8", "replace") if decoded else ""
        ok = ":" in text_form and text_form.isprintable() and not text_form.endswith(":")
    return (match.start(2), match.end(2), "auth_header", scheme) if ok else None


def _client_password(text: str, pos: int, client: str) -> Finding | None:
    match = _CLIENT_PASSWORD[client].search(text, pos, _line_end(text, pos))
    if not match or leakkeys.placeholder(match.group(1).strip("'\"")) or match.group(1).startswith("$"):
        return None
    return match.start(1), match.end(1), "secret_assignment", f"{client}-password-option"


def _key_bounds(text: str, pos: int) -> tuple[int, int]:
    start = pos
    while start > 0 and text[start - 1] in _KEY_CHARS and pos - start < 80:
        start -= 1
    return start, _KEY_TAIL.match(text, pos, pos + 80).end()  # type: ignore[union-attr]


def _assignment(text: str, pos: int) -> tuple[Finding | None, int]:
    """The finding, if the key at ``pos`` holds a secret, and how far the check read (the value's end)."""
    start, end = _key_bounds(text, pos)
    if start and (text[start - 1] in "/\\" or text.endswith("REDACTED:", 0, start)):
        return None, 0  # a path (/usr/bin/passwd) or the scrubber's own [REDACTED:password]
    key = text[start:end].strip("-.")
    strength = leakkeys.key_strength(key)
    if key.lower() == "pass":  # "PASS: test_x" in test logs: a bare `pass` needs more evidence
        strength = leakkeys.NONE if key.isupper() and text.startswith(":", end) else leakkeys.TOKEN
    elif key.lower() in ("key", "token", "code", "number") and strength < leakkeys.TOKEN:
        previous = _PREVIOUS_WORD.search(text, max(0, start - 24), start)
        if previous and previous.group(1).lower() in ("activation", "license", "licence", "product", "serial",
                                                      "registration", "api", "secret", "access", "private"):
            strength = leakkeys.TOKEN
    if strength == leakkeys.NONE:
        return None, 0
    span = _value_span(text, start, end)
    if span is None:
        return None, 0
    vstart, vend, spaced = span
    spaced = spaced and key.lower() not in _DIRECTIVES  # `requirepass 12345678`: the value is always a secret
    value = text[vstart:vend].strip().rstrip(":.")
    if _IDENTIFIER.fullmatch(value) and text[vend:vend + 1] in (";", "(", ")", ".", "[", ",") and (
            text[vstart - 1:vstart] not in "\"'`"):
        return None, vend  # code: `pass_height = height;`, `password = getPassword();`
    prose = bool(_PROSE.match(text, vend))
    if not leakkeys.secret_value(value, strength, spaced, prose):
        return None, vend
    return (vstart, vend, "secret_assignment", "key"), vend


def _value_span(text: str, start: int, end: int) -> tuple[int, int, bool] | None:
    """Where the value of the key at ``start:end`` is: after `=`, `:`, `=>`, whitespace, `, "`, `("`, as an
    XML element's text or in a ``key="..." value="..."`` pair."""
    if start and text[start - 1] == "<" and text.startswith(">", end):
        match = _XML_VALUE.match(text, end + 1, _line_end(text, end))
        return (match.start(), match.end(), False) if match else None
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
    spaced = after.group("sep").isspace()
    return value.start(), value.end(), spaced


def runs(text: str) -> Iterator[Finding]:
    """Vendor tokens anywhere; random-looking strings on lines with no other finding."""
    public: list[tuple[int, int]] | None = None
    for match in _RUN.finditer(text):
        start, run = match.start(), match.group(0)
        if start and text[start - 1].isalnum():
            continue
        rule = _vendor(text, start, run)
        if rule:
            yield start, match.end(), "token_format", rule
            continue
        if not _standalone_secret(text, start, run):
            continue
        if public is None:
            public = [m.span() for m in _PUBLIC_BLOCK.finditer(text)] if "-----BEGIN" in text else []
        if not any(a <= start < b for a, b in public):
            yield start, match.end(), "high_entropy", "random"


def _vendor(text: str, start: int, run: str) -> str | None:
    if not run.strip(_HEX_DIGITS):
        return None  # digests and ids: no vendor format is lower-case hex from its first character
    rule = vendor_token(text, start, run) or infix_token(text, start, run)
    if rule or "/" not in run:
        return rule
    offset = 0
    for piece in run.split("/")[:-1]:  # a token after a slash: a URL path, a webhook
        offset += len(piece) + 1
        if len(run) - offset >= 20:
            rule = vendor_token(text, start + offset, run[offset:])
            if rule:
                return rule
    return None


def _standalone_secret(text: str, start: int, run: str) -> bool:
    token = run.rstrip("=")
    if (len(token) > 100 or token.islower() or token.isupper() or token.startswith(("AAAA", "_"))
            or _FILE_NAME.search(token)):
        return False  # data, hex, UUIDs, words in one case, SSH public keys, mangled symbols, file names
    if not _random_looking(token):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    if (_DIGEST_CONTEXT.search(text, max(line_start, start - 24), start) or _in_block(text, line_start, run)
            or _DIGEST_AFTER.match(text, start + len(run))):
        return False
    decoded = _b64decode(token) if "." not in token and "~" not in token else None
    return decoded is None or not (decoded.startswith(_DATA_MAGIC) or _mostly_text(decoded))  # JSON, text, image


def _in_block(text: str, line_start: int, run: str) -> bool:
    """A line that is nothing but base64, next to another such line: the body of a certificate, an XML
    signature or a MIME part, which stand in blocks; a secret stands alone."""
    end = text.find("\n", line_start)
    if text[line_start:len(text) if end < 0 else end].strip() != run:
        return False
    before = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    neighbours = (text[before:max(before, line_start - 1)],
                  text[end + 1:(text.find("\n", end + 1) % (len(text) + 1)) or len(text)] if end >= 0 else "")
    return any(_BASE64_LINE.fullmatch(n.strip()) and len(n.strip()) >= len(run) for n in neighbours)


def _mostly_text(data: bytes) -> bool:
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in data[:96])
    return printable >= 0.9 * min(len(data), 96)


def _random_looking(token: str) -> bool:
    """Upper, lower case and digits that switch at most positions: random tokens switch about 60% of the
    time, CamelCase identifiers and versions well under 45%."""
    if len(token) / len(_WORD_PIECES.findall(token) or "x") >= 3:
        return False  # words: org.springframework.web.Servlet, xmlSecTmplKeyInfoAddX509Data
    classes = [0 if c.isupper() else 1 if c.islower() else 2 for c in token[:100] if c.isalnum()]
    if len(classes) < 20 or classes.count(2) < 2 or 0 not in classes or 1 not in classes:
        return False
    switches = sum(classes[i] != classes[i - 1] for i in range(1, len(classes))) / (len(classes) - 1)
    return switches >= 0.45 and leakkeys.entropy(token[:100]) >= 3.5
