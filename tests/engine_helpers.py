"""Shared by the engine tests: a target serving canned probe data (the engine's contract, not a mock of a real
component) and memory probe data."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from medic.core.target import Target
from medic.kernel.models import ProbeCall, ProbeResult


class FakeTarget(Target):
    """A target serving canned probe data (the engine's contract, not a mock of a real component)."""

    kind = "fixture"

    def __init__(self, data: Mapping[str, Any], live: bool = True, delay: float = 0.0) -> None:
        super().__init__("fixture")
        self.data = data
        self.live = live
        self.delay = delay
        self.batches: list[list[str]] = []

    def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        self.batches.append([c.key for c in calls])
        time.sleep(self.delay)
        out = {}
        for c in calls:
            value = self.data.get(c.probe)
            if isinstance(value, Exception):
                out[c] = ProbeResult(c.probe, c.params, False, None, str(value))
            elif value is None:
                out[c] = ProbeResult(c.probe, c.params, False, None, "not collected", unavailable=True)
            else:
                out[c] = ProbeResult(c.probe, c.params, True, value)
        return out


MEM = {"total_bytes": 8 * 1024**3, "available_bytes": 4 * 1024**3, "available_pct": 50.0,
       "swap_total_bytes": 0, "swap_used_bytes": 0, "swap_used_pct": 0.0}
