"""What small commands load to start (issue 12): module names in a subprocess, never times."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from medic.cli.main import main
try:
    code = main({argv!r})
except SystemExit as exc:
    code = exc.code
loaded = sorted({{m.split('.')[0] for m in sys.modules}} | {{m for m in sys.modules if m.startswith('medic.')}}
                | ({{'importlib.metadata'}} & set(sys.modules)))
print('CODE', code)
print('LOADED', ' '.join(loaded))
"""


def loaded(argv: list[str], cache: str | None = None) -> tuple[str, set[str]]:
    """What ``medic ARGV`` imported, the plugin index written by an earlier run (the first command after an
    install or a change imports every plugin to write it; what a user waits for is every command after that)."""
    env = {**os.environ, "MEDIC_ENGINE": "inline", **({"XDG_CACHE_HOME": cache} if cache else {})}
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True,
                             env=env, timeout=120)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("CODE ", "LOADED ")))
    assert "LOADED" in lines, out.stdout[-500:] + out.stderr[-2000:]
    return lines["CODE"], set(lines["LOADED"].split())


def test_version_answers_without_loading_commands_plugins_or_prefect() -> None:
    code, modules = loaded(["--version"])
    assert code == "0"
    assert not modules & {"prefect", "pluggy", "httpx", "rich", "yaml", "medic.core.pluginmanager", "medic.cli.run"}
    # nor medic's models (dataclasses, typing): the CLI imports them only for a command that uses them
    assert not modules & {"dataclasses", "typing", "medic.kernel.models"}
    assert not {m for m in modules if m.startswith("medic.plugins")}


@pytest.mark.parametrize("argv", [["run", "triage", "--json"], ["run", "triage", "--json", "--submit", "local"]])
def test_an_inline_run_builds_only_its_own_parser_and_imports_no_http_client(argv: list[str]) -> None:
    code, modules = loaded(argv)
    assert code in ("0", "1")
    assert not modules & {"prefect", "httpx", "rich", "click", "pygments", "medic.cli.playbooks", "medic.cli.service",
                          "medic.cli.checks", "medic.plugins.server.api"}


def test_the_fast_path_loads_no_engine_session_or_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """``medic run --submit server`` only submits and follows: the engine, the session and the playbook loader
    are the run-here path's (0.18 s of imports at load 5, bench/README-fast.md)."""
    with socket.socket() as s:  # a loopback port nothing listens on: the submit fails after the imports
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    code, modules = loaded(["run", "triage", "--submit", "server"])
    assert code == "3"
    assert "medic.plugins.server.api" in modules
    assert not modules & {"prefect", "medic.core.engine", "medic.core.session", "medic.core.history",
                          "medic.core.playbook", "medic.core.pluginmanager", "yaml"}


@pytest.mark.parametrize("fresh", [True, False])
def test_help_still_lists_every_command_with_the_plugins_ones(tmp_path: Path, fresh: bool) -> None:
    """From the plugin index (``fresh``: none yet, so this run writes it) and from the one an earlier run wrote."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = 1 if fresh else 2
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-m", "medic.cli.main", "--help"], capture_output=True, text=True,
                             timeout=60, env=env)
    for name in ("run", "playbooks", "checks", "plugins", "server", "bundles", "deploy", "hosts", "backups"):
        assert f"    {name}" in out.stdout, out.stdout


def test_with_the_plugin_index_a_command_imports_only_the_plugins_it_uses(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("2026-12-06T10:00:00 ERROR one\n2026-12-06T10:00:01 fine\n")
    playbook = tmp_path / "pb.yaml"
    playbook.write_text(f"name: one-step\nsteps:\n  - id: errors\n    check: logs.error_rate\n"
                        f"    with: {{path: {str(log)!r}, lines: 0}}\n")
    code, modules = loaded(["run", str(playbook), "--json"], str(tmp_path / "cache"))
    assert code in ("0", "1")
    assert {"medic.plugins.checks.logs", "medic.probes.logscan", "medic.plugins.targets.local"} <= modules
    # the checks plugin's other modules are not imported: the index locates each check in its own module
    assert {m for m in modules if m.startswith("medic.plugins.checks.")} <= {"medic.plugins.checks.logs",
                                                                               "medic.plugins.checks.shape"}
    unused = {"medic.plugins.ssh", "medic.plugins.collector", "medic.plugins.casespage", "medic.plugins.change.kinds",
              "medic.plugins.channels.email", "medic.probes.network", "medic.probes.system", "importlib.metadata"}
    assert not modules & unused
    # the playbook comes from the YAML cache (no PyYAML); no channel is configured (no outbox, no SQLite)
    assert not modules & {"yaml", "medic.kernel.yamlload", "sqlite3", "medic.core.notify", "medic.core.outbox",
                          "medic.plugins.channels.configschema", "concurrent", "logging", "traceback"}
    code, modules = loaded(["--help"], str(tmp_path / "cache"))  # every command listed, no plugin's commands module
    assert code == "0"
    assert not {m for m in modules if m.startswith("medic.plugins.") and m.endswith(("commands", "command"))}
    code, modules = loaded(["hosts", "list"], str(tmp_path / "cache"))  # a plugin's command: that plugin only
    assert "medic.plugins.ssh.commands" in modules
    assert not {m for m in modules if m.startswith(("medic.plugins.change", "medic.plugins.cases"))}


def test_logs_scan_imports_the_scan_and_nothing_of_the_engine_or_the_probe_registry(tmp_path: Path) -> None:
    """``medic logs scan`` answers a first look at a log in a fraction of ``medic run``'s start-up."""
    log = tmp_path / "app.log"
    log.write_text("2026-12-06T10:00:00Z ERROR one\n2026-12-06T10:00:01Z fine\n")
    code, modules = loaded(["logs", "scan", str(log)], str(tmp_path / "cache"))
    assert code == "0"
    assert {"medic.probes.logsearch", "medic.probes.logscan"} <= modules
    assert not modules & {"dataclasses", "inspect", "medic.kernel.params", "medic.kernel.models", "medic.core.session",
                          "medic.core.engine", "pluggy", "yaml", "json"}
    assert not {m for m in modules if m.startswith("medic.plugins")}
