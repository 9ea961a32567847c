"""Service files by name (agent/redact/paths.py), the value rules' extra tests (rules.py) and forms (forms.py)."""

from __future__ import annotations

import base64
import re

import pytest

from medic.agent.redact import paths, rules
from medic.agent.redact.forms import Form, _f

_LINE = {"pgpass": 0, "shadow": 1, "sasl": 2, "exim": 3, "ppp": 4, "rsync": 5, "nagios": 6, "pgbouncer": 7}


@pytest.mark.parametrize(("path", "name", "rule", "layout"), [
    ("", "", None, None),
    ("C:\\Users\\Bob\\.PGPASS", ".pgpass", "password", "pgpass"),
    ("/home/bob/.pgpass", ".pgpass", "password", "pgpass"),
    ("pgpass.conf", "pgpass.conf", "password", "pgpass"),
    ("/etc/shadow", "shadow", "password_hash", "shadow"), ("/etc/gshadow-", "gshadow-", "password_hash", "shadow"),
    ("/srv/site.htpasswd.bak", "site.htpasswd.bak", "password_hash", "shadow"),  # "htpasswd" anywhere in the name
    ("/etc/shadow.bak", "shadow.bak", None, None),  # "shadow" only as the whole name
    ("/etc/postfix/sasl_passwd.db", "sasl_passwd.db", "password", "sasl"),
    ("/x/smtp_auth", "smtp_auth", "password", "sasl"),
    ("/x/relay_passwd", "relay_passwd", "password", "sasl"),
    ("/etc/exim4/passwd.client", "passwd.client", "password", "exim"),
    ("/etc/ppp/chap-secrets", "chap-secrets", "password", "ppp"),
    ("/etc/ppp/chap-secrets.dpkg-old", "chap-secrets.dpkg-old", "password", "ppp"),  # a kept old copy too
    ("/etc/davfs2/secrets", "secrets", "password", "ppp"),
    ("C:\\davfs2\\secrets", "secrets", "password", "ppp"), ("/etc/other/secrets", "secrets", None, None),
    ("/etc/ldap.secret", "ldap.secret", "secret", "whole"),
    ("/run/secrets/db_password", "db_password", "secret", "whole"),
    ("/home/bob/.vault-token", ".vault-token", "secret", "whole"), ("/x/app.token", "app.token", "secret", "whole"),
    ("/etc/pam.d/password", "password", None, None), ("\\etc\\pam.d\\password", "password", None, None),
    ("/x/mysecret", "mysecret", None, None),
    ("/etc/rsyncd.secrets", "rsyncd.secrets", "password", "rsync"),
    ("/etc/pgbouncer/userlist.txt", "userlist.txt", "password", "pgbouncer"),
    ("/etc/nagios4/resource.cfg", "resource.cfg", "password", "nagios"),
])
def test_line_format(path: str, name: str, rule: str | None, layout: str | None) -> None:
    assert paths.file_name(path) == name
    found = paths.line_format(path)
    if rule is None:
        assert found is None
        return
    assert found is not None and found[0] == rule
    expected = paths._ONE_VALUE if layout == "whole" else paths._LINE_FORMATS[_LINE[str(layout)]][2]
    assert found[1] is expected


@pytest.mark.parametrize(("layout", "line", "secret"), [
    ("pgpass", "db:5432:app:bob:pw:1", "pw:1"), ("shadow", "bob:$6$salt$hash:19700:0:::", "$6$salt$hash"),
    ("sasl", "[smtp.example.com]:587 bob:pa ss  ", "pa ss"),
    ("exim", "*.example.com:bob:pw1 ", "pw1"),
    ("ppp", 'bob * "s3cret" 10.0.0.2', "s3cret"),
    ("rsync", "backup:s3cr:et ", "s3cr:et"), ("pgbouncer", '"app" "md5abc123"', "md5abc123"),
    ("nagios", "$USER3$=s3cr3t", "s3cr3t"),
])
def test_line_layouts(layout: str, line: str, secret: str) -> None:
    match = paths._LINE_FORMATS[_LINE[layout]][2].search(line)
    assert match is not None and match.group("val") == secret


def _b64(text: bytes) -> str:
    return base64.b64encode(text).decode().rstrip("=")


@pytest.mark.parametrize(("value", "expected"), [
    (_b64(b"admin:pw"), True), (base64.b64encode(b"admin:pw").decode(), True),  # padding optional
    (_b64(b"nocolon"), False), (_b64(b"a:\x01b"), False), (_b64(b"\xff\xfe:x"), False), ("not base64!", False),
    ("YT.pi", False), ("YTpi", True),  # "a:b" in base64, but a character outside base64 fails it
])
def test_basic_credentials(value: str, expected: bool) -> None:
    assert rules._basic_credentials(value) is expected


@pytest.mark.parametrize(("value", "expected"), [
    ("wJalrXUtnFEMIK7MDENGbPxRfiCY0a9b8c7d6e5f", True),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1", True),
    ("wjalrxutnfemik7mdengbpxrficy0a9b8c7d6e5f", False), ("WJALRXUTNFEMIK7MDENGBPXRFICY0A9B8C7D6E5F", False),
    ("wJalrXUtnFEMIKaMDENGbPxRfiCYxaxbxcxdxexf", False), ("/JalrXUtnFEMIK7MDENGbPxRfiCY0a9b8c7d6e5f", False),
    ("wJalrXUtnFEMIK7MDENGbPx//fiCY0a9b8c7d6e5f", False),
    ("a/b/c/d/eF1", True), ("a/b/c/d/e/F1", False),  # four slashes at most
])
def test_aws_secret(value: str, expected: bool) -> None:
    assert rules._aws_secret(value) is expected


def test_form_builder() -> None:
    form = _f("password", r"-x (?P<val>\S+)", "tool", "other", needs=("-x",), words=("tool",))
    assert form == Form("password", re.compile(r"-x (?P<val>\S+)"), ("tool", "other"), ("-x",), ("tool",))
    assert _f("community", "c").needs == () and _f("community", "c").words == ()
