"""One classification of file types for the file probes, the path-modes probe and the files backup provider."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from medic.kernel.filetype import file_type


def test_file_type_names_each_kind_of_path(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "to-plain").symlink_to(tmp_path / "plain")
    (tmp_path / "to-nowhere").symlink_to(tmp_path / "missing")
    os.mkfifo(tmp_path / "pipe")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        kinds = {p.name: file_type(os.lstat(p).st_mode) for p in tmp_path.iterdir()}
    assert kinds == {"plain": "file", "sub": "dir", "to-plain": "link", "to-nowhere": "link", "pipe": "other",
                     "sock": "other"}


def test_probes_and_backups_report_the_same_type(tmp_path: Path) -> None:
    from medic.plugins.change.providers.files import _entry
    from medic.probes.files import file_stat
    from medic.probes.security import path_modes

    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    for path, kind in ((tmp_path / "sub", "dir"), (tmp_path / "link", "link")):
        assert file_stat(str(path))["type"] == kind
        assert path_modes([str(path)])["entries"][0]["type"] == kind
        assert _entry(path.name, os.lstat(path))["type"] == kind
