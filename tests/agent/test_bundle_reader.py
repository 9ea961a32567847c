"""The bundle reader, its manifest and its capped decompression, by exact result and exact message: what a
verified bundle gives back, every refusal's sentence and the member it names, the caps at their edges, and a
bundle that changes between the two passes."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest

import medic.kernel.bundle.reader as reader
from medic.kernel.bundle import (
    BundleCorrupt,
    BundleError,
    BundleFormatError,
    BundleUnsafe,
    BundleWriter,
    Limits,
    Manifest,
    Member,
    ProbeRecord,
    Skipped,
    open_bundle,
    read_manifest,
)
from medic.kernel.bundle.inflate import Decompressed, TooBig
from medic.kernel.bundle.manifest import unsafe_member_path
from medic.kernel.models import ProbeCall, ProbeResult

A = b"alpha\n"
B = b"bravo bravo\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_for(listed: list[tuple[str, bytes]], **overrides: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format_version": 1, "agent_version": "0.1.0", "host": "web01", "started_at": "t0", "finished_at": "t1",
        "members": [{"path": p, "size": len(d), "sha256": sha(d), "kind": "log"} for p, d in listed],
    }
    manifest.update(overrides)
    return manifest


def entry(name: str, data: bytes | None = None, kind: bytes = tarfile.REGTYPE) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if data is not None else 0
    return info, data


def craft(path: Path, entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    """A tar.gz of exactly these entries, in this order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    path.write_bytes(gzip.compress(buf.getvalue()))
    return path


def with_manifest(path: Path, listed: list[tuple[str, bytes]], entries: list[tuple[tarfile.TarInfo, bytes | None]]
                  | None = None, **overrides: Any) -> Path:
    raw = json.dumps(manifest_for(listed, **overrides)).encode()
    rest = entries if entries is not None else [entry(p, d) for p, d in listed]
    return craft(path, [entry("manifest.json", raw), *rest])


def refusal(path: Path, limits: Limits | None = None) -> BundleError:
    with pytest.raises(BundleError) as caught:
        read_manifest(path, limits)
    return caught.value


@pytest.fixture
def read_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The reader's temporary directories, made under one folder the test can look into."""
    base = tmp_path / "reads"
    base.mkdir()
    real = reader.tempfile.mkdtemp
    monkeypatch.setattr(reader.tempfile, "mkdtemp", lambda prefix="": real(prefix=prefix, dir=base))
    return base


# -- what a verified bundle gives back ---------------------------------------------------------------------------

def test_an_opened_bundle_gives_its_members_and_removes_them_on_close(tmp_path: Path, read_roots: Path) -> None:
    text = "caf\xe9 \udcff\n".encode("utf-8", "surrogateescape")
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A), ("notes/t.txt", text)])
    with open_bundle(path) as bundle:
        [root] = read_roots.iterdir()
        assert root.name.startswith("medic-bundle-read-") and bundle.root == root and bundle.path == path
        assert bundle.member_path("logs/a.log") == root / "logs" / "a.log"
        assert bundle.read_bytes("logs/a.log") == A
        assert bundle.read_text("notes/t.txt") == "caf\xe9 \udcff\n"  # undecodable bytes kept, not replaced
        assert oct((root / "logs" / "a.log").stat().st_mode & 0o777) == "0o600"
        assert [m.path for m in bundle.manifest.members] == ["logs/a.log", "notes/t.txt"]
        with pytest.raises(KeyError) as caught:
            bundle.member_path("manifest.json")
        assert caught.value.args[0] == f"'manifest.json' is not a member of {path}"
    assert list(read_roots.iterdir()) == []
    bundle.close()  # closing again (after the with block, or twice) is harmless


def test_member_names_with_spaces_are_written_where_they_are_named(tmp_path: Path) -> None:
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/my app/x y.log", A)])
    with open_bundle(path) as bundle:
        assert bundle.read_bytes("logs/my app/x y.log") == A
        assert (bundle.root / "logs" / "my app" / "x y.log").read_bytes() == A


