"""The plugins' ``medic`` sub-commands (hook ``register_commands``).

With the plugin index (:mod:`medic.kernel.pluginindex`) a command imports only the plugin that owns it, and
``medic --help`` lists every plugin's commands from the index (name, aliases, help) without importing any plugin.
"""

from __future__ import annotations

from typing import Any

from medic.core import pluginmanager
from medic.core.pluginlazy import one_plugin, origin_of
from medic.kernel.errors import PluginError
from medic.kernel.registry import Origin


class CommandSet:
    """The ``medic`` sub-parsers as a plugin's ``register_commands`` sees them: a command name already taken (by
    medic's own commands or another plugin) is an error naming the plugin, never a silent replacement."""

    def __init__(self, subparsers: Any) -> None:
        self._subparsers = subparsers
        self._owners: dict[str, Origin] = {}
        self.origin = Origin("?")

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        names = [name, *kwargs.get("aliases", ())]
        for taken in (n for n in names if n in self._subparsers.choices):
            owner = self._owners.get(taken)
            raise PluginError(f"{self.origin} adds the command {taken!r}, which {owner or 'medic itself'} "
                              f"already has; rename it or set {pluginmanager.DISABLE_ENV}={self.origin.plugin}")
        parser = self._subparsers.add_parser(name, **kwargs)
        self._owners.update(dict.fromkeys(names, self.origin))
        return parser


def add_commands(subparsers: Any, command: str | None = None, *, listing: bool = False) -> None:
    """Let the installed plugins add their ``medic`` sub-commands to ``subparsers``: from the index, the plugin
    owning ``command`` only (its real parsers), or with ``listing`` every plugin's commands as entries of the
    help (names, aliases, help: ``medic --help``); otherwise every plugin is imported.

    Builds no registry. Plugins that fail to import are skipped silently here: the command that then loads a
    Session reports them.
    """
    index = _index() if listing or command else None
    if index is None:
        _add_all(subparsers)
        return
    commands = CommandSet(subparsers)
    owner = next((p for p in index["plugins"] for c in p["commands"]
                  if command in (c["name"], *c["kwargs"].get("aliases", ()))), None)
    if owner is not None:
        commands.origin = origin_of(owner)
        for impl in one_plugin(owner).hook.register_commands.get_hookimpls():
            pluginmanager.call(impl, commands.origin, "register_commands", commands)
        return
    if not listing:
        _add_all(subparsers)
        return
    for plugin in index["plugins"]:
        commands.origin = origin_of(plugin)
        for entry in plugin["commands"]:
            commands.add_parser(entry["name"], **entry["kwargs"])


def _index() -> dict[str, Any] | None:
    index = pluginmanager.fresh_index()
    if index is None:
        try:  # builds and writes the index when every plugin loads cleanly
            pluginmanager.load()
        except PluginError:
            return None
        index = pluginmanager.fresh_index()
    return index


def _add_all(subparsers: Any) -> None:
    pm, origins, _, _ = pluginmanager.load_manager(())
    commands = CommandSet(subparsers)
    for impl, origin in pluginmanager.in_load_order(pm.hook.register_commands, origins):
        commands.origin = origin
        pluginmanager.call(impl, origin, "register_commands", commands)
