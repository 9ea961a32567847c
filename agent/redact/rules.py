"""The scrubber's value detectors: secrets recognisable by their shape, whatever key (if any) holds them.

Each rule replaces its ``s`` group (or the whole match) with ``[REDACTED:<name>]``. The leak scanner in
:mod:`medic.agent.redact.leaks` deliberately shares none of this code.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from medic.agent.redact.keys import keep_value
from medic.agent.redact.references import documented_example


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    accept: Callable[[str], bool] | None = None  # extra test on the secret text; False keeps the match
    hints: tuple[str, ...] = ()  # lower case; the rule is skipped unless one occurs in the lower-cased text
    needs: tuple[str, ...] = ()  # as written: every match holds one of them, a line without any is skipped


def _basic_credentials(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _aws_secret(value: str) -> bool:
    # upper case, lower case and a digit (the value is ASCII: the rule's pattern takes letters, digits, / and +)
    mixed = value.lower() != value and value.upper() != value and _DIGIT.search(value) is not None
    return (mixed and not value.startswith("/") and "//" not in value and value.count("/") <= 4
            and not documented_example(value))


def _key_material(value: str) -> bool:
    # a whole block, or key material after the label: the label alone ("-----BEGIN PRIVATE KEY-----" in prose,
    # documentation) is no secret
    body = value.split("-----", 2)[-1]
    return "-----END" in value or re.search(r"[A-Za-z0-9+/=]{16}", body) is not None


def _url_password(value: str) -> bool:
    # a variable, a mask or a placeholder in a URL's password place (postgres://app:${DB_PASSWORD}@db) is kept
    return not keep_value(value)


_DIGIT = re.compile(r"\d")
_B64 = r"[A-Za-z0-9+/=]"
_RULES: tuple[Rule, ...] = (
    Rule("private_key", re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,.-]*)", re.S), _key_material),
    Rule("putty_private_key", re.compile(r"(?m)^Private-Lines: *\d+\r?\n(?P<s>(?:" + _B64 + r"+\r?\n?)+)")),
    Rule("aws_secret_access_key",
         re.compile(r"(?<![\w/+=.~-])(?P<s>[A-Za-z0-9/+]{40})(?![\w/+=~-])"), _aws_secret),
    Rule("azure_sas_signature", re.compile(r"(?i)[?&;]sig=(?P<s>[A-Za-z0-9%+/=]{16,})")),
    Rule("azure_account_key", re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey)=(?P<s>[A-Za-z0-9+/=]{20,})")),
    Rule("telegram_bot_token", re.compile(r"(?<!\d)\d{8,10}:AA[A-Za-z0-9_-]{31,33}(?![\w-])")),
    Rule("bearer_token", re.compile(
        r"(?i)\bbearer\s+(?P<s>(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{12,}=*)")),
    Rule("basic_auth", re.compile(r"(?i)\bbasic\s+(?P<s>[A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])"),
         _basic_credentials),
    Rule("url_password", re.compile(
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@\"'<>\[]*:(?P<s>[^\s/\"'<>]+)@(?=[\w\[])"), _url_password,
         needs=("@",)),
    Rule("slack_webhook", re.compile(
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9/_-]{20,})")),
    Rule("discord_webhook", re.compile(
        r"https://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/(?P<s>\d{17,20}/[\w-]{60,80})")),
    Rule("teams_webhook", re.compile(r"\.webhook\.office\.com/webhookb2/(?P<s>[\w@/-]{80,})")),
    Rule("firebase_fcm_key", re.compile(r"\bAAAA[\w-]{7}:APA91b[\w-]{100,}")),
    Rule("rancher_token", re.compile(r"\btoken-[a-z0-9]{5}:[a-z0-9]{54}\b")),
    Rule("braintree_token", re.compile(r"access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}")),
    Rule("password_hash", re.compile(
        r"\$(?:1|2[abxy]?|5|6|apr1|y|gy|7|8|9|md5|sha1)\$[./A-Za-z0-9$=,+]{8,}"
        r"|\$argon2(?:id|i|d)\$v=\d+\$[^\s:\"']+"
        r"|\{(?:SSHA|SHA|SMD5|MD5|SSHA256|SSHA512|CRYPT|PBKDF2[-\w]*)\}[A-Za-z0-9+/=.$]{8,}"
        r"|SCRAM-SHA-(?:1|256)\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+"
        r"|(?<![\w*])\*[0-9A-F]{40}(?![\w])")),
    # Windows answer files: <AdministratorPassword> (<Password>, <AutoLogon><Password>...) holding <Value>x</Value>,
    # on the same line or the next ones
    Rule("password", re.compile(
        r"(?i)<[\w.:-]*(?:password|passwd|passphrase|secret|credential)[\w.:-]*(?:[ \t][^<>]*)?>\s*"
        r"<value>(?P<s>[^<\n]+)</value>"), _url_password),
    # BitLocker recovery keys, eight groups of six digits, in a text that says what they are
    Rule("recovery_key", re.compile(r"(?<![\d-])\d{6}(?:-\d{6}){7}(?![\d-])")),
)

# Literal fragments every match contains (lower case): a rule whose fragments are all absent is skipped.
_HINTS: dict[str, tuple[str, ...]] = {
    "private_key": ("private key",),
    "password": ("<value>",),
    "recovery_key": ("recovery", "bitlocker"),
    "putty_private_key": ("private-lines",),
    "azure_sas_signature": ("sig=",),
    "azure_account_key": ("accountkey=", "sharedaccesskey="),
    "slack_webhook": ("hooks.slack.com",),
    "discord_webhook": ("/api/webhooks/",),
    "teams_webhook": ("webhook.office.com",),
    "firebase_fcm_key": (":apa91b",),
    "rancher_token": ("token-",),
    "braintree_token": ("access_token$",),
    "telegram_bot_token": (":aa",),
    "bearer_token": ("bearer",),
    "basic_auth": ("basic",),
    "url_password": ("://",),
    "password_hash": (
        "$1$", "$2$", "$2a$", "$2b$", "$2x$", "$2y$",
        "$5$", "$6$", "$apr1$", "$y$", "$gy$", "$7$", "$md5", "$sha1", "$argon2", "{ssha",
        "scram-sha-", "*", "{sha", "{smd5", "{md5", "{crypt", "{pbkdf2",
    ),
}
RULES: tuple[Rule, ...] = tuple(replace(rule, hints=_HINTS.get(rule.name, ())) for rule in _RULES)
# an SMTP AUTH LOGIN transcript (swaks, openssl s_client): the client's line after the server's "334 UGFzc3dvcmQ6"
# (base64 of "Password:") is the base64 of the password
RULES += (Rule("password", re.compile(r"(?m)\b334 UGFzc3dvcmQ6[ \t\r]*\n[ \t]*(?:[A-Z]:[ \t]*|<-*[ \t]*|[>~*]+[ \t]*)?"
                                      r"(?P<s>[A-Za-z0-9+/]{4,}={0,2})[ \t\r]*$"), hints=("ugfzc3dvcmq6",)),)
