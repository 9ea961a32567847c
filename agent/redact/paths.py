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
    (("passwords.dat",), "password",  # debconf: the answers to password questions, "Value: x"
     re.compile(r"(?m)^(?P<pre>Value:[ \t]*)(?P<val>\S[^\n]*?)[ \t\r]*$")),
    (("resource.cfg",), "password",  # Nagios/Icinga: $USER3$=password ($USER1$ is the plugins' path)
     re.compile(r"(?m)^(?P<pre>[ \t]*\$USER\d+\$[ \t]*=[ \t]*)(?P<val>(?![/$])[^\n]+?)[ \t\r]*$")),
    (("userlist.txt",), "password",  # pgbouncer: "user" "password"
     re.compile(r'(?m)^(?P<pre>[ \t]*"[^"\n]*"[ \t]+)"(?P<val>[^"\n]+)"')),
    (("chrony.keys", "ntp.keys"), "secret",  # NTP symmetric keys: id type [HEX:|ASCII:]key
     re.compile(r"(?m)^(?P<pre>[ \t]*\d+[ \t]+\S+[ \t]+(?:HEX:|ASCII:)?)(?P<val>[^\s#]+)")),
    ((".curlrc", "_curlrc"), "password",  # curl's config: user = "name:password"
     re.compile(r"(?m)^(?P<pre>[ \t]*(?:-u|--user|user)(?:[ \t]*[=:][ \t]*|[ \t]+)\"?[^:\s\"]*:)(?P<val>[^\s\"]+)")),
    (("rclone.conf",), "secret",  # rclone: a remote's key, and B2's key ID (25 hex digits; Azure's account is a name)
     re.compile(r"(?m)^(?P<pre>[ \t]*(?:key[ \t]*=[ \t]*(?=\S)|account[ \t]*=[ \t]*(?=[0-9a-f]{25}[ \t\r]*$)))"
                r"(?P<val>[^\n]+?)[ \t\r]*$")),
    (("user-data", "user-data.txt", "vendor-data", "vendor-data.txt", "cloud-config.txt"), "password",
     # cloud-init's chpasswd list (`  root:password` below `list: |`): a YAML line with no blank after its colon
     re.compile(r"(?m)^(?P<pre>[ \t]+(?:-[ \t]+)?[a-z_][\w.-]{0,31}:)(?P<val>(?!RANDOM[ \t\r]*$)[^\s:/][^\s]*)"
                r"[ \t\r]*$")),
    (("servlist.conf", "servlist_.conf"), "password",  # HexChat's networks: P=server password
     re.compile(r"(?m)^(?P<pre>P=)(?P<val>[^\n]+?)[ \t\r]*$")),
)
# a person's own list of passwords ("passwords.txt": "gmail: x", "bank - x", "wifi x"): the last word of each line
_PASSWORD_LIST = re.compile(
    r"^(?:my[-_ ]?)?(?:passwords?|passwds|pws|logins?|credentials|creds|accounts|passw(?:ö|oe)rter|kennw(?:ö|oe)rter"
    r"|mots[-_ ]de[-_ ]passe|contrase(?:ñ|n)as)(?:\.(?:txt|md|org|text|rtf))$|^passw(?:ords|örter|oerter)$")
_LAST_WORD = re.compile(r"(?m)^(?![ \t]*#)(?P<pre>[^\n]*?)(?P<val>[^\s]+(?<![:=]))[ \t\r]*$")
# Home Assistant's secrets.yaml (every top-level value a secret; a Kubernetes manifest's apiVersion and kind kept)
_SECRETS_YAML = re.compile(
    r"(?m)^(?!apiVersion:|kind:)(?P<pre>[A-Za-z_][\w.-]*:[ \t]+)(?P<q>[\"']?)(?P<val>[^\s\"'#|>&*!][^\n\"']*?)(?P=q)"
    r"[ \t\r]*$")
# files that hold nothing but a secret (a bind password, a token)
# (ldap.secret, /run/secrets/db_password, vault-token: not /etc/passwd or ipsec.secrets, which have structure)
_WHOLE_FILE = re.compile(r"^(?:[\w.]+[._])?(?:secret|password|token|passphrase)$|^\.?vault-token$"
                         r"|^master\.key$|^\.erlang\.cookie$|^node-token$")  # (Rails, Jenkins; RabbitMQ; k3s)
_ONE_VALUE = re.compile(r"(?m)^(?![ \t]*#)[ \t]*(?P<val>\S[^\n]*?)[ \t\r]*$")


def file_name(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name.lower() if path else ""


# OpenVPN's auth-user-pass file: the user name on the first line, the password on the second
_OPENVPN_AUTH = re.compile(r"\A(?P<pre>[^\n]*\n)[ \t]*(?P<val>\S[^\n]*?)[ \t\r]*$", re.MULTILINE)
_OPENVPN_NAME = re.compile(r"auth|pass|cred|login|secret|user")
_OPENVPN_OTHER = (".conf", ".ovpn", ".crt", ".pem", ".key", ".log", ".status", ".sh")
# an OpenVPN profile's inline <auth-user-pass> block (user, then password); Subversion's cached password
_OVPN_INLINE = re.compile(r"(?P<pre><auth-user-pass>[ \t]*\r?\n[^\n]*\n)[ \t]*(?P<val>[^\s<][^\n<]*?)[ \t\r]*$", re.M)
_SVN_SIMPLE = re.compile(r"(?P<pre>^K 8\r?\npassword\r?\nV \d+\r?\n)(?P<val>[^\r\n]+)", re.M)


def line_format(path: str) -> tuple[str, re.Pattern[str]] | None:
    """The rule and the pattern for ``path``'s own secret layout, if it has one."""
    name = file_name(path)
    if not name:
        return None
    if ("/openvpn/" in path.replace("\\", "/").lower() and _OPENVPN_NAME.search(name)
            and not name.endswith(_OPENVPN_OTHER)):
        return "password", _OPENVPN_AUTH
    if name.endswith(".psk") and "zabbix" in path.lower():
        return "secret", _ONE_VALUE  # Zabbix's TLS pre-shared key file: one hex key
    if "/svn.simple/" in path.replace("\\", "/"):
        return "password", _SVN_SIMPLE
    if name.endswith(".ovpn") or ("/openvpn/" in path.replace("\\", "/") and name.endswith(".conf")):
        return "password", _OVPN_INLINE
    if _PASSWORD_LIST.match(name):
        return "password", _LAST_WORD
    if name in ("secrets.yaml", "secrets.yml"):
        return "secret", _SECRETS_YAML
    for names, rule, pattern in _LINE_FORMATS:
        if name in names or any(n in name for n in names if n in ("htpasswd", "sasl_passwd", "chap-secrets")):
            if name == "secrets" and "davfs" not in path.replace("\\", "/").lower():
                continue
            return rule, pattern
    if _WHOLE_FILE.match(name) and "/pam.d/" not in path.replace("\\", "/"):
        return "secret", _ONE_VALUE
    return None
