"""Results medic keeps are JSON, and medic reads them as JSON only: nothing read back can run code.

Prefect's default result serializer is pickle, and Prefect reads a result record with the serializer the record
itself names (its ``metadata.serializer``): a pickle planted in result storage would run when read. Even its JSON
serializer takes the ``object_decoder`` to import from the record. So medic:

- declares ``result_serializer="json"`` on its flows and tasks and exports ``PREFECT_RESULTS_DEFAULT_SERIALIZER=json``
  (flows.prefect_env) for every process it starts, so a raw pickle file is never decoded by Prefect's fallback;
- persists shard results as plain JSON files (``shard-N.json``) and reads them, and any Prefect result record, with
  ``json.loads`` alone through ``read``: a record naming another serializer, or bytes that are not JSON, are refused
  with one line (``ResultRefused``, exit 3) before anything is decoded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medic.kernel.errors import MedicError

SERIALIZER = "json"


class ResultRefused(MedicError):
    """A result file that is not JSON, or a Prefect record written with another serializer (exit 3)."""


def read(path: Path) -> Any:
    """The value of a result file: medic's plain JSON, or the value of a Prefect record written as JSON."""
    try:
        document = json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError):
        raise ResultRefused(f"result {path}: not JSON (a pickle or other binary data?): refused, nothing in it "
                            f"was run (medic reads JSON results only)") from None
    if not _is_record(document):
        return document
    serializer = (document["metadata"].get("serializer") or {}).get("type")
    if serializer != SERIALIZER:
        raise ResultRefused(f"result {path}: a Prefect result record written with the {serializer!r} serializer: "
                            f"refused, nothing in it was run (medic reads JSON results only)")
    try:  # plain json: the record's own object_decoder names a function to import, which medic never does
        return json.loads(document["result"])
    except (TypeError, ValueError):
        raise ResultRefused(f"result {path}: its JSON record holds no JSON value: refused") from None


def _is_record(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("metadata"), dict) and "result" in document
