"""``medic serve`` without a Prefect server: the SLA clocks tick in its own process (what the medic-sla deployment
does on a server) and ``--cases-page`` serves the page beside them; a taken port is one line, exit 2."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from medic.plugins.cases.store import CaseStore


def environment(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config.yaml").write_text("deploy: {sla_interval_s: 1}\n")
    (tmp_path / "routing.yaml").write_text("scheme: four-level\ntiers: 3\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return {**env, "MEDIC_CONFIG": str(tmp_path / "config.yaml"), "MEDIC_ROUTING": str(tmp_path / "routing.yaml"),
            "MEDIC_STATE_DIR": str(tmp_path / "state")}


def breach_kinds(state: Path, case_id: str) -> list[str]:
    with CaseStore(state / "cases.sqlite") as store:
        return [e.kind for e in store.timeline(case_id) if e.kind.startswith("sla.")]


def test_serve_without_a_server_ticks_the_clocks_and_serves_the_page(tmp_path: Path) -> None:
    env = environment(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    with CaseStore(state / "cases.sqlite", clock=lambda: time.time() - 2 * 3600) as store:
        late = store.open("payments down", priority="urgent").id  # response and dispatch breached two hours in
    proc = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "serve", "--cases-page", "127.0.0.1:0"],
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        port = None
        lines = []
        while port is None:
            line = proc.stderr.readline()
            assert line, f"medic serve ended before serving the page: {''.join(lines)}"
            lines.append(line)
            found = re.search(r"cases page on http://127\.0\.0\.1:(\d+)/", line)
            port = int(found.group(1)) if found else None
        assert any("no Prefect server" in line and "every 1 s" in line for line in [*lines, proc.stderr.readline()])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as reply:
            assert reply.status == 200 and late in reply.read().decode()
        deadline = time.monotonic() + 60  # a generous bound on a hang; ticks come every second
        while breach_kinds(state, late).count("sla.breach") < 2:
            assert time.monotonic() < deadline, breach_kinds(state, late)
            time.sleep(0.2)
        time.sleep(2.5)  # two more ticks: what was sent is not sent again
        assert breach_kinds(state, late).count("sla.breach") == 2
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err, err


def test_a_taken_port_or_a_disabled_cases_plugin_is_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "medic.cli.main", "serve", "--cases-page", f"127.0.0.1:{port}"],
                             env=env, capture_output=True, text=True, timeout=120)
    wanted = f"medic: error: --cases-page 127.0.0.1:{port}: cannot listen there (Address already in use)"
    assert out.returncode == 2 and out.stderr.startswith(wanted) and out.stderr.count("\n") == 1, out.stderr
    assert "Traceback" not in out.stderr
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "serve"], capture_output=True, text=True,
                         env={**env, "MEDIC_DISABLE_PLUGINS": "builtin_cases"}, timeout=120)
    assert out.returncode == 2 and "needs a Prefect server" in out.stderr and "Traceback" not in out.stderr
