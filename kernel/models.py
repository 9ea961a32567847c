"""Plain, JSON-friendly records shared by the engine, targets, plugins and the agent (stdlib only)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from medic.kernel.compat import StrEnum


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


# Worst first: used to roll many statuses up into one.
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.WARN, Status.PASS, Status.SKIPPED)


def worst_status(statuses: Sequence[Status]) -> Status:
    for status in STATUS_ORDER:
        if status in statuses:
            return status
    return Status.SKIPPED


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Category(StrEnum):
    NETWORK = "network"
    HARDWARE = "hardware"
    SOFTWARE = "software"
    SECURITY = "security"
    CONFIGURATION = "configuration"


# Every text that goes into a finding, its evidence or an error keeps at most this many characters of its head
# and of its tail: a program that writes 80 MiB of stderr must not make an 80 MiB finding (and --json, the run
# history and the terminal table all repeat it).
TEXT_HEAD = TEXT_TAIL = 4096


def cap_text(text: str) -> str:
    """``text`` itself when short; else its head and tail around a note of how much was left out."""
    if len(text) <= TEXT_HEAD + TEXT_TAIL:
        return text
    omitted = len(text) - TEXT_HEAD - TEXT_TAIL
    return f"{text[:TEXT_HEAD]}\n… {omitted} characters omitted …\n{text[-TEXT_TAIL:]}"


def cap_texts(value: Any) -> Any:
    """``value`` with every string in it (mapping values and keys, list items) capped by :func:`cap_text`."""
    if isinstance(value, str):
        return cap_text(value)
    if isinstance(value, Mapping):
        return {cap_texts(k): cap_texts(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [cap_texts(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class ProbeCall:
    """A probe name with its parameters; hashable, and its ``key`` names the result in a bundle.

    ``become``: run the probe with privilege escalation (True), without (False), or as the target is set up
    (None). It is part of the call's identity, so a target never answers a call with a result collected with
    other privileges; it is not part of ``key`` (a bundle holds one result per probe and parameters).
    """

    probe: str
    params_json: str = "{}"
    become: bool | None = None

    @classmethod
    def make(cls, probe: str, params: Mapping[str, Any] | None = None, **kw: Any) -> ProbeCall:
        merged = {**(params or {}), **kw}
        return cls(probe, canonical_json({k: v for k, v in merged.items() if v is not None}))

    @property
    def params(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.params_json)
        return loaded

    @property
    def key(self) -> str:
        return self.probe if self.params_json == "{}" else f"{self.probe}{self.params_json}"

    def with_become(self, become: bool | None) -> ProbeCall:
        return self if self.become is become else replace(self, become=become)

    def __str__(self) -> str:
        return self.key if self.become is None else f"{self.key} (become: {'sudo' if self.become else 'false'})"


@dataclass
class ProbeResult:
    """What one probe call produced on one target: the unit a bundle stores and a check reads."""

    probe: str
    params: dict[str, Any]
    ok: bool
    data: Any = None
    error: str | None = None
    unavailable: bool = False  # True: the data cannot exist here (skipped), not a failure
    duration_s: float = 0.0

    @property
    def call(self) -> ProbeCall:
        return ProbeCall.make(self.probe, self.params)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ProbeResult:
        return cls(
            probe=str(raw["probe"]),
            params=dict(raw.get("params") or {}),
            ok=bool(raw["ok"]),
            data=raw.get("data"),
            error=raw.get("error"),
            unavailable=bool(raw.get("unavailable", False)),
            duration_s=float(raw.get("duration_s", 0.0)),
        )


@dataclass(frozen=True)
class Outcome:
    """What a check function returns: one verdict, optionally about one subject (a mount, a process...)."""

    status: Status
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    subject: str | None = None
    severity: Severity | None = None


def passed(summary: str, subject: str | None = None, **evidence: Any) -> Outcome:
    return Outcome(Status.PASS, summary, evidence, subject)


def warned(summary: str, subject: str | None = None, **evidence: Any) -> Outcome:
    return Outcome(Status.WARN, summary, evidence, subject)


def failed(summary: str, subject: str | None = None, **evidence: Any) -> Outcome:
    return Outcome(Status.FAIL, summary, evidence, subject)


def skipped(summary: str, subject: str | None = None, **evidence: Any) -> Outcome:
    return Outcome(Status.SKIPPED, summary, evidence, subject)


def errored(summary: str, subject: str | None = None, **evidence: Any) -> Outcome:
    return Outcome(Status.ERROR, summary, evidence, subject)


@dataclass
class Finding:
    """A verdict of one check on one target, with what a person needs to act on it."""

    check: str
    target: str
    status: Status
    severity: Severity
    category: Category
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remediation: str = ""
    step: str = ""
    subject: str | None = None

    def __post_init__(self) -> None:
        self.summary = cap_text(self.summary)
        self.remediation = cap_text(self.remediation)
        self.evidence = cap_texts(self.evidence)
        if self.subject is not None:
            self.subject = cap_text(self.subject)

    def to_dict(self) -> dict[str, Any]:
        # what dataclasses.asdict gives, at a fraction of its cost: every step's findings go through here
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["status"] = str(self.status)
        out["severity"] = str(self.severity)
        out["category"] = str(self.category)
        out["evidence"] = _copied(self.evidence)
        return out


def _copied(value: Any) -> Any:
    """A copy of the containers in ``value`` (the leaves are immutable JSON-like data and are shared)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copied(v) for v in value)
    return value
