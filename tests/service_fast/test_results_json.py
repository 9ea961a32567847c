"""Results are never pickled: a pickle planted where medic keeps shard results runs nothing, and says so.

The planted files are written by Prefect's own ``ResultStore`` with its pickle serializer (the real format of a
Prefect result record) and as a bare pickle; each holds an object whose unpickling creates a marker file.
``medic fleet show`` must refuse them with one line (exit 3) and the marker must not appear; Prefect's own reader
on the same record does create it, which shows the planted file is live.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any


class Bomb:
    """Unpickling it touches ``marker``: the proof that a reader ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def medic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def plant_record(directory: Path, key: str, marker: Path) -> None:
    from prefect.filesystems import LocalFileSystem
    from prefect.results import ResultStore
    from prefect.serializers import PickleSerializer

    store = ResultStore(result_storage=LocalFileSystem(basepath=str(directory)), serializer=PickleSerializer())
    store.write(obj=Bomb(marker), key=key)


def good_shard(index: int) -> dict[str, Any]:
    return {"index": index, "hosts": [f"h{index}"], "flow_run_id": "x", "state": "COMPLETED", "message": "",
            "attempts": 1, "findings": [{"check": "c", "target": f"h{index}", "status": "pass", "summary": "ok"}]}


def test_a_pickled_prefect_record_among_shard_results_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    run = tmp_path / "fleet-run"
    run.mkdir()
    (run / "shard-0.json").write_text(json.dumps(good_shard(0)))
    marker = tmp_path / "ran-from-record"
    plant_record(run, "shard-1.json", marker)
    out = medic("fleet", "show", str(run))
    assert out.returncode == 3, out
    assert not marker.exists()
    [line] = out.stderr.strip().splitlines()
    assert "shard-1.json" in line and "'pickle' serializer" in line and "nothing in it was run" in line
    assert "Traceback" not in out.stderr

    from prefect.filesystems import LocalFileSystem
    from prefect.results import ResultStore

    # the same file through Prefect's own reader: the record names its serializer, so it is unpickled
    ResultStore(result_storage=LocalFileSystem(basepath=str(run))).read("shard-1.json")
    assert marker.exists()


def test_a_bare_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    run = tmp_path / "fleet-run"
    run.mkdir()
    marker = tmp_path / "ran-from-pickle"
    (run / "shard-0.json").write_bytes(pickle.dumps(Bomb(marker)))
    out = medic("fleet", "show", str(run))
    assert out.returncode == 3 and not marker.exists(), out
    assert "shard-0.json: not JSON" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_json_shard_results_are_shown(tmp_path: Path) -> None:
    run = tmp_path / "fleet-run"
    run.mkdir()
    for i in range(2):
        (run / f"shard-{i}.json").write_text(json.dumps(good_shard(i)))
    out = medic("fleet", "show", str(run))
    assert out.returncode == 0, out.stderr
    assert "shard 1: 1 host(s), COMPLETED" in out.stdout and "| pass | c | h1 | ok |" in out.stdout


def test_medic_processes_default_to_the_json_serializer() -> None:
    """A worker's or serve's flow runs read PREFECT_RESULTS_DEFAULT_SERIALIZER: medic sets it to json, so a bare
    pickle at a result key is never decoded by Prefect's fallback either."""
    code = ("from medic.flows import prefect_env; prefect_env.configure()\n"
            "from prefect.results import get_result_store\n"
            "print(type(get_result_store().serializer).__name__)")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_RESULTS_DEFAULT_SERIALIZER"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.stdout.strip() == "JSONSerializer", out.stderr