def test_a_member_larger_than_one_read_comes_back_whole(tmp_path: Path) -> None:
    data = os.urandom(200_000)  # about three of the reader's 64 KiB reads
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/big.log", data)])
    with open_bundle(path) as bundle:
        assert bundle.read_bytes("logs/big.log") == data
    assert read_manifest(path).members[0].size == 200_000


def test_probe_results_come_back_keyed_by_their_calls(tmp_path: Path) -> None:
    disk = ProbeResult("disk_usage", {"paths": ["/"]}, True, {"free": 40}, duration_s=0.5)
    gone = ProbeResult("os_info", {}, False, None, "not collected", unavailable=True)
    bundle_path = tmp_path / "b.tar.gz"
    with BundleWriter(bundle_path, host="web01") as writer:
        writer.add_probe_result(disk)
        writer.add_probe_result(gone)
    with open_bundle(bundle_path) as bundle:
        assert bundle.probe_results() == {ProbeCall.make("disk_usage", {"paths": ["/"]}): disk,
                                          ProbeCall.make("os_info"): gone}


@pytest.mark.parametrize(("record", "message"), [
    (b"[not json", "invalid probe record: Expecting value: line 1 column 2 (char 1)"),
    (json.dumps({"key": "os_info"}).encode(), "invalid probe record: 'result'"),
    (json.dumps({"key": "os_info", "result": {"probe": "os_info", "params": None, "ok": True,
                                             "duration_s": "slow"}}).encode(),
     "invalid probe record: could not convert string to float: 'slow'"),
    (json.dumps({"key": "os_info", "result": {"probe": "disk", "ok": True}}).encode(),
     "probe key 'os_info' does not match its result"),
    (json.dumps({"key": "disk", "result": {"probe": "os_info", "ok": True}}).encode(),
     "probe key 'os_info' does not match its result"),
    (json.dumps({"result": {"probe": "os_info", "ok": True}}).encode(),
     "probe key 'os_info' does not match its result"),
])
def test_a_bad_probe_record_names_its_member(tmp_path: Path, record: bytes, message: str) -> None:
    probes = [{"key": "os_info", "probe": "os_info", "member": "probes/0001.json", "status": "ok"}]
    path = with_manifest(tmp_path / "b.tar.gz", [("probes/0001.json", record)], probes=probes)
    with open_bundle(path) as bundle, pytest.raises(BundleFormatError) as caught:
        bundle.probe_results()
    assert str(caught.value) == f"bundle {path}, member 'probes/0001.json': {message}"


def test_a_missing_path_or_a_directory_is_no_bundle(tmp_path: Path) -> None:
    for path in (tmp_path / "nothing.tar.gz", tmp_path):
        for read in (open_bundle, read_manifest):
            with pytest.raises(BundleFormatError) as caught:
                read(path)
            assert str(caught.value) == f"bundle {path}: no such bundle file"


def test_read_manifest_returns_the_manifest_whole(tmp_path: Path) -> None:
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A)], info={"profile": "default"},
                         skipped=[{"item": "probe:packages", "reason": "time budget exhausted"}],
                         redaction={"password": 3},
                         probes=[{"key": "k", "probe": "p", "member": "logs/a.log", "status": "failed"}])
    manifest = read_manifest(path)
    assert manifest == Manifest("0.1.0", "web01", "t0", "t1", [Member("logs/a.log", len(A), sha(A), "log")],
                                [ProbeRecord("k", "p", "logs/a.log", "failed", 0.0)],
                                [Skipped("probe:packages", "time budget exhausted")], {"password": 3},
                                {"profile": "default"}, 1)
    assert Manifest.from_dict(manifest.to_dict()) == manifest


# -- refusals, each with its sentence and member -----------------------------------------------------------------

def test_other_formats_get_a_sentence(tmp_path: Path) -> None:
    zipped = tmp_path / "z.tar.gz"
    for head in (b"PK\x03\x04", b"PK\x05\x06"):
        zipped.write_bytes(head + bytes(100))
        assert str(refusal(zipped)) == f"bundle {zipped}: zip is not a bundle format (medic reads .tar.gz)"
    plain = tmp_path / "p.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info, data = entry("manifest.json", b"{}")
        tar.addfile(info, io.BytesIO(data or b""))
    plain.write_bytes(buf.getvalue())
    assert str(refusal(plain)) == f"bundle {plain}: an uncompressed tar is not a bundle format (medic reads .tar.gz)"


