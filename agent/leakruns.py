"""The leak scan's second pass: runs of 20+ token characters, looked up in the vendor-format table
(:mod:`medic.agent.leaktokens`), and random-looking strings that stand alone (``high_entropy``), with the
look-alikes that are not secrets left out: hex, UUIDs, file names, CamelCase words, mangled symbols, SSH
public keys, certificate and base64 blocks, digests after a digest word, base64 of text, JSON or images.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from medic.agent import leakkeys
from medic.agent.charruns import Alphabet
from medic.agent.leakfind import Finding, b64decode
from medic.agent.leaktokens import INFIXES, PREFIXES, infix_token, vendor_token

_INFIX = re.compile("|".join(re.escape(needle) for needle, _, _ in INFIXES))
_HEX_DIGITS = "0123456789abcdef"
_HEX_OR_DASH = _HEX_DIGITS + "-"
# token runs: what [A-Za-z0-9_.+/~-]{20,}={0,2} finds, the maximal runs of 20+ of that alphabet, each with up
# to two "=" after it
_RUN_ALPHABET = Alphabet(string.ascii_letters + string.digits + "_.+/~-")
_DIGEST_CONTEXT = re.compile(
    r"(?i)(?:sha\d*|md5|digest|hash|checksum|integrity|etag|fingerprint|nonce|uuid|trace|span|request|"
    r"correlation|build|commit|rev|revision|signature|id|ssh-\w+|ecdsa-[\w-]+|x509\w*|modulus|cipher|h1|address|"
    r"payload|data|public\w*|boundary)\w*[\W_]{0,3}$")  # boundary: a MIME part separator
_DIGEST_AFTER = re.compile(r"(?i)\W{0,3}</[\w:]*(?:signature|digest|certificate|modulus|exponent|x509|cipher)")
_PUBLIC_BLOCK = re.compile(r"-----BEGIN (?:CERTIFICATE|[A-Z0-9 ]*PUBLIC KEY(?: BLOCK)?|X509 CRL|CERTIFICATE "
                           r"REQUEST|PGP SIGNATURE|PGP MESSAGE)-----.*?(?:-----END|\Z)", re.S)
_WORD_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_DIGEST_PREFIX = re.compile(r"(?i)(?:sha\d*|md5|h1)[-:~]")
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_FILE_NAME = re.compile(r"\.[A-Za-z]{1,4}\d?$")
_DATA_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"\x1f\x8b", b"PK\x03\x04", b"RIFF", b"<svg",
               b"<?xml", b"BZh")




def runs(text: str) -> Iterator[Finding]:
    """Vendor tokens anywhere; random-looking strings on lines with no other finding."""
    public: list[tuple[int, int]] | None = None
    for start, end in _RUN_ALPHABET.runs(text, 20):
        if start and text[start - 1].isalnum():
            continue
        if text[end:end + 1] == "=":
            end += 2 if text.startswith("==", end) else 1
        run = text[start:end]
        if not run.strip(_HEX_OR_DASH):
            # lower-case hex and dashes (digests, UUIDs, trace ids): no vendor format starts or holds one (the prefixes
            # of that alphabet, dckr_, dapi, access, need a letter after hex; no infix is hex), and one case or digits
            # only is never _standalone_secret
            continue
        # (_vendor finds nothing in a run without a format's first two characters, an infix or a slash)
        rule = _vendor(text, start, run) if run[:2] in PREFIXES or "/" in run or _INFIX.search(run) else None
        if rule:
            yield start, end, "token_format", rule
            continue
        if run.islower() or run.isupper() or not _standalone_secret(text, start, run):
            continue  # (one case: never _standalone_secret, as its own first test says)
        if public is None:
            public = [m.span() for m in _PUBLIC_BLOCK.finditer(text)] if "-----BEGIN" in text else []
        if not any(a <= start < b for a, b in public):
            yield start, end, "high_entropy", "random"


def _vendor(text: str, start: int, run: str) -> str | None:
    if not run.strip(_HEX_DIGITS):
        return None  # digests and ids: no vendor format is lower-case hex from its first character
    rule = vendor_token(text, start, run) or infix_token(text, start, run)
    if rule or "/" not in run:
        return rule
    slash = run.find("/")
    while 0 <= slash < len(run) - 20:  # a token after a slash (20 characters at least): a URL path, a webhook
        if run[slash + 1:slash + 3] in PREFIXES:  # (vendor_token tries the formats of a run's first two characters)
            rule = vendor_token(text, start + slash + 1, run[slash + 1:])
            if rule:
                return rule
        slash = run.find("/", slash + 1)
    return None


def _standalone_secret(text: str, start: int, run: str) -> bool:
    token = run.rstrip("=")
    if (len(token) > 100 or token.islower() or token.isupper() or token.startswith(("AAAA", "_", "/", "age1"))
            or _DIGEST_PREFIX.match(token)
            or _FILE_NAME.search(token)):
        return False  # data, hex, UUIDs, one-case words, SSH and age public keys, mangled symbols, paths, file names
    if not _random_looking(token):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    if (_DIGEST_CONTEXT.search(text, max(line_start, start - 24), start) or _in_block(text, line_start, run)
            or _DIGEST_AFTER.match(text, start + len(run))):
        return False
    decoded = b64decode(token) if "." not in token and "~" not in token else None
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
