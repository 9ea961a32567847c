"""One regular expression for a set of literal words, factored by prefix: ``p(?:ass|sk|w)|s(?:ecret|ess)|token``.

Python's ``re`` tries the branches of an alternation one by one at every position where its first character
fits; factored, it follows only the branch of the next character, and a top-level alternation keeps the search
for a first character in C. Shared by the scrubber's line marks and the leak scan's anchors (each passes its
own words). No word may be a prefix of another, so at most one word matches at any position: the order of the
branches cannot change what ``search`` or ``finditer`` find.
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def factored(words: Mapping[str, str]) -> str:
    """The pattern for ``words`` (word -> a pattern to append after it, such as a lookahead, or "")."""
    return "|".join(_branches(dict(words)))


def _branches(words: dict[str, str]) -> list[str]:
    out = []
    for head in sorted({w[0] for w in words}):
        rest = {w[1:]: tail for w, tail in words.items() if w[0] == head}
        if "" in rest:
            if len(rest) > 1:
                raise ValueError(f"a word ending in {head!r} is the start of another: {sorted(rest)}")
            out.append(re.escape(head) + rest[""])
            continue
        inner = _branches(rest)
        out.append(re.escape(head) + (inner[0] if len(inner) == 1 else "(?:" + "|".join(inner) + ")"))
    return out
