"""Incremental, capped gzip decompression for the bundle reader."""

from __future__ import annotations

import zlib
from typing import BinaryIO

_CHUNK = 1 << 16


class TooBig(Exception):
    """The decompressed stream went past its cap (reported as BundleUnsafe naming the member being read)."""


class Decompressed:
    """gzip data decompressed as it is read: partial data comes out before a truncation is reported (so the
    error names the member being read), the CRC and length are checked at the end, and no more than ``cap``
    bytes are ever produced (zip-bomb guard)."""

    def __init__(self, raw: BinaryIO, cap: int) -> None:
        self.raw, self.cap = raw, cap
        self.inflate = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
        self.buffer = bytearray()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self.buffer) < size) and not self.inflate.eof:
            pending = self.inflate.unconsumed_tail or self.raw.read(_CHUNK)
            if not pending:
                raise EOFError("compressed data ends before the end of the archive")
            data = self.inflate.decompress(pending, _CHUNK)
            self.count += len(data)
            if self.count > self.cap:
                raise TooBig(self.cap)
            self.buffer += data
        if self.inflate.eof and (self.inflate.unused_data or self.raw.read(1)):
            raise zlib.error("unexpected data after the end of the compressed stream")
        size = len(self.buffer) if size < 0 else size
        out = bytes(self.buffer[:size])
        del self.buffer[:size]
        return out
