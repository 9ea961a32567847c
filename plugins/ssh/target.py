"""The ``ssh`` target: one lazily opened connection per host per run, batches of probe calls per round trip.

Opening a target never connects (so names are checked before anything touches the network); the first
collection does, and a host that cannot be reached raises :class:`TargetError` once and again on every later
collection without retrying: the engine turns it into one ``target.reachable`` error finding for that host.

Calls of steps with ``become: sudo`` (or on a host with ``become: sudo``, unless the step says ``become: false``)
run in their own round trip under sudo; the others without it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from medic.core.hosts import Host
from medic.core.target import Target
from medic.kernel.errors import TargetError
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec
from medic.plugins.ssh.inventory import HostConfig

if TYPE_CHECKING:
    from medic.plugins.ssh.connection import Connection


class SSHTarget(Target):
    kind = "ssh"
    live = True

    def __init__(self, host: HostConfig, probes: Mapping[str, ProbeSpec]) -> None:
        meta = {"address": host.address, "port": host.port, "user": host.user, "hostname": host.address,
                "groups": list(host.groups)}
        super().__init__(host.name, {**meta, **host.vars})
        self.host = host
        self.probes = probes
        self._conn: Connection | None = None
        self._failure: TargetError | None = None
        self._opening = threading.Lock()  # batches with and without sudo are collected at once: one connection
        self.round_trips = 0

    def connection(self) -> Connection:
        with self._opening:
            if self._failure is not None:
                raise self._failure
            if self._conn is None:
                from medic.plugins.ssh.connection import Connection  # paramiko is imported here, not before

                try:
                    self._conn = Connection(self.host).open()
                except TargetError as exc:
                    self._failure = exc
                    raise
            return self._conn

    def change_host(self) -> Host:
        """Change steps run in the host's python3 over this target's connection."""
        from medic.plugins.ssh.hostcall import SSHHost

        return SSHHost(self.host, self.connection)

    def _effective(self, call: ProbeCall) -> ProbeCall:
        return call.with_become(self.host.uses_sudo(call.become))

    def _batches(self, calls: list[ProbeCall]) -> list[list[ProbeCall]]:
        """One round trip without sudo, one with it: collected at the same time."""
        return [b for b in ([c for c in calls if not c.become], [c for c in calls if c.become]) if b]

    def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        from medic.plugins.ssh import remote

        out: dict[ProbeCall, ProbeResult] = {}
        for batch in self._batches(calls):
            conn = self.connection()
            self.round_trips += 1
            try:
                out.update(remote.collect(conn, batch, self.probes, become=bool(batch[0].become)))
            except TargetError as exc:
                self._failure = exc
                self.close()
                raise
        return out

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "address": f"{self.host.address}:{self.host.port}"}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
