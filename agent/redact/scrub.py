"""The scrubber: text members and structured probe results (any JSON value) in, secrets out.

Fail closed: values of unknown types are turned into strings and scrubbed; a sensitive key redacts every
string or number below it; an argv list redacts the argument after ``--password``-like options.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from medic.agent.redact.keys import TAG, keep_value, sensitive_key
from medic.agent.redact.named import named_values
from medic.agent.redact.pseudo import Pseudonymiser, SecretLabels, each_string
from medic.agent.redact.tables import secret_cells
from medic.agent.redact.text import TextScrubber
from medic.kernel.errors import MedicError
from medic.kernel.models import ProbeResult

_OPTION = re.compile(r"--?(?P<key>[A-Za-z][\w-]*)")
# Clients whose password option has a short name no key rule reads: program (the start of its name, so mysqldump
# and mongosh count) -> the option, and whether the client also takes the value attached to it (-pX).
# (--password and redis-cli's --pass are found by their key name, like any other option.)
_CLIENT_OPTIONS: tuple[tuple[str, str, bool], ...] = (
    ("sshpass", "-p", True), ("mysql", "-p", True), ("mariadb", "-p", True),
    ("mongo", "-p", True),  # mongo, mongosh, mongodump...: -p X and -pX (mongod, mongos: no -p option at all)
    ("redis-cli", "-a", False),  # redis-cli takes -a X only; "-aX" is an unknown option to it
    ("rdesktop", "-p", False), ("racadm", "-p", False), ("psexec", "-p", False), ("paexec", "-p", False),
    ("ipmitool", "-P", False), ("mosquitto_", "-P", False), ("zip", "-P", False), ("unzip", "-P", False),
    ("7z", "-p", True), ("rar", "-p", True), ("unrar", "-p", True),
)
_PAIR_NAMES = ("name", "key", "Name", "Key")


class RedactionError(MedicError):
    """Scrubbing failed; the member must be left out of the bundle (fail closed)."""


class Scrubber:
    """Scrubs text and values, counting replacements per rule; optionally pseudonymises afterwards.

    ``summary()`` gives counts per rule (never values); the pseudonym mapping stays on the
    :class:`Pseudonymiser` and must never go into a bundle.
    """

    def __init__(self, pseudonymiser: Pseudonymiser | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.labels = SecretLabels()  # one Scrubber per bundle: the same secret, the same number everywhere
        self._text = TextScrubber(self.counts, self.labels)
        self.pseudonymiser = pseudonymiser

    def summary(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))

    def scrub_text(self, text: str, path: str = "") -> str:
        try:
            out = self._repeated(self._text.scrub(self._tables(text, path), path))
            return self.pseudonymiser.text(out) if self.pseudonymiser else out
        except Exception as exc:  # fail closed: the caller leaves this member out and says why
            # only the exception's type: its message might quote the text being scrubbed
            raise RedactionError(f"could not scrub {path or 'text'} ({type(exc).__name__})") from exc

    def scrub_bytes(self, data: bytes, path: str = "") -> bytes:
        """Scrub bytes as UTF-8; undecodable bytes survive unchanged around the scrubbed text."""
        text = self.scrub_text(data.decode("utf-8", "surrogateescape"), path)
        return text.encode("utf-8", "surrogateescape")

    def again_text(self, text: str) -> str:
        """``text`` (scrubbed before) with the secrets found since then redacted where they stand in it too.

        The writer of a bundle calls this (or :meth:`again_value`) on every member once all are scrubbed: a
        password found in the last file is then redacted in the first as well."""
        return self._repeated(text)

    def again_value(self, value: Any) -> Any:
        """:meth:`again_text` for every string of a JSON value (its keys too)."""
        return each_string(value, self._repeated) if len(self.labels.known) else value

    def again_result(self, result: ProbeResult) -> ProbeResult:
        return replace(result, params=self.again_value(result.params), data=self.again_value(result.data),
                       error=None if result.error is None else self._repeated(result.error))

    def _tables(self, text: str, path: str) -> str:
        """Cells under a secret column's header (:mod:`~medic.agent.redact.tables`) and the text of XML elements
        named by a secret key (:mod:`~medic.agent.redact.named`), redacted first."""
        cells = secret_cells(text, path) + named_values(text)
        if not cells:
            return text
        out: list[str] = []
        pos = 0
        for start, end, rule in sorted(cells):
            if start >= pos:
                out += [text[pos:start], self._tag(rule, text[start:end])]
                pos = end
        return "".join(out) + text[pos:]

    def _repeated(self, text: str) -> str:
        return self.labels.known.redact(text, self._count)

    def _count(self, rule: str) -> None:
        self.counts[rule] += 1

    def scrub_value(self, value: Any) -> Any:
        """Scrub any JSON value: dict keys name secrets, strings are scrubbed as text, structure is kept."""
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, Mapping):
            return self._mapping(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            return self._sequence([*value])
        return self.scrub_text(str(value))

    def scrub_result(self, result: ProbeResult) -> ProbeResult:
        """A copy of ``result`` with params, data and error scrubbed."""
        return replace(
            result,
            params=self._mapping(result.params),
            data=self.scrub_value(result.data),
            error=None if result.error is None else self.scrub_text(result.error),
        )

    # -- structure --
    def _mapping(self, value: Mapping[Any, Any]) -> dict[str, Any]:
        pair_rule = self._pair_rule(value)
        out: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = self.scrub_text(str(raw_key))
            rule = sensitive_key(str(raw_key)) or (pair_rule if raw_key in ("value", "Value") else None)
            out[key] = self._redact_all(item, rule, str(raw_key)) if rule else self.scrub_value(item)
        return out

    @staticmethod
    def _pair_rule(value: Mapping[Any, Any]) -> str | None:
        """``{"name": "DB_PASSWORD", "value": "x"}`` (Kubernetes env, app.config): the value is a secret."""
        for field in _PAIR_NAMES:
            name = value.get(field)
            if isinstance(name, str) and ("value" in value or "Value" in value):
                return sensitive_key(name)
        return None

    def _redact_all(self, value: Any, rule: str, key: str = "") -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, Mapping):
            return {self.scrub_text(str(k)): self._redact_all(v, rule) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self._redact_all(v, rule) for v in value]
        if isinstance(value, str) and keep_value(value, key):
            return value
        return self._tag(rule, str(value))

    def _tag(self, rule: str, secret: str) -> str:
        self.counts[rule] += 1
        return self.labels.tag(rule, secret)

    def _sequence(self, items: list[Any]) -> list[Any]:
        """Scrub a list; in an argv-like list the argument after a secret option is redacted as well."""
        out = [self.scrub_value(v) for v in items]
        program = PurePosixPath(items[0]).name if items and isinstance(items[0], str) else ""
        short, attached = next(((o, a) for name, o, a in _CLIENT_OPTIONS if program.startswith(name)), ("", False))
        for i, option in enumerate(items):
            if not isinstance(option, str):
                continue
            if attached and option.startswith(short) and option != short:  # mysql -pSECRET, the last argument too
                if not TAG.search(out[i]):
                    out[i] = short + self._tag("password", option[2:])
                continue  # the password was in this argument (redacted now or before): the next one is not it
            following = out[i + 1] if i + 1 < len(out) else None
            if not isinstance(following, str) or TAG.fullmatch(following):
                continue
            match = _OPTION.fullmatch(option)
            rule = sensitive_key(match.group("key")) if match and not option.startswith("--no-") else None
            if short and option == short:
                rule = "password"
            if rule and not following.startswith("-") and not keep_value(following):
                out[i + 1] = self._tag(rule, following)
        return out
