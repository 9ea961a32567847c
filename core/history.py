"""Run history: each run's JSON document (schema ``medic.run/1``) kept as ``STATE_DIR/runs/RUN_ID.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from medic.core.engine import RunResult
from medic.core.report import to_json, to_markdown
from medic.kernel.errors import UsageError


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


def check_writable(option: str, destination: str | None) -> None:
    """Refuse, before a run starts, an output file that could not be written after it (its results would be lost)."""
    if destination is None:
        return
    path = Path(destination).expanduser()
    parent = path.parent
    if path.is_dir():
        raise UsageError(f"{option} {destination}: is a directory; give a file name")
    if not parent.is_dir():
        raise UsageError(f"{option} {destination}: directory {parent} does not exist; create it or choose another")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {destination}: not writable by this user; choose another file")


def write_report(run: RunResult, destination: str, state: Path) -> str:
    """Write the fault analysis report; say where it went, or why not and where the run is kept."""
    try:
        Path(destination).expanduser().write_text(to_markdown(run), encoding="utf-8")
    except OSError as exc:
        return f"medic: warning: could not write the report {destination}: {exc}; the run is kept in " \
               f"{runs_dir(state) / (run.run_id + '.json')}"
    return f"report written to {destination}"
