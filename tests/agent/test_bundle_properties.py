"""Property tests for the bundle reader: any archive, generated or a real bundle mutated, is either read or
refused with a :class:`MedicError` (a ``BundleError``, exit code 3), never anything else.

Bound (documented in agent/README.md): each input is answered within 2 s (the hypothesis deadline) and with at
most 64 MiB of Python memory at its peak (tracemalloc, which sees zlib's and tarfile's buffers). The normal test
run tries a bounded number of examples; ``make fuzz`` (``HYPOTHESIS_PROFILE=fuzz``) tries many more.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from medic.kernel.bundle import BundleError, BundleWriter, Limits, open_bundle, read_manifest
from medic.kernel.errors import MedicError
from medic.kernel.models import ProbeResult

EXAMPLES = 5000 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 60
PEAK_BYTES = 64 * 1024 * 1024
BOUNDED = settings(max_examples=EXAMPLES, deadline=2000, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SMALL = Limits(max_member_bytes=4096, max_total_bytes=16384, max_members=8, max_manifest_bytes=8192)

NAME_PIECES = ["manifest.json", "probes", "logs", "a", "b.txt", "/", "./", "../", "..", ".", "//", "\\", "C:",
               "\x00", "\n", "é", "\udcff", "x" * 120, "0001.json", " "]
TYPES = [tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE,
         tarfile.BLKTYPE, tarfile.FIFOTYPE, tarfile.CONTTYPE, tarfile.GNUTYPE_SPARSE, b"x"]
PAX_KEYS = ["path", "linkpath", "size", "mtime", "uid", "gid", "uname", "hdrcharset", "GNU.sparse.map",
            "GNU.sparse.size", "GNU.sparse.major", "GNU.sparse.minor", "GNU.sparse.name", "comment"]
PAX_VALUES = ["", "0", "-1", "1e9", "99999999999999999999", "abc", "1,2,3", "../x", "BINARY", "\x00", "é"]

names = st.one_of(st.sampled_from(["manifest.json", "./manifest.json", "probes/0001.json", "logs/a", "./logs/"]),
                  st.lists(st.sampled_from(NAME_PIECES), min_size=1, max_size=5).map("".join))
entries = st.lists(st.tuples(names, st.sampled_from(TYPES), st.binary(max_size=300),
                             st.dictionaries(st.sampled_from(PAX_KEYS), st.sampled_from(PAX_VALUES), max_size=3)),
                   max_size=6)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=20)
MANIFEST_FIELDS = ["format_version", "agent_version", "host", "started_at", "finished_at", "members", "probes",
                   "skipped", "redaction", "info"]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="medic-bundle-fuzz-") as directory:
        yield Path(directory)


def answered_within_bounds(path: Path, limits: Limits) -> None:
    """Read ``path`` like every caller does; only a MedicError may come out, within the memory bound."""
    tracemalloc.start()
    try:
        read_manifest(path, limits)
        with open_bundle(path, limits) as bundle:
            bundle.probe_results()
            for member in bundle.manifest.members:
                bundle.read_bytes(member.path)
    except MedicError as exc:
        assert str(exc).startswith(f"bundle {path}")  # one line naming the bundle
        assert "\n" not in str(exc).replace(str(path), "")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < PEAK_BYTES


def manifest_for(files: list[tuple[str, bytes]], tweak: dict[str, Any]) -> bytes:
    manifest: dict[str, Any] = {
        "format_version": 1, "agent_version": "0.1.0", "host": "h", "started_at": "t0", "finished_at": "t1",
        "members": [{"path": n.removeprefix("./"), "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                    for n, d in files],
        "probes": [], "skipped": [], "redaction": {}, "info": {},
    }
    manifest.update(tweak)
    return json.dumps(manifest).encode()


@given(entries=entries, position=st.integers(0, 6), listed=st.lists(st.booleans(), max_size=6),
       tweak=st.dictionaries(st.sampled_from(MANIFEST_FIELDS), json_values, max_size=2),
       fmt=st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]),
       limits=st.sampled_from([Limits(), SMALL]), gzip_level=st.sampled_from([0, 1, 9]))
@BOUNDED
def test_generated_archives_are_read_or_refused_with_a_medic_error(
        scratch: Path, entries: list[tuple[str, bytes, bytes, dict[str, str]]], position: int,
        listed: list[bool], tweak: dict[str, Any], fmt: int, limits: Limits, gzip_level: int) -> None:
    files = [(n, d) for (n, kind, d, _), keep in zip(entries, listed, strict=False) if keep and kind == tarfile.REGTYPE]
    manifest = manifest_for(files, tweak)
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
            for index, (name, kind, data, pax) in enumerate(entries):
                if index == position:
                    tar.addfile(_info("manifest.json", tarfile.REGTYPE, len(manifest)), io.BytesIO(manifest))
                info = _info(name, kind, len(data), pax)
                tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
            if position >= len(entries):
                tar.addfile(_info("manifest.json", tarfile.REGTYPE, len(manifest)), io.BytesIO(manifest))
    except (ValueError, tarfile.TarError, UnicodeError, OverflowError):
        assume(False)  # tarfile itself cannot write this entry
    path = scratch / "generated.tar.gz"
    path.write_bytes(gzip.compress(buffer.getvalue(), gzip_level))
    answered_within_bounds(path, limits)


def _info(name: str, kind: bytes, size: int, pax: dict[str, str] | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    info.linkname = "manifest.json" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    info.pax_headers = dict(pax or {})
    return info


def _real_bundle() -> tuple[bytes, bytes]:
    """A bundle the agent's writer made (compressed) and its tar stream (decompressed)."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "b.tar.gz"
        with BundleWriter(path, host="web01") as writer:
            writer.add_probe_result(ProbeResult("os_info", {}, True, {"system": "Linux"}))
            writer.add_probe_result(ProbeResult("disk_usage", {"path": "/"}, False, None, "denied"))
            writer.add_text("logs/var/log/syslog", "Nov 25 web01 systemd[1]: Started x.\n" * 20, kind="log")
            writer.add_json("commands.json", [{"argv": ["uname"], "stdout": "Linux\n"}], kind="command")
        raw = path.read_bytes()
    return raw, gzip.decompress(raw)


