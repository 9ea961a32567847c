"""``medic logs scan FILE --target HOST``: the same log_scan probe on an SSH host (real sshd on loopback), the same
answer as on this machine, and one-line errors naming the host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_a_log_scanned_over_ssh_gives_the_local_answer(lab: Any, run_cli: Any, tmp_path: Path) -> None:
    log = tmp_path / "app.log"  # the lab hosts share this machine's file system
    log.write_text("".join(f"2026-11-25 10:00:{i % 60:02d} ERROR job {i} failed\n" if i % 3 == 0 else
                           f"2026-11-25 10:00:{i % 60:02d} INFO ok {i}\n" for i in range(300)))
    inv = lab.inventory({"py": {"lab": "ok"}})
    code, out, err = run_cli("logs", "scan", str(log), "--target", "py", "--inventory", str(inv), "--json")
    assert code == 0, err
    remote = json.loads(out)
    code, out, _ = run_cli("logs", "scan", str(log), "--json")
    local = json.loads(out)
    same = ("matches", "lines_scanned", "top", "samples", "first_time", "last_time", "mode")
    assert remote["matches"] == 100 and {k: remote[k] for k in same} == {k: local[k] for k in same}
    code, out, err = run_cli("logs", "scan", str(tmp_path / "absent.log"), "-t", "py", "--inventory", str(inv))
    assert code == 2 and "py: " in err and "no such file" in err and "Traceback" not in err
    code, out, err = run_cli("logs", "scan", str(log), "-t", "nohost", "--inventory", str(inv))
    assert code == 2 and "nohost" in err and "Traceback" not in err


def test_an_unreachable_host_is_one_line_and_exit_3(lab: Any, run_cli: Any, tmp_path: Path) -> None:
    inv = lab.inventory({"down": {"address": "127.0.0.1", "port": 1}})
    code, _out, err = run_cli("logs", "scan", "/var/log/syslog", "-t", "down", "--inventory", str(inv))
    assert code == 3, err
    assert "down" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
