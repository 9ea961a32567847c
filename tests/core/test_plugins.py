"""Plugin discovery through real entry points: distributions written to a directory put on sys.path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_dists import make_dist as _make_dist
from fake_dists import temporary_site

from medic.core import pluginmanager
from medic.kernel.errors import PluginError


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    yield from temporary_site(tmp_path, "plug_")


CHECK_SRC = """
    from medic.core.check import check
    from medic.core.hookspecs import hookimpl
    from medic.kernel.models import passed

    @check("{cid}", title="t", category="software", needs={{}})
    def c(data, p):
        return passed("ok")

    @hookimpl
    def register_checks(register):
        register(c.spec{override})
"""


def test_builtins_are_found_through_entry_points() -> None:
    host = pluginmanager.load()
    names = {p.name: p for p in host.plugins}
    assert {"builtin_checks", "builtin_probes", "builtin_steps", "builtin_channels", "builtin_targets"} <= set(names)
    assert names["builtin_checks"].origin.distribution == "medic"
    assert "system.memory" in names["builtin_checks"].provides["checks"]
    assert {"console", "file"} <= set(host.registry.channels)
    assert {"check", "group"} <= set(host.registry.step_kinds)


def test_a_plugin_that_fails_to_import_is_reported_and_skipped(site: Path) -> None:
    make_dist(site, "broken-plugin", "plug_broken", "raise ImportError('needs libfoo')\n")
    host = pluginmanager.load()
    (failure,) = host.failures
    assert (failure.plugin, failure.distribution) == ("plug_broken", "broken-plugin")
    assert "ImportError: needs libfoo" in str(failure) and "MEDIC_DISABLE_PLUGINS=plug_broken" in str(failure)
    assert "system.memory" in host.registry.checks  # the rest still loads


def test_same_name_from_two_plugins_names_both_distributions(site: Path) -> None:
    make_dist(site, "dist-one", "plug_one", CHECK_SRC.format(cid="site.same", override=""))
    make_dist(site, "dist-two", "plug_two", CHECK_SRC.format(cid="site.same", override=""))
    with pytest.raises(PluginError) as info:
        pluginmanager.load()
    assert "dist-one" in str(info.value) and "dist-two" in str(info.value) and "'site.same'" in str(info.value)


def test_overriding_a_builtin_needs_an_explicit_override(site: Path) -> None:
    make_dist(site, "quiet-clash", "plug_clash", CHECK_SRC.format(cid="system.memory", override=""))
    with pytest.raises(PluginError, match="distribution medic"):
        pluginmanager.load()


def test_explicit_override_replaces_a_builtin(site: Path) -> None:
    make_dist(site, "site-memory", "plug_mem", CHECK_SRC.format(cid="system.memory", override=", override=True"))
    host = pluginmanager.load()
    assert host.registry.checks.origin("system.memory").distribution == "site-memory"


def test_misspelt_hook_is_an_error(site: Path) -> None:
    make_dist(site, "typo-plugin", "plug_typo", """
        from medic.core.hookspecs import hookimpl

        @hookimpl
        def register_chekcs(register):
            pass
    """)
    with pytest.raises(PluginError) as info:
        pluginmanager.load()
    text = str(info.value)
    assert "typo-plugin" in text and "register_chekcs" in text and "register_checks" in text


def test_disable_env_blocks_plugins_by_name(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_dist(site, "typo-plugin", "plug_typo2", "from medic.core.hookspecs import hookimpl\n"
                                                 "@hookimpl\ndef register_nothing(register): pass\n")
    monkeypatch.setenv("MEDIC_DISABLE_PLUGINS", "plug_typo2, builtin_channels")
    host = pluginmanager.load()
    assert "plug_typo2" in host.disabled and "console" not in host.registry.channels


def test_add_commands_names_a_plugin_whose_register_commands_fails(site: Path) -> None:
    import argparse

    make_dist(site, "cmd-plugin", "plug_cmdfail", """
        from medic.core.hookspecs import hookimpl

        @hookimpl
        def register_commands(subparsers):
            subparsers.add_parser("fine")
            raise RuntimeError("no parser for you")
    """)
    sub = argparse.ArgumentParser().add_subparsers()
    with pytest.raises(PluginError) as info:
        pluginmanager.add_commands(sub)
    text = str(info.value)
    assert "cmd-plugin" in text and "register_commands: RuntimeError: no parser for you" in text
    assert "MEDIC_DISABLE_PLUGINS=plug_cmdfail" in text
    assert {"hosts", "backups", "fine"} <= set(sub.choices)  # built-ins first, in load order


def make_dist(root: Path, dist: str, module: str, source: str, ep_name: str | None = None) -> None:
    _make_dist(root, dist, module, source, group="medic", entry=ep_name, version="1.2.3")