@pytest.mark.parametrize(("entries", "error", "message", "member"), [
    ([entry("logs/link", kind=tarfile.SYMTYPE)], BundleUnsafe, "refused: links are not allowed", "logs/link"),
    ([entry("logs/hard", kind=tarfile.LNKTYPE)], BundleUnsafe, "refused: links are not allowed", "logs/hard"),
    ([entry("dev/sda", kind=tarfile.BLKTYPE)], BundleUnsafe, "refused: device or fifo", "dev/sda"),
    ([entry("dev/tty", kind=tarfile.CHRTYPE)], BundleUnsafe, "refused: device or fifo", "dev/tty"),
    ([entry("pipe", kind=tarfile.FIFOTYPE)], BundleUnsafe, "refused: device or fifo", "pipe"),
    ([entry("./", A)], BundleUnsafe, "refused: only regular files and directories are allowed", "./"),
    ([entry("logs/a.log", A, kind=tarfile.GNUTYPE_SPARSE)], BundleUnsafe,
     "refused: only regular files and directories are allowed", "logs/a.log"),
    ([entry("./../x", A)], BundleUnsafe, "refused: path with '..', '.' or empty components", "./../x"),
    ([entry("/etc/x", A)], BundleUnsafe, "refused: absolute path", "/etc/x"),
    ([entry("logs/a.log", A), entry("logs/a.log", A)], BundleCorrupt, "member stored twice", "logs/a.log"),
    ([entry("logs/a.log", B)], BundleCorrupt, f"size {len(B)} differs from the manifest's {len(A)}", "logs/a.log"),
    ([entry("logs/a.log", b"alphA\n")], BundleCorrupt, "sha256 does not match the manifest (changed or corrupt)",
     "logs/a.log"),
    ([entry("logs/a.log", A), entry("x.sh", A)], BundleCorrupt, "member not listed in the manifest", "x.sh"),
    ([entry("etc", kind=tarfile.DIRTYPE), entry("logs/a.log", A)], BundleUnsafe,
     "refused: a directory that holds no member the manifest lists", "etc"),
    ([entry("log", kind=tarfile.DIRTYPE), entry("logs/a.log", A)], BundleUnsafe,
     "refused: a directory that holds no member the manifest lists", "log"),
    ([], BundleCorrupt, "truncated: 1 member(s) missing", "logs/a.log"),
    ([entry("manifest.json", b"{}")], BundleCorrupt, "manifest stored twice", "manifest.json"),
], ids=["symlink", "hardlink", "block", "char", "fifo", "root-file", "sparse", "dot-dot", "absolute", "twice", "size",
        "sha256", "unlisted", "directory", "directory-prefix", "missing", "manifest-twice"])
def test_refusals_name_the_member(tmp_path: Path, entries: list[tuple[tarfile.TarInfo, bytes | None]],
                                  error: type[BundleError], message: str, member: str) -> None:
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A)], entries)
    caught = refusal(path)
    assert type(caught) is error and caught.member == member
    assert str(caught) == f"bundle {path}, member {member!r}: {message}"


def test_a_bad_manifest_in_a_bundle_names_the_bundle(tmp_path: Path) -> None:
    not_json = craft(tmp_path / "n.tar.gz", [entry("manifest.json", b"{not json")])
    assert str(refusal(not_json)) == (f"bundle {not_json}, member 'manifest.json': manifest is not JSON: "
                                      "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")
    raw = json.dumps(manifest_for([], host=None) | {"format_version": 2}).encode()
    newer = craft(tmp_path / "v2.tar.gz", [entry("manifest.json", raw)])
    assert str(refusal(newer)) == (f"bundle {newer}, member 'manifest.json': invalid manifest: "
                                   "unsupported format_version 2; this medic reads 1")


