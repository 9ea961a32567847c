"""Runs of characters from a small ASCII alphabet, found at C speed: a fast path for the scrubber's and the leak
scan's token passes (each keeps its own alphabet and detectors; this finds only where runs are).

A regular expression such as ``(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}`` tries a match at every position of the
text, ~20-30 MB/s in Python's ``re``; here the text is mapped once to a shape (``a`` for a character of the
alphabet, a blank for any other: ``bytes.translate``, each character one byte) and the runs are found with
``bytes.find`` of ``a`` repeated the minimum length, some hundreds of MB/s.
"""

from __future__ import annotations

from collections.abc import Iterator


class Alphabet:
    """An ASCII alphabet; characters outside ASCII never belong to it."""

    def __init__(self, chars: str) -> None:
        self._table = bytes(0x61 if chr(b) in chars else 0x20 for b in range(256))

    def runs_at(self, text: str, offsets: Iterator[int], minimum: int) -> Iterator[tuple[int, int]]:
        """(start, end) of each maximal run of at least ``minimum`` characters holding one of ``offsets`` (in
        increasing order, each on a character of the alphabet), once each, in order."""
        shape = text.encode("ascii", "replace").translate(self._table)
        after = -1
        for offset in offsets:
            if offset >= after:
                start, after = shape.rfind(b" ", 0, offset) + 1, shape.find(b" ", offset)
                after = len(shape) if after < 0 else after
                if after - start >= minimum:
                    yield start, after

    def runs(self, text: str, minimum: int) -> Iterator[tuple[int, int]]:
        """(start, end) of every maximal run of at least ``minimum`` characters of the alphabet, in order."""
        # "replace" turns each character outside ASCII into one "?": offsets stay those of the text
        shape = text.encode("ascii", "replace").translate(self._table)
        needle = b"a" * minimum
        found = shape.find(needle)
        while found >= 0:  # searching from a blank (or the start), the first hit is where a run starts
            end = shape.find(b" ", found + minimum)
            end = len(shape) if end < 0 else end
            yield found, end
            found = shape.find(needle, end)
