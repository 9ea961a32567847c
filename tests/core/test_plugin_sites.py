"""Sites in the plugin index: a built-in plugin's name is registered from its own module, the same object its
hook registers; a third party's plugin is always loaded through its hook."""

from __future__ import annotations

from medic.core.pluginmanager import load_everything
from medic.kernel.pluginsites import plugin_sites, resolve


def test_every_builtin_check_and_target_kind_has_a_site_naming_the_object_its_hook_registers() -> None:
    host, content = load_everything([])
    assert content is not None
    plugins = {p["name"]: p for p in content["plugins"]}
    checks = plugins["builtin_checks"]["sites"]["checks"]
    assert set(checks) == {name for name, _override in plugins["builtin_checks"]["provides"]["checks"]}
    assert checks["logs.error_rate"] == "medic.plugins.checks.logs:error_rate.spec"
    for kind, plugin in (("checks", "builtin_checks"), ("target_kinds", "builtin_targets")):
        for name, site in plugins[plugin]["sites"][kind].items():
            assert resolve(site) is host.registry.tables[kind][name], site


def test_a_third_party_plugin_gets_no_sites() -> None:
    host, content = load_everything([])
    assert content is not None
    entry = next(p for p in content["plugins"] if p["name"] == "builtin_checks")
    assert plugin_sites(host.registry, "builtin_checks", "medic", entry["value"], entry["provides"])
    assert plugin_sites(host.registry, "builtin_checks", "someone-else", entry["value"], entry["provides"]) == {}
