"""`medic-agent collect` alone loads none of the uplink code (HTTP client, TLS pinning, Ed25519, tus)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_collect_alone_imports_no_uplink_code(tmp_path: Path) -> None:
    code = ("import sys, runpy\n"
            "sys.argv = ['medic-agent', 'collect', '--output', sys.argv[1], '--quiet', '--profile', 'network']\n"
            "try:\n    runpy.run_module('medic.agent.cli', run_name='__main__')\nexcept SystemExit as e:\n"
            "    print('EXIT', e.code)\n"
            "print('LOADED', sorted(m for m in sys.modules if m.split('.')[:3] == ['medic', 'agent', 'uplink']))\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert "EXIT 0" in out.stdout, out.stderr[-2000:]
    # http.client and ssl are the http probe's (medic.probes.http, part of collecting), not the uplink's
    assert "LOADED []" in out.stdout
    assert list(tmp_path.glob("medic-bundle-*.tar.gz"))


def test_a_restarted_upload_imports_only_what_it_needs() -> None:
    """Every kill -9 of `medic-agent upload` pays a new process's imports (bench/README-collector.md): the upload
    path loads no http.client (and its email package), no dataclasses (and inspect), no typing."""
    code = ("import sys\nimport medic.agent.cli, medic.agent.uplinkcli, medic.agent.uplink.upload\n"
            "print(sorted(m for m in ('http.client', 'email', 'dataclasses', 'inspect', 'typing') "
            "if m in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}  # coverage's own imports
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]
