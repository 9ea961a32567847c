"""Which lines of a text each scrubbing rule needs to look at: a fast prefilter for :mod:`~medic.agent.redact.text`.

One pass per hint finds the lines holding it (``str.find``, much cheaper than running every rule on every
line); a marked line then runs only the rules and forms its marks can trigger, in rule order (:func:`plan`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from medic.agent import firstpass
from medic.agent.charruns import Alphabet
from medic.agent.redact import syntax as sx
from medic.agent.redact.forms import FORMS, Form
from medic.agent.redact.keys import KEYWORD, KEYWORDS
from medic.agent.redact.rules import RULES, Rule

# Forms that span lines (run on the whole text when their hint is present) and line-local forms without a key
MULTI_LINE_KEYED = ((sx.YAML_PAIR, "value:"), (sx.JSON_PAIR, '"value"'))
_LINE_KEYLESS = ((sx.SSHPASS, ("sshpass",)), (sx.CURL_USER, ("-u", "--user", "--proxy-user")))
_WHOLE_TEXT = (*((p, (h,)) for p, h in MULTI_LINE_KEYED), *_LINE_KEYLESS)
MULTI_LINE_RULES = tuple(r for r in RULES if r.name in ("private_key", "putty_private_key", "password"))
_LINE_RULES = tuple(r for r in RULES if r not in MULTI_LINE_RULES)
# What marks a line for the line-local rules: their hints (one-character hints are covered by _LONG_RUN),
# a keyword, or a run of exactly 40 characters standing alone, in both cases, or a `*` and 40 upper-case hex digits:
# the shapes of AWS secret keys and MySQL hashes, whose rules have no usable hint (the other password hashes are
# marked by "$", "{" and "scram-sha-"; a 64-digit SHA-256 digest or a 40-digit SHA-1 in a log marks nothing)
LINE_HINTS = sorted({h for r in _LINE_RULES for h in r.hints if len(h) > 1} | {h for f in FORMS for h in f.hints}
                     | {h for _, hints in _LINE_KEYLESS for h in hints} | {"mysql", "mariadb"})
_LONG_RUN = re.compile(r"(?<![\w/+=.~-])[A-Za-z0-9/+]{40}(?![\w/+=~-])|\*[0-9A-F]{40}")
_RUN_ALPHABET = Alphabet(string.ascii_letters + string.digits + "/+")
KEY_MARK, LONG_MARK = "\0keyword", "\0long"  # line marks besides the hints themselves
KEY_LATE = "\0keyword-late"  # a keyword but no key spot (keyspots.py): the key rules only after another change
# hint -> the rules (indexes) and forms it can trigger, so a marked line runs only those
_RULES_BY_HINT: dict[str, list[int]] = {}
_FORMS_BY_HINT: dict[str, list[int]] = {}
for _i, _rule in enumerate(_LINE_RULES):
    for _hint in _rule.hints:
        _RULES_BY_HINT.setdefault(_hint, []).append(_i)
for _i, _form in enumerate(FORMS):
    for _hint in _form.hints:
        _FORMS_BY_HINT.setdefault(_hint, []).append(_i)
# Crypt and LDAP hash hints ("$6$", "{ssha"...) are found by one scan each, marked "$" and "{"
_GROUPED = (("$", re.compile(r"\$(?:1|2[abxy]?|5|6|7|apr1|argon2|gy|md5|sha1|y)[$\w]")),
            ("{", re.compile(r"\{(?:s?sha|s?md5|crypt|pbkdf2)")))
for _mark, _ in _GROUPED:
    _RULES_BY_HINT[_mark] = sorted({i for h, ids in _RULES_BY_HINT.items() if h.startswith(_mark) for i in ids})
# a hint holding a shorter one ("--user" holds "-u") adds nothing to the scan: the shorter one marks the line
for _hint in [h for h in LINE_HINTS if h[0] in "${" or any(o != h and o in h for o in LINE_HINTS)]:
    LINE_HINTS.remove(_hint)
    for _other in ([_hint[0]] if _hint[0] in "${" else [o for o in LINE_HINTS if o in _hint]):
        _RULES_BY_HINT[_other] = sorted({*_RULES_BY_HINT.get(_other, ()), *_RULES_BY_HINT.get(_hint, ())})
        _FORMS_BY_HINT[_other] = sorted({*_FORMS_BY_HINT.get(_other, ()), *_FORMS_BY_HINT.get(_hint, ())})
# Hints sharing a fragment ("pass" in "password", "sshpass", "/pass"...): the lines holding each are found by one
# scan for the fragment (a hint on a line means its fragment is there too), 24 scans of the text instead of 38
_SHARING = tuple((f, tuple(h for h in LINE_HINTS if f in h))
                 for f in ("pass", "sql", "net ", "hook", "cli", "token", ":a"))
_ALONE = [h for h in LINE_HINTS if not any(h in hints for _, hints in _SHARING)]
# Hints holding a keyword ("key", "password", "bearer"...) stand on keyword lines only: when keywords are searched,
# they are looked for on those lines rather than by scans of their own (18 scans instead of 25)
_KEYWORD_ALONE = tuple(h for h in _ALONE if any(k in h for k in KEYWORDS))
_KEYWORD_SHARING = tuple((f, hints) for f, hints in _SHARING if any(k in f for k in KEYWORDS))
_UNKEYED_SCANS = (tuple(h for h in _ALONE if h not in _KEYWORD_ALONE),
                  tuple(s for s in _SHARING if s not in _KEYWORD_SHARING))
_LONG_RULES = [i for i, r in enumerate(_LINE_RULES) if not r.hints or min(len(h) for h in r.hints) == 1]
BLOCK_SCALAR = re.compile(r":[ \t]*(?:!\S+[ \t]+)?[|>]")
# Everything any rule needs to see before it can match; text with none of it cannot hold a secret we know.
TRIGGER = re.compile("|".join(
    [re.escape(h) for h in sorted({h for rule in RULES for h in rule.hints}
                                   | {h for _, hints in _WHOLE_TEXT for h in hints}
                                   | {h for form in FORMS for h in form.hints}
                                   | {"mysql", "mariadb", "-----begin", "sshpass"}, key=len, reverse=True)]
    + [KEYWORD.pattern, r"[a-z0-9/+]{40}", r"[a-z0-9][\w.~+%-]{15,}"]))  # AWS secret keys, vendor tokens


def _mixed_case(run: str) -> bool:
    """What the AWS rule's test (rules._aws_secret) needs first: a run in one case (a SHA-1 digest, a git commit)
    cannot pass it, and the MySQL hash (the other rule a 40-run calls for) is "*" and 40, marked apart."""
    return run.lower() != run and run.upper() != run


def hit_lines(text: str, folded: str, keyed: bool) -> dict[int, set[str]]:
    """Start offsets of the lines holding a hint, a keyword (if ``keyed``) or a 40-character run: what marked each."""
    marks: dict[int, set[str]] = {}

    def mark(i: int, why: str) -> int:  # the line holding offset i; returns where the search goes on
        marks.setdefault(text.rfind("\n", 0, i) + 1, set()).add(why)
        end = text.find("\n", i)
        return len(text) if end < 0 else end

    compiled = firstpass.matcher("line-marks", _marks_matcher)
    if compiled is None:
        _found_marks(text, folded, keyed, mark, marks)
    else:
        compiled_marks(compiled.scan(firstpass.one_byte_per_character(folded)), _MARK_LISTS, folded, keyed, marks)
    long_marks(text, marks)
    return marks


def long_run_at(text: str, start: int) -> bool:
    """The 40 characters at ``start`` are an AWS secret key's shape (mixed case), or a MySQL hash's after a "*"."""
    return bool((_LONG_RUN.match(text, start) and _mixed_case(text[start:start + 40]))
                or (start and _LONG_RUN.match(text, start - 1)))  # (at start - 1: only "*" + 40)


def long_marks(text: str, marks: dict[int, set[str]]) -> None:
    """``LONG_MARK`` on the lines of ``text`` holding a 40-character run of an AWS key's or a MySQL hash's shape."""
    after = 0  # each run of 40 or more, its shape checked at its start; a marked line's later runs are skipped
    for start, end in _RUN_ALPHABET.runs(text, 40):  # (_LONG_RUN takes a run of exactly 40, or one after a "*")
        if start >= after and (end - start == 40 or text[start - 1:start] == "*") and long_run_at(text, start):
            marks.setdefault(text.rfind("\n", 0, start) + 1, set()).add(LONG_MARK)
            after = text.find("\n", start) % (len(text) + 1)


def _found_marks(text: str, folded: str, keyed: bool, mark: Callable[[int, str], int],
                 marks: dict[int, set[str]]) -> None:
    """The marks of hints, keywords and hash heads, found with ``str.find`` and ``re`` (the reference path)."""
    alone, sharing = _UNKEYED_SCANS if keyed else (_ALONE, _SHARING)
    for hint in alone:
        i = folded.find(hint)
        while i >= 0:
            i = folded.find(hint, mark(i, hint))
    for fragment, hints in sharing:  # one scan for the lines holding the fragment, then its hints looked for there
        i = folded.find(fragment)
        while i >= 0:
            start, end = folded.rfind("\n", 0, i) + 1, folded.find("\n", i)
            end = len(folded) if end < 0 else end
            line = folded[start:end]
            for hint in hints:
                if hint in line:
                    marks.setdefault(start, set()).add(hint)
            i = folded.find(fragment, end)
    found = KEYWORD.search(folded) if keyed else None
    while found:  # each keyword line once (no keyword match crosses a line), and the hints holding a keyword on it
        start, end = folded.rfind("\n", 0, found.start()) + 1, folded.find("\n", found.start())
        end = len(folded) if end < 0 else end
        line, why = folded[start:end], marks.setdefault(start, set())
        why.add(KEY_MARK)
        why.update(hint for hint in _KEYWORD_ALONE if hint in line)
        for fragment, hints in _KEYWORD_SHARING:
            if fragment in line:
                why.update(hint for hint in hints if hint in line)
        found = KEYWORD.search(folded, end)
    for why_, grouped in _GROUPED:
        found = grouped.search(folded)
        while found:
            found = grouped.search(folded, mark(found.start(), why_))


# The compiled pass (medic.agent.firstpass) finds the same marks in one scan: each hint, keyword and hash head
# is a literal, so a hit's line is the one holding its end. Literal -> what it marks; "pat" is a keyword only
# when no letter follows, "$" heads are confirmed by _GROUPED's expression (its \w takes letters outside ASCII).
_MARKS_OF: dict[str, list[str]] = {}
for _hint in LINE_HINTS:
    _MARKS_OF.setdefault(_hint, []).append(_hint)
for _word in (*KEYWORDS, "pat"):
    _MARKS_OF.setdefault(_word, []).append(KEY_MARK)
for _head in ("1", "2", "5", "6", "7", "apr1", "argon2", "gy", "md5", "sha1", "y"):
    _MARKS_OF.setdefault("$" + _head, []).append("$")
for _head in ("sha", "ssha", "md5", "smd5", "crypt", "pbkdf2"):
    _MARKS_OF.setdefault("{" + _head, []).append("{")
MARKS_OF = _MARKS_OF
_MARK_WORDS = sorted(_MARKS_OF)
MarkList = list[tuple[str, int, tuple[str, ...]]]
_MARK_LISTS: MarkList = [(word, len(word), tuple(_MARKS_OF[word])) for word in _MARK_WORDS]


def _marks_matcher() -> firstpass.Matcher:
    return firstpass.Matcher([firstpass.literal(w) for w in _MARK_WORDS])


def compiled_marks(hits: list[tuple[int, int]], lists: MarkList, folded: str, keyed: bool,
                   marks: dict[int, set[str]]) -> None:
    """The marks of the compiled pass's ``hits`` (pattern, end; by end offset) of the literals in ``lists``."""
    line_end = -1
    why: set[str] = set()
    for pattern, end in hits:
        word, size, marked = lists[pattern]
        if word == "pat" and "a" <= folded[end:end + 1] <= "z":
            continue
        if word[0] == "$" and not _GROUPED[0][1].match(folded, end - size):
            continue
        for mark in marked:
            if mark is KEY_MARK and not keyed:
                continue
            if end > line_end:  # hits come by end offset: a later one on the same line reuses its set
                start = folded.rfind("\n", 0, end) + 1
                line_end = folded.find("\n", end)
                line_end = len(folded) if line_end < 0 else line_end
                why = marks.setdefault(start, set())
            why.add(mark)


