"""Version ordering for the software checks: Python's (PEP 440, through ``packaging``) and Debian's.

``debian_compare`` is ``dpkg --compare-versions`` in pure Python (tests compare it with the real dpkg on
generated versions): ``[epoch:]upstream[-revision]``, epochs compared as numbers, then upstream, then revision,
each by dpkg's rule: runs of non-digits compared character by character, where letters sort before other
characters and ``~`` before anything (even the end of the string: ``1.2~beta1 < 1.2``), then runs of digits
compared as numbers. A missing revision is an empty one (``1.0 == 1.0-0``).

``compare(found, minimum, scheme)`` picks the scheme when asked for ``auto``: Python's when both versions are
valid PEP 440 versions (``1.0rc1 < 1.0``), else Debian's, which orders any version that starts with a digit
(``1.1.1w``, ``2.9.1-1ubuntu2``, ``1.2.3~beta1``). It returns the scheme it used, for the finding to say.
"""

from __future__ import annotations

import re

SCHEMES = ("auto", "python", "debian")
EPOCH, UPSTREAM, REVISION = re.compile("[0-9]+"), re.compile("[0-9][A-Za-z0-9.+~:-]*"), re.compile("[A-Za-z0-9.+~]+")
EXPECTED = "a version such as 1.2.3, 2.0rc1 or 1:2.30-1ubuntu2 (starting with a digit)"


class VersionError(ValueError):
    """A version that the scheme cannot read (message names it and the expected form)."""


def _order(char: str) -> int:
    """dpkg's weight of one character of a non-digit run; '' is the end of the run."""
    if not char:
        return 0
    if char.isalpha():
        return ord(char)
    if char == "~":
        return -1
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    """dpkg's ``verrevcmp`` on an upstream version or a revision: <0, 0 or >0."""
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i] if i < len(a) and not a[i].isdigit() else "")
            bc = _order(b[j] if j < len(b) and not b[j].isdigit() else "")
            if ac != bc:
                return ac - bc
            i, j = i + 1, j + 1
        start_a, start_b = i, j
        while i < len(a) and a[i].isdigit():
            i += 1
        while j < len(b) and b[j].isdigit():
            j += 1
        diff = int(a[start_a:i] or 0) - int(b[start_b:j] or 0)
        if diff:
            return diff
    return 0


def debian_parts(version: str) -> tuple[int, str, str]:
    """(epoch, upstream, revision) of a Debian version; VersionError when it is not one."""
    text = version.strip()
    epoch, _, rest = text.partition(":") if ":" in text else ("0", "", text)
    upstream, hyphen, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    readable = EPOCH.fullmatch(epoch) and UPSTREAM.fullmatch(upstream) and (not hyphen or REVISION.fullmatch(revision))
    if not readable:
        raise VersionError(f"{version!r} is not {EXPECTED}")
    return int(epoch), upstream, revision


def debian_compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b`` in Debian's ordering."""
    ea, ua, ra = debian_parts(a)
    eb, ub, rb = debian_parts(b)
    result = (ea - eb) or _compare_part(ua, ub) or _compare_part(ra, rb)
    return (result > 0) - (result < 0)


def python_compare(a: str, b: str) -> int:
    """-1, 0 or 1 by PEP 440; VersionError when either is not a PEP 440 version."""
    from packaging.version import InvalidVersion, Version  # here: every run loads the checks, few compare

    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion as exc:
        raise VersionError(f"{exc}; expected a PEP 440 version such as 1.2.3 or 2.0rc1") from None
    return (va > vb) - (va < vb)


def is_version(text: str) -> bool:
    """Readable by at least one scheme (what a `version` input accepts)."""
    for scheme in ("python", "debian"):
        try:
            compare(text, text, scheme)
            return True
        except VersionError:
            continue
    return False


def compare(found: str, minimum: str, scheme: str = "auto") -> tuple[int, str]:
    """(-1/0/1, the scheme used) comparing ``found`` with ``minimum``; VersionError when unreadable."""
    if scheme == "python":
        return python_compare(found, minimum), "python"
    if scheme == "debian":
        return debian_compare(found, minimum), "debian"
    if scheme != "auto":
        raise VersionError(f"unknown version scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    try:
        return python_compare(found, minimum), "python"
    except VersionError:
        return debian_compare(found, minimum), "debian"
