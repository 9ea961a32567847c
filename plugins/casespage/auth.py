"""The page's access rule: open on loopback; beyond it, a token read from a file only its owner can read.

A request then carries ``Authorization: Bearer TOKEN`` or HTTP basic auth with the token as the password (any
user name), so a browser can log in through its own dialog. Tokens are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import stat
from pathlib import Path

from medic.kernel.addresses import is_loopback_host
from medic.kernel.errors import UsageError

MIN_TOKEN = 16


is_loopback = is_loopback_host


def read_token(path: str) -> str:
    """The token in ``path``; refused unless the file is a regular file no one but its owner may read."""
    file = Path(path).expanduser()
    try:
        info = file.stat()
        token = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"--token-file {path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077:
        raise UsageError(f"--token-file {path}: mode {stat.filemode(info.st_mode)}: the token file must be "
                         f"readable by its owner only (chmod 600 {path})")
    if len(token) < MIN_TOKEN:
        raise UsageError(f"--token-file {path}: the token is shorter than {MIN_TOKEN} characters")
    return token


def authorised(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries the token (bearer, or basic with it as the password)."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    given = value.strip()
    if scheme.lower() == "basic":
        try:
            given = base64.b64decode(given, validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
    elif scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.encode(), token.encode())
