"""Key forms the leak scan reads past before a key's separator (written apart from the scrubber's keyforms.py).

A type between a declared name and its ``=`` (Go's ``var apiToken string = "v"``, ``const k *T = "v"``) and a C
array's size (``char secret[25] = "v"``, ``api_key[] = "v"``): the value is the literal after the ``=``.
"""

from __future__ import annotations

import re

_TYPE = re.compile(r"[ \t]+\*?(?:\[\d*\])?[A-Za-z_][\w.]{0,40}(?=[ \t]*:?=[ \t]*[\"'`])")
_SIZE = re.compile(r"\[[ \t]*\w{0,12}[ \t]*\](?=[ \t]*=[ \t]*[\"'`])")
_DECLARED_BY = re.compile(r"\b(?:var|const)[ \t]+$")


def key_end(text: str, start: int, end: int) -> int:
    """Where the separator of the key at ``start:end`` may start: after a declared type or an array's size."""
    size = _SIZE.match(text, end)
    if size is not None:
        return size.end()
    typed = _TYPE.match(text, end) if text[end:end + 1] in " \t" else None
    return typed.end() if typed is not None and _DECLARED_BY.search(text, max(0, start - 12), start) else end
