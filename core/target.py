"""Targets: where probe data comes from (this machine, an SSH host, a collected bundle).

A target answers batches of probe calls so a remote one can collect many in one round trip, and caches results
for the run so steps that ask for the same data do not collect it twice.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from medic.core.models import ProbeCall, ProbeResult


class Target(ABC):
    kind: str = "target"
    live: bool = True  # False for collected data: checks that need a live machine report skipped

    def __init__(self, name: str, variables: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.vars: dict[str, Any] = dict(variables or {})
        self._cache: dict[ProbeCall, ProbeResult] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def _collect(self, calls: list[ProbeCall]) -> Mapping[ProbeCall, ProbeResult]:
        """Produce results for ``calls`` (none of them cached yet). Must return one result per call."""

    def collect(self, calls: Iterable[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        wanted = list(dict.fromkeys(calls))
        with self._lock:  # one collection at a time per target keeps remote sessions simple and cache coherent
            missing = [c for c in wanted if c not in self._cache]
            if missing:
                self._cache.update(self._collect(missing))
            return {c: self._cache[c] for c in wanted}

    def prefetch(self, calls: Iterable[ProbeCall]) -> None:
        self.collect(calls)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "live": self.live, "vars": dict(self.vars)}

    def close(self) -> None:  # noqa: B027 - optional for targets holding no resources
        """Release connections or temporary files."""

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class TargetContext:
    """What a target kind may need to open targets: the probe registry, the loaded configuration, options."""

    probes: Mapping[str, Any]
    config: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetKind:
    """A way to open targets from a spec string; ``scheme`` is what comes before ``:`` (``ssh``, ``bundle``).

    The scheme ``inventory`` is special: it resolves bare names (``web,db01``) that carry no scheme.
    """

    scheme: str
    open: Callable[[str, TargetContext], list[Target]]
    description: str = ""
