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
    assert plugin["provides"] == {"checks": ["example.process_count"], "channels": ["textlog"]}


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
