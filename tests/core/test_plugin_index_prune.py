"""The plugin index cache keeps a bounded number of files: each venv, checkout or upgrade writes an index of its
own (kernel/pluginindex.py), and before this the directory only grew (821 files, 90 MB on a test machine)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medic.kernel import pluginindex


def test_writing_an_index_keeps_only_the_most_recent_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    directory = tmp_path / "medic"
    directory.mkdir()
    for i in range(pluginindex.KEEP + 10):
        old = directory / f"plugins-{i:016x}.json"
        old.write_text("{}")
        os.utime(old, ns=(10**18 + i * 10**9, 10**18 + i * 10**9))  # the higher i, the more recently written
    (directory / "notes.txt").write_text("not an index: left alone")
    pluginindex.write(pluginindex.key(set()), {"plugins": []})
    left = sorted(p.name for p in directory.glob("plugins-*.json"))
    assert len(left) == pluginindex.KEEP
    assert pluginindex.cache_path().name in left  # the one just written stays
    assert [f"plugins-{i:016x}.json" for i in range(11, pluginindex.KEEP + 10)] == [n for n in left if n !=
                                                                                     pluginindex.cache_path().name]
    assert (directory / "notes.txt").exists()
    assert pluginindex.read(pluginindex.key(set())) is not None  # and it is still read back
