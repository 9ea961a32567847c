"""An optional compiled first pass for the scrubber's line marks and the leak scan's anchors (Hyperscan).

Both layers start by finding words in the lower-cased text: the scrubber the lines holding a hint or a keyword
(:func:`medic.agent.redact.linemarks.hit_lines`), the leak scan its anchors (:mod:`medic.agent.leakfind`).
Python's ``re`` and ``str.find`` take ~37 ms/MB for that; Hyperscan finds every word of both sets in one pass at
~1.5 ms/MB, a Python call per hit included (bench/README-redaction.md). The pure-Python passes stay the fallback
and the reference: with or without the ``hyperscan`` package the output is the same (tests run both paths).

Used when ``hyperscan`` imports and ``MEDIC_REDACT_ENGINE`` is not ``python``. Text goes in with one byte per
character (:func:`one_byte_per_character`), so offsets are the text's. Each thread has its own scratch space.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Callable

from medic.agent import hscache

_UNLOADED = object()
_hs: Any = _UNLOADED  # the hyperscan module, None without it: imported on first use (4-20 ms, not at start-up)


def available() -> bool:
    """Whether hyperscan imports here: an accelerator, never a requirement (the agent runs without it)."""
    global _hs
    if _hs is _UNLOADED:
        try:
            import hyperscan

            _hs = hyperscan
        except ImportError:  # no wheel for this platform or Python
            _hs = None
    return _hs is not None


class Matcher:
    """A set of patterns compiled once; ``scan`` gives (id, end) of every match, in the order Hyperscan finds them."""

    def __init__(self, patterns: Sequence[str], caseless: bool = False, multiline: bool = False) -> None:
        """``patterns``: regular expressions without look-arounds (ids: their indexes), matched without ASCII case
        if ``caseless``, ``^`` and ``$`` at each line's start and end if ``multiline``. Only ends are reported (a
        start offset costs Hyperscan more): a caller wanting starts gives fixed-length patterns. The database is
        the one stored by an earlier run if there is one (:mod:`medic.agent.hscache`), else made by ``compile``."""
        assert available()
        self._patterns = list(patterns)
        self._flag = (_hs.HS_FLAG_CASELESS if caseless else 0) | (_hs.HS_FLAG_MULTILINE if multiline else 0)
        self._name = hscache.key(getattr(_hs, "__version__", "?"), self._patterns, self._flag)
        self._db: Any = None
        stored = hscache.load(self._name)
        if stored is not None:
            try:
                self._db = _hs.loadb(stored, _hs.HS_MODE_BLOCK)
            except Exception:  # (hyperscan.error: made for another CPU, say): compiled again when wanted
                self._db = None
        self._local = threading.local()

    @property
    def ready(self) -> bool:
        """Whether the database exists (stored by an earlier run, or compiled)."""
        return self._db is not None

    def compile(self) -> None:
        """Build the database (tenths of a second for a large set) and store it for the next run."""
        database = _hs.Database()
        database.compile(expressions=[p.encode("ascii") for p in self._patterns],
                         ids=list(range(len(self._patterns))), elements=len(self._patterns),
                         flags=[self._flag] * len(self._patterns))
        self._db = database
        hscache.store(self._name, _hs.dumpb(database))

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        """(id, end) of every match, by end offset."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = _hs.Scratch(self._db)
        hits: list[tuple[int, int]] = []
        add = hits.append

        def found(pattern: int, start: int, end: int, flags: int, context: Any) -> None:
            add((pattern, end))

        self._db.scan(data, match_event_handler=found, scratch=scratch)
        return hits


def enabled() -> bool:
    """Whether the compiled pass is used (the setting is read each time, so a test can switch it)."""
    return os.environ.get("MEDIC_REDACT_ENGINE", "") != "python" and not _FAILED and available()


_Build = Callable[[], Matcher]
_BUILT: dict[str, Matcher] = {}
_FAILED: list[str] = []  # why a compile failed (a CPU Hyperscan does not support): the pure-Python pass from then on
_LOCK = threading.Lock()


# A matcher whose build takes tenths of a second (the scrubber's key spots and token words: large expressions) is
# built only after its caller has offered it this many characters: a small collection does not pay for the build
# (without it the output is the same, the pass only slower), a large one pays once
HEAVY_AFTER = 4_000_000
_OFFERED: dict[str, int] = {}
_PENDING: dict[str, Matcher] = {}  # made, waiting for HEAVY_AFTER to compile (nothing was stored)


def matcher(name: str, build: _Build, heavy: int = -1) -> Matcher | None:
    """The matcher ``build`` makes, made once per process (None when the accelerator is off or cannot run). A
    database stored by an earlier run is used at once; a heavy one not stored gives the length of the text it is
    wanted for (``heavy``), and is None until HEAVY_AFTER is reached, then compiled (and stored)."""
    if not enabled():
        return None
    found = _BUILT.get(name)
    if found is not None:
        return found
    with _LOCK:  # (two threads must not build it twice at once: a compile takes some milliseconds)
        try:
            pending = _PENDING.get(name) or _PENDING.setdefault(name, build())
            if not pending.ready:
                if heavy >= 0:
                    _OFFERED[name] = offered = _OFFERED.get(name, 0) + heavy
                    if offered < HEAVY_AFTER:
                        return None
                pending.compile()
        except Exception as error:  # (hyperscan.error: an unsupported CPU): same output without it
            _FAILED.append(f"{name}: {error}")
            return None
        _BUILT[name] = pending
    return pending


def one_byte_per_character(text: str) -> bytes:
    """``text`` with each character outside ASCII as one ``?``: the offsets of the bytes are those of the text,
    and no ASCII pattern can match across such a character (none holds a ``?``)."""
    return text.encode("ascii", "replace")


def literal(word: str) -> str:
    """A pattern matching ``word`` exactly (Hyperscan's syntax is PCRE's: ``re.escape`` fits)."""
    return re.escape(word)