def test_the_first_missing_member_is_named_with_the_count(tmp_path: Path) -> None:
    listed = [("a.log", A), ("b.log", B), ("c.log", A)]
    path = with_manifest(tmp_path / "b.tar.gz", listed, [entry("a.log", A)])
    assert str(refusal(path)) == f"bundle {path}, member 'b.log': truncated: 2 member(s) missing"


def test_no_manifest_at_all(tmp_path: Path) -> None:
    path = craft(tmp_path / "b.tar.gz", [entry("a.log", A)])
    assert str(refusal(path)) == f"bundle {path}, member 'manifest.json': no manifest.json in the archive"
    empty = craft(tmp_path / "e.tar.gz", [])
    assert str(refusal(empty)) == f"bundle {empty}, member 'manifest.json': no manifest.json in the archive"


def test_members_before_the_manifest_are_checked_when_it_comes(tmp_path: Path, read_roots: Path) -> None:
    listed = [("logs/a.log", A), ("logs/b.log", B)]
    raw = json.dumps(manifest_for(listed)).encode()
    first = craft(tmp_path / "first.tar.gz", [entry("./logs/", kind=tarfile.DIRTYPE), entry("././logs/a.log", A),
                                               entry("manifest.json", raw), entry("logs/b.log", B)])
    with open_bundle(first) as bundle:
        assert (bundle.read_bytes("logs/a.log"), bundle.read_bytes("logs/b.log")) == (A, B)
        assert sorted(p.name for p in (bundle.root / "logs").iterdir()) == ["a.log", "b.log"]
    changed = craft(tmp_path / "changed.tar.gz", [entry("logs/a.log", b"alphA\n"), entry("manifest.json", raw),
                                                   entry("logs/b.log", B)])
    assert str(refusal(changed)) == (f"bundle {changed}, member 'logs/a.log': "
                                     "sha256 does not match the manifest (changed or corrupt)")
    early_dir = craft(tmp_path / "dir.tar.gz", [entry("etc/", kind=tarfile.DIRTYPE), entry("manifest.json", raw),
                                                 *(entry(p, d) for p, d in listed)])
    assert str(refusal(early_dir)) == (f"bundle {early_dir}, member 'etc': "
                                       "refused: a directory that holds no member the manifest lists")
    twice = craft(tmp_path / "twice.tar.gz", [entry("logs/a.log", A), entry("logs/a.log", A),
                                              entry("manifest.json", raw)])
    assert str(refusal(twice)) == f"bundle {twice}, member 'logs/a.log': member stored twice"
    unlisted = craft(tmp_path / "unlisted.tar.gz", [entry("x.sh", A), entry("manifest.json", raw)])
    assert str(refusal(unlisted)) == f"bundle {unlisted}, member 'x.sh': member not listed in the manifest"
    assert list(read_roots.iterdir()) == []


def test_a_bundle_that_changes_between_the_passes_is_refused_and_nothing_stays(
        tmp_path: Path, read_roots: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A)])
    other = with_manifest(tmp_path / "other.tar.gz", [("logs/a.log", B)])
    real = reader.tempfile.mkdtemp

    def swap_then_mkdtemp(prefix: str = "") -> str:  # the reader makes its directory between the two passes
        path.write_bytes(other.read_bytes())
        return real(prefix=prefix)

    monkeypatch.setattr(reader.tempfile, "mkdtemp", swap_then_mkdtemp)
    with pytest.raises(BundleCorrupt) as caught:
        open_bundle(path)
    assert str(caught.value) == (f"bundle {path}, member 'manifest.json': "
                                 "the manifest changed while the bundle was read")
    assert list(read_roots.iterdir()) == []
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A)])
    raw = json.dumps(manifest_for([("logs/a.log", A)])).encode()
    craft(other, [entry("manifest.json", raw), entry("logs/a.log", b"alphA\n")])  # same manifest, other data
    with pytest.raises(BundleCorrupt) as caught:
        open_bundle(path)
    assert str(caught.value) == (f"bundle {path}, member 'logs/a.log': "
                                 "sha256 does not match the manifest (changed or corrupt)")
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A)])
    craft(other, [entry("logs/a.log", A)])  # the same member, the manifest gone
    with pytest.raises(BundleFormatError) as caught:
        open_bundle(path)
    assert str(caught.value) == f"bundle {path}, member 'manifest.json': no manifest.json in the archive"
    assert list(read_roots.iterdir()) == []


