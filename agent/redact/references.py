"""Values that stand for a secret without being one: masks, documented examples, and references to where the
secret is kept (a secret manager, the environment, a variable of the program). Found on an independent corpus
(redact-secret's benchmarks, bench/README-redaction.md), each class is kept only whole and only in its strict
grammar; anything else in the value, or a random-looking part where a name belongs, and it is redacted whole.

- a mask: mask characters only (``********``, ``••••``, ``-x-``, shadow's ``!`` and ``!*``), x's only
  (``xxxx-xxxx``), not a mask with a letter x at an end (``********x`` may be the password's last letter);
- AWS's documented example keys: the documentation's shape only, an access key id whose last 7 characters and a
  40-character secret key whose last 10 are the word ``EXAMPLE`` (``EXAMPLEKEY``). A real id is random base32:
  the chance of that tail is 32**-7. Not any value holding EXAMPLE: a person's password may (``MyEXAMPLE1``);
- a secret-manager reference: bank-vaults ``vault:path/to#field``, vals ``ref+vault://path#/field``, 1Password
  ``op://vault/item/field``, an AWS Secrets Manager ARN (its account 12 digits), Azure Key Vault's
  ``@Microsoft.KeyVault(...)``, GCP's ``projects/P/secrets/S[/versions/V]``, LiteLLM's ``os.environ/NAME``;
- an environment lookup by an upper-case name: ``%NAME%``, ``{env:NAME}``, ``#{ENV['NAME']}``,
  ``os.environ["NAME"]``, ``os.getenv("NAME")``, ``std::env::var("NAME")``, ``process.env.NAME``;
- a code expression naming a secret: ``settings.DATABASE_PASSWORD``, ``cfg.RedisPassword``,
  ``random_password.db.result``: dotted identifiers, the first in lower case, one of them a compound name
  (snake_case, camelCase or upper case with ``_``) that names a secret; a SQL bind parameter ``:new_password``.
  A person's password rarely has that form (``my.password`` and ``Summer.Password2`` do not: redacted).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MASK_MARKS = frozenset("*#.-!\u2022\u25cf")  # and the letter x: "x" (passwd), "xxxx-xxxx", "-x-"
_AWS_EXAMPLE = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{9}EXAMPLE|[A-Za-z0-9/+]{30}EXAMPLEKEY")
_SEGMENT = r"[\w.-]{1,64}"
_NAME = r"[A-Z_][A-Z0-9_]{0,80}"
_MANAGER = re.compile(
    rf"vault:(?P<v>{_SEGMENT}(?:/{_SEGMENT})+)(?:#{_SEGMENT}(?:#\d+)?)?"
    rf"|ref\+[a-z0-9]{{2,20}}://(?P<r>{_SEGMENT}(?:/{_SEGMENT})*)(?:#/?{_SEGMENT}(?:/{_SEGMENT})*)?"
    r"|op://(?P<o>[\w .-]{1,64}(?:/[\w .-]{1,64}){2,3})"
    r"|arn:aws[\w-]{0,10}:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[\w/+=.@-]{1,512}"
    r"|@Microsoft\.KeyVault\((?:SecretUri=https://[\w.-]{1,255}/secrets/[\w-]{1,127}(?:/[\w-]{0,64})?"
    r"|VaultName=[\w-]{1,64};\s*SecretName=[\w-]{1,127}(?:;\s*SecretVersion=\w{1,64})?)\)"
    rf"|projects/[\w-]{{1,64}}/secrets/[\w-]{{1,255}}(?:/versions/(?:latest|\d{{1,9}}))?"
    rf"|os\.environ/{_NAME}")
_ENVIRONMENT = re.compile(
    rf"%{_NAME}%|\{{env:{_NAME}\}}|#\{{ENV\[(?P<q1>[\"']){_NAME}(?P=q1)\]\}}"
    rf"|(?:os\.environ\[|os\.environ\.get\(|os\.getenv\(|(?:std::)?env::var\(|ENV\[|ENV\.fetch\(|process\.env\[|getenv\()"
    rf"(?P<q2>[\"']){_NAME}(?P=q2)[\])]|process\.env\.{_NAME}")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]{0,60}"
_EXPRESSION = re.compile(rf"[a-z_][a-z0-9_]{{0,40}}(?:\.{_IDENT}){{1,5}}|:(?P<bind>[a-z_][a-z0-9_]{{2,60}})")
_COMPOUND = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+|[a-z]+(?:[A-Z][a-z0-9]+)+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+"
                       r"|[A-Z0-9]+(?:_[A-Z0-9]+)+")


def masked(value: str) -> bool:
    if not value or not set(value) <= _MASK_MARKS | {"x", "X"} or ("X" in value and len(value) < 3):
        return False  # (one or two capital X: a one-letter password, not the documentation's XXXX)
    return not value.strip("xX-") or (value[0] not in "xX" and value[-1] not in "xX")


def documented_example(value: str) -> bool:
    return _AWS_EXAMPLE.fullmatch(value) is not None


def reference(value: str, names_secret: Callable[[str], object]) -> bool:
    """``value`` (stripped) points to a secret kept elsewhere; ``names_secret``: whether a name names a secret."""
    manager = _MANAGER.fullmatch(value)
    if manager is not None:
        path = manager.group("v") or manager.group("r") or manager.group("o") or ""
        return not any(_random_part(part) for part in re.split(r"[/#]", path))
    if _ENVIRONMENT.fullmatch(value):
        return True
    expression = _EXPRESSION.fullmatch(value)
    if expression is None:
        return False
    parts = [expression.group("bind")] if expression.group("bind") else value.split(".")
    if any(_random_part(part) for part in parts):
        return False
    return any(_COMPOUND.fullmatch(part) and names_secret(part) for part in parts)


def _random_part(name: str) -> bool:
    """Upper, lower and digits in one part of 8 or more, or 24 characters or more without a separator: generated,
    not named (``YmWZt6hh...``; ``DATABASE_PASSWORD`` and ``anthropicApiKey`` are names)."""
    mixed = any(c.isupper() for c in name) and any(c.islower() for c in name) and any(c.isdigit() for c in name)
    return (mixed and len(name) >= 8) or (len(name) >= 24 and not re.search(r"[_.-]", name))
