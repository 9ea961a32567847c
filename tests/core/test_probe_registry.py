"""The probe registry (medic.kernel.probes) through real entry points: distributions written to a directory on
sys.path, declaring probe modules under the group medic.probes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_dists import make_dist as _make_dist
from fake_dists import temporary_site

from medic.core import pluginmanager
from medic.kernel import probes
from medic.kernel.errors import PluginError

PROBE_SRC = """
    from medic.kernel.probe import probe

    @probe("{name}", description="a test probe")
    def collect():
        return {{"from": "{module}"}}
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    yield from temporary_site(tmp_path, "probe_")


def test_builtin_probes_are_declared_entry_points_of_medic_agent() -> None:
    catalog = probes.discover()
    assert not catalog.failures
    assert {"memory", "disk_usage", "processes", "log_scan", "tcp_connect"} <= set(catalog.specs)
    source = catalog.sources["memory"]
    assert (source.plugin, source.distribution, source.module) == ("builtin_probes", "medic-agent",
                                                                   "medic.probes.system")


def test_a_third_party_probe_is_found_by_the_registry_and_the_plugin_manager(site: Path) -> None:
    make_probe_dist(site, "site-probes", "probe_site", PROBE_SRC.format(name="site_thing", module="probe_site"))
    assert probes.by_name()["site_thing"].collect() == {"from": "probe_site"}
    host = pluginmanager.load()
    assert "site_thing" in host.registry.probes
    info = next(p for p in host.plugins if p.name == "probe_site")
    assert info.origin.distribution == "site-probes" and info.provides["probes"] == ["site_thing"]


def test_a_probe_module_that_fails_to_import_is_reported_and_skipped(site: Path) -> None:
    make_probe_dist(site, "broken-probes", "probe_broken", "raise ImportError('needs libbar')\n")
    catalog = probes.discover()
    (failure,) = catalog.failures
    assert failure.source.distribution == "broken-probes" and "ImportError: needs libbar" in failure.error
    assert "MEDIC_DISABLE_PLUGINS=probe_broken" in str(failure)
    assert "memory" in catalog.specs  # the rest still loads
    host = pluginmanager.load()
    assert [f.plugin for f in host.failures] == ["probe_broken"] and "memory" in host.registry.probes


def test_one_probe_name_from_two_distributions_names_both(site: Path) -> None:
    make_probe_dist(site, "dist-a", "probe_a", PROBE_SRC.format(name="same_name", module="probe_a"))
    make_probe_dist(site, "dist-b", "probe_b", PROBE_SRC.format(name="same_name", module="probe_b"))
    with pytest.raises(PluginError) as info:
        probes.discover()
    assert "'same_name'" in str(info.value) and "dist-a" in str(info.value) and "dist-b" in str(info.value)


def test_clashing_with_a_builtin_probe_is_an_error(site: Path) -> None:
    make_probe_dist(site, "clash", "probe_clash", PROBE_SRC.format(name="memory", module="probe_clash"))
    with pytest.raises(PluginError, match="distribution medic"):
        pluginmanager.load()


def test_disabled_by_entry_name_or_by_plugin_name(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_probe_dist(site, "dotted", "probe_dotted", PROBE_SRC.format(name="dotted_thing", module="probe_dotted"),
                    entry="acme.dotted")
    assert "dotted_thing" in probes.by_name()
    monkeypatch.setenv("MEDIC_DISABLE_PLUGINS", "acme")
    assert "dotted_thing" not in probes.by_name()
    monkeypatch.setenv("MEDIC_DISABLE_PLUGINS", "acme.dotted")
    assert "dotted_thing" not in probes.by_name()
    monkeypatch.setenv("MEDIC_DISABLE_PLUGINS", "builtin_probes")
    assert "memory" not in probes.by_name() and "dotted_thing" in probes.by_name()


def test_the_registry_imports_no_pluggy() -> None:
    code = "import sys, medic.kernel.probes as p; p.discover(); print('pluggy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def make_probe_dist(root: Path, dist: str, module: str, source: str, entry: str | None = None) -> None:
    _make_dist(root, dist, module, source, group="medic.probes", entry=entry, version="2.0")