def test_a_member_that_cannot_be_created_safely_refuses_the_bundle(tmp_path: Path, read_roots: Path) -> None:
    path = with_manifest(tmp_path / "b.tar.gz", [("logs", A), ("logs/a.log", A)])  # a file, then below it
    with pytest.raises(BundleUnsafe) as caught:
        open_bundle(path)
    assert str(caught.value) == f"bundle {path}, member 'logs/a.log': refused: cannot create it safely (File exists)"
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A), ("logs", A)])  # a file where a directory is
    with pytest.raises(BundleUnsafe) as caught:
        open_bundle(path)
    assert str(caught.value) == f"bundle {path}, member 'logs': refused: cannot create it safely (File exists)"
    assert list(read_roots.iterdir()) == []


# -- caps --------------------------------------------------------------------------------------------------------

def test_member_and_manifest_caps_are_inclusive(tmp_path: Path) -> None:
    data = b"x" * 100
    path = with_manifest(tmp_path / "b.tar.gz", [("a.log", data), ("b.log", data)])
    manifest_size = len(json.dumps(manifest_for([("a.log", data), ("b.log", data)])).encode())
    exact = Limits(max_member_bytes=100, max_total_bytes=200, max_members=3, max_manifest_bytes=manifest_size)
    assert [m.path for m in read_manifest(path, exact).members] == ["a.log", "b.log"]
    over_member = Limits(max_member_bytes=99, max_total_bytes=200, max_members=3, max_manifest_bytes=manifest_size)
    assert str(refusal(path, over_member)) == (
        f"bundle {path}, member 'a.log': refused: 100 bytes is over the member cap")  # said by the manifest
    over_manifest = Limits(max_member_bytes=100, max_total_bytes=200, max_members=3,
                           max_manifest_bytes=manifest_size - 1)
    assert str(refusal(path, over_manifest)) == (
        f"bundle {path}, member 'manifest.json': refused: {manifest_size} bytes is over the "
        f"{manifest_size - 1}-byte member cap")
    over_total = Limits(max_member_bytes=100, max_total_bytes=199, max_members=3, max_manifest_bytes=manifest_size)
    assert str(refusal(path, over_total)) == f"bundle {path}: refused: 200 bytes in all is over the 199 cap"
    over_count = Limits(max_member_bytes=100, max_total_bytes=200, max_members=2, max_manifest_bytes=manifest_size)
    assert str(refusal(path, over_count)) == f"bundle {path}: refused: 2 members is over the 2 cap"


def test_a_member_over_the_cap_is_refused_from_its_header_before_the_manifest(tmp_path: Path) -> None:
    path = craft(tmp_path / "b.tar.gz", [entry("a.log", b"x" * 100)])
    limits = Limits(max_member_bytes=99)
    assert str(refusal(path, limits)) == (f"bundle {path}, member 'a.log': "
                                          "refused: 100 bytes is over the 99-byte member cap")
    assert read_manifest(with_manifest(tmp_path / "ok.tar.gz", [("a.log", b"x" * 99)]), limits).members[0].size == 99


def test_a_second_manifest_json_is_held_to_the_member_cap(tmp_path: Path) -> None:
    path = with_manifest(tmp_path / "b.tar.gz", [("a.log", A)], [entry("a.log", A), entry("manifest.json", B)])
    limits = Limits(max_member_bytes=len(B) - 1)
    assert str(refusal(path, limits)) == (f"bundle {path}, member 'manifest.json': refused: {len(B)} bytes is over "
                                          f"the {len(B) - 1}-byte member cap")


def test_members_and_directories_before_the_manifest_are_counted(tmp_path: Path) -> None:
    limits = Limits(max_members=2)
    files = craft(tmp_path / "f.tar.gz", [entry("a", A), entry("b", A), entry("c", A)])
    assert str(refusal(files, limits)) == f"bundle {files}, member 'c': refused: over 2 members"
    dirs = craft(tmp_path / "d.tar.gz", [entry(n, kind=tarfile.DIRTYPE) for n in ("a", "b", "c")])
    assert str(refusal(dirs, limits)) == f"bundle {dirs}, member 'c': refused: over 2 directories"


