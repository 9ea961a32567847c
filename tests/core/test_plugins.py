"""Plugin discovery through real entry points: distributions written to a directory put on sys.path."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_dists import make_dist as _make_dist
from fake_dists import temporary_site

from medic.cli.plugincommands import add_commands
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
        add_commands(sub)
    text = str(info.value)
    assert "cmd-plugin" in text and "register_commands: RuntimeError: no parser for you" in text
    assert "MEDIC_DISABLE_PLUGINS=plug_cmdfail" in text
    assert {"hosts", "backups", "fine"} <= set(sub.choices)  # built-ins first, in load order


def make_dist(root: Path, dist: str, module: str, source: str, ep_name: str | None = None) -> None:
    _make_dist(root, dist, module, source, group="medic", entry=ep_name, version="1.2.3")


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin index of the test's own, outside the site directory (whose time is part of the index's key)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def test_the_plugin_index_imports_a_third_party_plugin_when_its_check_is_read(
        site: Path, cache: None) -> None:
    make_dist(site, "site-checks", "plug_lazy", CHECK_SRC.format(cid="site.lazy", override=""))
    pluginmanager.load()  # no index yet: every plugin imported, the index written
    del sys.modules["plug_lazy"]
    host = pluginmanager.load()  # from the index
    assert "site.lazy" in host.registry.checks and "plug_lazy" not in sys.modules  # known, not imported
    assert host.registry.checks.origin("site.lazy").distribution == "site-checks"
    assert "site.lazy" in {c for p in host.plugins for c in p.provides.get("checks", [])}
    assert host.registry.checks["site.lazy"].id == "site.lazy" and "plug_lazy" in sys.modules


def test_a_changed_plugin_module_is_indexed_again(site: Path, cache: None) -> None:
    make_dist(site, "site-checks", "plug_edit", CHECK_SRC.format(cid="site.before", override=""))
    assert "site.before" in pluginmanager.load().registry.checks
    source = site / "plug_edit.py"
    source.write_text(source.read_text().replace("site.before", "site.after.renamed"))
    os.utime(source, ns=(source.stat().st_mtime_ns + 10**9,) * 2)  # a second later, whatever the clock's grain
    del sys.modules["plug_edit"]
    checks = pluginmanager.load().registry.checks
    assert "site.after.renamed" in checks and "site.before" not in checks


def test_a_plugin_installed_after_the_index_was_written_is_found(site: Path, cache: None) -> None:
    pluginmanager.load()
    make_dist(site, "late-checks", "plug_late", CHECK_SRC.format(cid="site.late", override=""))
    os.utime(site, ns=(site.stat().st_mtime_ns + 10**9,) * 2)
    assert pluginmanager.load().registry.checks.origin("site.late").distribution == "late-checks"
