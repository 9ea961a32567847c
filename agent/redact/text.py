"""Scrub secrets out of text: value detectors first, then secrets found by their key in any config syntax.

Covered syntaxes: INI, YAML (including block scalars), JSON, ``key=value`` and env files, ``KEY: value``
headers, XML elements and attributes, command lines (``--password x``, ``mysql -pX``, ``curl -u u:p``),
ADO.NET connection strings, .netrc and redis directives, .pgpass and htpasswd files (by path).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath

from medic.agent.redact.keys import TAG, keep_value, sensitive_key, tag
from medic.agent.redact.rules import RULES

# A value ends at a blank or quote, and at & ; , only when another key= follows (query strings, ADO, mounts).
_VAL = (r"(?P<val>(?>(?:(?:Bearer|Basic|Digest|Token|Negotiate|NTLM|Bot)[ \t]+)?"
        r"(?:[^\s&;,\"'<>]|[&;,](?![\w.\[\] -]{1,40}=))+))")
# key = value or KEY: value taking the rest of the line (INI, YAML, env files, headers, properties)
_LINE = re.compile(
    r"^(?P<pre>[ \t]*(?:-[ \t]+)?(?:export[ \t]+|set[ \t]+|setx[ \t]+|\$env:)?)"
    r"(?P<key>[A-Za-z_][\w.\-\[\]]*)(?P<sep>[ \t]*(?::=|=|:(?=[ \t]|$))[ \t]*)(?P<val>.*?)[ \t]*$", re.M)
# "key": "value" / 'key': value (JSON, YAML, Python reprs), anywhere in a line
_QUOTED = re.compile(
    r"(?P<q>[\"'])(?P<key>[^\"'\n]{1,100})(?P=q)(?P<sep>\s*[:=]\s*)"
    r"(?:(?P<vq>[\"'])(?P<val>(?:\\.|(?!(?P=vq))[^\\\n])*)(?P=vq)|(?P<bare>[^\s,{}\[\]\"']+))")
# key=value, key: value, key="value" inside a line (logs, query strings, libpq and ADO.NET strings)
_INLINE = re.compile(
    r"(?<![\w.$-])(?P<key>[A-Za-z_][\w.-]{0,80})(?P<sep>[ \t]*=[ \t]*|:[ \t]+)"
    r"(?:(?P<vq>[\"'])(?P<qval>[^\"'\n]*)(?P=vq)|" + _VAL + r")(?![ \t]+[|>][-+0-9]*[ \t]*(?:\n|$))")
_ADO = re.compile(
    r"(?i)(?<![\w])(?P<key>password|pwd|accountkey|sharedaccesskey|sharedaccesssignature|client_?secret)"
    r"\s*=\s*(?P<val>[^;\"'\r\n]+)(?=;)")
_XML_ELEMENT = re.compile(r"<(?P<key>[\w:.-]+)(?:\s[^<>]*)?>(?P<val>[^<]+)</(?P=key)>")
_XML_PAIR = re.compile(
    r"\b(?:key|name)\s*=\s*(?P<q>[\"'])(?P<key>[^\"']*)(?P=q)\s+value\s*=\s*(?P<vq>[\"'])(?P<val>[^\"']*)(?P=vq)")
_CLI_OPTION = re.compile(
    r"(?<!\S)--?(?P<key>[A-Za-z][\w-]*)(?:=|\s+)(?P<val>\"[^\"]*\"|'[^']*'|[^\s\"'-]\S*)")
_MYSQL_P = re.compile(r"(?i)\b(?:mysql\w*|mariadb\w*)\b.*?(?<!\S)-p(?P<val>[^\s\"']+)")
_SSHPASS = re.compile(r"\bsshpass\s+-p\s*(?P<val>\S+)")
_CURL_USER = re.compile(r"(?<!\S)(?:-u|--user|--proxy-user|-U)\s+[\"']?[^\s:\"']+:(?P<val>[^\s\"']+)")
_DIRECTIVE = re.compile(
    r"(?im)^\s*(?:requirepass|masterauth|rpcpassword|bindpw|rootpw|password)\s+(?P<val>\S+)\s*$")
# name: DB_PASSWORD / value: x (Kubernetes env, YAML) and {"name": "DB_PASSWORD", "value": "x"} (JSON)
_YAML_PAIR = re.compile(
    r"(?m)^[ \t]*(?:-[ \t]+)?name:[ \t]*[\"']?(?P<key>[\w.-]+)[\"']?[ \t]*\r?\n"
    r"[ \t]*value:[ \t]*(?P<val>[^\n]*?)[ \t]*$")
_JSON_PAIR = re.compile(
    r"\"(?:name|key)\"\s*:\s*\"(?P<key>[^\"]{1,100})\"\s*,\s*\"value\"\s*:\s*\"(?P<val>(?:\\.|[^\"\\])*)\"")
_BLOCK_HEAD = re.compile(r"^(\s*)(?:-\s+)?([\"']?)([\w.-]+)\2\s*:\s*(?:!\S+\s+)?[|>][-+0-9]*\s*(?:#.*)?$")
_NETRC = re.compile(r"(?i)\b(?:machine|login)\b.*?\b(?:password|passwd)\s+(?P<val>\S+)")


_Sub = Callable[[re.Match[str]], str]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class TextScrubber:
    """Scrubs text and counts replacements per rule in ``counts`` (never the values)."""

    def __init__(self, counts: Counter[str] | None = None) -> None:
        self.counts: Counter[str] = counts if counts is not None else Counter()

    def scrub(self, text: str, path: str = "") -> str:
        for rule in RULES:
            text = rule.pattern.sub(self._value_replacer(rule.name, rule.accept), text)
        text = self._by_path(text, path)
        text = self._yaml_blocks(text)
        text = _LINE.sub(self._keyed("val"), text)
        text = _QUOTED.sub(self._quoted, text)
        for pattern in (_YAML_PAIR, _JSON_PAIR, _XML_PAIR, _XML_ELEMENT, _ADO):
            text = pattern.sub(self._keyed("val"), text)
        text = _INLINE.sub(self._inline, text)
        for pattern in (_MYSQL_P, _SSHPASS, _CURL_USER, _DIRECTIVE, _NETRC):
            text = pattern.sub(self._fixed("password"), text)
        text = _CLI_OPTION.sub(self._keyed("val"), text)
        return text

    # -- replacement helpers --
    def _replace(self, match: re.Match[str], group: str, rule: str) -> str:
        start, end = match.span(group)
        self.counts[rule] += 1
        offset = match.start()
        whole = match.group(0)
        return whole[: start - offset] + tag(rule) + whole[end - offset:]

    def _value_replacer(self, name: str, accept: Callable[[str], bool] | None) -> _Sub:
        def sub(match: re.Match[str]) -> str:
            group = "s" if "s" in match.re.groupindex else 0
            secret = match.group(group)
            if TAG.fullmatch(secret) or (accept is not None and not accept(secret)):
                return match.group(0)
            if group == 0:
                self.counts[name] += 1
                return tag(name)
            return self._replace(match, "s", name)
        return sub

    def _keyed(self, group: str) -> _Sub:
        def sub(match: re.Match[str]) -> str:
            rule = sensitive_key(match.group("key"))
            value = match.group(group)
            if rule is None or value is None or keep_value(value, match.group("key")):
                return match.group(0)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                self.counts[rule] += 1
                start, end = match.start(group) - match.start(), match.end(group) - match.start()
                whole = match.group(0)
                return whole[:start] + value[0] + tag(rule) + value[0] + whole[end:]
            return self._replace(match, group, rule)
        return sub

    def _fixed(self, rule: str) -> _Sub:
        def sub(match: re.Match[str]) -> str:
            if keep_value(match.group("val")):
                return match.group(0)
            return self._replace(match, "val", rule)
        return sub

    def _quoted(self, match: re.Match[str]) -> str:
        rule = sensitive_key(match.group("key"))
        if rule is None:
            return match.group(0)
        if match.group("bare") is not None:
            if keep_value(match.group("bare")):
                return match.group(0)
            self.counts[rule] += 1  # a bare number becomes a quoted string so JSON stays valid
            return match.group(0)[: match.start("bare") - match.start()] + f'"{tag(rule)}"'
        if keep_value(match.group("val")):
            return match.group(0)
        return self._replace(match, "val", rule)

    def _inline(self, match: re.Match[str]) -> str:
        """``key=value``; under a harmless key the value may itself hold ``KEY=secret``: scan inside it."""
        group = "qval" if match.group("qval") is not None else "val"
        if sensitive_key(match.group("key")) is not None:
            return self._keyed(group)(match)
        start, end = match.start(group) - match.start(), match.end(group) - match.start()
        whole = match.group(0)
        return whole[:start] + _INLINE.sub(self._inline, whole[start:end]) + whole[end:]

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
            head = _BLOCK_HEAD.match(line)
            if not head or not (rule := sensitive_key(head.group(3))):
                continue
            indent = len(head.group(1))
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                i -= 1
                block.pop()
            content = [b for b in block if b.strip()]
            if content and not all(TAG.fullmatch(b.strip()) for b in content):
                pad = content[0][: len(content[0]) - len(content[0].lstrip())]
                out.append(pad + tag(rule))
                self.counts[rule] += 1
            else:
                out.extend(block)
        return "\n".join(out)

    def _by_path(self, text: str, path: str) -> str:
        name = PurePosixPath(path.replace("\\", "/")).name.lower() if path else ""
        if name in (".pgpass", "pgpass.conf"):  # host:port:database:user:password
            return re.sub(r"(?m)^(?P<pre>(?:[^:#\n]*:){4})(?P<val>[^\n]+)$", self._fixed("password"), text)
        if "htpasswd" in name or name in ("shadow", "gshadow", "passwd.bak"):
            field = r"(?m)^(?P<pre>[^:#\n]+:)(?P<val>\[REDACTED:\w+\]|[^:\n]+)"
            return re.sub(field, self._fixed("password_hash"), text)
        return text
