"""What the warm worker and its fork server import: only what they use, since every module loaded there counts in
the fleet's summed RSS once per process that holds it (the fork server's pages once more per run forked from it;
bench/README-fleet.md, session 14). Each check runs a fresh interpreter and reads its ``sys.modules`` or its
``-X importtime`` lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGINS_A_RUN_LOADS = ("medic.plugins.change", "medic.plugins.checks", "medic.plugins.cases", "medic.plugins.ssh",
                       "medic.plugins.channels", "medic.plugins.collector")


def test_the_fork_servers_preload_leaves_out_prefects_worker() -> None:
    """The server imports the module holding ``run_engine`` by name; Prefect's process worker is the worker's."""
    from medic.flows.warm_worker import PRELOAD, run_engine

    assert run_engine.__module__ in PRELOAD
    script = ("import importlib, sys\n"
              "for name in sys.argv[1:]:\n"
              "    importlib.import_module(name)\n"
              "print(sorted(m for m in sys.modules if m.startswith('prefect.workers')))\n")
    # warm_preload (last) left out: it imports plugins and probes, not Prefect
    out = subprocess.run([sys.executable, "-c", script, *PRELOAD[:-1]], capture_output=True, text=True,
                         timeout=300, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_medic_worker_reads_the_configuration_without_loading_plugins(tmp_path: Path) -> None:
    """Without a server the worker stops after reading its settings (exit 2); no plugin was imported, neither to
    build its parser (``worker`` is a word of the ``service`` module: cli/main.py ``MODULE_OF``) nor for a
    Session (the worker reads the configuration alone)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(MEDIC_CONFIG=str(tmp_path / "config.yaml"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPROFILEIMPORTTIME="1")
    (tmp_path / "config.yaml").write_text("deploy: {heartbeat_s: 30}\n")
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "worker", "--pool", "medic"], env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "needs a Prefect server" in out.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time")}
    assert "medic.core.config" in imported  # the lines were read
    assert not [m for m in imported if m.startswith(PLUGINS_A_RUN_LOADS)], sorted(imported)
