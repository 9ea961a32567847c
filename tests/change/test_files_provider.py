"""The files provider: tar + manifest, verification, restore to byte identity; modes, symlinks, big files."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from unprivileged import run_unprivileged

from medic.plugins.change.providers.files import FilesProvider
from medic.plugins.change.safety.backups import BackupError
from medic.plugins.change.safety.catalogue import Catalogue

from .conftest import snapshot

P = FilesProvider()


def make_tree(root: Path, outside: Path) -> None:
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "secret.key").write_text("k")
    os.chmod(root / "sub" / "secret.key", 0o600)
    os.chmod(root / "sub" / "deep", 0o750)
    (root / "big.bin").write_bytes(random.Random(2).randbytes(12 * 1024 * 1024 + 7))
    outside.write_text("outside the tree\n")
    os.symlink(str(outside), root / "out-link")  # must be kept as a link, never followed
    os.symlink("a.txt", root / "sub" / "rel-link")
    long_dir = root / ("d" * 120)  # names over 100 bytes: GNU long-name records in the tar
    long_dir.mkdir()
    (long_dir / ("f" * 130)).write_text("long")
    os.symlink("x" * 150, long_dir / "long-link")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    make_tree(root, tmp_path / "outside.txt")
    return root


def test_backup_verifies_and_keeps_links_as_links(tmp_path: Path, tree: Path) -> None:
    cat = Catalogue(tmp_path / "cat")
    entry = cat.take(P, {"path": str(tree)})
    assert cat.verify(entry, P) == []
    by_path = {m["path"]: m for m in entry["manifest"]}
    assert by_path["out-link"] == {
        **by_path["out-link"],
        "type": "link",
        "target": str(tmp_path / "outside.txt"),
    }
    assert by_path["sub/secret.key"]["mode"] == "0600" and by_path["sub/deep"]["mode"] == "0750"
    assert by_path["big.bin"]["size"] == 12 * 1024 * 1024 + 7 and len(by_path["big.bin"]["sha256"]) == 64
    assert "outside the tree" not in (cat.directory(entry["id"]) / "files.tar").read_bytes().decode("latin-1")
    assert cat.get(entry["id"])["verification"]["ok"] is True
    assert not list((tmp_path / "cat").glob(".tmp-*"))


def test_restore_is_byte_identical_and_removes_new_entries(tmp_path: Path, tree: Path) -> None:
    before = snapshot(tree)
    cat = Catalogue(tmp_path / "cat")
    entry = cat.take(P, {"path": str(tree)})
    (tree / "a.txt").write_text("changed")
    os.chmod(tree / "sub" / "secret.key", 0o644)
    (tree / "big.bin").unlink()
    (tree / "new.txt").write_text("new")
    (tree / "sub" / "rel-link").unlink()
    os.symlink("/etc", tree / "sub" / "rel-link")
    assert P.compare(entry, cat.directory(entry["id"]), None) != []  # type: ignore[arg-type]
    P.restore(entry, cat.directory(entry["id"]), None)  # type: ignore[arg-type]
    assert snapshot(tree) == before
    assert P.compare(entry, cat.directory(entry["id"]), None) == []  # type: ignore[arg-type]


def test_restore_only_some_paths(tmp_path: Path, tree: Path) -> None:
    cat = Catalogue(tmp_path / "cat")
    entry = cat.take(P, {"path": str(tree)})
    (tree / "a.txt").write_text("changed")
    (tree / "sub" / "secret.key").write_text("changed too")
    P.restore(entry, cat.directory(entry["id"]), None, only=[str(tree / "a.txt")])  # type: ignore[arg-type]
    assert (tree / "a.txt").read_text() == "alpha\n"
    assert (tree / "sub" / "secret.key").read_text() == "changed too"


def test_a_damaged_backup_fails_verification(tmp_path: Path, tree: Path) -> None:
    cat = Catalogue(tmp_path / "cat")
    entry = cat.take(P, {"path": str(tree / "a.txt")})
    artifact = cat.directory(entry["id"]) / "files.tar"
    data = bytearray(artifact.read_bytes())
    data[600] ^= 0xFF
    artifact.write_bytes(bytes(data))
    problems = cat.verify(entry, P)
    assert problems and "padding" in problems[0]
    data[600] ^= 0xFF
    data[515] ^= 0x01  # in the file's data: the archive hash no longer matches
    artifact.write_bytes(bytes(data))
    problems = cat.verify(entry, P)
    assert problems and "hash mismatch" in problems[0]
    assert cat.get(entry["id"])["verification"]["ok"] is False


def test_absent_path_backup_restores_absence(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path / "cat")
    target = tmp_path / "not-yet.conf"
    entry = cat.take(P, {"path": str(target)})
    assert cat.verify(entry, P) == []
    target.write_text("created later")
    P.restore(entry, cat.directory(entry["id"]), None)  # type: ignore[arg-type]
    assert not target.exists()


def test_unreadable_file_names_the_resource_and_leaves_nothing(user_dir: Path) -> None:
    def body() -> None:  # as a normal user: root reads every file
        tree = user_dir / "tree"
        tree.mkdir()
        make_tree(tree, user_dir / "outside.txt")
        os.chmod(tree / "sub" / "secret.key", 0)
        cat = Catalogue(user_dir / "cat")
        with pytest.raises(BackupError, match=r"permission denied.*secret\.key|secret\.key.*permission denied"):
            cat.take(P, {"path": str(tree)})
        assert list((user_dir / "cat").iterdir()) == []

    run_unprivileged(body)


def test_a_full_backup_location_is_refused_up_front(tmp_path: Path, tree: Path) -> None:
    class Huge(FilesProvider):
        def estimate(self, params: object, free: int = 0) -> int:  # type: ignore[override]
            return 1 << 60

    cat = Catalogue(tmp_path / "cat")
    with pytest.raises(BackupError, match=r"is full.*MEDIC_BACKUP_DIR"):
        cat.take(Huge(), {"path": str(tree)})
    assert list((tmp_path / "cat").iterdir()) == []


def test_recover_removes_only_dead_staging_directories(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path / "cat")
    (tmp_path / "cat" / f".tmp-{os.getpid()}-live").mkdir(parents=True)  # a backup being taken right now
    (tmp_path / "cat" / ".tmp-999999999-dead").mkdir()
    removed = cat.remove_staging()
    assert [p.name for p in removed] == [".tmp-999999999-dead"]
    assert (tmp_path / "cat" / f".tmp-{os.getpid()}-live").exists()
