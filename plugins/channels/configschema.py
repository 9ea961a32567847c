"""The JSON Schema of the ``channels:`` section of medic's configuration (``channels.schema.json``, shipped with this
package): named instances, each a ``type``, optional ``events`` and the options of that type, secrets as references
(``env:NAME``, ``file:PATH``).

Checked before anything sends (``medic run``, ``fleet``, ``rollback``, ``recover``, ``channels test``) so that a
misspelt option is refused with the file, the line, the channel and the option (exit 2), not found after a run;
``medic channels schema`` prints it for editors and ``medic channels validate [FILE]`` checks a file. A type from a
plugin is not described here: its own ``check_options`` checks its options when it is used.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from medic.core import notify
from medic.core.config import config_path
from medic.kernel.errors import Issue, ValidationError
from medic.kernel.marks import schema_issues


@functools.cache
def schema() -> dict[str, Any]:
    from importlib import resources  # here: a run whose configuration names no channel does not import it

    text = resources.files("medic.plugins.channels").joinpath("channels.schema.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


@functools.cache
def _validator() -> Any:
    import jsonschema  # installed with Prefect; imported when a configuration names channels

    return jsonschema.Draft202012Validator(schema())


class _Said(NamedTuple):
    path: Any
    message: str


def _said(error: Any) -> _Said:
    """jsonschema quotes the value that failed ("'hunter2' does not match ..."): a literal secret or a chat URL
    (its credential) would be printed. A value with a description is reported by what was expected instead."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):  # at the option's own line
        known = error.schema.get("properties") or {}
        extra = next(k for k in error.instance if k not in known)
        takes = ", ".join(k for k in known if k not in ("type", "events")) or "no option"
        return _Said([*error.path, extra], f"unknown option {extra!r} of a {error.instance.get('type')} channel; "
                                           f"it takes {takes} (and events)")
    described = isinstance(error.schema, dict) and error.schema.get("description")
    if described and error.validator in ("pattern", "anyOf", "type", "minLength", "minItems", "maxItems"):
        return _Said(error.path, f"expected {described}")
    return _Said(error.path, error.message)


def problems(config: Mapping[str, Any], source: str) -> list[Issue]:
    """Every schema error of ``config``'s ``channels:`` section, at its line of ``source``."""
    section = config.get("channels")
    if not section:
        return []
    errors = [_said(e) for e in _validator().iter_errors(section)]
    return schema_issues(errors, section, source, prefix="channels")


def check(config: Mapping[str, Any], source: str | None = None) -> None:
    """Raise ValidationError (exit 2) listing every problem of the ``channels:`` section."""
    where = source or str(config_path())
    found = problems(config, where)
    if found:
        raise ValidationError(found, subject=where)


def checked_routes(session: Any, specs: Sequence[str]) -> list[notify.Route]:
    """The routes of ``specs`` (``--notify`` and ``notify:``), once the whole ``channels:`` section passed its schema;
    an unknown channel, a missing option or an unreadable secret raises UsageError (exit 2)."""
    check(session.config)
    return notify.resolve(specs, session.registry.channels, session.config)
