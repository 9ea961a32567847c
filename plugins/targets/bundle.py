"""``bundle:PATH``: a target that answers probe calls from a collected bundle instead of a live machine.

A call the bundle holds returns the stored result unchanged; any other call is ``unavailable`` (the check
reports ``skipped``) with ``error`` starting "not collected in this bundle" and saying why when known.
Reading is the kernel's one bundle reader (:mod:`medic.kernel.bundle`), imported when a bundle is opened so
that commands which open none do not pay for it at start-up.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medic.core.target import Target, TargetContext, TargetKind
from medic.kernel.models import ProbeCall, ProbeResult

if TYPE_CHECKING:
    from medic.kernel.bundle.reader import Limits

NOT_COLLECTED = "not collected in this bundle"


class BundleTarget(Target):
    kind = "bundle"
    live = False

    def __init__(self, path: str | Path, *, name: str | None = None,
                 variables: Mapping[str, Any] | None = None, limits: Limits | None = None,
                 live_probes: Collection[str] = ()) -> None:
        from medic.kernel.bundle.reader import open_bundle

        self.path = Path(path)
        with open_bundle(self.path, limits) as bundle:  # verified in full; results are small, kept in memory
            self.manifest = bundle.manifest
            self._results = bundle.probe_results()
        super().__init__(name or f"bundle:{self.path.name}", variables)
        self._live_probes = frozenset(live_probes)
        self._skipped = {s.item: s.reason for s in self.manifest.skipped}

    def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        return {call: self._results.get(call) or self._missing(call) for call in calls}

    def _missing(self, call: ProbeCall) -> ProbeResult:
        reason = (self._skipped.get(f"probe:{call.key}") or self._skipped.get(f"probe:{call.probe}")
                  or ("it needs a live machine" if call.probe in self._live_probes else ""))
        error = f"{NOT_COLLECTED}: {reason}" if reason else NOT_COLLECTED
        return ProbeResult(call.probe, call.params, ok=False, error=error, unavailable=True)

    def describe(self) -> dict[str, Any]:
        m = self.manifest
        return {**super().describe(), "path": str(self.path), "host": m.host, "collected_at": m.finished_at,
                "agent_version": m.agent_version, "format_version": m.format_version, "probes": len(m.probes)}


def open_bundle_target(spec: str, ctx: TargetContext) -> list[Target]:
    """``bundle:PATH`` (or just ``PATH``) -> one BundleTarget; caps from ``ctx.config["bundle"]`` if given."""
    from medic.kernel.bundle.reader import Limits

    path = Path(spec.removeprefix("bundle:")).expanduser()
    caps = ctx.config.get("bundle", {}) if isinstance(ctx.config.get("bundle"), Mapping) else {}
    limits = Limits(**{k: int(v) for k, v in caps.items() if k in Limits.__dataclass_fields__})
    live = [name for name, spec_ in ctx.probes.items() if getattr(spec_, "live", False)]
    return [BundleTarget(path, limits=limits, live_probes=live)]


BUNDLE = TargetKind("bundle", open_bundle_target, "probe results collected by medic-agent into a bundle "
                                                  "(bundle:PATH); checks run offline")
