"""Values under a secret-sounding key that are settings or references, not secrets (found in a real /etc).

Classes, each kept only whole (a value with anything else in it is still redacted whole):
- an option list of settings, ``true|false`` (documentation of the choices);
- an enumeration literal: ``always-impersonate`` (a setting word first), ``PLAIN`` under a weak key (SASL);
- a reference instead of the secret: a macro naming a secret (``tls_privatekey = MAIN_TLS_PRIVATEKEY``), a
  path to a key file (``CONFDIR/exim.key``, ``$dir/private/cakey.pem``), openssl's ``$section::name``;
- a config-language expansion (exim's ``<; ${if exists{...}}``);
- one of the above or nothing, then a comment (``secret = # disable PBM``), if the comment names no secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_OPTION_LIST = re.compile(r"[\w-]{1,20}(?:\|[\w-]{1,20})+")
_ENUM = re.compile(r"(?P<first>[a-z]{2,12})(?:-[a-z]{2,16}){1,3}")
_UPPER_ENUM = re.compile(r"[A-Z]{2,12}(?:-[A-Z0-9]{1,8})?")  # PLAIN, LOGIN, CRAM-MD5
_MACRO = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
# a path from a variable, a macro, home or here; a file with a key's extension, or (under a key named for a
# private key) any path of two or more parts
_HEAD = r"(?:\$\w{1,40}|\$\{\w{1,40}\}|[A-Z][A-Z0-9_]{1,40}|~|\.{1,2})?"
_PATH = re.compile(_HEAD + r"(?P<parts>(?:/[\w.@-]{1,64})+)/?")
_KEY_FILE = re.compile(r"\.(?:pem|key|crt|cer|der|p12|pfx|jks|gpg|asc|txt|conf|secret)$")
_KEY_RULES = frozenset({"private_key", "key"})
_SECTION_REF = re.compile(r"\$\w{1,40}::\w{1,40}|\$ENV\{\w{1,60}\}")  # openssl.cnf; Perl's environment
_EXPANSION = re.compile(r"(?:<\S\s*)?\$\{[a-z_]{1,20}[\s{]")  # exim: an optional list separator, ${if ...
_COMMENT = re.compile(r"(?P<head>\S*?)\s*(?<![^\s/.\w])#(?:\s(?P<text>.*))?")
_NAMES_SECRET = re.compile(r"(?i)pass|pw|secret|token|cred|auth")  # a comment that may hold the value itself


def kept_lookalike(value: str, rule: str | None, weak: bool, settings: frozenset[str],
                   names_secret: Callable[[str], object]) -> bool:
    """``value`` (stripped) is a setting or a reference in one of the module's classes. ``rule``: what its key
    names; ``weak``: the key is weak evidence; ``settings``: the setting words; ``names_secret``: whether a
    word names a secret."""
    # (the end of a code line; a Perl or Ruby pair's "=>" that a key = value form read as "=" and "> value")
    code = value.removeprefix(">").lstrip() if value.startswith("> ") else value
    if _setting_or_reference(code.rstrip(",;"), rule, weak, settings, names_secret):
        return True
    comment = _COMMENT.fullmatch(value)
    if comment is None or _NAMES_SECRET.search(comment.group("text") or ""):
        return False
    head = comment.group("head")
    return not head or _setting_or_reference(head, rule, weak, settings, names_secret)


def _setting_or_reference(value: str, rule: str | None, weak: bool, settings: frozenset[str],
                          names_secret: Callable[[str], object]) -> bool:
    if _OPTION_LIST.fullmatch(value):
        return all(part.lower() in settings for part in value.split("|"))
    enum = _ENUM.fullmatch(value)
    if enum is not None:
        return enum.group("first") in settings
    if weak and _UPPER_ENUM.fullmatch(value):
        return True
    if _MACRO.fullmatch(value):
        return bool(names_secret(value))
    path = _PATH.fullmatch(value)
    if path is not None:
        return _file_path(path.group("parts"), rule)
    return bool(_SECTION_REF.fullmatch(value) or _EXPANSION.match(value))


def _file_path(parts: str, rule: str | None) -> bool:
    names = parts.split("/")[1:]
    if any(_random_part(name) for name in names):
        return False  # an AWS secret key holds '/' too: "/TFGCRB6gIS/zA2xP9c53HzRw4Nx2ByhkzvU0CAa"
    return bool(_KEY_FILE.search(names[-1])) or (rule in _KEY_RULES and len(names) >= 2)


def _random_part(name: str) -> bool:
    """Upper, lower and digits in one part of 8 or more, or 20 characters or more: generated, not named."""
    mixed = any(c.isupper() for c in name) and any(c.islower() for c in name) and any(c.isdigit() for c in name)
    return len(name) >= 20 or (mixed and len(name) >= 8)
