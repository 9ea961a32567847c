"""Probe modules that import sibling modules (log scanning, config, kernel) run on a remote Python too."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from medic.kernel.closure import closure
from medic.kernel.models import Status


def test_sibling_imports_are_shipped_first() -> None:
    order = closure(["medic.probes.logs", "medic.probes.config"])
    assert order.index("medic.probes.logscan") < order.index("medic.probes.logs")
    assert order.index("medic.probes.security") < order.index("medic.probes.config")


def test_log_config_and_kernel_checks_over_ssh_match_local(lab: Any, runner: Any, statuses: Any,
                                                          tmp_path: Path) -> None:
    log = tmp_path / "app.log"  # the lab hosts share this machine's file system
    log.write_text("".join(f"2026-11-25 10:00:{i % 60:02d} ERROR job {i} failed\n" if i % 3 == 0 else
                           f"2026-11-25 10:00:{i % 60:02d} INFO ok {i}\n" for i in range(300)))
    conf = tmp_path / "app.ini"
    conf.write_text("[server]\nport = 8080\n")
    playbook = tmp_path / "remote.yaml"
    playbook.write_text(textwrap.dedent(f"""
        name: remote-catalogue
        steps:
          - {{id: errors, check: logs.error_rate, with: {{path: {log}, lines: 0}}}}
          - {{id: port, check: configuration.config_value, with: {{path: {conf}, key: server.port,
             expected: "8080"}}}}
          - {{id: oom, check: system.oom_kills}}
    """))
    inv = lab.inventory({"py": {"lab": "ok"}})
    remote, _ = runner(["py"], playbook=str(playbook), inventory=str(inv))
    local, _ = runner(["local"], playbook=str(playbook))
    got_remote, got_local = statuses(remote, "py"), statuses(local, "local")
    assert got_remote == got_local, (got_remote, [f.summary for f in remote.findings()])
    assert Status.PASS in {s for (c, _), s in got_remote.items() if c == "configuration.config_value"}
    assert all(s != Status.ERROR for s in got_remote.values()), [f.summary for f in remote.findings()]
