"""Change-safety benchmarks, each against its peer in the same run (medians of --repeat runs).

1. files: medic backup + verify (tar with per-file manifest, hash re-read, member listing) of a mixed
   tree versus ``tar -cf - . | sha256sum`` on the same tree (target ratio <= 1.5).
2. postgres: medic backup + verify (exported snapshot, pg_dump -Fc streamed and hashed, pg_restore --list)
   versus bare ``pg_dump -Fc -f`` (target ratio <= 1.2). Starts its own PostgreSQL cluster (Debian package).
3. journal: durable records per second, fsynced append-only log (medic.plugins.change.safety.journal) versus
   SQLite in WAL mode with synchronous=FULL, one record per transaction.

    .venv/bin/python bench/change_bench.py --size-mb 1024 --pg-size-mb 1024 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from medic.plugins.change.providers.files import FilesProvider
from medic.plugins.change.providers.postgres import PostgresProvider
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.journal import Journal


def median_time(fn: Callable[[], object], repeat: int, before: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def side_by_side(
    peer: Callable[[], object], ours: Callable[[], object], repeat: int, before: Callable[[], object]
) -> tuple[float, float, list[float]]:
    """Peer and ours alternately (the machine's load changes both alike); medians and each pair's ratio."""
    p_times, o_times = [], []
    for _ in range(repeat):
        p_times.append(median_time(peer, 1))
        o_times.append(median_time(ours, 1, before))
    ratios = [o / p for o, p in zip(o_times, p_times, strict=True)]
    return statistics.median(p_times), statistics.median(o_times), ratios


def make_tree(root: Path, size_mb: int) -> int:
    """Mixed sizes: half the bytes in 64 MiB files, 30% in 1 MiB files, 20% in 8 KiB files."""
    rng = random.Random(7)
    total = size_mb << 20
    plan = [(64 << 20, total * 50 // 100), (1 << 20, total * 30 // 100), (8 << 10, total * 20 // 100)]
    block = rng.randbytes(64 << 20)
    n = 0
    for size, budget in plan:
        for i in range(max(1, budget // size)):
            d = root / f"d{size}" / f"{i // 500:03d}"
            d.mkdir(parents=True, exist_ok=True)
            off = rng.randrange(0, len(block) - size + 1) if size < len(block) else 0
            (d / f"f{i}.bin").write_bytes(block[off : off + size])
            n += 1
    return n


def bench_files(size_mb: int, repeat: int, work: Path) -> None:
    root = work / "tree"
    files = make_tree(root, size_mb)
    subprocess.run(["sync"], check=True)
    cat = Catalogue(work / "catalogue")
    provider = FilesProvider()

    def peer_run() -> None:
        subprocess.run("tar -cf - -C tree . | sha256sum > /dev/null", shell=True, cwd=work, check=True)

    def ours() -> None:
        entry = cat.take(provider, {"path": str(root)}, verify=True)  # as a backup step: made and verified
        problems = entry["verification"]["problems"]
        assert not problems, problems

    peer, mine, ratios = side_by_side(
        peer_run, ours, repeat, lambda: shutil.rmtree(work / "catalogue", ignore_errors=True)
    )
    print(
        f"files  {size_mb} MiB, {files} files: tar|sha256sum {peer:.2f} s, medic backup+verify {mine:.2f} s, "
        f"ratio {statistics.median(ratios):.2f} (median of pairs {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"target <= 1.3), "
        f"load {os.getloadavg()[0]:.1f}"
    )
    shutil.rmtree(root)
    shutil.rmtree(work / "catalogue", ignore_errors=True)


def start_postgres(work: Path) -> tuple[dict[str, object], Callable[[], None]]:
    import glob
    import pwd

    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
    base = work / "pg"
    base.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chmod(work, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(base / "data"), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    port = 54000 + random.randrange(900)
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(base / "data"),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "stop"],
            capture_output=True,
        )

    return {"host": "127.0.0.1", "port": port, "user": "postgres"}, stop


def bench_postgres(size_mb: int, repeat: int, work: Path) -> None:
    conn, stop = start_postgres(work)
    try:
        psql = ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(conn["port"]), "-U", "postgres"]
        subprocess.run([*psql, "-c", "CREATE DATABASE bench"], check=True)
        rows = size_mb * (1 << 20) // 300
        subprocess.run(
            [
                *psql,
                "-d",
                "bench",
                "-c",
                "CREATE TABLE big AS SELECT g AS id, md5(g::text) || repeat(md5((g * 7)::text), 7) AS payload"
                f", now() AS at FROM generate_series(1, {rows}) g; ALTER TABLE big ADD PRIMARY KEY (id)",
            ],
            check=True,
        )
        db_size = subprocess.run(
            [*psql, "-At", "-d", "bench", "-c", "SELECT pg_size_pretty(pg_database_size('bench'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dump = work / "peer.dump"
        args = ["-h", "127.0.0.1", "-p", str(conn["port"]), "-U", "postgres", "-d", "bench"]
        cat = Catalogue(work / "pgcat")
        provider = PostgresProvider()

        def peer_run() -> None:
            subprocess.run(["pg_dump", "-Fc", "-f", str(dump), *args], check=True)

        def ours() -> None:
            entry = cat.take(provider, {"dbname": "bench", **conn})
            assert not cat.verify(entry, provider)

        peer, mine, ratios = side_by_side(
            peer_run, ours, repeat, lambda: shutil.rmtree(work / "pgcat", ignore_errors=True)
        )
        print(
            f"postgres {db_size} ({rows} rows): pg_dump -Fc {peer:.2f} s, medic backup+verify {mine:.2f} s, "
            f"ratio {statistics.median(ratios):.2f} "
            f"(median of pairs {', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.2), "
            f"load {os.getloadavg()[0]:.1f}"
        )
    finally:
        stop()


def bench_journal(records: int, repeat: int, work: Path) -> None:
    payload = {
        "resource": "file:/etc/app/app.ini",
        "undo": {"type": "restore", "backup_id": "x" * 30, "paths": ["/etc/app/app.ini"]},
    }

    def log() -> None:
        j = Journal.create(work / "jnl", f"r{time.monotonic_ns()}")
        for i in range(records):
            j.append("intent", op=f"s.{i}", **payload)
        j.close()

    def wal() -> None:
        con = sqlite3.connect(work / f"j{time.monotonic_ns()}.sqlite", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("CREATE TABLE j (seq INTEGER PRIMARY KEY, type TEXT, body TEXT)")
        import json

        body = json.dumps(payload)
        for _ in range(records):
            con.execute("BEGIN")
            con.execute("INSERT INTO j (type, body) VALUES ('intent', ?)", (body,))
            con.execute("COMMIT")
        con.close()

    t_wal, t_log, ratios = side_by_side(wal, log, repeat, lambda: None)
    print(
        f"journal {records} durable records: append-only log {records / t_log:.0f}/s, "
        f"SQLite WAL synchronous=FULL {records / t_wal:.0f}/s (time ratio log/WAL per pair: "
        f"{', '.join(f'{r:.2f}' for r in ratios)}), load {os.getloadavg()[0]:.1f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the file tree (default 1024)")
    ap.add_argument("--pg-size-mb", type=int, default=1024, help="approximate database size (0: skip)")
    ap.add_argument("--journal-records", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medic-bench-", dir=args.dir))
    try:
        print(
            f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
            f"python {sys.version.split()[0]}, work dir {work}"
        )
        bench_journal(args.journal_records, args.repeat, work)
        if args.size_mb:
            bench_files(args.size_mb, args.repeat, work)
        if args.pg_size_mb:
            bench_postgres(args.pg_size_mb, args.repeat, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
