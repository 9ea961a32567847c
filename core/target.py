"""Targets: where probe data comes from (this machine, an SSH host, a collected bundle).

A target answers batches of probe calls so a remote one can collect many in one round trip, and caches results
for the run so steps that ask for the same data do not collect it twice.

A step with ``become:`` sees its target through :meth:`Target.for_step`: the probe calls it makes carry the
step's ``become``, and each target decides what that means (:meth:`Target._effective`): an SSH host runs them
with or without sudo, in separate round trips; collected data ignores it. The call as the target runs it is
the cache key, so a result collected with privileges is never handed to a step without them, or the reverse.
"""

from __future__ import annotations

import contextvars
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from medic.core import deadline
from medic.core.hosts import Host, Reopen
from medic.kernel.errors import TargetError
from medic.kernel.futures import Future, wait
from medic.kernel.masking import masked
from medic.kernel.models import ProbeCall, ProbeResult


class Target(ABC):
    kind: str = "target"
    live: bool = True  # False for collected data: checks that need a live machine report skipped
    # How long prefetch() waits for its batches (None: until done). A remote target waits, so that an unreachable
    # host is known before any step runs; the local one does not: a slow probe is then bounded by its step's timeout.
    prefetch_wait: float | None = None
    # True: the calls of a step with a timeout are not prefetched but collected when the step runs, under its
    # deadline (medic.core.deadline), which can stop them; the local target runs them as killable processes.
    deadline_bound: bool = False

    def __init__(self, name: str, variables: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.vars: dict[str, Any] = dict(variables or {})
        self._cache: dict[ProbeCall, ProbeResult] = {}
        self._pending: dict[ProbeCall, Future[Mapping[ProbeCall, ProbeResult]]] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def _collect(self, calls: list[ProbeCall]) -> Mapping[ProbeCall, ProbeResult]:
        """Produce results for ``calls`` (none of them cached yet). Must return one result per call."""

    def _effective(self, call: ProbeCall) -> ProbeCall:
        """``call`` as this target runs it (and caches it): here ``become`` means nothing, so it is dropped.
        Targets that can escalate keep it, resolved against their own setting."""
        return call.with_become(None)

    def become_problem(self, become: bool | None) -> str | None:
        """Why a step with this ``become`` cannot run here (the step reports it as an error), or None."""
        return None

    def for_step(self, become: bool | None) -> Target:
        """This target as a step with ``become:`` sees it; itself when the step does not say."""
        return self if become is None else BecomeView(self, become)

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
                # in a copy of the caller's context: a step's deadline reaches the probes it starts
                threading.Thread(target=contextvars.copy_context().run, args=(self._run_batch, batch, future),
                                 daemon=True, name=f"probe-{self.name}").start()
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
        asked = {call: self._effective(call) for call in calls}
        wanted = list(dict.fromkeys(asked.values()))
        if fresh:
            self._forget(wanted)
        self._start(wanted)
        step_deadline = deadline.current()
        if step_deadline is not None:  # a timed-out step's calls are forgotten: a retry probes again
            step_deadline.on_expiry(lambda: self._forget(wanted))
        out: dict[ProbeCall, ProbeResult] = {}
        for call in wanted:
            cached = self._cache.get(call)
            if cached is None:
                future = self._pending[call]
                cached = future.result()[call]
                with self._lock:
                    if not deadline.expired():
                        self._cache[call] = cached
                    if self._pending.get(call) is future:
                        del self._pending[call]
            out[call] = cached
        return {call: out[effective] for call, effective in asked.items()}

    def _forget(self, calls: Iterable[ProbeCall]) -> None:
        with self._lock:
            for call in calls:
                self._cache.pop(call, None)
                self._pending.pop(call, None)

    def prefetch(self, calls: Iterable[ProbeCall]) -> None:
        """Start collecting ``calls``; wait up to ``prefetch_wait``. Raises what a finished batch raised."""
        futures = self._start(self._effective(call) for call in calls)
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


class BecomeView(Target):
    """A target as one step with ``become:`` sees it: every probe call the step makes that does not say
    otherwise carries the step's ``become``. Results, cache and connection stay the target's own."""

    def __init__(self, target: Target, become: bool) -> None:
        super().__init__(target.name, target.vars)
        self.target = target
        self.become = become
        self.kind, self.live, self.prefetch_wait = target.kind, target.live, target.prefetch_wait
        self.deadline_bound = target.deadline_bound

    def _tagged(self, calls: Iterable[ProbeCall]) -> dict[ProbeCall, ProbeCall]:
        return {c: c if c.become is not None else c.with_become(self.become) for c in calls}

    def _collect(self, calls: list[ProbeCall]) -> Mapping[ProbeCall, ProbeResult]:
        return self.collect(calls)

    def collect(self, calls: Iterable[ProbeCall], *, fresh: bool = False) -> dict[ProbeCall, ProbeResult]:
        tagged = self._tagged(calls)
        got = self.target.collect(tagged.values(), fresh=fresh)
        return {call: got[t] for call, t in tagged.items()}

    def prefetch(self, calls: Iterable[ProbeCall]) -> None:
        self.target.prefetch(self._tagged(calls).values())

    def become_problem(self, become: bool | None) -> str | None:
        return self.target.become_problem(become)

    def for_step(self, become: bool | None) -> Target:
        return self.target.for_step(become)

    def describe(self) -> dict[str, Any]:
        return self.target.describe()

    def change_host(self) -> Host:
        """The target's host as it is set up: change steps ask it for the step's ``become`` themselves."""
        return self.target.change_host()

    def close(self) -> None:
        """The target is the run's to close, not one step's."""


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
