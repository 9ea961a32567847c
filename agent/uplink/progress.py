"""What an upload tells its user: a progress bar on a terminal, one JSON line per event with ``--json``.

The bar (bytes sent, rate, ETA) is drawn on stderr only when stderr is a terminal, at most 10 times a second;
messages (resumed, retrying...) are one line on stderr. With ``--json`` every event is one JSON object on
stdout (``{"event": "chunk", "offset": ..., ...}``) and nothing else is drawn.
"""

from __future__ import annotations

import json
import sys
import time

TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    from typing import IO, Any


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, *, json_lines: bool = False, quiet: bool = False, out: IO[str] | None = None,
                 err: IO[str] | None = None) -> None:
        self.json_lines = json_lines
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.bar = not json_lines and not quiet and self.err.isatty()
        self.total = 0
        self.start_offset = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def event(self, name: str, message: str = "", **fields: Any) -> None:
        """One event: a JSON line with --json, else ``message`` (when there is one) on stderr."""
        if self.json_lines:
            print(json.dumps({"event": name, **fields}, sort_keys=True), file=self.out, flush=True)
        elif message and not self.quiet:
            self._clear()
            print(f"  {message}", file=self.err, flush=True)

    def begin(self, total: int, offset: int) -> None:
        self.total, self.start_offset, self.started = total, offset, time.monotonic()
        self.advance(offset, force=True)

    def advance(self, offset: int, *, force: bool = False) -> None:
        if self.json_lines:
            self.event("chunk", offset=offset, length=self.total)
        now = time.monotonic()
        if not self.bar or (not force and now - self._drawn < 0.1 and offset < self.total):
            return
        self._drawn = now
        elapsed = max(now - self.started, 1e-6)
        rate = (offset - self.start_offset) / elapsed
        eta = (self.total - offset) / rate if rate > 0 else 0.0
        share = offset / self.total if self.total else 1.0
        filled = int(share * 30)
        line = (f"\r  [{'#' * filled}{' ' * (30 - filled)}] {share:6.1%} {human(offset)} / {human(self.total)}"
                f"  {human(rate)}/s  ETA {clock(eta)} ")
        print(line, end="", file=self.err, flush=True)

    def _clear(self) -> None:
        if self.bar and self._drawn:
            print("\r\033[K", end="", file=self.err, flush=True)

    def done(self) -> None:
        if self.bar and self._drawn:
            print(file=self.err, flush=True)
            self._drawn = 0.0
