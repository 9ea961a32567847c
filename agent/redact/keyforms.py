"""Key forms of source code that the ``key=value`` patterns of :mod:`~medic.agent.redact.syntax` miss.

- typed declarations: Go's ``var apiToken string = "v"`` / ``const apiKey string = "v"`` (a type between the name
  and ``=``), C's and C++'s arrays ``char secret[25] = "v"``, ``api_key[] = "v"``;
- tuple assignments: ``a_password, b_password := "v1", "v2"`` (each name with the value in its place);
- prose and log keys: ``nethunt token - 'v'``, ``Using API key: v``, ``Using vendor KEY=v``, an URL's ``?key=v``.

Only a quoted value counts in the code forms (what a declaration's literal is), a quoted or random-looking one
in the prose forms. The key is judged by :func:`~medic.agent.redact.keys.sensitive_key` and the value by
``keep_value``, as for every key rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from medic.agent.redact.keys import TAG, WEAK_RULES, keep_value, looks_random, sensitive_key

# var NAME TYPE = "v" (Go: pointer, slice and qualified types too), NAME[25] = "v" / NAME[] = "v" (C, C++)
DECLARED = re.compile(
    r"(?:\b(?:var|const)[ \t]+(?P<key>[A-Za-z_][\w-]{0,80})[ \t]+\*?(?:\[\d*\])?[A-Za-z_][\w.]{0,40}"
    r"|(?<![\w.$-])(?P<akey>[A-Za-z_]\w{0,80})\[[ \t]*\w{0,12}[ \t]*\])"
    r"[ \t]*:?=[ \t]*(?P<vq>[\"'`])(?P<val>[^\"'`\n]+)(?P=vq)")
# a, b := "v1", "v2" / a, b = 'v1', 'v2' (Go, Python, Ruby, Lua...; Go's const a, b string = ...): as many quoted
# values as names (never tried from a name after a comma: a long list of names is read once, not once per name)
_NAME = r"[A-Za-z_][\w.]{0,80}"
TUPLE = re.compile(
    rf"(?<![\w.$,-])(?<!,[ \t])(?P<keys>{_NAME}(?:[ \t]*,[ \t]*{_NAME})+)"
    r"(?:[ \t]+\*?[A-Za-z_][\w.]{0,40})?[ \t]*:?=[ \t]*"
    r"(?P<vals>[\"'][^\"'\n]*[\"'](?:[ \t]*,[ \t]*[\"'][^\"'\n]*[\"'])+)")
# prose and log forms of a key: `nethunt token - 'v'` (a dash between blanks as the separator), two words as the
# key (`Using API key: v`, `[DEBUG] Using aeroworkflow KEY=v`; not an attribute, `<add key="name"`), an URL's
# `?key=v` / `&key=v` (an API key by custom)
DASHED = re.compile(
    r"(?<![\w.-])(?P<key>(?:[A-Za-z_][\w.-]{0,40}[ \t]+)?[A-Za-z_][\w.-]{0,60})[ \t]+-[ \t]+"
    r"(?P<vq>[\"'`]?)(?P<val>[^\s\"'`]{8,})(?P=vq)"
    r"(?=[ \t\r]*$|[ \t]*[,;|])", re.M)
TWO_WORDS = re.compile(
    r"(?i)(?<![\w.-])(?P<key>[a-z][\w.-]{0,40}[ \t]+(?:api[ \t_-]?)?(?:key|token|secret))"
    r"(?:[ \t]*:|[ \t]+=|=(?![\"'`]))"
    r"[ \t]*(?P<vq>[\"'`]?)(?P<val>[^\s\"'`]{8,})(?P=vq)")
_TWO_WORDS_GATE = re.compile(r"(?i)(?:key|token|secret)[ \t]*[:=]")  # (TWO_WORDS' end: searched first, cheaper)
QUERY_KEY = re.compile(r"(?<=[?&])(?P<key>key)=(?P<vq>)(?P<val>[^&\s\"'#<>]{16,})")
_QUOTED = re.compile(r"(?P<q>[\"'])(?P<val>[^\"'\n]*)(?P=q)")
_COMMA = re.compile(r"[ \t]*,[ \t]*")
_WORDS = re.compile(r"[A-Za-z]{1,20}(?: [A-Za-z]{1,20}){1,8}[.!?]?")


def keyed_forms(line: str, tag: Callable[[str, str], str]) -> str:
    """``line`` with the values of these forms under a secret key replaced by ``tag(rule, value)``."""
    if "," in line and ("'" in line or '"' in line):
        line = TUPLE.sub(lambda m: _tuple(m, tag), line)
    if ("[" in line or "var" in line or "const" in line) and "=" in line:
        line = DECLARED.sub(lambda m: _declared(m, tag), line)
    if " - " in line or "\t-" in line:
        line = DASHED.sub(lambda m: _declared(m, tag, random_or_quoted=True), line)
    if (" " in line or "\t" in line) and _TWO_WORDS_GATE.search(line):
        line = TWO_WORDS.sub(lambda m: _declared(m, tag, random_or_quoted=True), line)
    if "key=" in line:
        line = QUERY_KEY.sub(lambda m: _declared(m, tag, random_or_quoted=True, rule="api_key"), line)
    return line


def _value(key: str, value: str, tag: Callable[[str, str], str], rule: str | None = None) -> str:
    rule = rule or sensitive_key(key)
    return value if rule is None or not value or keep_value(value, key) or TAG.search(value) else tag(rule, value)


def _declared(match: re.Match[str], tag: Callable[[str, str], str], random_or_quoted: bool = False,
              rule: str | None = None) -> str:
    key, value = match.group("key") or match.group("akey"), match.group("val")
    if random_or_quoted and not (match.group("vq") or looks_random(value)):
        return match.group(0)  # (prose: `password - see the wiki`, `sort key: created_at`)
    if match.re is DECLARED and match.group("akey") and sensitive_key(key) in WEAK_RULES and _WORDS.fullmatch(value):
        return match.group(0)  # words in a C array of a weak key (`static char cookie[] = "yum yum"`: a test's)
    start, end = match.span("val")
    new = _value(key, value, tag, rule)
    return match.group(0)[:start - match.start()] + new + match.group(0)[end - match.start():]


def _tuple(match: re.Match[str], tag: Callable[[str, str], str]) -> str:
    names = _COMMA.split(match.group("keys"))
    values = list(_QUOTED.finditer(match.group("vals")))
    if len(names) != len(values):
        return match.group(0)
    vals, out, pos = match.group("vals"), [], 0
    for name, value in zip(names, values):
        out += [vals[pos:value.start("val")], _value(name, value.group("val"), tag)]
        pos = value.end("val")
    offset = match.start("vals") - match.start()
    return match.group(0)[:offset] + "".join(out) + vals[pos:]
