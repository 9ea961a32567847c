"""Bundle round trip, manifest contents, atomic writing, and the BundleTarget."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from medic.agent import __version__
from medic.agent.leakscan import scan_bundle
from medic.agent.redact import Scrubber
from medic.core.target import Target, TargetContext
from medic.kernel.bundle import (
    FORMAT_VERSION,
    BundleFormatError,
    BundleWriter,
    Limits,
    open_bundle,
    read_manifest,
)
from medic.kernel.errors import EXIT_INTERNAL, TargetError
from medic.kernel.models import ProbeCall, ProbeResult
from medic.kernel.probe import ProbeSpec
from medic.plugins.targets.bundle import BUNDLE as TARGET_KIND
from medic.plugins.targets.bundle import NOT_COLLECTED, BundleTarget, open_bundle_target

RESULTS = [
    ProbeResult("os_info", {}, True, {"system": "Linux", "release": "6.1.0"}, duration_s=0.02),
    ProbeResult("disk_usage", {"path": "/"}, True, {"total": 100, "free": 40}, duration_s=0.01),
    ProbeResult("disk_usage", {"path": "/home"}, False, None, "PermissionError: denied", duration_s=0.003),
    ProbeResult("journal", {}, False, None, "no journald here", unavailable=True),
]


def write_bundle(dest: Path, results: list[ProbeResult] = RESULTS) -> Path:
    with BundleWriter(dest, host="web01", info={"profile": "default"}) as writer:
        for result in results:
            writer.add_probe_result(result)
        writer.add_text("logs/syslog", "Nov 25 10:00:00 web01 systemd[1]: Started x.\n", kind="log")
        writer.add_bytes("commands/uname.txt", b"Linux web01 6.1.0\n", kind="command")
        writer.skip("probe:packages", "time budget exhausted")
        writer.set_redaction({"password": 2, "bearer_token": 1})
    return dest


def test_round_trip_returns_the_same_results(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.tar.gz")
    with open_bundle(path) as bundle:
        results = bundle.probe_results()
        assert bundle.read_text("logs/syslog").startswith("Nov 25")
    assert results == {r.call: r for r in RESULTS}


def test_manifest_describes_everything(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.tar.gz")
    manifest = read_manifest(path)
    assert manifest.format_version == FORMAT_VERSION
    assert (manifest.agent_version, manifest.host) == (__version__, "web01")
    assert manifest.started_at <= manifest.finished_at and manifest.finished_at.endswith("Z")
    assert [(p.key, p.status) for p in manifest.probes] == [
        ("os_info", "ok"), ('disk_usage{"path":"/"}', "ok"), ('disk_usage{"path":"/home"}', "failed"),
        ("journal", "unavailable")]
    assert manifest.probes[0].duration_s == pytest.approx(0.02)
    assert [(s.item, s.reason) for s in manifest.skipped] == [("probe:packages", "time budget exhausted")]
    assert manifest.redaction == {"bearer_token": 1, "password": 2}
    assert manifest.info == {"profile": "default"}
    with tarfile.open(path, "r:gz") as tar:
        names = tar.getnames()
        assert names[0] == "manifest.json"
        for member in manifest.members:
            data = tar.extractfile(member.path).read()  # type: ignore[union-attr]
            assert (len(data), hashlib.sha256(data).hexdigest()) == (member.size, member.sha256)
    assert sorted(names[1:]) == sorted(m.path for m in manifest.members)
    assert {m.kind for m in manifest.members} == {"probe", "log", "command"}


def test_probe_members_are_serialised_results_keyed_by_call(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.tar.gz")
    with open_bundle(path) as bundle:
        record = bundle.manifest.probes[1]
        stored = json.loads(bundle.read_text(record.member))
    assert record.member == "probes/0002.json"
    assert stored == {"key": ProbeCall.make("disk_usage", path="/").key, "result": RESULTS[1].to_dict()}


class TestAtomicWriter:
    def test_nothing_at_destination_until_finish(self, tmp_path: Path) -> None:
        writer = BundleWriter(tmp_path / "b.tar.gz", host="h")
        writer.add_text("a.txt", "x")
        assert list(tmp_path.iterdir()) == []
        writer.finish()
        assert [p.name for p in tmp_path.iterdir()] == ["b.tar.gz"]
        assert (tmp_path / "b.tar.gz").stat().st_mode & 0o077 == 0  # private to the user

    def test_error_inside_with_writes_nothing_and_cleans_staging(self, tmp_path: Path) -> None:
        writer = BundleWriter(tmp_path / "b.tar.gz", host="h")
        with pytest.raises(RuntimeError), writer:
            writer.add_text("a.txt", "x")
            raise RuntimeError("collector crashed")
        assert list(tmp_path.iterdir()) == []
        assert not writer._staging.exists()

    def test_failed_write_keeps_old_bundle(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        dest = write_bundle(tmp_path / "b.tar.gz")
        before = dest.read_bytes()
        writer = BundleWriter(dest, host="h")

        def broken(raw: object) -> None:
            raw.write(b"partial")  # type: ignore[attr-defined]
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(writer, "_write_archive", broken)
        with pytest.raises(OSError, match="No space"):
            writer.finish()
        assert dest.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["b.tar.gz"]

    @pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "a//b", "./a", "C:/x", "a\\b", "",
                                      "manifest.json"])
    def test_refuses_unsafe_or_reserved_member_names(self, tmp_path: Path, name: str) -> None:
        writer = BundleWriter(tmp_path / "b.tar.gz", host="h")
        with pytest.raises(ValueError, match=r"cannot add|already exists"):
            writer.add_text(name, "x")
        writer.abort()

    def test_refuses_duplicates(self, tmp_path: Path) -> None:
        writer = BundleWriter(tmp_path / "b.tar.gz", host="h")
        writer.add_text("a.txt", "x")
        writer.add_probe_result(RESULTS[0])
        with pytest.raises(ValueError, match="already exists"):
            writer.add_text("a.txt", "y")
        with pytest.raises(ValueError, match="already in the bundle"):
            writer.add_probe_result(RESULTS[0])
        writer.abort()


class TestBundleTarget:
    def test_is_a_non_live_target_returning_stored_results(self, tmp_path: Path) -> None:
        target = BundleTarget(write_bundle(tmp_path / "b.tar.gz"))
        assert isinstance(target, Target) and target.kind == "bundle" and target.live is False
        got = target.collect([r.call for r in RESULTS])
        assert got == {r.call: r for r in RESULTS}
        assert target.describe()["host"] == "web01"

    def test_missing_calls_are_unavailable_with_a_reason(self, tmp_path: Path) -> None:
        target = BundleTarget(write_bundle(tmp_path / "b.tar.gz"), live_probes={"tcp_connect"})
        calls = [ProbeCall.make("disk_usage", path="/srv"), ProbeCall.make("packages"),
                 ProbeCall.make("tcp_connect", host="db", port=5432)]
        got = target.collect(calls)
        assert all(not r.ok and r.unavailable and r.error.startswith(NOT_COLLECTED)  # type: ignore[union-attr]
                   for r in got.values())
        assert got[calls[0]].error == NOT_COLLECTED
        assert got[calls[1]].error == f"{NOT_COLLECTED}: time budget exhausted"
        assert got[calls[2]].error == f"{NOT_COLLECTED}: it needs a live machine"
        assert (got[calls[0]].probe, got[calls[0]].params) == ("disk_usage", {"path": "/srv"})

    def test_target_kind_opens_bundle_specs(self, tmp_path: Path) -> None:
        path = write_bundle(tmp_path / "b.tar.gz")
        ctx = TargetContext(probes={"tcp_connect": ProbeSpec("tcp_connect", lambda: None, live=True)},
                            config={"bundle": {"max_members": 100}})
        assert TARGET_KIND.scheme == "bundle" and TARGET_KIND.open is open_bundle_target
        (target,) = TARGET_KIND.open(f"bundle:{path}", ctx)
        result = target.collect([ProbeCall.make("tcp_connect")])[ProbeCall.make("tcp_connect")]
        assert result.error == f"{NOT_COLLECTED}: it needs a live machine"

    def test_opening_a_missing_file_is_a_target_error(self, tmp_path: Path) -> None:
        with pytest.raises(BundleFormatError, match="no such bundle") as info:
            BundleTarget(tmp_path / "nope.tar.gz")
        assert isinstance(info.value, TargetError) and info.value.exit_code == EXIT_INTERNAL

    def test_limits_from_config_apply(self, tmp_path: Path) -> None:
        path = write_bundle(tmp_path / "b.tar.gz")
        with pytest.raises(TargetError, match="members is over the 2 cap"):
            open_bundle_target(str(path), TargetContext(probes={}, config={"bundle": {"max_members": 2}}))
        assert Limits().max_members == 10_000


def test_scrubbed_bundle_passes_leak_scan_and_unscrubbed_does_not(tmp_path: Path) -> None:
    secret = "ghp_" + "Zk9xV2pTMlRyQmw3c1VhOHlXcE1uR2hKa0x6"
    raw = ProbeResult("environment", {}, True, {"GITHUB_TOKEN": secret, "HOME": "/home/bob"})
    leaky = write_bundle(tmp_path / "leaky.tar.gz", [raw])
    hits = scan_bundle(leaky)
    assert {(h.member, h.rule) for h in hits} == {("probes/0001.json", "token_format"),
                                                  ("probes/0001.json", "secret_assignment")}
    assert all(secret not in str(h) for h in hits)
    scrubber = Scrubber()
    clean = write_bundle(tmp_path / "clean.tar.gz", [scrubber.scrub_result(raw)])
    assert scan_bundle(clean) == []
    assert secret not in json.dumps(read_manifest(clean).to_dict())
    assert scrubber.summary() == {"token": 1}


def test_agent_import_path_stays_light() -> None:
    code = ("import sys, medic.agent, medic.agent.redact, medic.agent.leakscan, medic.kernel.bundle;"
            "heavy = {'prefect', 'pydantic', 'rich', 'paramiko', 'fastapi', 'httpx', 'uvicorn'};"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_values_json_cannot_hold_are_stored_as_text(tmp_path: Path) -> None:
    import datetime

    when = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)
    path = write_bundle(tmp_path / "b.tar.gz", [ProbeResult("boot", {}, True, {"booted": when})])
    with open_bundle(path) as bundle:
        (result,) = bundle.probe_results().values()
    assert result.data == {"booted": "2026-11-25 10:00:00+00:00"}
