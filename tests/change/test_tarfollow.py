"""Verifying a files backup while it is written (issue 12): a forked child re-reads the archive file as it grows."""

from __future__ import annotations

import io
import os
import random
import resource
import tarfile
from pathlib import Path

import pytest
from unprivileged import run_unprivileged

from medic.plugins.change.providers import tarstream
from medic.plugins.change.providers.files import FilesProvider
from medic.plugins.change.providers.tarfollow import Follower
from medic.plugins.change.safety.backups import LOCAL

DATA = random.Random(5).randbytes(tarstream.HAND_EVERY + 12345)  # a hand-over falls inside this member


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o644
    return info


def test_the_child_reads_what_the_file_holds_as_the_tree_is_written(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "big.bin").write_bytes(DATA * 3)
    for i in range(300):
        (tree / "sub" / f"f{i}").write_bytes(DATA[i : i + 700])
    os.symlink("big.bin", tree / "link")
    (tree / ("d" * 120)).mkdir()  # a GNU long-name record
    staging = tmp_path / "staging"
    staging.mkdir()
    created, (digest, problems) = FilesProvider().create_reread({"path": str(tree)}, staging, LOCAL)
    assert problems == [] and digest == created.sha256
    assert tarstream.scan(staging / "files.tar")[0] == digest  # the same as a re-read after the fact
    assert len(created.manifest) == 305


def test_bytes_changed_in_the_file_after_they_were_written_are_caught(tmp_path: Path) -> None:
    """The child hashes the file, not the writer's buffers: a byte flipped on the way (here by another writer
    of the file, between the write and the hand-over) gives another member hash and archive hash."""
    path = tmp_path / "a.tar"
    path.touch()
    follower = Follower(path)
    flipped = []

    def flip_then_hand() -> None:
        if not flipped:
            with open(path, "r+b") as other:
                other.seek(512 + 100)  # inside the member's data
                byte = other.read(1)[0]
                other.seek(512 + 100)
                other.write(bytes([byte ^ 0xFF]))
            flipped.append(True)
        follower.handed()

    with open(path, "wb") as fh:
        writer = tarstream.TarWriter(fh, flip_then_hand)
        written = writer.file(_member("data.bin", len(DATA)), io.BytesIO(DATA))
        digest = writer.close()
    got, members = follower.result()
    assert flipped and got != digest
    assert [(m.name, m.size) for m, _ in members] == [("data.bin", len(DATA))] and members[0][1] != written


def test_a_writer_that_stops_half_way_gets_a_truncated_archive_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.tar"
    path.touch()
    follower = Follower(path)
    with open(path, "wb") as fh:
        writer = tarstream.TarWriter(fh, follower.handed)
        writer.header(_member("data.bin", len(DATA)))
        fh.write(DATA[:1000])  # then the writer fails: no more data, no end blocks
    with pytest.raises(tarfile.ReadError, match="truncated"):
        follower.result()
    with pytest.raises(ChildProcessError):  # the child has ended and was reaped
        os.waitpid(follower.pid, os.WNOHANG)


def test_without_a_process_to_spare_the_tar_is_re_read_after_the_backup(user_dir: Path) -> None:
    def body() -> None:  # as a normal user: root is not held to RLIMIT_NPROC
        tree = user_dir / "tree"
        tree.mkdir()
        (tree / "a.txt").write_text("alpha\n")
        staging = user_dir / "staging"
        staging.mkdir()
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no fork from here on
        created, reread = FilesProvider().create_reread({"path": str(tree)}, staging, LOCAL)
        assert reread is None  # backup_ops then re-reads it once it is in place
        assert tarstream.scan(staging / "files.tar")[0] == created.sha256

    run_unprivileged(body)
