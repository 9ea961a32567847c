"""The bundle reader's caps on the collector follow collector.yaml: ``max_member_size`` and ``max_unpacked_size``,
derived from ``max_bundle_size`` when not set (never below `medic bundles inspect`'s, whose defaults stay). Real
uploads on both sides of each cap; a refusal names the collector.yaml key to raise."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_helpers import Running, make_bundle, medic, pin, run_agent, start_collector, upload, wait_for

from medic.kernel.bundle import Limits
from medic.kernel.errors import UsageError
from medic.plugins.collector.caps import bundle_limits
from medic.plugins.collector.config import CollectorConfig

MiB = 1 << 20


def test_the_caps_derive_from_max_bundle_size_and_inspect_keeps_its_own() -> None:
    assert (Limits().max_member_bytes, Limits().max_total_bytes) == (64 * MiB, 512 * MiB)  # bundles inspect's
    default = bundle_limits(CollectorConfig().validate("collector.yaml"))  # max_bundle_size 1 GiB
    assert (default.max_member_bytes, default.max_total_bytes) == (256 * MiB, 2048 * MiB)
    assert default.max_stream_bytes < 3 * 1024 * MiB  # a gzip bomb still stops, before anything is written
    small = bundle_limits(CollectorConfig(max_bundle_size="10MiB").validate("collector.yaml"))  # type: ignore[arg-type]
    assert (small.max_member_bytes, small.max_total_bytes) == (64 * MiB, 512 * MiB)  # never below inspect's
    set_ = bundle_limits(CollectorConfig(max_member_size="1MiB", max_unpacked_size="3MiB")  # type: ignore[arg-type]
                         .validate("collector.yaml"))
    assert (set_.max_member_bytes, set_.max_total_bytes) == (MiB, 3 * MiB)
    with pytest.raises(UsageError, match=r"collector.yaml: max_member_size: .*at most max_unpacked_size"):
        CollectorConfig(max_member_size="4MiB", max_unpacked_size="3MiB").validate("collector.yaml")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"collector.yaml: max_unpacked_size: expected a size"):
        CollectorConfig(max_unpacked_size="lots").validate("collector.yaml")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("caps"), "max_member_size: 1MiB\nmax_unpacked_size: 3MiB\n")
    try:
        yield running
    finally:
        running.server.stop()


def deliver(collector: Running, name: str, bundle: Path) -> dict[str, object]:
    return deliver_bytes(collector, name, bundle.read_bytes())


def deliver_bytes(collector: Running, name: str, data: bytes) -> dict[str, object]:
    agent = collector.enroll(name)
    with collector.client(str(agent["token"])) as client:
        _location, answer = upload(client, data, chunk=1 << 20)
    return answer


def test_a_bundle_within_the_configured_caps_is_delivered(capped: Running, tmp_path: Path) -> None:
    answer = deliver(capped, "at-the-caps", make_bundle(tmp_path / "b.tar.gz", members=3, size=MiB))
    assert answer.get("receipt", {}).get("members_verified") == 3, answer  # 3 MiB in all, 1 MiB each: the caps


@pytest.mark.parametrize(("members", "size", "key"), [(4, MiB, "max_unpacked_size"), (1, MiB + 2, "max_member_size")])
def test_a_bundle_over_a_configured_cap_is_refused_naming_the_key(capped: Running, tmp_path: Path, members: int,
                                                                  size: int, key: str) -> None:
    answer = deliver(capped, f"over-{key}", make_bundle(tmp_path / "b.tar.gz", members=members, size=size))
    assert answer["status"] == 422 and answer["rule"] == "BundleUnsafe" and answer["limit"] == key, answer
    assert f"the collector's {key} in collector.yaml is" in str(answer["detail"]), answer


def test_a_gzip_bomb_stops_at_the_configured_cap(capped: Running, tmp_path: Path) -> None:
    """A valid bundle whose tar is followed by 64 MiB of zeros in the same gzip stream (64 KiB gzipped): the
    stream is capped by max_unpacked_size (plus the reader's room for headers, about 50 MiB here)."""
    tar = gzip.decompress(make_bundle(tmp_path / "b.tar.gz", members=1, size=1000).read_bytes())
    bomb = gzip.compress(tar + bytes(64 * MiB), 9)
    answer = deliver_bytes(capped, "bomb", bomb)
    assert answer["status"] == 422 and answer["limit"] == "max_unpacked_size", answer
    assert "decompresses to more than" in str(answer["detail"]), answer


def test_the_agent_says_which_key_refused_its_bundle(capped: Running, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert run_agent(state, "enroll", capped.server.url, "--code", capped.code("agent-big"), "--pin",
                     pin(capped)).returncode == 0
    path = make_bundle(tmp_path / "medic-bundle-big.tar.gz", members=4, size=MiB)
    done = run_agent(state, "upload", str(path))
    assert done.returncode == 5 and path.exists(), done.stderr
    assert done.stderr.count("\n") == 1 and "max_unpacked_size in collector.yaml" in done.stderr, done.stderr


def test_the_default_caps_take_a_member_inspect_refuses_and_triage_reads_it(collector: Running,
                                                                             tmp_path: Path) -> None:
    """A 65 MiB member: over `medic bundles inspect`'s 64 MiB, under the 256 MiB derived from the default
    max_bundle_size: delivered, and the triage's bundle: target opens it under the collector's caps."""
    bundle = make_bundle(tmp_path / "b.tar.gz", members=1, size=65 * MiB)
    inspect = medic("bundles", "inspect", str(bundle))
    assert inspect.returncode == 3 and "member cap" in inspect.stderr, inspect.stderr
    answer = deliver(collector, "one-big-member", bundle)
    receipt = answer["receipt"]
    assert isinstance(receipt, dict) and receipt["members_verified"] == 1, answer
    record = collector.directory / "cases" / str(receipt["case_id"]) / f"triage-{receipt['upload_id']}.json"
    done = wait_for("the triage to finish", lambda: record.is_file() and json.loads(record.read_text()).get(
        "status") in ("done", "failed", "skipped") and json.loads(record.read_text()))
    assert done["status"] == "done", done
