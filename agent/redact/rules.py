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


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    accept: Callable[[str], bool] | None = None  # extra test on the secret text; False keeps the match
    hints: tuple[str, ...] = ()  # lower case; the rule is skipped unless one occurs in the lower-cased text


def _basic_credentials(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _aws_secret(value: str) -> bool:
    mixed = all(any(test(c) for c in value) for test in (str.isupper, str.islower, str.isdigit))
    return (mixed and not value.startswith("/") and "//" not in value and value.count("/") <= 4)


_B64 = r"[A-Za-z0-9+/=]"
_RULES: tuple[Rule, ...] = (
    Rule("private_key", re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,.-]*)", re.S)),
    Rule("putty_private_key", re.compile(r"(?m)^Private-Lines: *\d+\r?\n(?P<s>(?:" + _B64 + r"+\r?\n?)+)")),
    Rule("age_secret_key", re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]{58}")),
    Rule("aws_access_key_id", re.compile(
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    Rule("aws_secret_access_key",
         re.compile(r"(?<![A-Za-z0-9/+=])(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"), _aws_secret),
    Rule("gcp_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    Rule("gcp_oauth_client_secret", re.compile(r"\bGOCSPX-[0-9A-Za-z_-]{28}")),
    Rule("gcp_access_token", re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}")),
    Rule("azure_client_secret", re.compile(
        r"(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])")),
    Rule("azure_sas_signature", re.compile(r"(?i)[?&;]sig=(?P<s>[A-Za-z0-9%+/=]{16,})")),
    Rule("azure_account_key", re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey)=(?P<s>[A-Za-z0-9+/=]{20,})")),
    Rule("github_token", re.compile(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    Rule("gitlab_token", re.compile(r"\bgl(?:pat|dt|rt|ptt|ft|imt|oas|cbt|soat|ffct)-[A-Za-z0-9_-]{20,}")),
    Rule("slack_token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}")),
    Rule("slack_webhook", re.compile(
        r"https://hooks\.slack\.com/(?:services|workflows)/(?P<s>[A-Za-z0-9/_-]{20,})")),
    Rule("stripe_key", re.compile(
        r"\b(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})\b")),
    Rule("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}")),
    Rule("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    Rule("pypi_token", re.compile(r"\bpypi-[A-Za-z0-9_-]{50,}")),
    Rule("openai_key", re.compile(r"\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    Rule("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    Rule("vault_token", re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}")),
    Rule("digitalocean_token", re.compile(r"\bdo[por]_v1_[a-f0-9]{64}\b")),
    Rule("docker_hub_token", re.compile(r"\bdckr_pat_[A-Za-z0-9_-]{20,}")),
    Rule("shopify_token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    Rule("twilio_key", re.compile(r"\bSK[0-9a-f]{32}\b")),
    Rule("mailgun_key", re.compile(r"\bkey-[0-9a-zA-Z]{32}\b")),
    Rule("mailchimp_key", re.compile(r"\b[0-9a-f]{32}-us\d{1,2}\b")),
    Rule("telegram_bot_token", re.compile(r"(?<!\d)\d{8,10}:AA[A-Za-z0-9_-]{33}\b")),
    Rule("atlassian_token", re.compile(r"\bATATT3[A-Za-z0-9_=-]{50,}")),
    Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    Rule("bearer_token", re.compile(
        r"(?i)\bbearer\s+(?P<s>(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{12,}=*)")),
    Rule("basic_auth", re.compile(r"(?i)\bbasic\s+(?P<s>[A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])"),
         _basic_credentials),
    Rule("url_password", re.compile(
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@\"'<>]*:(?P<s>[^\s/?#\"'<>]+)@(?=[\w\[])")),
    Rule("password_hash", re.compile(
        r"\$(?:1|2[abxy]?|5|6|apr1|y|gy|7|md5|sha1)\$[./A-Za-z0-9$=,]{8,}"
        r"|\$argon2(?:id|i|d)\$v=\d+\$[^\s:\"']+"
        r"|\{(?:SSHA|SHA|SMD5|MD5|SSHA256|SSHA512|CRYPT|PBKDF2[-\w]*)\}[A-Za-z0-9+/=.$]{8,}")),
)

# Literal fragments every match contains (lower case): a rule whose fragments are all absent is skipped.
_HINTS: dict[str, tuple[str, ...]] = {
    "private_key": ("private key",),
    "putty_private_key": ("private-lines",),
    "age_secret_key": ("age-secret-key",),
    "aws_access_key_id": ("akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "abia", "acca"),
    "gcp_api_key": ("aiza",),
    "gcp_oauth_client_secret": ("gocspx-",),
    "gcp_access_token": ("ya29.",),
    "azure_client_secret": ("q~",),
    "azure_sas_signature": ("sig=",),
    "azure_account_key": ("accountkey=", "sharedaccesskey="),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab_token": (
        "glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glimt-", "gloas-", "glcbt-", "glsoat-",
        "glffct-",
    ),
    "slack_token": ("xox",),
    "slack_webhook": ("hooks.slack.com",),
    "stripe_key": ("_live_", "_test_", "whsec_"),
    "sendgrid_key": ("sg.",),
    "npm_token": ("npm_",),
    "pypi_token": ("pypi-",),
    "openai_key": ("sk-",),
    "huggingface_token": ("hf_",),
    "vault_token": ("hvs.", "hvb.", "hvr."),
    "digitalocean_token": ("_v1_",),
    "docker_hub_token": ("dckr_pat_",),
    "shopify_token": ("shpat_", "shpca_", "shppa_", "shpss_"),
    "twilio_key": ("sk",),
    "mailgun_key": ("key-",),
    "mailchimp_key": ("-us",),
    "telegram_bot_token": (":aa",),
    "atlassian_token": ("atatt3",),
    "jwt": ("eyj",),
    "bearer_token": ("bearer",),
    "basic_auth": ("basic",),
    "url_password": ("://",),
    "password_hash": (
        "$1$", "$2", "$5$", "$6$", "$apr1$", "$y$", "$gy$", "$7$", "$md5", "$sha1", "$argon2", "{ssha",
        "{sha", "{smd5", "{md5", "{crypt", "{pbkdf2",
    ),
}
RULES: tuple[Rule, ...] = tuple(replace(rule, hints=_HINTS.get(rule.name, ())) for rule in _RULES)