_Plan = tuple[tuple[Rule, ...], tuple[Form, ...], bool, tuple["re.Pattern[str]", ...], bool]
_PLANS: dict[frozenset[str], _Plan] = {}


def plan(why: frozenset[str]) -> _Plan:
    """What a line with these marks runs, in order (worked out once per set of marks: few sets occur)."""
    plan = _PLANS.get(why)
    if plan is None:
        rules = {i for h in why for i in _RULES_BY_HINT.get(h, ())}
        rules = rules.union(_LONG_RULES) if LONG_MARK in why else rules
        forms = sorted({i for h in why for i in _FORMS_BY_HINT.get(h, ())})
        keyless = tuple(pattern for pattern, hints in _LINE_KEYLESS if any(h in why for h in hints))
        plan = _PLANS[why] = (tuple(_LINE_RULES[i] for i in sorted(rules)), tuple(FORMS[i] for i in forms),
                              KEY_MARK in why, keyless, "mysql" in why or "mariadb" in why)
    return plan


# A key INLINE (key=value, key: value) matches is a whole run of [\w.-] followed by a separator, and it names a
# secret only when its letters and digits in lower case (all that sensitive_key reads) hold a keyword. On an
# ASCII line those are the lower-cased line without _ . and -: without a keyword followed by the rest of its run
# and a separator there, INLINE finds no key worth a look. (Other lines: always looked at.)
_INLINE_KEY = re.compile(r"(?:" + KEYWORD.pattern + r")[a-z0-9]*[ \t]*[?+.!]?[:=]")  # (?= += .= != too)


def _letters(text: str) -> str:
    return text.lower().replace("_", "").replace(".", "").replace("-", "")


def inline_key_possible(line: str) -> bool:
    return not line.isascii() or _INLINE_KEY.search(_letters(line)) is not None


def may_name_secret(run: str) -> bool:
    """False when this run (word characters, dots, dashes) cannot be a key sensitive_key accepts."""
    return not run.isascii() or KEYWORD.search(_letters(run)) is not None


_RUN = re.compile(r"[\w.-]*")


def last_run(text: str) -> str:
    """The run of word characters, dots and dashes ending ``text``, at most 62 long (a longer one is no key)."""
    return _RUN.match(text[-62:][::-1]).group()[::-1]  # type: ignore[union-attr]  # (* always matches)
