"""What small commands load to start (issue 12): module names in a subprocess, never times."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from medic.cli.main import main
try:
    code = main({argv!r})
except SystemExit as exc:
    code = exc.code
loaded = sorted({{m.split('.')[0] for m in sys.modules}} | {{m for m in sys.modules if m.startswith('medic.')}})
print('CODE', code)
print('LOADED', ' '.join(loaded))
"""


def loaded(argv: list[str]) -> tuple[str, set[str]]:
    env = {**os.environ, "MEDIC_ENGINE": "inline"}
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, env=env,
                         timeout=120)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("CODE ", "LOADED ")))
    assert "LOADED" in lines, out.stdout[-500:] + out.stderr[-2000:]
    return lines["CODE"], set(lines["LOADED"].split())


def test_version_answers_without_loading_commands_plugins_or_prefect() -> None:
    code, modules = loaded(["--version"])
    assert code == "0"
    assert not modules & {"prefect", "pluggy", "httpx", "rich", "yaml", "medic.core.pluginmanager", "medic.cli.run"}
    assert not {m for m in modules if m.startswith("medic.plugins")}


@pytest.mark.parametrize("argv", [["run", "triage", "--json"], ["run", "triage", "--json", "--submit", "local"]])
def test_an_inline_run_builds_only_its_own_parser_and_imports_no_http_client(argv: list[str]) -> None:
    code, modules = loaded(argv)
    assert code in ("0", "1")
    assert not modules & {"prefect", "httpx", "rich", "click", "pygments", "medic.cli.playbooks", "medic.cli.service",
                          "medic.cli.checks", "medic.plugins.server.api"}


def test_help_still_lists_every_command_with_the_plugins_ones() -> None:
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "--help"], capture_output=True, text=True,
                         timeout=60)
    for name in ("run", "playbooks", "checks", "plugins", "server", "bundles", "deploy", "hosts", "backups"):
        assert f"    {name}" in out.stdout, out.stdout
