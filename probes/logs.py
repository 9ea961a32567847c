"""The ``log_scan`` probe: lines of a log matching a pattern, with the top repeated messages (probes/logsearch.py).
"""

from __future__ import annotations

from typing import Any

from medic.kernel.params import Param
from medic.kernel.probe import probe
from medic.probes.logsearch import DEFAULT_PATTERN, grep_dialect, scan_log

__all__ = ["DEFAULT_PATTERN", "grep_dialect", "log_scan"]


@probe(
    "log_scan",
    params=[
        Param("path", "string", description="log file (plain or .gz)"),
        Param(
            "pattern",
            "string",
            DEFAULT_PATTERN,
            "regular expression a line must contain (Python/PCRE syntax)",
        ),
        Param("ignore_case", "bool", True, "match regardless of case"),
        Param("lines", "int", 10000, "scan only the last N lines (0: the whole file)"),
        Param("window_min", "float", 0.0, "scan only lines timestamped in the last N minutes (0: off)"),
        Param(
            "include_rotated", "bool", False, "also read rotated files (path.1, path.2.gz, ...) in a window"
        ),
        Param("top", "int", 10, "how many repeated messages to report"),
        Param(
            "extract",
            "string",
            "",
            "regular expression whose group 1 is counted per matching line (top values)",
        ),
        Param(
            "engine",
            "string",
            "auto",
            "auto (Python for a plain file up to 256 KiB, else GNU grep when present), grep or python",
            choices=("auto", "grep", "python"),
        ),
    ],
    description="Count lines matching a pattern in a log, with the top repeated messages (streamed).",
    cost=3,
)
def log_scan(
    path: str,
    pattern: str = DEFAULT_PATTERN,
    ignore_case: bool = True,
    lines: int = 10000,
    window_min: float = 0.0,
    include_rotated: bool = False,
    top: int = 10,
    extract: str = "",
    engine: str = "auto",
) -> dict[str, Any]:
    # the signature stays here, beside the Params it must match; the work is logsearch's, which `medic logs scan`
    # imports without the probe registry (kernel.params, dataclasses): bench/README-logs.md, session 15
    return scan_log(path, pattern=pattern, ignore_case=ignore_case, lines=lines, window_min=window_min,
                    include_rotated=include_rotated, top=top, extract=extract, engine=engine)
