"""A bundle the user unpacked and packed again with the ordinary tools still opens; other formats, and what a
re-pack must not smuggle in (links, devices, unlisted files or directories, '..'), get one clear sentence."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from medic.kernel.bundle import BundleCorrupt, BundleFormatError, BundleUnsafe, BundleWriter, open_bundle
from medic.kernel.models import ProbeResult

RESULTS = [ProbeResult("os_info", {}, True, {"system": "Linux"}),
           ProbeResult("disk_usage", {"path": "/"}, True, {"total": 100, "free": 40})]


def unpacked(tmp_path: Path) -> tuple[Path, Path]:
    """A bundle written by the agent's writer, and a directory it was unpacked into with tar."""
    bundle = tmp_path / "orig.tar.gz"
    with BundleWriter(bundle, host="web01") as writer:
        for result in RESULTS:
            writer.add_probe_result(result)
        writer.add_text("logs/var/log/app/x.log", "plain\n", kind="log")
        writer.add_text("logs/var/log/app/x.log.2.gz", "was zipped\n", kind="log")
    directory = tmp_path / "unpacked"
    directory.mkdir()
    subprocess.run(["tar", "-C", str(directory), "-xzf", str(bundle)], check=True)
    return bundle, directory


def tar_czf(directory: Path, dest: Path, *names: str) -> Path:
    subprocess.run(["tar", "-C", str(directory), "-czf", str(dest), *(names or (".",))], check=True)
    return dest


def test_repacked_with_dot_slash_and_directories_is_accepted(tmp_path: Path) -> None:
    original, directory = unpacked(tmp_path)
    repacked = tar_czf(directory, tmp_path / "repacked.tar.gz")
    with tarfile.open(repacked) as tar:
        names = tar.getnames()
    assert names[0] in (".", "./") and "./logs/var/log/app" in names  # what the user's tar made
    with open_bundle(original) as first, open_bundle(repacked) as second:
        assert second.probe_results() == first.probe_results()
        assert second.read_text("logs/var/log/app/x.log.2.gz") == "was zipped\n"
        assert second.manifest == first.manifest


def test_repacked_by_name_in_any_order_is_accepted(tmp_path: Path) -> None:
    _, directory = unpacked(tmp_path)
    # members before the manifest: they are hashed and checked once it comes
    repacked = tar_czf(directory, tmp_path / "by-name.tar.gz", "probes", "logs", "manifest.json")
    with open_bundle(repacked) as bundle:
        assert len(bundle.probe_results()) == 2


@pytest.mark.parametrize("smuggled, error, message", [
    ("symlink", BundleUnsafe, "links are not allowed"),
    ("extra-file", BundleCorrupt, "not listed in the manifest"),
    ("extra-directory", BundleUnsafe, "holds no member the manifest lists"),
    ("fifo", BundleUnsafe, "device or fifo"),
    ("changed", BundleCorrupt, "sha256 does not match"),
])
def test_a_repack_still_refuses_what_is_not_in_the_manifest(tmp_path: Path, smuggled: str,
                                                            error: type[Exception], message: str) -> None:
    _, directory = unpacked(tmp_path)
    if smuggled == "symlink":
        (directory / "logs/passwd").symlink_to("/etc/passwd")
    elif smuggled == "extra-file":
        (directory / "probes/evil.json").write_text("{}")
    elif smuggled == "extra-directory":
        (directory / "etc/cron.d").mkdir(parents=True)
    elif smuggled == "fifo":
        os.mkfifo(directory / "logs/pipe")
    else:
        (directory / "logs/var/log/app/x.log").write_text("PLAIN\n")
    with pytest.raises(error, match=message):
        open_bundle(tar_czf(directory, tmp_path / "repacked.tar.gz"))


def test_a_zip_gets_a_sentence_not_a_zlib_error(tmp_path: Path) -> None:
    _, directory = unpacked(tmp_path)
    archive = tmp_path / "bundle.zip"
    subprocess.run(["zip", "-qr", str(archive), "."], cwd=directory, check=True)
    misnamed = tmp_path / "bundle.tar.gz"
    misnamed.write_bytes(archive.read_bytes())
    for path in (archive, misnamed):
        with pytest.raises(BundleFormatError, match=r"zip is not a bundle format \(medic reads \.tar\.gz\)$"):
            open_bundle(path)
    out = subprocess.run([str(Path(sys.executable).with_name("medic")), "bundles", "inspect", str(archive)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 3 and "zip is not a bundle format (medic reads .tar.gz)" in out.stderr
    assert "Traceback" not in out.stderr


def test_an_uncompressed_tar_gets_a_sentence(tmp_path: Path) -> None:
    _, directory = unpacked(tmp_path)
    plain = tmp_path / "bundle.tar"
    subprocess.run(["tar", "-C", str(directory), "-cf", str(plain), "."], check=True)
    with pytest.raises(BundleFormatError, match=r"an uncompressed tar is not a bundle format"):
        open_bundle(plain)
