"""Probes: named, parameterised data sources. The only code that does I/O for checks.

A probe's ``collect`` function takes its parameters as keywords and returns JSON-serialisable data. The same
result record (:class:`~medic.kernel.models.ProbeResult`) is produced live, over SSH, or read back from a bundle,
so a check cannot tell where its data came from.

Where a probe's data comes from a program's output, that is a :class:`Command`: the argv to run and a pure
``parse(output, params)`` (the pyinfra facts model), so the local probe, an SSH host without Python
(:mod:`medic.plugins.ssh.fallback`, which runs ``ProbeSpec.command``) and the recorded fixtures under
``tests/probes/fixtures`` share one parser.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.params import Param, ParamError, bind

CollectFn = Callable[..., Any]
ArgvFn = Callable[[Mapping[str, Any]], list[str]]
ParseFn = Callable[[str, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Command:
    """A program (argv, from the probe's bound parameters; never a shell with user data in it) and the pure
    function turning its standard output into the probe's data. ``parse`` raises ValueError, KeyError or
    IndexError on output it cannot read."""

    argv: ArgvFn
    parse: ParseFn

    @classmethod
    def fixed(cls, argv: Sequence[str], parse: ParseFn) -> Command:
        """A command whose argv does not depend on parameters."""
        constant = list(argv)
        return cls(lambda _params: list(constant), parse)


@dataclass(frozen=True)
class ProbeSpec:
    """A registered probe: the function that collects, its parameters, and where and how cheaply it runs."""
    name: str
    collect: CollectFn
    params: tuple[Param, ...] = ()
    description: str = ""
    live: bool = False  # True: only meaningful on a live machine (tcp_connect); a bundle cannot answer it
    cost: int = 1  # rough relative cost; cheap probes are collected first under a time budget
    command: Command | None = None  # what a host without Python runs instead (same data, one shared parser)

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        return bind(self.params, given, owner=f"probe {self.name}")


def probe(
    name: str,
    *,
    params: Sequence[Param] = (),
    description: str = "",
    live: bool = False,
    cost: int = 1,
    command: Command | None = None,
) -> Callable[[CollectFn], CollectFn]:
    """Decorator: attach a ProbeSpec to a collect function as ``fn.spec``."""

    def wrap(fn: CollectFn) -> CollectFn:
        doc = description or (fn.__doc__ or "").strip().splitlines()[0] if (description or fn.__doc__) else ""
        fn.spec = ProbeSpec(name, fn, tuple(params), doc, live, cost, command)  # type: ignore[attr-defined]
        return fn

    return wrap


def run_probe(spec: ProbeSpec, call: ProbeCall) -> ProbeResult:
    """Run one probe here and now; any exception becomes a failed result, never escapes."""
    started = time.monotonic()
    params = call.params
    try:
        values = spec.bind(params)
        data = spec.collect(**values)
        return ProbeResult(spec.name, params, True, data, duration_s=time.monotonic() - started)
    except ProbeUnavailable as exc:
        return ProbeResult(spec.name, params, False, None, str(exc), True, time.monotonic() - started)
    except ParamError as exc:
        return ProbeResult(spec.name, params, False, None, str(exc), duration_s=time.monotonic() - started)
    except Exception as exc:  # a probe must never take the run down; the check reports the error
        message = f"{type(exc).__name__}: {exc}"
        return ProbeResult(spec.name, params, False, None, message, duration_s=time.monotonic() - started)
