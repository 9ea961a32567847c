"""Run history: each run's JSON document (schema ``medic.run/1``) kept as ``STATE_DIR/runs/RUN_ID.json``."""

from __future__ import annotations

import json
from pathlib import Path

from medic.core.engine import RunResult
from medic.core.report import to_json


def runs_dir(state: Path) -> Path:
    return state / "runs"


def save(run: RunResult, state: Path) -> str | None:
    """Write the run's document (a temporary file renamed over it: readers never see half of one); return why it
    could not be written, or None."""
    directory = runs_dir(state)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{run.run_id}.json.tmp"
        tmp.write_text(json.dumps(to_json(run), default=str), encoding="utf-8")
        tmp.replace(directory / f"{run.run_id}.json")
    except OSError as exc:
        return f"could not save the run in {directory}: {exc}"
    return None
