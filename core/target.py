"""Targets: where probe data comes from (this machine, an SSH host, a collected bundle).

A target answers batches of probe calls so a remote one can collect many in one round trip, and caches results
for the run so steps that ask for the same data do not collect it twice.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

from medic.core.errors import TargetError
from medic.core.hosts import Host, Reopen
from medic.core.masking import masked
from medic.core.models import ProbeCall, ProbeResult


class Target(ABC):
    kind: str = "target"
    live: bool = True  # False for collected data: checks that need a live machine report skipped
    # How long prefetch() waits for its batches (None: until done). A remote target waits, so that an unreachable
    # host is known before any step runs; the local one does not: a slow probe is then bounded by its step's timeout.
    prefetch_wait: float | None = None

    def __init__(self, name: str, variables: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.vars: dict[str, Any] = dict(variables or {})
        self._cache: dict[ProbeCall, ProbeResult] = {}
        self._pending: dict[ProbeCall, Future[Mapping[ProbeCall, ProbeResult]]] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def _collect(self, calls: list[ProbeCall]) -> Mapping[ProbeCall, ProbeResult]:
        """Produce results for ``calls`` (none of them cached yet). Must return one result per call."""

    def _batches(self, calls: list[ProbeCall]) -> list[list[ProbeCall]]:
        """How uncached calls are split into batches collected concurrently: one batch (one round trip) here."""
        return [calls]

    def _start(self, calls: Iterable[ProbeCall]) -> list[Future[Mapping[ProbeCall, ProbeResult]]]:
        """Start collecting what is neither cached nor under way, each batch in a daemon thread (a stuck probe
        never keeps medic from exiting); return the futures that will hold ``calls``."""
        wanted = list(dict.fromkeys(calls))
        with self._lock:
            missing = [c for c in wanted if c not in self._cache and c not in self._pending]
            for batch in self._batches(missing) if missing else []:
                future: Future[Mapping[ProbeCall, ProbeResult]] = Future()
                for call in batch:
                    self._pending[call] = future
                threading.Thread(target=self._run_batch, args=(batch, future), daemon=True,
                                 name=f"probe-{self.name}").start()
            return list({id(f): f for c in wanted if (f := self._pending.get(c)) is not None}.values())

    def _run_batch(self, batch: list[ProbeCall], future: Future[Mapping[ProbeCall, ProbeResult]]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(dict(self._collect(batch)))
        except BaseException as exc:  # re-raised in the step (or prefetch) that waits for it
            future.set_exception(exc)

    def collect(self, calls: Iterable[ProbeCall], *, fresh: bool = False) -> dict[ProbeCall, ProbeResult]:
        """Results for ``calls``, waiting for collections under way (the caller's step timeout bounds the wait).

        ``fresh``: forget cached and in-flight results of these calls and probe again (a verification after a
        change must see the machine as it is now).
        """
        wanted = list(dict.fromkeys(calls))
        if fresh:
            with self._lock:
                for call in wanted:
                    self._cache.pop(call, None)
                    self._pending.pop(call, None)
        self._start(wanted)
        out: dict[ProbeCall, ProbeResult] = {}
        for call in wanted:
            cached = self._cache.get(call)
            if cached is None:
                future = self._pending[call]
                cached = future.result()[call]
                with self._lock:
                    self._cache[call] = cached
                    if self._pending.get(call) is future:
                        del self._pending[call]
            out[call] = cached
        return out

    def prefetch(self, calls: Iterable[ProbeCall]) -> None:
        """Start collecting ``calls``; wait up to ``prefetch_wait``. Raises what a finished batch raised."""
        futures = self._start(calls)
        done, _ = wait(futures, timeout=self.prefetch_wait)
        for future in done:
            future.result()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "live": self.live, "vars": masked(self.vars)}

    def change_host(self) -> Host:
        """Where change steps (backup, action, rollback) run for this target. Collected data cannot be
        changed; live targets override this."""
        raise TargetError(
            f"target {self.name} is {self.kind} data, not a machine: backups and changes need a live target "
            f"(local, or a host over SSH)"
        )

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
    reopen: Reopen | None = None  # a host again from its description (journal, catalogue): rollback, recover
