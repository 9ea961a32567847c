"""writeback.start_writeback: on Linux the writeback of a range starts without waiting (sync_file_range);
the bytes stay what was written and the file is unchanged, durability is left to the fsync before the 204."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from medic.plugins.collector import writeback


def test_sync_file_range_is_found_on_linux() -> None:
    assert (writeback._CALL is not None) == sys.platform.startswith("linux")


def test_start_writeback_leaves_the_bytes_as_written(tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    path = tmp_path / "f"
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        writeback.start_writeback(f.fileno(), 1 << 20, 2 << 20)
        writeback.start_writeback(f.fileno(), 0, len(data))
    assert path.read_bytes() == data


def test_a_failing_call_falls_back_to_fdatasync(tmp_path: Path) -> None:
    path = tmp_path / "f"
    with path.open("wb") as f:
        f.write(b"x" * 4096)
        f.flush()
        writeback.start_writeback(f.fileno(), -1, 4096)  # EINVAL from sync_file_range: fdatasync instead
    assert path.read_bytes() == b"x" * 4096
