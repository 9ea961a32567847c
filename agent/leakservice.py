"""Secrets that no key names: command-line password options of known clients, SQL and PowerShell forms,
and the credential files of services (recognised by the member's file name: ``.pgpass``, ``sasl_passwd``,
``.htpasswd``, ``chap-secrets``...), for the leak scan. Independent of the scrubber's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Finding = tuple[int, int, str, str]

# anchor word (as found in the lower-cased text) -> where the password is on that command line
CLIENTS: dict[str, re.Pattern[str]] = {
    "mysql": re.compile(r"[ \t]-p(?![ \t])(\S+)"), "mariadb": re.compile(r"[ \t]-p(?![ \t])(\S+)"),
    "sshpass": re.compile(r"[ \t]-p[ \t]*(\S+)"), "mongo": re.compile(r"[ \t]-p[ \t]+(\S+)"),
    "redis-cli": re.compile(r"[ \t]-a[ \t]+(\S+)"),
    "curl": re.compile(r"[ \t](?:-u|--user)[ \t=]+[\"']?[^:\s\"']*:([^\s\"'@]+)"),
    "ldap": re.compile(r"[ \t]-w[ \t]+(\S+)"), "sqlcmd": re.compile(r"[ \t]-P[ \t]+(\S+)"),
    "smbclient": re.compile(r"[ \t]-U[ \t]+[^%\s]+%(\S+)"),
    "htpasswd": re.compile(r"[ \t]-\w*b\w*[ \t]+\S+[ \t]+\S+[ \t]+(\S+)"),
    "net user": re.compile(r"net[ \t]+user[ \t]+\S+[ \t]+(?!/)(\S+)"), "cmdkey": re.compile(r"/pass:(\S+)"),
    "convertto-securestring": re.compile(r"(?i)securestring[ \t]+[\"']([^\"'\n]+)[\"'][ \t]+-asplaintext"),
    "identified by": re.compile(r"(?i)identified[ \t]+by[ \t]+[\"']([^\"'\n]+)[\"']"),
}

# file name -> the password field of each line
_FILES: dict[str, re.Pattern[str]] = {
    ".pgpass": re.compile(r"^[^#:\n]*:[^:\n]*:[^:\n]*:[^:\n]*:(.+)$", re.M),
    "sasl_passwd": re.compile(r"^[^#\s]\S*[ \t]+[^:\s]+:(\S+)", re.M),
    "passwd.client": re.compile(r"^[^#:\n]+:[^:\n]+:(.+)$", re.M),
    "chap-secrets": re.compile(r"^[^#\s]\S*[ \t]+\S+[ \t]+(\S+)", re.M),
    "pap-secrets": re.compile(r"^[^#\s]\S*[ \t]+\S+[ \t]+(\S+)", re.M),
    "secrets": re.compile(r"^[^#\s]\S*[ \t]+\S+[ \t]+(\S+)", re.M),  # davfs2
    ".htpasswd": re.compile(r"^[^#:\n]+:([^:\n]+)$", re.M), "htpasswd": re.compile(r"^[^#:\n]+:([^:\n]+)$", re.M),
    "ldap.secret": re.compile(r"^([^#\n].*)$", re.M), "rsyncd.secrets": re.compile(r"^[^#:\n]+:(.+)$", re.M),
}
_PLACEHOLDER = re.compile(r"\*+|x+|\$\{?\w+\}?|<[^>]*>|\[REDACTED\S*|!|\*|changeme")


_JSON_ARGV = str.maketrans('",', "  ")  # ["mysql", "-uroot", "-pX"] read as the command line mysql -uroot -pX
_OPTION_CLIENTS = frozenset(c for c, p in CLIENTS.items() if p.pattern.startswith("[ \\t]"))  # option, then value


def client_password(text: str, pos: int, client: str, line_end: int) -> Finding | None:
    match = CLIENTS[client].search(text, pos, line_end)
    offset = 0
    if match is None and client in _OPTION_CLIENTS and '"' in text[pos:line_end]:  # an argv list in JSON
        match, offset = CLIENTS[client].search(text[pos:line_end].translate(_JSON_ARGV)), pos
        if match and not text.startswith('"', offset + match.end(1)):
            return None  # not a whole JSON string: `["mongo", "-p"]` has no password
    if not match:
        return None
    value = match.group(1).strip("'\"")
    if not value or _PLACEHOLDER.fullmatch(value) or value.startswith(("$", "-")):
        return None
    return offset + match.start(1), offset + match.end(1), "secret_assignment", f"{client.replace(' ', '-')}-password"


def service_file(text: str, member: str) -> Iterator[Finding]:
    """Password fields of a service's credential file, when the member is one (by its file name)."""
    name = member.rsplit("/", 1)[-1].removesuffix(".gz")
    pattern = _FILES.get(name)
    if pattern is None:
        return
    for match in pattern.finditer(text):
        value = match.group(1).strip()
        if value and not _PLACEHOLDER.fullmatch(value):
            yield match.start(1), match.end(1), "secret_assignment", name.lstrip(".")