def test_the_stream_cap_names_where_it_was_reached(tmp_path: Path) -> None:
    limits = Limits(max_member_bytes=1 << 20, max_total_bytes=(1 << 20) + 100, max_members=3,
                    max_manifest_bytes=1 << 12)
    cap = limits.max_stream_bytes
    assert cap == (1 << 20) + 100 + (1 << 12) + 5 * 4096 + (1 << 20)  # data, manifest, headers, 1 MiB
    big = b"\0" * (1 << 20)
    padded = tarfile.TarInfo("c.log")
    padded.size, padded.pax_headers = len(A), {"comment": "A" * (3 << 19)}  # 1.5 MiB of header
    inside = with_manifest(tmp_path / "in.tar.gz", [("c.log", A), ("a.log", big)], [(padded, A), entry("a.log", big)])
    assert str(refusal(inside, limits)) == (f"bundle {inside}, member 'a.log': "
                                            f"refused: decompresses to more than {cap} bytes")
    header = tarfile.TarInfo("c.log")
    header.pax_headers = {"comment": "A" * (5 << 20)}
    after = with_manifest(tmp_path / "after.tar.gz", [("c.log", b"")], [(header, b"")])
    assert str(refusal(after, limits)) == (f"bundle {after}: refused: decompresses to more than {cap} bytes "
                                           "in the header after member 'manifest.json'")


def test_corruption_says_where_it_was_found(tmp_path: Path) -> None:
    path = with_manifest(tmp_path / "b.tar.gz", [("logs/a.log", A * 5000)])
    data = path.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[:-20])
    caught = refusal(cut)
    assert isinstance(caught, BundleCorrupt) and str(caught).startswith(f"bundle {cut}")
    assert "truncated or corrupt archive" in str(caught)
    (garbage := tmp_path / "g.tar.gz").write_bytes(b"\x1f\x8b" + bytes(30))
    assert str(refusal(garbage)) == (f"bundle {garbage}: truncated or corrupt archive before its first member "
                                     "(zlib error: Error -3 while decompressing data: unknown compression method)")


# -- the manifest's own rules ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "why"), [
    ("", "empty or longer than 255 characters"),
    ("a" * 256, "empty or longer than 255 characters"),
    ("/etc/passwd", "absolute path"),
    ("logs\\a", "absolute path"),
    ("C:x", "absolute path"),
    ("c:x", "absolute path"),
    ("a//b", "path with '..', '.' or empty components"),
    ("a/./b", "path with '..', '.' or empty components"),
    ("a/", "path with '..', '.' or empty components"),
    ("a/b/..", "path with '..', '.' or empty components"),
    ("a\nb", "control character in path"),
    ("a\x1fb", "control character in path"),
    ("a\x7fb", "control character in path"),
])
def test_unsafe_member_paths_say_why(path: str, why: str) -> None:
    assert unsafe_member_path(path) == why


@pytest.mark.parametrize("path", ["a" * 255, "logs/a.log", "x", "a b/c-d_e.f~", "\x80\xff", "..a/b.."])
def test_safe_member_paths(path: str) -> None:
    assert unsafe_member_path(path) is None


