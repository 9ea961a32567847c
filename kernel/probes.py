"""The probe registry: every probe, built-in or third-party, found one way (entry-point group ``medic.probes``).

A distribution declares its probe modules, entry-point name -> module::

    [project.entry-points."medic.probes"]
    example = "medic_example.probes"

Every ``@probe``-decorated function of such a module is a probe. The engine, the SSH runner (which ships these
modules to a host), the endpoint agent and the bundle target all read this registry, with
:mod:`importlib.metadata` only (no pluggy), so the agent stays light and a third-party probe reaches a bundle.

The plugin a probe module belongs to is its entry-point name up to the first dot (``builtin_probes.system`` ->
``builtin_probes``); ``MEDIC_DISABLE_PLUGINS`` blocks either name, as it does for pluggy plugins. A module that
fails to import is reported and skipped; two modules declaring one probe name is an error naming both.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType

from medic.kernel.errors import PluginError
from medic.kernel.probe import ProbeSpec

GROUP = "medic.probes"
DISABLE_ENV = "MEDIC_DISABLE_PLUGINS"
SELF_DISTS = ("medic", "medic-agent")  # medic's own probes come first: a stable order for listings


@dataclass(frozen=True)
class ProbeSource:
    """One declared probe module: the entry point and the distribution that declared it."""

    entry: str
    module: str
    distribution: str = "?"
    version: str = ""

    @property
    def plugin(self) -> str:
        return self.entry.partition(".")[0]

    def __str__(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"probe module {self.module} ({GROUP} entry {self.entry!r} of distribution {self.distribution}{version})"


@dataclass(frozen=True)
class ProbeLoadFailure:
    """A probe module that failed to import and was skipped, with the reason."""
    source: ProbeSource
    error: str

    def __str__(self) -> str:
        return (f"{self.source} failed to load and was skipped: {self.error} (fix or uninstall it, or set "
                f"{DISABLE_ENV}={self.source.plugin})")


@dataclass
class ProbeCatalog:
    """What discovery found: probes by name, where each was declared, and the modules that failed."""

    specs: dict[str, ProbeSpec] = field(default_factory=dict)
    sources: dict[str, ProbeSource] = field(default_factory=dict)  # probe name -> its module's declaration
    failures: list[ProbeLoadFailure] = field(default_factory=list)

    def modules(self) -> list[str]:
        """The probe modules that loaded, in discovery order."""
        return list(dict.fromkeys(s.module for s in self.sources.values()))

    def add(self, module: ModuleType, source: ProbeSource) -> None:
        for spec in specs_in(module):
            old = self.sources.get(spec.name)
            if old is not None and old.module != source.module:
                raise PluginError(f"probe {spec.name!r} is declared by {old} and by {source}; uninstall one or "
                                  f"set {DISABLE_ENV}={source.plugin}")
            self.specs[spec.name] = spec
            self.sources[spec.name] = source


def specs_in(module: ModuleType) -> list[ProbeSpec]:
    """The probes a module defines (its ``@probe``-decorated functions)."""
    found = (getattr(obj, "spec", None) for obj in vars(module).values())
    return [spec for spec in found if isinstance(spec, ProbeSpec) and spec.collect.__module__ == module.__name__]


def disabled() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


def declared() -> list[ProbeSource]:
    """The installed distributions' probe modules (one per entry-point name), medic's own first."""
    from importlib import metadata  # here, not at the top: medic's sessions read the plugin index instead

    seen: dict[str, ProbeSource] = {}
    # by distribution, not entry_points(group=) and ep.dist: those need Python 3.10 (the agent runs on 3.9)
    for dist in metadata.distributions():
        for ep in (ep for ep in dist.entry_points if ep.group == GROUP):
            source = ProbeSource(ep.name, ep.value.partition(":")[0].strip(), dist.metadata["Name"] or "?",
                                 dist.version or "")
            seen.setdefault(ep.name, source)  # a distribution found twice on sys.path: the first copy wins
    return sorted(seen.values(), key=lambda s: (s.distribution not in SELF_DISTS, s.distribution, s.entry))


def discover(extra: Iterable[ProbeSource] = ()) -> ProbeCatalog:
    """Import every declared probe module (plus ``extra``, used by tests) that is not disabled."""
    blocked = disabled()
    catalog = ProbeCatalog()
    for source in [*declared(), *extra]:
        if source.entry in blocked or source.plugin in blocked:
            continue
        try:
            module = importlib.import_module(source.module)
        except Exception as exc:  # any import-time error of someone else's code: report and go on
            catalog.failures.append(ProbeLoadFailure(source, f"{type(exc).__name__}: {exc}"))
            continue
        catalog.add(module, source)
    return catalog


def by_name() -> dict[str, ProbeSpec]:
    """Every available probe by name."""
    return discover().specs