REAL_GZ, REAL_TAR = _real_bundle()
mutations = st.lists(st.tuples(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]),
                               st.floats(0, 1), st.binary(min_size=1, max_size=16)), min_size=1, max_size=4)


def mutate(data: bytes, steps: list[tuple[str, float, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, payload in steps:
        at = int(where * max(len(out) - 1, 0))
        if kind == "flip" and out:
            out[at] ^= payload[0] or 1
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = payload
        elif kind == "delete":
            del out[at:at + len(payload)]
        else:
            out[at:at + len(payload)] = payload
    return bytes(out)


@given(steps=mutations, layer=st.sampled_from(["compressed", "tar"]), limits=st.sampled_from([Limits(), SMALL]))
@BOUNDED
def test_mutated_real_bundles_are_read_or_refused_with_a_medic_error(
        scratch: Path, steps: list[tuple[str, float, bytes]], layer: str, limits: Limits) -> None:
    path = scratch / "mutated.tar.gz"
    if layer == "compressed":
        path.write_bytes(mutate(REAL_GZ, steps))
    else:  # the tar headers and data themselves, well compressed: reaches tarfile's parser, not just the CRC
        path.write_bytes(gzip.compress(mutate(REAL_TAR, steps)))
    answered_within_bounds(path, limits)


def test_the_unmutated_bundle_reads(scratch: Path) -> None:
    path = scratch / "real.tar.gz"
    path.write_bytes(REAL_GZ)
    with open_bundle(path) as bundle:
        assert len(bundle.probe_results()) == 2


@pytest.mark.parametrize("pax, message", [
    ({"GNU.sparse.map": ""}, "corrupt archive before its first member"),
    ({"GNU.sparse.map": "1,x"}, "corrupt archive before its first member"),
    ({"size": "-1"}, "manifest is not JSON"),
    ({"GNU.sparse.size": "99999999999999999999999", "GNU.sparse.major": "1"}, "only regular files"),
])
def test_malformed_pax_headers_that_tarfile_cannot_parse_are_bundle_errors(scratch: Path, pax: dict[str, str],
                                                                           message: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info("manifest.json", tarfile.REGTYPE, 0, pax), io.BytesIO(b""))
    path = scratch / "pax.tar.gz"
    path.write_bytes(gzip.compress(buffer.getvalue()))
    with pytest.raises(BundleError, match=message):
        open_bundle(path)


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def test_a_large_member_is_streamed_not_held_in_memory(scratch: Path) -> None:
    """16 MiB of data (a 16 KiB archive) is read in both passes with well under 8 MiB of memory at the peak."""
    path = scratch / "large.tar.gz"
    with BundleWriter(path, host="h") as writer:
        writer.add_stream("logs/large", _Zeros(16 << 20))  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        with open_bundle(path) as bundle:
            assert bundle.member_path("logs/large").stat().st_size == 16 << 20
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
