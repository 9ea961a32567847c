"""``{{ expression }}`` templating of playbook parameters.

Rendering is a single pass over the playbook's own text: values substituted in (inputs, step outputs, data that
came from a machine) are never scanned for templates again, so collected text cannot inject expressions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from medic.core import expr

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)


def has_template(value: Any) -> bool:
    """Whether ``value`` holds a template anywhere (a string, or inside a list or mapping)."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, Mapping):
        return any(has_template(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_template(v) for v in value)
    return False


def expressions(value: Any) -> list[str]:
    """Every expression inside templates anywhere in ``value`` (for load-time validation)."""
    if isinstance(value, str):
        return [m.group(1).strip() for m in _TEMPLATE.finditer(value)]
    if isinstance(value, Mapping):
        return [e for v in value.values() for e in expressions(v)]
    if isinstance(value, (list, tuple)):
        return [e for v in value for e in expressions(v)]
    return []


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render templates in ``value`` (recursively). A string that is exactly one template keeps the native type."""
    if isinstance(value, str):
        whole = _TEMPLATE.fullmatch(value.strip())
        if whole and value.strip().count("{{") == 1:
            return expr.evaluate(whole.group(1), context)
        return _TEMPLATE.sub(lambda m: _text(expr.evaluate(m.group(1), context)), value)
    if isinstance(value, Mapping):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