GOOD_SHA = "0" * 64


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: [1, 2], "not a JSON object"),
    (lambda m: {**m, "format_version": None}, "unsupported format_version None; this medic reads 1"),
    (lambda m: {**m, "members": [{"path": "manifest.json", "size": 1, "sha256": GOOD_SHA}]},
     "member 'manifest.json': reserved name"),
    (lambda m: {**m, "members": [{"path": "a/../b", "size": 1, "sha256": GOOD_SHA}]},
     "member 'a/../b': path with '..', '.' or empty components"),
    (lambda m: {**m, "members": [{"path": "a", "size": 1, "sha256": GOOD_SHA.upper().replace("0", "A")}]},
     "member 'a': sha256 is not 64 lowercase hex digits"),
    (lambda m: {**m, "members": [{"path": "a", "size": 1, "sha256": GOOD_SHA + "0"}]},
     "member 'a': sha256 is not 64 lowercase hex digits"),
    (lambda m: {**m, "members": [{"path": "a", "size": True, "sha256": GOOD_SHA}]},
     "True is not a non-negative integer"),
    (lambda m: {**m, "members": [{"path": "a", "size": 1.0, "sha256": GOOD_SHA}]},
     "1.0 is not a non-negative integer"),
    (lambda m: {**m, "members": [{"path": "a", "size": 1, "sha256": GOOD_SHA}] * 2}, "duplicate member paths"),
    (lambda m: {**m, "probes": [{"key": "k", "probe": "p", "member": "a", "status": "lost"}],
                "members": [{"path": "a", "size": 1, "sha256": GOOD_SHA}]}, "probe 'k': unknown member or status"),
    (lambda m: {**m, "redaction": {"password": -1}}, "-1 is not a non-negative integer"),
    (lambda m: {k: v for k, v in m.items() if k != "finished_at"}, "'finished_at'"),
])
def test_manifest_problems_name_the_field(change: Any, message: str) -> None:
    with pytest.raises(BundleFormatError) as caught:
        Manifest.from_dict(change(manifest_for([])), "b.tar.gz")
    assert str(caught.value) == f"bundle b.tar.gz, member 'manifest.json': invalid manifest: {message}"


def test_manifest_defaults_and_zero_sizes() -> None:
    raw = manifest_for([], members=[{"path": "empty.log", "size": 0, "sha256": sha(b"")}],
                       probes=[{"key": "k", "probe": "p", "member": "empty.log", "status": "unavailable"}],
                       redaction={"token": 0})
    manifest = Manifest.from_dict(raw)
    assert manifest.members == [Member("empty.log", 0, sha(b""), "file")]
    assert manifest.probes == [ProbeRecord("k", "p", "empty.log", "unavailable", 0.0)]
    assert (manifest.skipped, manifest.redaction, manifest.info, manifest.format_version) == ([], {"token": 0}, {}, 1)
    assert manifest.member("empty.log") == Member("empty.log", 0, sha(b""), "file")
    assert manifest.member("other.log") is None


# -- capped decompression ----------------------------------------------------------------------------------------

def test_decompressed_reads_in_pieces_up_to_its_cap() -> None:
    data = bytes(range(256)) * 1000
    stream = Decompressed(io.BytesIO(gzip.compress(data)), len(data))
    assert stream.read(10) == data[:10] and 10 <= stream.count <= 1 << 16  # one 64 KiB piece, not the whole
    held = stream.count
    assert stream.read(0) == b"" and stream.count == held
    assert stream.read() == data[10:] and stream.read(5) == b"" and stream.count == len(data)
    with pytest.raises(TooBig) as caught:
        Decompressed(io.BytesIO(gzip.compress(data)), len(data) - 1).read()
    assert caught.value.args == (len(data) - 1,)


def test_decompressed_reads_gzip_only() -> None:
    """A zlib stream (no gzip header) is not a .tar.gz: refused, not decoded."""
    with pytest.raises(zlib.error, match="incorrect header check"):
        Decompressed(io.BytesIO(zlib.compress(b"line\n" * 100)), 1 << 20).read()


def test_decompressed_refuses_a_cut_or_a_tail() -> None:
    packed = gzip.compress(b"line\n" * 1000)
    with pytest.raises(EOFError, match=r"^compressed data ends before the end of the archive$"):
        Decompressed(io.BytesIO(packed[:-6]), 1 << 20).read()
    with pytest.raises(zlib.error, match=r"^unexpected data after the end of the compressed stream$"):
        Decompressed(io.BytesIO(packed + b"\0"), 1 << 20).read()
    with pytest.raises(zlib.error, match=r"^unexpected data after the end of the compressed stream$"):
        Decompressed(io.BytesIO(packed + gzip.compress(b"second")), 1 << 20).read()
    assert Decompressed(io.BytesIO(packed), 1 << 20).read() == b"line\n" * 1000
