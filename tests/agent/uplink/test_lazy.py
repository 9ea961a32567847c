"""`medic-agent collect` alone loads none of the uplink code (HTTP client, TLS pinning, Ed25519, tus)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from uplink_helpers import TestCA, TusStandIn

from medic.agent.uplink.transport import host_bytes


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


def test_a_connection_to_an_ascii_host_loads_no_idna_codec(tus_stand_in: TusStandIn, test_ca: TestCA) -> None:
    """socket and ssl take an ASCII host as bytes as it is; a str goes through the "idna" codec, whose import
    (stringprep, unicodedata) each restarted upload would pay (bench/README-collector.md, session 14). The pin
    and the CA are both checked on the way."""
    code = ("import sys\nfrom medic.agent.uplink.transport import Server\n"
            "for server in (Server(sys.argv[1], pin=sys.argv[2]), Server(sys.argv[1], ca=sys.argv[3])):\n"
            "    print(server.request('OPTIONS', '/files/').status)\n    server.close()\n"
            "print('idna' , 'encodings.idna' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    out = subprocess.run([sys.executable, "-c", code, tus_stand_in.url, test_ca.pin.split(":", 1)[1],
                          str(test_ca.ca)], capture_output=True, text=True, timeout=60, env=env)
    lines = out.stdout.split("\n")
    assert lines[0] == lines[1] != "", out.stderr[-2000:]
    assert lines[2] == "idna False", out.stderr[-2000:]
    assert host_bytes("127.0.0.1") == b"127.0.0.1" and host_bytes("bücher.example") == "bücher.example"
