"""The example third-party plugin, pip-installed into this environment, is discovered and used by medic run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example_plugin() -> Iterator[None]:
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-build-isolation",
                    str(REPO / "examples" / "medic-example-plugin")], check=True, capture_output=True, timeout=300)
    yield
    subprocess.run([*pip, "uninstall", "-q", "-y", "medic-example-plugin"], check=True, capture_output=True,
                   timeout=120)


def medic(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIC_ENGINE": "inline"}
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_plugin_is_listed_with_its_distribution(example_plugin: None) -> None:
    doc = json.loads(medic("plugins", "list", "--json").stdout)
    plugin = next(p for p in doc["plugins"] if p["name"] == "example")
    assert plugin["distribution"] == "medic-example-plugin" and plugin["version"] == "1.0.0"
    assert plugin["provides"] == {"checks": ["example.file_handles", "example.process_count"],
                                  "channels": ["teamhook", "textlog"], "probes": ["example_file_handles"]}


def test_plugin_check_and_channel_are_used_by_run(example_plugin: None, tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text(textwrap.dedent("""
        name: with-example
        steps:
          - {id: count, check: example.process_count, with: {warn_at: 1}}
    """))
    log = tmp_path / "notes.log"
    out = medic("run", str(pb), "--json", "--notify", f"textlog:{log}")
    doc = json.loads(out.stdout)
    (finding,) = doc["findings"]
    assert finding["check"] == "example.process_count" and finding["status"] == "warn"
    assert log.read_text().startswith("WARN medic with-example")


def test_plugin_can_be_disabled_by_name(example_plugin: None, tmp_path: Path) -> None:
    env = {**os.environ, "MEDIC_DISABLE_PLUGINS": "example"}
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "checks", "show", "example.process_count"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and "no check 'example.process_count'" in out.stderr


def test_plugin_probe_is_collected_by_the_agent_and_its_check_runs_on_the_bundle(example_plugin: None,
                                                                                 tmp_path: Path) -> None:
    """The plugin's probe reaches a bundle through the probe registry (entry-point group medic.probes), and the
    plugin's check evaluates it there, offline."""
    profile = tmp_path / "fh.yaml"
    profile.write_text("name: file-handles\nprobes: [example_file_handles]\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    collected = subprocess.run([sys.executable, "-m", "medic.agent.cli", "collect", "--profile", str(profile),
                                "--output", str(out_dir), "--quiet"], capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stderr
    (bundle,) = out_dir.glob("medic-bundle-*.tar.gz")
    pb = tmp_path / "pb.yaml"
    pb.write_text(textwrap.dedent("""
        name: handles-from-bundle
        steps:
          - {id: handles, check: example.file_handles, with: {warn_pct: 0.0}}
    """))
    out = medic("run", str(pb), "--json", "--target", f"bundle:{bundle}")
    doc = json.loads(out.stdout)
    (finding,) = doc["findings"]
    assert finding["check"] == "example.file_handles" and finding["status"] == "warn", finding
    assert finding["target"] == f"bundle:{bundle.name}"
    evidence = finding["evidence"]
    assert evidence["max"] > 0 and 0 < evidence["in_use"] <= evidence["max"]


def test_disabling_the_plugin_removes_its_probe_from_the_agent_too(example_plugin: None, tmp_path: Path) -> None:
    profile = tmp_path / "fh.yaml"
    profile.write_text("name: file-handles\nprobes: [example_file_handles, memory]\n")
    env = {**os.environ, "MEDIC_DISABLE_PLUGINS": "example"}
    collected = subprocess.run([sys.executable, "-m", "medic.agent.cli", "collect", "--profile", str(profile),
                                "--output", str(tmp_path), "--quiet"], capture_output=True, text=True, env=env,
                               timeout=300)
    assert collected.returncode == 0, collected.stderr
    (bundle,) = tmp_path.glob("medic-bundle-*.tar.gz")
    shown = json.loads(medic("bundles", "inspect", str(bundle), "--json").stdout)
    skipped = {s["item"]: s["reason"] for s in shown["skipped"]}
    assert skipped["probe:example_file_handles"] == "no such probe in this agent"


def test_plugin_probe_module_is_shipped_to_a_remote_python_without_its_pluggy_part(example_plugin: None) -> None:
    """What the SSH runner sends is computed from the registry and imports: the plugin's probe module and the
    light kernel, never its pluggy module. Run here in a Python without site-packages, as on a bare host."""
    code = textwrap.dedent("""
        import ast, json, subprocess, sys
        from medic.kernel.models import ProbeCall
        from medic.kernel.probes import by_name
        from medic.plugins.ssh.remote import BOOTSTRAP, SCRIPT_MARKER, script_for
        script = script_for([ProbeCall.make("example_file_handles")], by_name())
        payload = json.loads(ast.literal_eval(script.decode().rsplit("\\nmain(", 1)[1].rstrip().removesuffix(")")))
        print(json.dumps(sorted(m for m, _ in payload["modules"])))
        ran = subprocess.run([sys.executable, "-I", "-S", "-c", BOOTSTRAP], input=SCRIPT_MARKER + script,
                             capture_output=True, timeout=60)
        print(ran.stdout.decode().rsplit("\\x1emedic-results\\x1e", 1)[1])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    modules_line, results_line = out.stdout.strip().splitlines()[-2:]
    modules = json.loads(modules_line)
    assert "medic_example.probes" in modules and "medic_example.plugin" not in modules
    assert all(m.startswith(("medic.kernel.", "medic_example.")) for m in modules), modules
    (result,) = json.loads(results_line)
    assert result["ok"] and result["data"]["max"] > 0, result


def test_the_example_channel_passes_the_channel_contract_as_an_author_would_run_it(example_plugin: None) -> None:
    """medic.testing is found through its pytest11 entry point; the example's own pytest configuration is used."""
    where = REPO / "examples" / "medic-example-plugin"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                          "-c", str(where / "pyproject.toml"), "--rootdir", str(where), str(where / "tests")],
                         capture_output=True, text=True, timeout=600, cwd=where)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout and "failed" not in out.stdout
