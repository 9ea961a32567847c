"""Scrub secrets out of text: value detectors first, then secrets found by their key in any config syntax.

Covered syntaxes: INI, YAML (including block scalars), JSON, ``key=value`` and env files, ``KEY: value``
headers, XML elements and attributes, command lines (``--password x``, ``mysql -pX``, ``curl -u u:p``),
ADO.NET connection strings, .netrc and redis directives, ``key value`` directives, calls in source code
(``setPassword("x")``), SQL, client command lines and license keys (:mod:`.forms`), typed declarations
(:mod:`.keyforms`), values below their key (:mod:`.blocks`), service files (:mod:`.paths`), tokens (:mod:`.tokens`).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable

from medic.agent.redact import blocks, keyforms, keys, tokens
from medic.agent.redact import syntax as sx
from medic.agent.redact.keys import KEYWORD, TAG, WEAK_RULES, keep_value, looks_random, sensitive_key, weak_key
from medic.agent.redact.keyspots import Prescan, line_marks, prescan
from medic.agent.redact.linemarks import (
    BLOCK_SCALAR,
    KEY_LATE,
    KEY_MARK,
    LINE_HINTS,
    LONG_MARK,
    MULTI_LINE_KEYED,
    MULTI_LINE_RULES,
    TRIGGER,
    inline_key_possible,
    last_run,
    may_name_secret,
    plan,
)
from medic.agent.redact.paths import file_name, line_format
from medic.agent.redact.pseudo import SecretLabels

_Sub = Callable[[re.Match[str]], str]
_NO_KEY_RULES = frozenset({"nsswitch.conf"})  # "passwd: files systemd" names a database, not a password
_SERVICE_PORT = re.compile(r"\d+/(?:tcp|udp|sctp)")
_PROSE = re.compile(r"[a-z]{2,12}|[A-Z][a-z]{1,11}|\d{1,4}")  # a plain word or a small number
_CACHED_LINE, _CACHED_LINES = 2000, 50_000  # the longest line remembered unchanged, and how many at most
_WORD = re.compile(r"[a-z]{2,12}|[A-Z][a-z]{1,11}")
_IN_TEMPLATE = re.compile(r"(?:\{\{|\{%|\$\{|#\{)[ \t]*[\w.]*$")
_BLANKS_QUOTE = re.compile(r"[ \t]+[\"']")  # a plain word ("password 1234" is a PIN, not prose)
# a key that is a file name (`rt-passwd.8.gz /usr/share/man/...` in update-alternatives' log): not a key
_FILE_NAME_KEY = re.compile(r"\.(?:gz|bz2|xz|zst|zip|txt|log|conf|cfg|ini|xml|json|ya?ml|sh|py|so)$", re.IGNORECASE)


class TextScrubber:
    """Scrubs text and counts replacements per rule in ``counts`` (never the values)."""

    def __init__(self, counts: Counter[str] | None = None, labels: SecretLabels | None = None) -> None:
        self.counts: Counter[str] = counts if counts is not None else Counter()
        self.labels = labels if labels is not None else SecretLabels()
        self._tags = 0  # replacements made so far: a line that made none came out unchanged
        # Lines seen unchanged, with what marked them: a repeated line (journal export fields, repeated
        # messages) gives the same output again, and made no replacement, so it is skipped. Bounded.
        self._clean: set[tuple[str, bool, frozenset[str] | None]] = set()

    def scrub(self, text: str, path: str = "") -> str:
        if not path and len(text) < 65536 and not TRIGGER.search(text.lower()):
            return text  # fast path for the many short strings in probe results: nothing any rule looks for
        if "-----BEGIN" not in text:
            return self._scrub(text, path)
        out, pos = [], 0  # leave public PEM blocks alone: their base64 only looks like secrets
        for block in sx.PUBLIC_PEM.finditer(text):
            out += [self._scrub(text[pos: block.start()], path), block.group(0)]
            pos = block.end()
        return "".join(out) + self._scrub(text[pos:], path)

    def _scrub(self, text: str, path: str) -> str:
        text = self._tokens(text)  # first: a longer vendor token must not be cut by a shorter rule
        folded = original = text.lower()
        tokenised, scanned = text, prescan(folded)  # (compiled: the whole-text hints found with the line marks)
        for rule in MULTI_LINE_RULES:
            if any(h in (scanned.words if scanned else folded) for h in rule.hints):
                text = rule.pattern.sub(self._value_replacer(rule.name, rule.accept), text)
        text = self._by_path(text, path)
        keyed = file_name(path) not in _NO_KEY_RULES
        if keyed and (scanned.block if scanned and text is tokenised else BLOCK_SCALAR.search(text)):
            text = self._yaml_blocks(text)
        for pattern, hint in MULTI_LINE_KEYED:
            if hint in (scanned.words if scanned else folded):
                text = pattern.sub(self._keyed("val"), text)
        text = blocks.nested(text, self._tag, scanned.words if scanned else None) if keyed else text
        if text is tokenised:  # (unchanged: lower() and the compiled scan once)
            return self._by_line(text, keyed, original, scanned)
        return self._by_line(text, keyed)

    def _by_line(self, text: str, keyed: bool, folded: str | None = None,
                 scanned: Prescan | bool | None = False) -> str:
        """Line-local rules, run only on the lines where one of their hints (or a keyword) occurs (``folded``: the
        text's lower case, and ``scanned`` prescan's answer for it, if the caller has them)."""
        folded = text.lower() if folded is None else folded
        marks: dict[int, set[str] | None]
        if len(folded) != len(text):  # lower() changed some lengths: offsets differ, take every line
            marks = dict.fromkeys([0, *(i + 1 for i, c in enumerate(text) if c == "\n")])
        else:
            marks = dict(line_marks(text, folded, keyed, scanned))
        out: list[str] = []
        pos = 0
        for start in sorted(marks):
            end = text.find("\n", start) % (len(text) + 1)  # (-1: the text's end)
            out += [text[pos:start], self._line_once(text[start:end], keyed, marks[start])]
            pos = end
        return "".join(out) + text[pos:] if out else text

    def _line_once(self, line: str, keyed: bool, why: set[str] | None) -> str:
        marks = None if why is None else frozenset(why)
        seen = (line, keyed, marks)
        if seen in self._clean:
            return line
        tags = self._tags
        out = self._line(line, keyed, marks)
        if tags == self._tags and len(line) <= _CACHED_LINE:
            if len(self._clean) >= _CACHED_LINES:
                self._clean.clear()
            self._clean.add(seen)
        return out

    def _line(self, line: str, keyed: bool, why: frozenset[str] | None) -> str:
        """Run on one line the rules its marks call for (every rule whose hint it holds when ``why`` is None)."""
        low, tags = line.lower(), self._tags
        if why is None:
            keyword = [KEY_MARK] if KEYWORD.search(low) else []
            why = frozenset({h for h in LINE_HINTS if h in low} | {LONG_MARK, "$", "{", *keyword})
        rules, forms, keyed_marked, keyless, mysql = plan(why)
        for rule in rules:
            if (not rule.hints or any(h in low for h in rule.hints)) and (
                    not rule.needs or any(n in line for n in rule.needs)):
                line = rule.pattern.sub(self._value_replacer(rule.name, rule.accept), line)
        for form in forms:
            if form.needs and not any(n in line for n in form.needs):
                continue
            if form.words and line.isascii() and not any(w in folded for folded in [line.lower()] for w in form.words):
                continue
            line = form.pattern.sub(self._fixed(form.rule), line)
        if keyed and (keyed_marked or (KEY_LATE in why and self._tags != tags)):
            line = self._keyed_line(line)
        for pattern in keyless:
            line = pattern.sub(self._fixed("password"), line)
        if mysql:
            line = sx.DASH_P.sub(self._mysql_password, line)
        return line

    def _mysql_password(self, match: re.Match[str]) -> str:
        # match.string is one line (_line): "mysql" must come before the -p on it
        if sx.MYSQL.search(match.string, 0, match.start()) is None or keep_value(match.group("val")):
            return match.group(0)
        return self._replace(match, "val", "password")

    def _tokens(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for rule, start, end in tokens.find(text):
            out += [text[pos:start], self._tag(rule, text[start:end])]
            pos = end
        return "".join(out) + text[pos:] if out else text

    def _keyed_line(self, line: str) -> str:
        # Each pattern runs only when the line holds a character or word every match of it needs (checked on
        # the line as it is then: a replacement adds characters): the same result, most patterns skipped.
        line = keyforms.keyed_forms(line, self._tag)  # typed declarations, tuple assignments
        if "=" in line or ":" in line:
            match = sx.LINE.match(line)  # one line: its only possible match is at its start
            if match is not None and not keys.kept_then_pairs(match.group("val"), match.group("key")):
                line = line[:match.start()] + self._keyed("val")(match) + line[match.end():]
        if '"' in line or "'" in line:
            line = sx.QUOTED.sub(self._quoted, line)
            if "(" in line or "," in line:
                line = sx.CALL.sub(self._keyed("val", strong_only=True), line)
            if "value" in line:
                line = sx.XML_PAIR.sub(self._keyed("val"), line)
        if "</" in line:
            line = sx.XML_ELEMENT.sub(self._keyed("val"), line)
        if ";" in line:
            line = sx.ADO.sub(self._keyed("val"), line)
        if ("=" in line or ":" in line) and inline_key_possible(line):
            line = self._inline(line)
        # (?i) also matches the long s and the Kelvin sign: the lower-cased test holds for ASCII lines only
        head = line.lstrip().lower() if line.isascii() else None
        if head is None or head.startswith(sx.DIRECTIVE_WORDS):
            line = sx.DIRECTIVE.sub(self._directive, line)
        if head is None or head.startswith(("machine", "default")):
            line = sx.NETRC.sub(self._fixed("password"), line)
        line = self._spaced_line(line)
        return sx.CLI_OPTION.sub(self._keyed("val", strong_only=True), line) if "-" in line else line

    def _spaced_line(self, line: str) -> str:
        """``SPACED`` on one line. Its key is a whole run (word characters, dots, dashes) before blanks and a quoted
        value or the line's last word: a line where no such key can name a secret is passed over. Without quotes
        the only possible match ends the line: searched from 61 characters (the longest key) before that word."""
        end = len(line.rstrip(" \t\r"))
        blank = max(line.rfind(" ", 0, end), line.rfind("\t", 0, end))
        head = line[:blank].rstrip(" \t") if blank >= 0 else ""
        last = blank >= 0 and self._strong_key(last_run(head))
        if '"' in line or "'" in line:
            return sx.SPACED.sub(self._spaced, line) if last or self._strong_before_quote(line) else line
        if not last:
            return line
        match = sx.SPACED.search(line, max(0, len(head) - 61))
        return line if match is None else line[:match.start()] + self._spaced(match) + line[match.end():]

    def _strong_before_quote(self, line: str) -> bool:
        """Whether SPACED's ``key "value"`` can change the line: its key is the whole run before blanks and a
        quote (the look-behind rules out a shorter one), and ``_spaced`` keeps the match unless the key is strong."""
        return any(self._strong_key(last_run(line[:blank.start()])) for blank in _BLANKS_QUOTE.finditer(line))

    @staticmethod
    @functools.lru_cache(maxsize=4096)  # the word before a line's last is often the same ("of user app.")
    def _strong_key(key: str) -> bool:
        """What ``_spaced`` asks of a key before it looks at the value."""
        rule = sensitive_key(key) if may_name_secret(key) else None
        return rule is not None and rule not in WEAK_RULES and not weak_key(key)

    def _inline(self, line: str) -> str:
        """``key=value`` anywhere; matches overlap values, so a harmless key's value is scanned too."""
        out: list[str] = []
        pos = 0
        for key in sx.INLINE.finditer(line):
            rule = sensitive_key(key.group("key")) if key.start() >= pos else None
            if rule and (line.startswith("${", key.start() - 2) or (key.group("sep") == ":" and (
                    rule in WEAK_RULES or weak_key(key.group("key")) or line.startswith(":", key.start() - 1)))):
                rule = None  # ${TOKEN:=x}: a variable's name; "auth:session", "pass:5" without a blank: too weak
            if rule and line.startswith(("{{", "${"), key.end()) and not sx.DEFAULT.match(line, key.end()):
                rule = None  # a template or a variable reference (not one with its default written out)
            value = sx.INLINE_VALUE.match(line, key.end()) if rule else None
            if rule is None or value is None:
                continue
            group = "qval" if value.group("qval") is not None else "val"
            start, end = sx.whole_value(line, *value.span(group), quoted=group == "qval")
            if keep_value(line[start:end], key.group("key")):
                continue
            out += [line[pos:start], self._tag(rule, line[start:end])]
            pos = end
        return "".join(out) + line[pos:] if out else line

    # -- replacement helpers --
    def _replace(self, match: re.Match[str], group: str, rule: str) -> str:
        start, end = match.span(group)
        offset = match.start()
        whole = match.group(0)
        return whole[: start - offset] + self._tag(rule, match.group(group)) + whole[end - offset:]

    def _tag(self, rule: str, secret: str) -> str:
        self._tags += 1
        self.counts[rule] += 1
        return self.labels.tag(rule, secret)

    def _value_replacer(self, name: str, accept: Callable[[str], bool] | None) -> _Sub:
        def sub(match: re.Match[str]) -> str:
            group = "s" if "s" in match.re.groupindex else 0
            secret = match.group(group)
            if TAG.fullmatch(secret) or (accept is not None and not accept(secret)):
                return match.group(0)
            if group == 0:
                return self._tag(name, secret)
            return self._replace(match, "s", name)
        return sub

    def _keyed(self, group: str, strong_only: bool = False) -> _Sub:
        def sub(match: re.Match[str]) -> str:
            rule = sensitive_key(match.group("key"))
            value = match.group(group)
            if (rule is None or value is None or keep_value(value, match.group("key"))
                    or (strong_only and (rule in WEAK_RULES or value.startswith("-")) and not looks_random(value))):
                return match.group(0)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                start, end = match.start(group) - match.start(), match.end(group) - match.start()
                whole = match.group(0)
                return whole[:start] + value[0] + self._tag(rule, value[1:-1]) + value[0] + whole[end:]
            return self._replace(match, group, rule)
        return sub

    def _fixed(self, rule: str) -> _Sub:
        def sub(match: re.Match[str]) -> str:
            if keep_value(match.group("val")):
                return match.group(0)
            return self._replace(match, "val", rule)
        return sub

    def _directive(self, match: re.Match[str]) -> str:
        """``requirepass x``, ``password x``: but "password" is also a noun, and one blank and a plain word after
        it is a sentence ("Password changed.", "password expired"), not a directive with its value."""
        if (match.group("key").lower() == "password" and match.group("sep") == " "
                and _WORD.fullmatch(match.group("val").rstrip(".,;:!?"))):
            return match.group(0)
        return self._fixed("password")(match)

    def _spaced(self, match: re.Match[str]) -> str:
        """``key value`` at the end of a line, or ``key "value"``: strong keys only, prose words kept."""
        rule = sensitive_key(match.group("key"))
        group = "qval" if match.group("qval") is not None else "val"
        value = match.group(group)
        if rule is None or rule in WEAK_RULES or weak_key(match.group("key")) or keep_value(value, match.group("key")):
            return match.group(0)
        if value.startswith("$") or _FILE_NAME_KEY.search(match.group("key")) or _IN_TEMPLATE.search(
                match.string, 0, match.start("key")):  # ("{{ db_password }}": a template's variable, not a key)
            return match.group(0)  # getent passwd "$user": a shell variable in this looser form; or a file name
        if group == "val" and (_PROSE.fullmatch(value.strip("().,;:!?\\$")) or value.startswith(("-", "="))
                               or _SERVICE_PORT.fullmatch(value)):
            return match.group(0)  # "password changed.", "pwd -P", "kpasswd 464/tcp", "secret =" (its value below)
        return self._replace(match, group, rule)

    def _quoted(self, match: re.Match[str]) -> str:
        rule = sensitive_key(match.group("key"))
        if rule is None:
            return sx.inner_pairs(match, self._quoted)
        if match.group("bare") is not None:
            if keep_value(match.group("bare")):
                return match.group(0)
            # a bare number becomes a quoted string so JSON stays valid
            return match.group(0)[: match.start("bare") - match.start()] + f'"{self._tag(rule, match.group("bare"))}"'
        if keep_value(match.group("val")):
            return match.group(0)
        return self._replace(match, "val", rule)

    # -- multi-line and file-specific forms --
    def _yaml_blocks(self, text: str) -> str:
        """``password: |`` followed by more-indented lines: the whole block becomes one redacted line."""
        lines = text.split("\n")
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            out.append(line)
            i += 1
            head = sx.BLOCK_HEAD.match(line)
            if not head or not (rule := sensitive_key(head.group(3))):
                continue
            indent = len(head.group(1))
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                i -= 1
                block.pop()
            content = [b for b in block if b.strip()]
            if content and not all(TAG.fullmatch(b.strip()) for b in content):
                pad = content[0][: len(content[0]) - len(content[0].lstrip())]
                out.append(pad + self._tag(rule, "\n".join(b.strip() for b in content)))
            else:
                out.extend(block)
        return "\n".join(out)

    def _by_path(self, text: str, path: str) -> str:
        found = line_format(path)  # (rule, pattern)
        return text if found is None else found[1].sub(self._fixed(found[0]), text)
