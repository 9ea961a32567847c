"""Where a key rule can change a line: a gate before the scrubber's key rules (``TextScrubber._keyed_line``).

A line holding a keyword (``KEY_MARK``) runs ~10 key patterns, and in logs almost none of them changes anything
(``Started session-5.scope``, ``Accepted publickey for``, ``cache miss for key=user:1``). Every key pattern changes
a line only where ``sensitive_key`` accepts its key, and it finds that key right before its own separator. So a
line holding none of the *spots* below, each the shape of one pattern's key and separator, is left as it is by all
of them. The spots are found in the lower-cased text by the compiled first pass (:mod:`medic.agent.firstpass`),
one scan for the whole text; without it (pure Python) every keyword line runs the key rules as before, the same
output either way (a regular expression of this size is far too slow in Python's ``re`` to gain anything).

Why a spot is a superset of each pattern's possible changes (ASCII lines; any other line keeps its mark):

- ``sensitive_key(key)`` accepts a key only if the key's letters and digits, lower-cased and joined (what
  ``key_words`` reads), hold one of the keywords (``keys.KEYWORDS`` and ``pat``; test_redact_keyspots checks every
  word table of keys.py). In the line that keyword stands spelt out with the key's other characters between its
  letters (``pa_ss``). Six keywords are never a key alone, whatever their spelling (``key``, ``hash``, ``pat``,
  ``sess``, ``conn``, ``cred``: no table takes them, and ``key``/``hash``/``pat`` count only after another word):
  those need another letter or digit in the same key.
- An unquoted key (``LINE``, ``INLINE``, ``SPACED``, ``CLI_OPTION``, ``CALL``, ``XML_ELEMENT``, ``ADO``) is made of
  ``[a-z0-9_.\\-\\[\\]:]`` and is followed by its pattern's separator: ``[:=]`` after blanks (``LINE``, ``INLINE``,
  ``ADO``, ``CLI_OPTION`` with ``=``), ``(`` or ``,`` (``CALL``), blanks then a quote or the line's last word
  (``SPACED``), blanks after a key following a dash (``CLI_OPTION``), ``>`` closing ``</key>`` (``XML_ELEMENT``).
- A quoted key (``QUOTED``, ``XML_PAIR``) may hold any character but quotes, and its closing quote is followed by
  ``[:=,]`` after blanks, or blanks and ``value``.
- ``DIRECTIVE`` and ``NETRC`` start the line with their words (after blanks).

Blanks are what Python's ``\\s`` takes in ASCII, the newline aside (a line has none). A rule before the key rules
(a hint's rule or form) may change the line first and so write new text (``[REDACTED:aws_secret_access_key#1]``
as a quoted key): such a line still runs the key rules when that happened (``KEY_LATE``, in text.py).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from medic.agent import firstpass
from medic.agent.redact.blocks import MARKS as BLOCK_MARKS
from medic.agent.redact.keys import KEYWORD, KEYWORDS
from medic.agent.redact.linemarks import (
    KEY_LATE,
    KEY_MARK,
    LONG_MARK,
    MARKS_OF,
    MULTI_LINE_KEYED,
    MULTI_LINE_RULES,
    MarkList,
    compiled_marks,
    hit_lines,
    long_run_at,
)

KEY_WORDS = (*KEYWORDS, "pat")
NEVER_ALONE = ("key", "hash", "pat", "sess", "conn", "cred")
_BLANK = r"\t\x0b\x0c\r\x1c-\x1f "  # Python's \s in ASCII, less the newline
_RUN = r"[a-z0-9_.\-\[\]:]"  # the characters of an unquoted key, lower-cased
_RUN_OTHER = r"[_.\-\[\]:]*"  # those that are not letters or digits
_QUOTED = r"[^\"'\n]"
_QUOTED_OTHER = r"[^a-z0-9\"'\n]*"


def _key(inner: str, other: str) -> str:
    """A key holding a keyword (spelt with ``other`` between its letters), then the rest of the key."""
    alternatives = []
    for word in KEY_WORDS:
        spelt = other.join(re.escape(c) for c in word)
        if word in NEVER_ALONE:  # another letter or digit of the key, before or after it (the nearest one)
            alternatives += [f"[a-z0-9]{other}{spelt}", f"{spelt}{other}[a-z0-9]"]
        else:
            alternatives.append(spelt)
    return f"(?:{'|'.join(alternatives)}){inner}*"


_UNQUOTED, _IN_QUOTES = _key(_RUN, _RUN_OTHER), _key(_QUOTED, _QUOTED_OTHER)
_DASH_VALUE = f"[ \\t]+-[ \\t]+(?:[\"'`]|[^{_BLANK}\\n\"'`]{{8,}}[ \\t\\r]*$)"  # DASHED's ` - ` and a value
SPOTS = (
    f"{_UNQUOTED}[{_BLANK}]*[?+.!]?[:=]",  # LINE, INLINE (?= += .= != too), ADO, CLI_OPTION's --key=value
    f"{_UNQUOTED}[\"']?[{_BLANK}]*[(,]",  # CALL
    f"{_UNQUOTED}[ \\t]+\\*?(?:\\[\\d*\\])?[a-z_][a-z0-9_.]*[ \\t]*:?=",  # keyforms.DECLARED's var NAME TYPE =
    f"{_UNQUOTED}{_DASH_VALUE}",  # keyforms.DASHED: token - 'v'
    f"[a-z][a-z0-9_.-]*[ \\t]+(?:api[ \\t_-]?)?(?:key|token|secret)"  # TWO_WORDS, DASHED
    f"(?:[ \\t]*[:=][ \\t]*(?:[\"'`][^{_BLANK}\\n\"'`]{{8}}|[^{_BLANK}\\n\"'`]{{16}})|{_DASH_VALUE})",
    "[?&]key=[^&\\s\"'#<>]{16}",  # keyforms.QUERY_KEY
    f"{_UNQUOTED}[ \\t]+(?:[\"']|[^{_BLANK}\\n\"']+[ \\t\\r]*$)",  # SPACED
    f"-{_RUN}*{_UNQUOTED}[{_BLANK}]",  # CLI_OPTION's --key value
    f"{_IN_QUOTES}[\"']\\]?[{_BLANK}]*[:=,]",  # QUOTED (a subscript's too: $cfg['password'] = x)
    f"{_IN_QUOTES}[\"'][{_BLANK}]+value",  # XML_PAIR
    f"</{_RUN}*{_UNQUOTED}>",  # XML_ELEMENT
    f"^[{_BLANK}]*(?:requirepass|masterauth|rpcpassword|bindpw|rootpw|password)[{_BLANK}]",  # DIRECTIVE
    f"^[{_BLANK}]*(?:machine|default)[^\\n]*passw",  # NETRC
)
# Hints whose rules and forms (linemarks.plan) can change a line only where one of these stands (re: the rule's,
# the form's): "key" and "code" for azure_account_key (accountkey=, sharedaccesskey=) and the license_key form,
# "password" for the SQL form (a quote after it) and the prose form ("is" after it), "://" for url_password
# (user:password@ after it)
HINT_SPOTS = (
    (("key", "code"), "(?:accountkey|sharedaccesskey)=|(?:activation|license|licence|product|serial|registration|cd"
                      "|unlock)[ _-]?(?:key|code)"),
    (("password",), f"password[{_BLANK}]*(?:=[{_BLANK}]*)?(?:password[{_BLANK}]*\\([{_BLANK}]*)?[\"']"),
    (("password",), "password[ \\t]+(?:is|was|to)[ \\t]"),  # prose: "the password is X" (forms.py)
    (("password", "key"), "(?:password|key)[ \\t]+[05789][ \\t]"),  # Cisco's typed secrets: "password 7 x" (forms.py)
    (("key",), "key content[ \\t]*:|(?:unseal|recovery) key [0-9]"),  # netsh's Wi-Fi key, Vault's keys (forms.py)
    (("://",), f"://[^{_BLANK}\\n:/@\"'<>]*:[^{_BLANK}\\n/\"'<>]+@"),
)
_VOUCHED = [(KEY_MARK,)] * len(SPOTS) + [marks for marks, _ in HINT_SPOTS]
_SPOTTED = frozenset({KEY_LATE, *(m for marks, _ in HINT_SPOTS for m in marks)})  # marks a missing spot rules out
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
_ALL = frozenset({KEY_MARK, *_SPOTTED})


def _spots_matcher() -> firstpass.Matcher:
    return firstpass.Matcher([*SPOTS, *(pattern for _, pattern in HINT_SPOTS)], multiline=True)


def spot_lines(folded: str) -> dict[int, frozenset[str]] | None:
    """The lines of ``folded`` (lower-cased text) holding a spot (by start offset): the marks their spots vouch for
    (all for a line not in ASCII); None without the compiled first pass (then every marked line runs its rules)."""
    compiled = firstpass.matcher("key-spots", _spots_matcher, heavy=len(folded))
    if compiled is None:
        return None
    found: dict[int, set[str]] = {}
    line_end, start = -1, 0
    hits = compiled.scan(firstpass.one_byte_per_character(folded))
    for end, pattern in sorted((end, pattern) for pattern, end in hits):
        if end > line_end:  # (by end offset) a spot never crosses a newline
            start = folded.rfind("\n", 0, end) + 1
            line_end = folded.find("\n", end) % (len(folded) + 1)
        found.setdefault(start, set()).update(_VOUCHED[pattern])
    spots = {start: frozenset(marks) for start, marks in found.items()}
    if not folded.isascii():  # ("?" stands for such a character in the scan: those lines keep their marks)
        spots.update((folded.rfind("\n", 0, m.start()) + 1, _ALL) for m in _NOT_ASCII.finditer(folded))
    return spots


def unmark_spotless(marks: dict[int, set[str]], folded: str, keyed: bool) -> dict[int, set[str]]:
    """``marks`` (``hit_lines``' marks of ``folded``) less what no spot vouches for: a keyword line without a key
    spot gets ``KEY_LATE`` instead of ``KEY_MARK`` (the key rules run only if its other rules changed it), and a
    line left with only marks whose spots are missing is dropped (none of its rules can change it, so none runs)."""
    spots = spot_lines(folded)
    if spots is None:
        return marks
    nothing: frozenset[str] = frozenset()
    for start in list(marks):
        why, vouched = marks[start], spots.get(start, nothing)
        if KEY_MARK in why and KEY_MARK not in vouched:
            why.discard(KEY_MARK)
            why.add(KEY_LATE)
        if why <= _SPOTTED and not why & vouched:
            del marks[start]
    return marks


# hit_lines and unmark_spotless at once for ASCII text (the compiled pass): hit_lines' literals less the keywords
# and the spotted hints (most hits in logs), and the spots; then a keyword or a spotted hint is looked for on the
# few lines that need it: a spot's line, a line kept for another mark (it keeps every mark, as unmark_spotless does)
_SPOTTED_HINTS = tuple(sorted(m for m in _SPOTTED if m != KEY_LATE))
_LITERALS: MarkList = [(w, len(w), tuple(m for m in marks if m != KEY_MARK)) for w, marks in sorted(MARKS_OF.items())
                       if w not in _SPOTTED_HINTS and any(m != KEY_MARK for m in marks)]


# long_marks' runs: exactly 40 characters of [a-z0-9/+] (its long run's first alternative, lower-cased: its look-behind
# and look-ahead as a character or the line's edge; its run ends after the character or at the line's end), and "*"
# then 40 hex digits; each checked in the text by long_run_at, as long_marks checks it
_LONG = (r"(?:^|[^a-z0-9_/+=.~-])[a-z0-9/+]{40}[^a-z0-9_/+=~-]", r"(?:^|[^a-z0-9_/+=.~-])[a-z0-9/+]{40}$",
         r"\*[0-9a-f]{40}")
_LONG_BACK = (41, 40, 40)  # where each one's 40 characters start, back from its end


# and in the same scan what text.py's whole-text steps look for before the line rules: the multi-line rules' and forms'
# hints, and BLOCK_SCALAR (no letter in it: the same matches in the lower case of an ASCII text)
_WHOLE = tuple(sorted({h for rule in MULTI_LINE_RULES for h in rule.hints} | {h for _, h in MULTI_LINE_KEYED}
                      | set(BLOCK_MARKS)))  # (and what blocks.nested looks for: "</", a line ending in ":" "=" "[")
_BLOCK = f":[ \\t]*(?:![^{_BLANK}\\n]+[ \\t]+)?[|>]"
_FIRST_WHOLE = len(_LITERALS) + len(_VOUCHED) + len(_LONG)


class Prescan(NamedTuple):
    hits: list[tuple[int, int]]  # the compiled scan's, of the text's lower case
    words: frozenset[str]  # the words of _WHOLE in it
    block: bool  # whether BLOCK_SCALAR matches


def _marks_matcher() -> firstpass.Matcher:
    return firstpass.Matcher([*(re.escape(w) for w, _, _ in _LITERALS), *SPOTS, *(p for _, p in HINT_SPOTS), *_LONG,
                              *map(re.escape, _WHOLE), _BLOCK], multiline=True)


def prescan(folded: str) -> Prescan | None:
    """The compiled scan of ``folded`` (a text's lower case), if there is one and the text is ASCII."""
    compiled = firstpass.matcher("line-marks-spots", _marks_matcher, heavy=len(folded)) if folded.isascii() else None
    if compiled is None:
        return None
    hits = compiled.scan(folded.encode("ascii"))
    found = {pattern - _FIRST_WHOLE for pattern, _ in hits if pattern >= _FIRST_WHOLE}
    return Prescan(hits, frozenset(_WHOLE[i] for i in found if i < len(_WHOLE)), len(_WHOLE) in found)


def line_marks(text: str, folded: str, keyed: bool, scanned: Prescan | bool | None = False) -> dict[int, set[str]]:
    """The lines of ``text`` (``folded``: its lower case, as long) its line rules must run on, and their marks:
    ``unmark_spotless(hit_lines(...))``, from one compiled scan when the text is ASCII (``scanned``: prescan's
    answer if the caller has it, None included; False: ask it here)."""
    if isinstance(scanned, bool):
        scanned = prescan(folded)
    if scanned is None:
        return unmark_spotless(hit_lines(text, folded, keyed), folded, keyed)
    hits = scanned.hits
    count = len(_LITERALS)
    marks: dict[int, set[str]] = {}
    compiled_marks([hit for hit in hits if hit[0] < count], _LITERALS, folded, keyed, marks)
    spots: dict[int, set[str]] = {}
    for pattern, end in hits:
        if count <= pattern < count + len(_VOUCHED):
            spots.setdefault(folded.rfind("\n", 0, end) + 1, set()).update(_VOUCHED[pattern - count])
        elif count + len(_VOUCHED) <= pattern < _FIRST_WHOLE:
            start = end - _LONG_BACK[pattern - count - len(_VOUCHED)]
            if long_run_at(text, start):
                marks.setdefault(folded.rfind("\n", 0, start) + 1, set()).add(LONG_MARK)
    for start, vouched in spots.items():
        line = folded[start:folded.find("\n", start) % (len(folded) + 1)]
        found = {h for h in _SPOTTED_HINTS if h in vouched and h in line}
        if keyed and KEY_MARK in vouched and KEYWORD.search(line):
            found.add(KEY_MARK)
        if found:
            marks.setdefault(start, set()).update(found)
    for start, why in marks.items():
        line = folded[start:folded.find("\n", start) % (len(folded) + 1)]
        why.update(h for h in _SPOTTED_HINTS if h in line)
        if keyed and KEY_MARK not in why and KEYWORD.search(line):
            why.add(KEY_LATE)
    return marks
