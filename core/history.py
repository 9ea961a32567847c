"""Run history: each run's JSON document (schema ``medic.run/1``) kept as ``STATE_DIR/runs/RUN_ID.json``.

The document is built and serialised once per run (:func:`document`): the history file and ``medic run --json``
are the same text. orjson (a dependency of Prefect, so always installed with medic) writes the indented JSON in
C, where the standard library's encoder falls back to Python code as soon as ``indent`` is asked for (about 0.2 s
for an 800-step run on this project's VM).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson

from medic.core.engine import RunResult
from medic.core.report import to_json, to_markdown
from medic.kernel.errors import UsageError


def runs_dir(state: Path) -> Path:
    return state / "runs"


# the standard library's output for the same data: datetimes and dataclasses in evidence go through str() too
_ORJSON_OPTIONS = (orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS)


def document(run: RunResult) -> str:
    """The run's JSON document, indented by two spaces, as ``--json`` prints it and the history keeps it."""
    return dumps(to_json(run))


def dumps(data: Any) -> str:
    try:
        return orjson.dumps(data, default=str, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:  # what orjson refuses and json takes: an integer over 64 bits, NaN keys
        return json.dumps(data, indent=2, default=str, ensure_ascii=False)


def save(run: RunResult, state: Path, text: str | None = None) -> str | None:
    """Write the run's document (``text`` when already serialised; a temporary file renamed over it: readers never
    see half of one); return why it could not be written, or None."""
    directory = runs_dir(state)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{run.run_id}.json.tmp"
        tmp.write_text(document(run) if text is None else text, encoding="utf-8")
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
