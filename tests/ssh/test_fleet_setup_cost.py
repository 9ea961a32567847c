"""What a fleet's shard pays per host before the first probe runs, paid once per process instead: the known_hosts
file parsed once per version and looked up by name, the shipped modules computed once per probe set."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import paramiko

from medic.plugins.ssh import knownhosts, remote


def host_key(tmp_path: Path, name: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
    return " ".join((tmp_path / f"{name}.pub").read_text().split()[:2])


def scan(known: knownhosts.KnownHosts, name: str) -> list[bytes]:
    """The rule without the index: every plain line, in the file's order."""
    return [m.key.asbytes() for m in known.plain
            if knownhosts.matches(m.patterns, name) and known.revoked_line(name, m.key) is None]


def test_the_index_finds_what_a_scan_of_every_line_finds(tmp_path):
    a, b, c = (host_key(tmp_path, n) for n in "abc")
    hashed = paramiko.HostKeys.hash_host("[10.0.0.9]:2222")
    known = tmp_path / "known_hosts"
    known.write_text("\n".join([
        f"[10.0.0.1]:2222,Alpha.example {a}",
        f"*.example,!beta.example {b}",
        f"{hashed} {c}",
        f"10.0.0.2 {b}",
        f"10.0.0.2 {c}",
        f"@revoked 10.0.0.2 {c}",
        f"10.0.0.? {a}",
    ]) + "\n")
    parsed = knownhosts.read(known)
    names = ["[10.0.0.1]:2222", "alpha.example", "ALPHA.EXAMPLE", "beta.example", "gamma.example",
             "[10.0.0.9]:2222", "10.0.0.2", "10.0.0.3", "nowhere"]
    for name in names:
        assert [k.asbytes() for k in parsed.pinned(name)] == scan(parsed, name), name
    assert len(parsed.pinned("10.0.0.2")) == 2  # its own b and the 10.0.0.? line; c is revoked for it
    assert parsed.pinned("nowhere") == []


def test_a_file_is_parsed_once_until_it_changes(tmp_path):
    a, b = host_key(tmp_path, "a"), host_key(tmp_path, "b")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.2]:2222 {a}\n")
    first = knownhosts.read(known)
    assert knownhosts.read(known) is first  # the second host of a fleet gets the parsed file
    known.write_text(f"[127.0.0.2]:2222 {b}\n")  # same size: another key pinned (medic hosts trust meanwhile)
    os.utime(known, ns=(1, 1))
    again = knownhosts.read(known)
    assert again is not first
    new_key = knownhosts._key(*b.split())
    assert new_key is not None
    assert [k.asbytes() for k in again.pinned("[127.0.0.2]:2222")] == [new_key.asbytes()]
    known.unlink()
    assert knownhosts.read(known).pinned("[127.0.0.2]:2222") == []


def test_a_shards_threads_compute_the_shipped_modules_once():
    wanted = ("medic.probes.network", "medic.probes.files")
    remote._shipped.cache_clear()
    start = threading.Barrier(16)
    results: list[object] = []

    def one() -> None:
        start.wait()
        results.append(remote.shipped_modules(wanted))

    threads = [threading.Thread(target=one) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert remote._shipped.cache_info().misses == 1
    assert all(r is results[0] for r in results)
    names = [name for name, _ in results[0]]  # type: ignore[attr-defined]
    assert {*wanted, "medic.kernel.probe"} <= set(names)
