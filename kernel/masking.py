"""Values whose names say they are secrets are masked wherever medic writes settings down (run history,
reports, the backup catalogue, journals)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "api_key", "apikey", "private_key",
                "credential")
MASK = "***"


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS) and not lowered.endswith(("_env", "_file"))


def masked(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with secret-named values (at any depth of nested mappings) replaced by ``***``."""
    return {k: MASK if is_secret_name(str(k)) else masked(v) if isinstance(v, Mapping) else v
            for k, v in values.items()}
