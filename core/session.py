"""A medic session: configuration, plugins and registry loaded once; playbooks and targets resolved by name."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from medic.core import catalog, pluginmanager
from medic.core import playbook as playbook_mod
from medic.core.config import load_config, state_dir
from medic.core.engine import RunResult, static_probe_calls
from medic.core.playbook import Playbook
from medic.core.target import Target, TargetContext
from medic.kernel.errors import MedicError, UsageError


class Session:
    def __init__(self, extra_plugins: Iterable[tuple[str, object]] = (), config: dict[str, Any] | None = None
                 ) -> None:
        self.config = load_config() if config is None else config
        self.plugins = pluginmanager.load(extra_plugins)
        self.registry = self.plugins.registry
        for failure in self.plugins.failures:
            print(f"medic: warning: {failure}", file=sys.stderr)

    @property
    def hooks(self) -> Any:
        return self.plugins.hook

    def load_playbook(self, name_or_path: str) -> Playbook:
        return playbook_mod.load(catalog.resolve(name_or_path, self.config), self.registry)

    def playbook_probes(self, names: Sequence[str], skipped: dict[str, str] | None = None
                        ) -> dict[str, list[dict[str, Any]]]:
        """Per playbook (default: every listed one), the probe calls it makes with its default inputs: what a
        bundle must hold for it. Calls that differ only in ``become`` count once (a bundle holds one result).

        A playbook named in ``names`` that cannot be loaded or has a required input raises; without names such
        playbooks are left out and listed in ``skipped`` (name -> why) instead.
        """
        out = {}
        for name in names or [r.name for r in catalog.all_playbooks(self.config)]:
            try:
                pb = self.load_playbook(name)
                scope = {"inputs": pb.bind_inputs({}), "target": {}, "steps": {}}
            except MedicError as exc:
                if names:
                    raise
                if skipped is not None:  # one line: the problems, not the file's name again
                    issues = getattr(exc, "issues", None)
                    skipped[name] = "; ".join(i.message for i in issues) if issues else str(exc)
                continue
            unique = {c.key: c for c in static_probe_calls(pb.steps, self.registry, scope)}
            out[pb.name] = [{"probe": c.probe, "params": c.params} for c in unique.values()]
        return out

    def open_targets(self, specs: Sequence[str], options: dict[str, Any] | None = None) -> list[Target]:
        """Open targets from specs like ``local``, ``ssh://host``, ``bundle:/path`` or inventory names."""
        ctx = TargetContext(self.registry.probes, self.config, options or {})
        kinds = self.registry.target_kinds
        opened: list[Target] = []
        try:
            for raw in specs:
                for spec in (s.strip() for s in raw.split(",")):
                    if not spec:
                        continue
                    scheme = "local" if spec in ("local", "localhost") else spec.split(":", 1)[0] \
                        if ":" in spec else "inventory"
                    kind = kinds.get(scheme)
                    if kind is None:
                        known = ", ".join(kinds) or "none"
                        what = ("a host or group name needs an inventory (--inventory FILE)"
                                if scheme == "inventory" else f"unknown target kind {scheme!r}")
                        raise UsageError(f"target {spec!r}: {what}; installed target kinds: {known}")
                    opened += kind.open(spec, ctx)
        except BaseException:
            for t in opened:
                t.close()
            raise
        names = [t.name for t in opened]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            for t in opened:
                t.close()
            raise UsageError(f"target(s) named more than once: {', '.join(dupes)}")
        return opened

    def notify(self, run: RunResult, channel_specs: Sequence[str]) -> list[str]:
        """Send the run's notification to each channel spec; return one line per delivery problem."""
        from medic.core import notify, report  # the outbox and SQLite: only for a run that notifies someone
        routes = notify.resolve(channel_specs, self.registry.channels, self.config)
        return notify.deliver(routes, report.notification(run), state_dir(self.config) / "outbox.sqlite")
