"""Regular expressions for secrets that sit under a key, in the many syntaxes configuration and logs use.

Every key-based pattern here captures ``key`` and ``val``; the text scrubber decides with
:func:`~medic.agent.redact.keys.sensitive_key` whether the value is a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A value ends at a blank or quote, and at & ; , only when another key= follows (query strings, ADO, mounts).
# (?=(?P<atomic>X))(?P=atomic) is an atomic X, as (?>X) is only on Python 3.11+
_VAL = (r"(?P<val>(?=(?P<atomic>(?:(?:Bearer|Basic|Digest|Token|Negotiate|NTLM|Bot)[ \t]+)?"
        r"(?:[^\s&;,\"'<>]|[&;,](?![ \t]*[A-Za-z_][A-Za-z_.\[\] -]{0,39}=))+))(?P=atomic))")
# key = value or KEY: value taking the rest of the line (INI, YAML, env files, headers, properties). A quoted
# value ends at its closing quote when the line ends there or goes on with a comment, a separator, or a blank and
# a word (password="x" user=bob, password="x" y: what follows stays); otherwise ("a" + "b", "a".strip(), "a" "b")
# it takes the line.
LINE = re.compile(
    r"^(?P<pre>[ \t]*(?:-[ \t]+)?(?:export[ \t]+|set[ \t]+|setx[ \t]+|\$env:)?)"
    r"(?P<key>[A-Za-z_][\w.\-\[\]]*)(?P<sep>[ \t]*(?::{1,3}=|[?+]=|!==?|===?|=|:(?=[ \t]|$))[ \t]*)"
    r"(?P<val>(?P<lq>[\"'])(?:(?!(?P=lq))[^\n])*(?P=lq)"
    r"(?=[ \t\r]*$|[ \t]*(?:[#;,]|//)|[ \t]+\w)|.*?(?=[ \t\r]*$))", re.M)
# "key": "value" / 'key': value / 'key' => 'value' / define('KEY', 'value') (JSON, YAML, reprs, PHP, Ruby)
# JSON written inside a string has its quotes escaped, {\"key\": \"value\"}: those pairs are read alike (esc);
# inside such a value a backslash pair or an escape other than a quote is part of it
QUOTED = re.compile(
    r"(?P<q>(?P<esc>\\)?[\"'])(?P<key>[^\"'\n\\]{1,100})(?P=q)"
    r"(?P<sep>\][ \t]*=[ \t]*(?=[\"'])|\s*(?:=>|[:=]|,(?=\s*[\"'][^\"'\n]*[\"']\s*\)))\s*)"  # ['key'] = 'literal' too
    r"(?:(?P<vq>(?(esc)\\)[\"'])(?P<val>(?(esc)(?:\\\\|\\[^\"'\\\n]|[^\\\n])*|(?:\\.|(?!(?P=vq))[^\\\n])*))(?P=vq)"
    r"|(?P<bare>(?!\\[\"'])[^\s,{}\[\]\"']+))")


def inner_pairs(match: re.Match[str], sub: Callable[[re.Match[str]], str]) -> str:
    """A ``QUOTED`` match whose key is no secret's, with the pairs of JSON written inside its value
    (``"log": "{\\"token\\": \\"x\\"}"``) passed to ``sub`` (the outer match would hide them from the search)."""
    value = match.group("val")
    if not value or ('\\"' not in value and "\\'" not in value):
        return match.group(0)
    return (match.string[match.start():match.start("val")] + QUOTED.sub(sub, value)
            + match.string[match.end("val"):match.end()])


# key=value, key: value, key="value" inside a line (logs, query strings, libpq and ADO.NET strings)
# Keys are found first; a value is matched (INLINE_VALUE, at the key's end) only when the key is sensitive,
# so the scan goes on inside harmless values (a="DB_PASSWORD=x") and long lines stay linear.
# ("$password = x" is PHP/PowerShell; "key:x" with no blank only counts for strong keys, see text.py)
# Separators: also Makefile's ?= += ::= :::=, PHP's .=, and the comparisons == === != !==: a literal compared with a
# secret's variable is that secret (`if (api_key == "x")`; the second = was taken for the value, the literal kept)
# (A key is taken whole, atomically, in INLINE and SPACED: no separator starts with a key character, so a shorter
# key never matches where the whole one failed, and the search need not try each.)
INLINE = re.compile(
    r"(?<![\w.-])(?P<key>[A-Za-z_](?=(?P<run>[\w.-]{0,80}))(?P=run))"
    r"(?P<sep>[ \t]*(?::{1,3}=|[?+.]=|!==?|===?|=>?)[ \t]*|[ \t]*:[ \t]+|:(?![/\\:\s]))")
INLINE_VALUE = re.compile(
    r"(?:(?P<vq>[\"'])(?P<qval>[^\"'\n]*)(?P=vq)|" + _VAL + r")(?![ \t]+[|>][-+0-9]*[ \t]*$)")
# a value's characters after one INLINE_VALUE stops at, when more of the value follows (password=ab"cd, x=a<b):
# the value is removed whole, never its first part only
_INNER_STOPS = re.compile(r"(?:[<>\"'`]+[^\s<>\"'`,;)\]}][^\s<>\"'`]*)+")  # (not a closing quote, then , ; ) ] })
_CLOSE = {"{": "}", "[": "]", "(": ")"}
_OPENER = re.compile(r"[{\[(]")
DEFAULT = re.compile(r"\$\{\w{1,80}:?[-=](?P<d>[^{}]*)\}")  # ${NAME:-default}: a default written out
_AFTER_QUOTE = re.compile(r"[^\s\"'`,;)\]}>\\][^\s]*")  # (a backslash: an escape, "\n" in JSON-escaped text)


def whole_value(line: str, start: int, end: int, quoted: bool = False) -> tuple[int, int]:
    """The span of an inline value whole: a value never ends inside a bracket it opened (``secret: {a: x, b: y}``,
    ``@Microsoft.KeyVault(VaultName=v;SecretName=s)``), nor at a quote or angle bracket with more of it after;
    a quoted value (``quoted``: ``end`` is its closing quote) goes on when its quote is glued to more (``'ab'cd``)."""
    if quoted:
        glued = _AFTER_QUOTE.match(line, end + 1)
        return start, end if glued is None else glued.end()
    closing: list[str] = []
    stop = end
    opener = _OPENER.search(line, start, end)  # (most values open no bracket: no walk)
    for i in range(opener.start() if opener else end, len(line)):
        if i >= end and not closing:
            stop = i
            break
        if line[i] in _CLOSE:
            closing.append(_CLOSE[line[i]])
        elif closing and line[i] == closing[-1]:
            closing.pop()
    else:
        stop = end if closing else len(line)  # a bracket never closed on the line: the value as matched
    more = _INNER_STOPS.match(line, stop)
    return start, stop if more is None else more.end()


ADO = re.compile(
    r"(?i)(?<![\w])(?P<key>password|pwd|accountkey|sharedaccesskey|sharedaccesssignature|client_?secret)"
    r"\s*=\s*(?P<val>[^;\"'\r\n]+)(?=;)")
XML_ELEMENT = re.compile(r"<(?P<key>[\w:.-]+)(?:\s[^<>]*)?>(?P<val>[^<]+)</(?P=key)>")
XML_PAIR = re.compile(
    r"\b(?:key|name)\s*=\s*(?P<q>[\"'])(?P<key>[^\"']*)(?P=q)\s+value\s*=\s*(?P<vq>[\"'])(?P<val>[^\"']*)(?P=vq)")
CLI_OPTION = re.compile(  # (?<!\S)--?: written dash first, so the search skips to the dashes of a line
    r"-(?<=(?<!\S)-)-?(?P<key>[A-Za-z][\w.-]*)(?:=|\s+)"
    r"(?P<val>\"[^\"]*\"|'[^']*'|(?!--?[a-z][a-z0-9-]*(?:\s|$))[^\s\"']\S*)")  # (the next option is no value)
DASH_P = re.compile(r"(?<!\S)-p(?P<val>[^\s\"']+)")  # mysql -pSECRET: only after mysql/mariadb on its line
MYSQL = re.compile(r"(?i)\b(?:mysql|mariadb)")
SSHPASS = re.compile(r"\bsshpass\s+-p\s*(?P<val>\S+)")
# curl -u u:p, -u 'u:p', -u"u:p", --user=u:p, -u ':p', --user u:'p', "u":"p"; not uid:gid (1000:1000) nor user:user
CURL_USER = re.compile(
    r"(?<!\S)(?:-u|--user|--proxy-user|-U)(?:=|\s+|(?=[\"']))[\"']?(?P<uq>[\"']?)(?P<user>(?!\d+[\"']?:)[^\s:\"']*)"
    r"(?P=uq):(?!(?P=user)(?:[\"'\s]|$))(?P<pq>[\"']?)(?P<val>(?=[^\s\"']*[A-Za-z0-9])[^\s\"']+)(?P=pq)")  # (git -u :/)
DIRECTIVE_WORDS = ("requirepass", "masterauth", "rpcpassword", "bindpw", "rootpw", "password")
DIRECTIVE = re.compile(r"(?im)^\s*(?P<key>" + "|".join(DIRECTIVE_WORDS) + r")(?P<sep>\s+)(?P<val>\S+)\s*$")
# "password hunter2", "ENV DB_PASSWORD x", "auth_pass x": a key and one value ending the line (or a quoted value)
SPACED = re.compile(
    r"(?<![\w.$/\[-])(?:(?:ENV|ARG)[ \t]+)?(?P<key>[A-Za-z_](?=(?P<run>[\w.-]{1,60}))(?P=run))[ \t]+"
    r"(?:(?P<vq>[\"'])(?P<qval>[^\"'\n]+)(?P=vq)|(?P<val>[^\s\"']+)[ \t\r]*$)", re.M)
# setPassword("x"), CURLOPT_PASSWORD, "x" and os.environ.get("DB_PASSWORD", "x") (the value after a secret name)
# (a quoted string followed by a colon is the next key of a JSON object, "DB_PASSWORD","value":"x", not a value)
CALL = re.compile(
    r"(?P<key>[A-Za-z_][\w.]{0,80})(?:\(|[\"']?\s*,)\s*(?P<vq>[\"'])(?P<val>[^\"'\n]+)(?P=vq)(?!\s*:)")
# name: DB_PASSWORD / value: x (Kubernetes env, YAML) and {"name": "DB_PASSWORD", "value": "x"} (JSON)
YAML_PAIR = re.compile(
    r"(?m)^[ \t]*(?:-[ \t]+)?name:[ \t]*[\"']?(?P<key>[\w.-]+)[\"']?[ \t]*\r?\n"
    r"[ \t]*value:[ \t]*(?P<val>[^\n]*?)[ \t]*$")
JSON_PAIR = re.compile(
    r"\"(?:name|key)\"\s*:\s*\"(?P<key>[^\"]{1,100})\"\s*,\s*\"value\"\s*:\s*\"(?P<val>(?:\\.|[^\"\\])*)\"")
BLOCK_HEAD = re.compile(r"^(\s*)(?:-\s+)?([\"']?)([\w.-]+)\2\s*:\s*(?:!\S+\s+)?[|>][-+0-9]*\s*(?:#.*)?$")
NETRC = re.compile(r"(?i)^\s*(?:machine|default)\b.*?\b(?:password|passwd)\s+(?P<val>\S+)")
# Public PEM blocks (certificates, public keys, PGP public keys and signatures) are left exactly as they are.
PUBLIC_PEM = re.compile(
    r"-----BEGIN (?P<label>CERTIFICATE|TRUSTED CERTIFICATE|X509 CRL|CERTIFICATE REQUEST"
    r"|(?:[A-Z0-9]+ )?PUBLIC KEY|PGP PUBLIC KEY BLOCK|PGP SIGNATURE)-----.*?-----END (?P=label)-----", re.S)
