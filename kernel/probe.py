"""Probes: named, parameterised data sources. The only code that does I/O for checks.

A probe's ``collect`` function takes its parameters as keywords and returns JSON-serialisable data. The same
result record (:class:`~medic.kernel.models.ProbeResult`) is produced live, over SSH, or read back from a bundle,
so a check cannot tell where its data came from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.params import Param, ParamError, bind

CollectFn = Callable[..., Any]


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    collect: CollectFn
    params: tuple[Param, ...] = ()
    description: str = ""
    live: bool = False  # True: only meaningful on a live machine (tcp_connect); a bundle cannot answer it
    cost: int = 1  # rough relative cost; cheap probes are collected first under a time budget

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        return bind(self.params, given, owner=f"probe {self.name}")


def probe(
    name: str,
    *,
    params: Sequence[Param] = (),
    description: str = "",
    live: bool = False,
    cost: int = 1,
) -> Callable[[CollectFn], CollectFn]:
    """Decorator: attach a ProbeSpec to a collect function as ``fn.spec``."""

    def wrap(fn: CollectFn) -> CollectFn:
        doc = description or (fn.__doc__ or "").strip().splitlines()[0] if (description or fn.__doc__) else ""
        fn.spec = ProbeSpec(name, fn, tuple(params), doc, live, cost)  # type: ignore[attr-defined]
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
