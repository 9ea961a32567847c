"""Value builders for the secret corpus: random strings from a charset, vendor checksums, encodings."""

from __future__ import annotations

import base64
import binascii
import json
import random
import string
from collections.abc import Callable

LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
CHARSETS = {
    "A": LOWER + UPPER + DIGITS,  # alphanumeric
    "a": LOWER + DIGITS,
    "h": "0123456789abcdef",
    "H": "0123456789ABCDEF",
    "U": UPPER + DIGITS,
    "L": LOWER,
    "d": DIGITS,
    "B": LOWER + UPPER + DIGITS + "+/",  # base64
    "b": LOWER + UPPER + DIGITS + "-_",  # base64url
    "P": LOWER + UPPER + DIGITS + "!#%^*_+-.@",  # passwords
    "W": LOWER + UPPER + DIGITS + "!#%^*()_+-=[]{}|;:,.?~",  # WordPress salts (no quotes, $, &, < or >)
    "C": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",  # bech32 (age)
}
Piece = str | tuple  # a literal, or (charset letter, length)
Make = Callable[[random.Random], str]


def rand(rng: random.Random, charset: str, n: int) -> str:
    alphabet = CHARSETS[charset]
    while True:  # a random token with at least two character classes, as real ones have
        out = "".join(rng.choice(alphabet) for _ in range(n))
        if n < 8 or len({c.isdigit() for c in out}) == 2 or charset in "dhHLC":
            return out


def pieces(*parts: Piece) -> Make:
    def make(rng: random.Random) -> str:
        return "".join(p if isinstance(p, str) else rand(rng, p[0], p[1]) for p in parts)
    return make


def base62(n: int, width: int) -> str:
    digits = DIGITS + UPPER + LOWER
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = digits[r] + out
    return out.rjust(width, "0")


def crc32_token(prefix: str, body: int = 30) -> Make:
    """GitHub-style token: prefix + random base62 body + base62(CRC32(body)) in 6 characters (npm too)."""
    def make(rng: random.Random) -> str:
        random_part = rand(rng, "A", body)
        return prefix + random_part + base62(binascii.crc32(random_part.encode()), 6)
    return make


def b64(data: str, urlsafe: bool = False, pad: bool = True) -> str:
    enc = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data.encode()).decode()
    return enc if pad else enc.rstrip("=")


def jwt(rng: random.Random, claims: dict | None = None) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}), True, False)
    body = claims or {"sub": rand(rng, "a", 10), "iat": 1760000000 + rng.randrange(10**6), "role": "service"}
    return f"{header}.{b64(json.dumps(body), True, False)}.{rand(rng, 'b', 43)}"


def pem(label: str, lines: int = 6) -> Make:
    def make(rng: random.Random) -> str:
        body = "\n".join(rand(rng, "B", 64) for _ in range(lines)) + "\n" + rand(rng, "B", 20) + "=="
        return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"
    return make


def password(rng: random.Random) -> str:
    """A realistic password: letters, digits and punctuation, 10 to 20 characters."""
    while True:
        out = rand(rng, "P", rng.randrange(10, 21))
        if any(c.isdigit() for c in out) and any(c.isalpha() for c in out) and out[0] not in "-#":
            return out


def uuid4(rng: random.Random) -> str:
    h = rand(rng, "h", 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
