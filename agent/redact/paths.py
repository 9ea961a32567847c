"""Service files whose layout, not a key name, says where the secret is: found by the file's name."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# file name (lower case) or suffix -> a pattern whose ``val`` group is the secret on each line
_LINE_FORMATS: tuple[tuple[tuple[str, ...], str, re.Pattern[str]], ...] = (
    ((".pgpass", "pgpass.conf"), "password", re.compile(r"(?m)^(?P<pre>(?:[^:#\n]*:){4})(?P<val>[^\n]+)$")),
    (("htpasswd", "shadow", "gshadow", "passwd.bak", "shadow-", "gshadow-"), "password_hash",
     re.compile(r"(?m)^(?P<pre>[^:#\n]+:)(?P<val>\[REDACTED:[\w#]+\]|[^:\n]+)")),
    (("sasl_passwd", "smtp_auth", "relay_passwd"), "password",  # [host]:port user:password
     re.compile(r"(?m)^(?P<pre>[ \t]*[^#\s]\S*[ \t]+[^\s:]+:)(?P<val>[^\n]+?)[ \t\r]*$")),
    (("passwd.client",), "password",  # exim: host:login:password
     re.compile(r"(?m)^(?P<pre>[ \t]*[^#\s:][^:\n]*:[^:\n]*:)(?P<val>[^\n]+?)[ \t\r]*$")),
    (("chap-secrets", "pap-secrets", "secrets"), "password",  # ppp: client server secret [ip]; davfs2: url user pw
     re.compile(r"(?m)^(?P<pre>[ \t]*[^#\s]\S*[ \t]+\S+[ \t]+)(?P<q>\"?)(?P<val>[^\s\"]+)(?P=q)")),
    (("rsyncd.secrets", "rsync.secrets"), "password",  # rsync daemon: user:password
     re.compile(r"(?m)^(?P<pre>[ \t]*[^#\s:][^:\n]*:)(?P<val>[^\n]+?)[ \t\r]*$")),
    (("resource.cfg",), "password",  # Nagios/Icinga: $USER3$=password ($USER1$ is the plugins' path)
     re.compile(r"(?m)^(?P<pre>[ \t]*\$USER\d+\$[ \t]*=[ \t]*)(?P<val>(?![/$])[^\n]+?)[ \t\r]*$")),
    (("userlist.txt",), "password",  # pgbouncer: "user" "password"
     re.compile(r'(?m)^(?P<pre>[ \t]*"[^"\n]*"[ \t]+)"(?P<val>[^"\n]+)"')),
)
# files that hold nothing but a secret (a bind password, a token)
# (ldap.secret, /run/secrets/db_password, vault-token: not /etc/passwd or ipsec.secrets, which have structure)
_WHOLE_FILE = re.compile(r"^(?:[\w.]+[._])?(?:secret|password|token|passphrase)$|^\.?vault-token$")
_ONE_VALUE = re.compile(r"(?m)^(?![ \t]*#)[ \t]*(?P<val>\S[^\n]*?)[ \t\r]*$")


def file_name(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name.lower() if path else ""


# OpenVPN's auth-user-pass file: the user name on the first line, the password on the second
_OPENVPN_AUTH = re.compile(r"\A(?P<pre>[^\n]*\n)[ \t]*(?P<val>\S[^\n]*?)[ \t\r]*$", re.MULTILINE)
_OPENVPN_NAME = re.compile(r"auth|pass|cred|login|secret|user")
_OPENVPN_OTHER = (".conf", ".ovpn", ".crt", ".pem", ".key", ".log", ".status", ".sh")


def line_format(path: str) -> tuple[str, re.Pattern[str]] | None:
    """The rule and the pattern for ``path``'s own secret layout, if it has one."""
    name = file_name(path)
    if not name:
        return None
    if ("/openvpn/" in path.replace("\\", "/").lower() and _OPENVPN_NAME.search(name)
            and not name.endswith(_OPENVPN_OTHER)):
        return "password", _OPENVPN_AUTH
    for names, rule, pattern in _LINE_FORMATS:
        if name in names or any(n in name for n in names if n in ("htpasswd", "sasl_passwd", "chap-secrets")):
            if name == "secrets" and "davfs" not in path.replace("\\", "/").lower():
                continue
            return rule, pattern
    if _WHOLE_FILE.match(name) and "/pam.d/" not in path.replace("\\", "/"):
        return "secret", _ONE_VALUE
    return None
