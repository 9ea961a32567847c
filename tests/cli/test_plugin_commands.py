"""Plugins add ``medic`` sub-commands through the hook ``register_commands``; disabling a plugin removes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_dists import make_dist

CHANGE_COMMANDS = ("backups", "runs", "rollback", "recover")


def medic(*args: str, disable: str = "", site: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "MEDIC_DISABLE_PLUGINS": disable}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def commands_in_help(out: subprocess.CompletedProcess[str]) -> set[str]:
    assert out.returncode == 0, out.stderr
    listing = out.stdout.split("COMMAND\n", 1)[1].split("\noptions:", 1)[0]
    return {line.split()[0] for line in listing.splitlines() if line.startswith("    ") and line.split()}


def plugin_dist(site: Path, module: str, source: str) -> Path:
    """A distribution ``<module>-dist`` whose entry point ``<module>`` in group ``medic`` is ``source``."""
    make_dist(site, f"{module}-dist", module, source, group="medic", version="1.0")
    return site


def test_builtin_plugins_add_hosts_and_the_change_commands() -> None:
    names = commands_in_help(medic("--help"))
    assert {"run", "playbooks", "checks", "plugins", "server", "bundles", "hosts", *CHANGE_COMMANDS} <= names


def test_disabling_the_ssh_plugin_removes_medic_hosts() -> None:
    names = commands_in_help(medic("--help", disable="builtin_ssh"))
    assert "hosts" not in names and set(CHANGE_COMMANDS) <= names
    out = medic("hosts", "list", disable="builtin_ssh")
    assert out.returncode == 2 and "invalid choice: 'hosts'" in out.stderr


def test_disabling_the_change_plugin_removes_backups_runs_rollback_recover() -> None:
    names = commands_in_help(medic("--help", disable="builtin_change"))
    assert "hosts" in names and not set(CHANGE_COMMANDS) & names
    for command in CHANGE_COMMANDS:
        out = medic(command, "--help", disable="builtin_change")
        assert out.returncode == 2 and f"invalid choice: '{command}'" in out.stderr


def test_a_third_party_plugin_adds_a_command(tmp_path: Path) -> None:
    site = plugin_dist(tmp_path, "plug_hello", """
        from medic.core.hookspecs import hookimpl

        def hello(args):
            print(f"hello {args.name}")
            return 0

        @hookimpl
        def register_commands(subparsers):
            p = subparsers.add_parser("hello", help="say hello")
            p.add_argument("name")
            p.set_defaults(func=hello)
    """)
    assert "hello" in commands_in_help(medic("--help", site=site))
    out = medic("hello", "world", site=site)
    assert (out.returncode, out.stdout) == (0, "hello world\n"), out.stderr
    assert medic("hello", "world", site=site, disable="plug_hello").returncode == 2


@pytest.mark.parametrize(("command", "owner"), [("hosts", "plugin 'builtin_ssh' from distribution medic"),
                                                ("run", "medic itself")])
def test_a_command_name_clash_is_an_error_naming_the_plugin(tmp_path: Path, command: str, owner: str) -> None:
    site = plugin_dist(tmp_path, "plug_clash", f"""
        from medic.core.hookspecs import hookimpl

        @hookimpl
        def register_commands(subparsers):
            subparsers.add_parser({command!r})
    """)
    out = medic("--help", site=site)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    message = out.stderr.strip()
    assert message.startswith("medic: error: plugin 'plug_clash' from distribution plug_clash-dist 1.0 adds the "
                              f"command {command!r}, which {owner}"), message
    assert "MEDIC_DISABLE_PLUGINS=plug_clash" in message
    assert commands_in_help(medic("--help", site=site, disable="plug_clash"))
