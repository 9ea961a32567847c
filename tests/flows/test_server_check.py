"""Issue 16 item 4: ``PREFECT_API_URL`` pointing at a server that is down gives one line naming the URL and what
to do, exit 3, before anything runs. A closed loopback port is the server that is down; a real HTTP server on
loopback is one that answers."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from medic.flows.server_check import check_api_reachable
from medic.kernel.errors import MedicError


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


@pytest.fixture()
def http_server() -> Iterator[str]:
    """A real HTTP server that answers 404 to everything (as a proxy or another API would)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()
    server.server_close()


def test_medic_run_against_a_server_that_is_down_says_so_in_one_line(tmp_path: Path) -> None:
    book = tmp_path / "tiny.yaml"
    book.write_text("name: tiny\nsteps:\n  - {id: up, check: system.uptime}\n")
    url = f"http://127.0.0.1:{closed_port()}/api"
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", str(book), "--engine", "prefect"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PREFECT_API_URL": url, "MEDIC_STATE_DIR": str(tmp_path / "s")})
    assert out.returncode == 3, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert url in lines[0] and "medic server start" in lines[0] and "unset PREFECT_API_URL" in lines[0]
    assert "--engine inline" in lines[0] and "refused" in lines[0]
    assert "up" not in out.stdout and not (tmp_path / "s" / "runs").exists()  # nothing ran


def test_any_http_answer_counts_as_up(http_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", http_server)
    check_api_reachable()  # a 404 is an answer
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{closed_port()}/api")
    with pytest.raises(MedicError, match="cannot be reached"):
        check_api_reachable()
    monkeypatch.setenv("PREFECT_API_URL", "127.0.0.1:4200")
    with pytest.raises(MedicError, match="not an http"):
        check_api_reachable()
