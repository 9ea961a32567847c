"""``medic run --engine inline`` starts the log scans its previous identical run made before importing medic, and
the probe takes them over (cli/earlyscan.py, probes/logearly.py)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medic.cli import earlyscan
from medic.cli.main import main
from medic.probes import logearly

LOG = b"".join(b"2026-12-07T03:00:00Z app: %s %d\n" % (b"ERROR x" if i % 9 == 0 else b"INFO y", i) for i in range(900))


def _book(tmp_path: Path, step: str) -> str:
    log = tmp_path / "app.log"
    log.write_bytes(LOG)
    path = tmp_path / "pb.yaml"
    path.write_text("name: log-errors\nsteps:\n  " + step.strip().replace("LOG", str(log)) + "\n")
    return str(path)


def _run(words: list[str]) -> dict[str, object]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(words)
    doc: dict[str, object] = json.loads(out.getvalue())
    return doc


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MEDIC_ENGINE", raising=False)


def _plans(tmp_path: Path) -> list[dict[str, object]]:
    found = sorted((tmp_path / "cache" / "medic" / "scans").glob("*.json"))
    return [json.loads(p.read_text()) for p in found]


def test_the_second_identical_run_starts_its_scan_first_and_the_probe_takes_it(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch
                                                                               ) -> None:
    pb = _book(tmp_path, '- {id: errors, check: logs.error_rate, with: {path: "LOG", lines: 0}}')
    words = ["run", pb, "--engine", "inline", "--json"]
    first = _run(words)
    [plan] = _plans(tmp_path)
    assert plan["scans"] == [{"path": str(tmp_path / "app.log"), "pattern": r"error|exception|fatal|critical|"
                              r"traceback|panic|segfault", "ignore_case": True}]
    taken: list[logearly.EarlyScan] = []
    real_take = logearly.take
    monkeypatch.setattr(logearly, "take", lambda *a: taken.append(e) or e if (e := real_take(*a)) else None)
    second = _run(words)
    assert len(taken) == 1 and not logearly._STARTED  # started by begin(), taken by the probe, none left over
    assert second["findings"] == first["findings"]
    assert "100 error line(s) in 900 lines" in json.dumps(second["findings"])


@pytest.mark.parametrize("steps", [
    '- {id: tail, check: logs.error_rate, with: {path: "LOG"}}',  # the last 10,000 lines: a short scan anyway
    '- {id: slow, check: logs.error_rate, timeout: 30, with: {path: "LOG", lines: 0}}',  # scanned in a child
    '- {id: pcre, check: logs.error_rate, with: {path: "LOG", lines: 0, pattern: "ERROR\\\\s\\\\w"}}',
])
def test_no_plan_for_scans_that_cannot_start_early(tmp_path: Path, steps: str) -> None:
    _run(["run", _book(tmp_path, steps), "--engine", "inline", "--json"])
    assert _plans(tmp_path) == []  # nothing to start: nothing written


def test_only_an_inline_run_started_by_main_plans(tmp_path: Path) -> None:
    pb = _book(tmp_path, '- {id: errors, check: logs.error_rate, with: {path: "LOG", lines: 0}}')
    assert earlyscan.inline_run(["run", pb, "--engine=inline"])
    assert earlyscan.inline_run(["run", pb, "--json", "-t", "local", "--engine", "inline", "--report", "r.md"])
    assert not earlyscan.inline_run(["run", pb])  # the default engine is Prefect
    assert not earlyscan.inline_run(["run", pb, "--engine", "inline", "--help"])
    assert not earlyscan.inline_run(["run", "--engine", "inline", pb])
    assert not earlyscan.inline_run(["run", pb, "--engine", "inline", "--target", "ssh://db1"])
    # a command line that may hold a secret (an input, a channel's URL) is never a plan's key
    for option in (["--input", "token=s3cret"], ["-itoken=s3cret"], ["--inp", "token=s3cret"],
                   ["--notify", "chat:https://hooks.example/T0/s3cret"]):
        assert not earlyscan.inline_run(["run", pb, "--engine", "inline", *option])
    os.environ["MEDIC_ENGINE"] = "inline"
    try:
        assert earlyscan.inline_run(["run", pb]) and not earlyscan.inline_run(["run", pb, "--engine", "prefect"])
    finally:
        del os.environ["MEDIC_ENGINE"]
    earlyscan.begin(["playbooks", "list"])
    assert earlyscan._plan is None


def test_the_scan_starts_before_medic_imports_its_engine_models_or_yaml(tmp_path: Path) -> None:
    pb = _book(tmp_path, '- {id: errors, check: logs.error_rate, with: {path: "LOG", lines: 0}}')
    words = ["run", pb, "--engine", "inline", "--json"]
    _run(words)
    probe = ("import sys; from medic.cli.earlyscan import begin; from medic.probes import logearly; "
             f"begin({words!r}); print(len(logearly._STARTED), ' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}, check=True)
    started, modules = out.stdout.split(" ", 1)
    assert started == "1"
    assert not set(modules.split()) & {"dataclasses", "medic.kernel.models", "medic.core.engine", "yaml", "pluggy",
                                       "medic.core.session", "medic.probes.logs"}
