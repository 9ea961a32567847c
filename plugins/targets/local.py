"""The ``local`` target: runs probes in this process, on this machine.

medic does not escalate its own privileges: a step with ``become: sudo`` runs as usual when medic runs as root,
and otherwise reports one ``error`` finding saying so (its probes are not run unprivileged in its place).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from medic.core.deadline import run_probe_bounded
from medic.core.hosts import Host
from medic.core.target import Target, TargetContext, TargetKind
from medic.kernel.errors import UsageError
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec
from medic.plugins.change.safety.hosts import LOCAL_HOST, local_become_problem


class LocalTarget(Target):
    kind = "local"
    live = True
    prefetch_wait = 0.0  # probes run in the background; each step waits for its own data, under its timeout
    deadline_bound = True  # a step with a timeout runs its probes as processes its deadline kills

    def __init__(self, probes: Mapping[str, ProbeSpec], name: str = "local",
                 variables: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, {"hostname": _hostname(), **(variables or {})})
        self.probes = probes

    def change_host(self) -> Host:
        return LOCAL_HOST

    def become_problem(self, become: bool | None) -> str | None:
        return local_become_problem(become)

    def _effective(self, call: ProbeCall) -> ProbeCall:
        """As root every call already runs with privileges; otherwise a become call stays apart (refused)."""
        return call.with_become(True if local_become_problem(call.become) else None)

    def _batches(self, calls: list[ProbeCall]) -> list[list[ProbeCall]]:
        return [[call] for call in calls]  # in parallel: one slow probe does not hold up the others

    def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        return {call: self._one(call) for call in calls}

    def _one(self, call: ProbeCall) -> ProbeResult:
        problem = local_become_problem(call.become)
        if problem:
            return ProbeResult(call.probe, call.params, False, None, problem)
        spec = self.probes.get(call.probe)
        if spec is None:
            return ProbeResult(call.probe, call.params, False, None, f"no probe named {call.probe!r} is installed")
        return run_probe_bounded(spec, call)


def _hostname() -> str:
    try:
        return os.uname().nodename  # what gethostname(2) answers, without importing socket (medic run's start-up)
    except AttributeError:  # no uname (Windows)
        import socket

        return socket.gethostname()


def _open(spec: str, ctx: TargetContext) -> list[Target]:
    if spec not in ("local", "local:", "localhost"):
        raise UsageError(f"target {spec!r}: the local target takes no arguments; use 'local'")
    return [LocalTarget(ctx.probes)]


LOCAL = TargetKind("local", _open, "this machine, probed in-process")
