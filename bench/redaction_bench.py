"""Benchmark: medic's scrubber and leak scan side by side with `sos clean` (Debian `sosreport`) on one tree.

Usage: .venv/bin/python bench/redaction_bench.py [--size-mb 200] [--runs 3] [--workdir DIR] [--skip-sos]

The tree is a copy of this machine's /var/log (text files, rotated .gz unpacked) plus generated logs (syslog,
auth, nginx and apache access and error logs, `journalctl -o export`, dpkg, JSON application and Java logs with
UUIDs, hashes and trace ids, seeded) up to --size-mb. Each run, interleaved: medic's scrub of every file,
medic's leak scan of the raw files, scrub then scan (what `medic-agent collect` does), and `sos clean --batch`
on a fresh copy of the tree (made a `sos_logs` directory so sos accepts it; the copy is not timed). medic runs
in this process, one thread, with its compiled first pass if hyperscan is installed (agent/firstpass.py) and,
in the same run, without it (MEDIC_REDACT_ENGINE=python); both are timed in CPU seconds (medic: this process;
sos clean: its children's user+sys), so both are MB/s per core and other load on the machine does not count.
Medians over the runs.

Recall uses the seeded planted-secret set (tests/agent/leakcorpus.py) and medic's own corpus
(tests/agent/secretcorpus: every kind in every context, one file each): a secret counts as stopped by the
scrubber when its value is gone from the scrubbed text (on the corpus: no piece of it left, see
``secretcorpus.survives``), by the scan when the scan flags the text, by scrub+scan when either happens, by sos
clean when its value is gone from sos's output. ``--recall-only`` skips the timing.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path, package: bool = False) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py" if package else path, submodule_search_locations=[str(path)] if package else None)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _leakcorpus() -> ModuleType:
    return _load("medic_leakcorpus", ROOT / "tests/agent/leakcorpus.py")


def _lines(rnd: random.Random) -> list[str]:
    host, ip = f"web-{rnd.randint(1, 40):02d}", f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
    stamp = f"Dec  {rnd.randint(1, 9)} {rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
    uid, digest = uuid.UUID(int=rnd.getrandbits(128)), f"{rnd.getrandbits(256):064x}"
    trace = f"00-{rnd.getrandbits(128):032x}-{rnd.getrandbits(64):016x}-01"
    return [
        f"{stamp} {host} systemd[1]: Started session-{rnd.randint(1, 9999)}.scope - Session of user app.",
        f"{stamp} {host} sshd[{rnd.randint(300, 99999)}]: Accepted publickey for deploy from {ip} port "
        f"{rnd.randint(1024, 65535)} ssh2: ED25519 SHA256:{rnd.getrandbits(256):x}",
        f"{stamp} {host} sshd[{rnd.randint(300, 99999)}]: Failed password for invalid user admin from {ip} port 22",
        f'{ip} - - [05/Dec/2026:10:{rnd.randint(0, 59):02d}:11 +0000] "GET /api/v1/items/{uid} HTTP/1.1" 200 '
        f'{rnd.randint(100, 99999)} "-" "Mozilla/5.0 (X11; Linux x86_64)" rt=0.{rnd.randint(1, 999):03d}',
        json.dumps({"ts": "2026-12-05T10:00:00Z", "level": "info", "msg": "request served", "trace": trace,
                    "request_id": str(uid), "user": f"u{rnd.randint(1, 5000)}", "latency_ms": rnd.randint(1, 900)}),
        f"2026-12-05 10:00:00,123 WARN [pool-{rnd.randint(1, 9)}-thread-{rnd.randint(1, 99)}] o.a.c.c.C.[Tomcat]"
        f".[localhost] cache miss for key=user:{rnd.randint(1, 99999)} etag={digest[:32]}",
        "\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:"
        f"{rnd.randint(1, 999)})",
        f"{stamp} {host} kernel: [{rnd.randint(1, 99999)}.{rnd.randint(0, 999999):06d}] EXT4-fs (sda1): mounted",
        f"{stamp} {host} dockerd[812]: pulled image registry.example.com/app@sha256:{digest}",
        f"{stamp} {host} app[77]: config loaded from /etc/app/config.yaml (checksum {digest[:40]})",
        # `journalctl -o export`: one field a line, a blank line between entries
        f"__CURSOR=s={digest[:32]};i={rnd.randint(1, 99999):x};b={digest[32:]};m={rnd.getrandbits(40):x};"
        f"t={rnd.getrandbits(52):x};x={rnd.getrandbits(64):x}\n__REALTIME_TIMESTAMP=17{rnd.randint(0, 10**14):014d}"
        f"\n_BOOT_ID={digest[32:]}\n_MACHINE_ID={digest[:32]}\nPRIORITY=6\n_UID=0\n_SYSTEMD_UNIT=cron.service"
        f"\n_CMDLINE=/usr/sbin/CRON -f -P\nMESSAGE=pam_unix(cron:session): session opened for user root(uid=0)"
        f" by (uid=0)\n",
        f"2026-12-05 10:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d} status half-configured "
        f"libssl3:amd64 3.0.{rnd.randint(1, 17)}-1~deb12u{rnd.randint(1, 4)}",
        f"2026-12-05 10:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d} upgrade openssh-server:amd64 "
        f"1:9.2p1-2+deb12u{rnd.randint(1, 3)} 1:9.2p1-2+deb12u{rnd.randint(4, 6)}",
        f'{ip} - frank [05/Dec/2026:10:00:{rnd.randint(0, 59):02d} +0000] "POST /login.php?next=%2Fadmin%2F'
        f'&lang=en HTTP/1.1" 302 {rnd.randint(100, 999)} "https://shop.example.com/cart?id={uid}" '
        f'"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"',
        f"[Sat Dec 05 10:00:{rnd.randint(0, 59):02d}.{rnd.randint(0, 999999):06d} 2026] [php:error] [pid "
        f"{rnd.randint(300, 99999)}] [client {ip}:{rnd.randint(1024, 65535)}] PHP Warning:  Undefined array key "
        f'"token" in /var/www/html/auth/session.php on line {rnd.randint(1, 400)}',
    ]


def build_tree(workdir: Path, size_mb: int) -> Path:
    tree = workdir / "tree"
    if (tree / ".complete").exists():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "var-log").mkdir(parents=True)
    for path in sorted(Path("/var/log").rglob("*")):
        try:
            raw = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
            raw = gzip.decompress(raw) if path.suffix == ".gz" else raw
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        if raw and b"\0" not in raw[:4096]:
            dest = tree / "var-log" / str(path.relative_to("/var/log")).replace("/", "_").removesuffix(".gz")
            dest.write_bytes(raw)
    rnd, written, index = random.Random(20261205), sum(p.stat().st_size for p in tree.rglob("*")), 0
    while written < size_mb * 1_000_000:
        chunk = "\n".join(rnd.choice(_lines(rnd)) for _ in range(40_000)) + "\n"
        (tree / f"generated-{index:03d}.log").write_text(chunk)
        written, index = written + len(chunk.encode()), index + 1
    (tree / ".complete").write_text("")
    return tree


def _medic_pass(texts: list[tuple[str, str]], mode: str, engine: str = "") -> float:
    """CPU seconds of one pass; ``engine`` "python": without the compiled first pass (agent/firstpass.py)."""
    from medic.agent.redact import Scrubber, scan_text

    os.environ["MEDIC_REDACT_ENGINE"] = engine
    scrubber = Scrubber()
    started = time.process_time()  # CPU seconds of this one thread: a loaded machine does not inflate them
    for name, text in texts:
        if mode == "scrub":
            scrubber.scrub_text(text, path=name)
        elif mode == "scan":
            scan_text(text, name)
        else:
            scan_text(scrubber.scrub_text(text, path=name), name)
    return time.process_time() - started


def _fresh_pass(tree: Path, cache: Path | None) -> float:
    """CPU seconds of scrub + scan of the whole tree in a new process, imports and first-pass builds included
    (the files are read before the clock starts); ``cache``: where it finds or stores its compiled databases
    (agent/hscache.py), None for none at all."""
    env = {**os.environ, "MEDIC_AGENT_CACHE_DIR": str(cache or "")}
    env.pop("MEDIC_REDACT_ENGINE", None)
    done = subprocess.run([sys.executable, __file__, "--one-pass", str(tree)], env=env, check=True,
                          capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def _one_pass(tree: Path) -> None:
    """The child of _fresh_pass."""
    files = sorted(p for p in tree.rglob("*") if p.is_file() and p.name != ".complete")
    texts = [(str(p), p.read_bytes().decode("utf-8", "replace")) for p in files]
    started = time.process_time()
    from medic.agent.redact import Scrubber, scan_text

    scrubber = Scrubber()
    for name, text in texts:
        scan_text(scrubber.scrub_text(text, path=name), name)
    print(time.process_time() - started)


def _sos_clean(tree: Path, workdir: Path) -> tuple[float, Path]:
    """CPU seconds of `sos clean --batch` on a fresh copy of the tree, and where sos left the cleaned copy."""
    target, tmp = workdir / "sos-target", workdir / "sos-tmp"
    for path in (target, tmp):
        shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(tree, target)
    (target / "sos_logs").mkdir(exist_ok=True)
    tmp.mkdir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["sos", "clean", "--batch", "-q", "--tmp-dir", str(tmp), str(target)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), tmp / target.name


def recall(workdir: Path) -> dict[str, str]:
    from medic.agent.redact import Scrubber, scan_text

    corpus = _leakcorpus()
    samples = corpus.samples()
    scrubbed = [Scrubber().scrub_text(s.text) for s in samples]
    by_scrub = sum(s.secret not in scrubbed[i] for i, s in enumerate(samples))
    by_scan = sum(bool(scan_text(s.text)) for s in samples)
    by_both = sum(s.secret not in scrubbed[i] or bool(scan_text(scrubbed[i])) for i, s in enumerate(samples))
    tree = workdir / "planted"
    shutil.rmtree(tree, ignore_errors=True)
    corpus.write(tree / "files")
    _, cleaned = _sos_clean(tree, workdir)
    by_sos = sum(s.secret not in (cleaned / "files" / f"{i:04d}-{s.kind}-{s.context}.txt").read_text()
                 for i, s in enumerate(samples))
    kept = [Scrubber().scrub_text(t) == t for _, t in corpus.LOOKALIKES]
    quiet = [not scan_text(t) for _, t in corpus.LOOKALIKES]
    n = len(samples)
    return {"samples": f"{n} planted secrets, {len({s.kind for s in samples})} kinds",
            "medic scrub": f"{by_scrub}/{n} = {by_scrub / n:.1%}", "medic leak scan alone": f"{by_scan}/{n} = "
            f"{by_scan / n:.1%}", "medic scrub + scan": f"{by_both}/{n} = {by_both / n:.1%}",
            "sos clean": f"{by_sos}/{n} = {by_sos / n:.1%}",
            "look-alikes left unchanged by medic scrub": f"{sum(kept)}/{len(kept)}",
            "look-alikes not flagged by medic leak scan": f"{sum(quiet)}/{len(quiet)}"}


def corpus_recall(workdir: Path) -> dict[str, str]:
    """Recall of each tool on tests/agent/secretcorpus (its default seed), and look-alikes each leaves alone."""
    from medic.agent.redact import Scrubber, scan_text

    corpus = _load("medic_secretcorpus", ROOT / "tests/agent/secretcorpus", package=True)
    generated = corpus.generate()
    records = generated.secrets + generated.lookalikes
    texts = [corpus.text_of(r) for r in records]
    paths = [r.path.removesuffix(".gz") for r in records]
    scrubbed = [Scrubber().scrub_text(t, path=p) for t, p in zip(texts, paths, strict=True)]
    flagged = [bool(scan_text(t, p)) for t, p in zip(texts, paths, strict=True)]
    flagged_after = [bool(scan_text(t, p)) for t, p in zip(scrubbed, paths, strict=True)]
    tree = workdir / "secretcorpus"
    shutil.rmtree(tree, ignore_errors=True)
    for i, text in enumerate(texts):  # sos sees each file under its own name
        dest = tree / "files" / f"{i:05d}" / paths[i].lstrip("/").replace(":", "_")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    sos_seconds, cleaned = _sos_clean(tree, workdir)
    by_sos = [(cleaned / "files" / f"{i:05d}" / paths[i].lstrip("/").replace(":", "_")).read_text()
              for i in range(len(records))]
    n, secrets = len(generated.secrets), range(len(generated.secrets))
    looks = range(n, len(records))

    def share(hits: int, total: int) -> str:
        return f"{hits}/{total} = {hits / total:.1%}"

    def left(value: str, out: str) -> bool:
        # a PEM key sits escaped ("\\n") or indented in most files, so the value as generated is never in them:
        # a body line of it still there counts as left too
        return corpus.survives(value, out) or any(len(b) > 16 and b in out for b in value.split("\n")[1:-1])

    gone = [not left(records[i].value, scrubbed[i]) for i in secrets]
    return {"secrets": f"{n}, {len(generated.kinds)} kinds, {len({r.context for r in generated.secrets})} contexts",
            "medic scrub": share(sum(gone), n), "medic leak scan alone": share(sum(flagged[i] for i in secrets), n),
            "medic scrub + scan": share(sum(gone[i] or flagged_after[i] for i in secrets), n),
            "sos clean": share(sum(not left(records[i].value, by_sos[i]) for i in secrets), n),
            "look-alikes left unchanged by medic scrub": share(sum(scrubbed[i] == texts[i] for i in looks), len(looks)),
            "look-alikes not flagged by medic leak scan": share(sum(not flagged[i] for i in looks), len(looks)),
            "look-alikes left unchanged by sos clean": share(sum(by_sos[i] == texts[i] for i in looks), len(looks)),
            "sos clean on these files (CPU s)": f"{sos_seconds:.1f}"}


def _print_recall(workdir: Path) -> None:
    for title, table in (("the planted set", recall(workdir)), ("medic's corpus", corpus_recall(workdir))):
        print(f"\n| recall on {title} | |\n|---|---|")
        print("\n".join(f"| {label} | {value} |" for label, value in table.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/medic-redaction-bench"))
    parser.add_argument("--skip-sos", action="store_true", help="medic only (before/after comparisons)")
    parser.add_argument("--recall-only", action="store_true", help="only the recall tables (with sos clean)")
    parser.add_argument("--one-pass", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.one_pass:
        _one_pass(args.one_pass)
        return
    if args.recall_only:
        _print_recall(args.workdir)
        return
    tree = build_tree(args.workdir, args.size_mb)
    files = sorted(p for p in tree.rglob("*") if p.is_file() and p.name != ".complete")
    texts = [(str(p), p.read_bytes().decode("utf-8", "replace")) for p in files]
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    print(f"tree: {tree}, {len(files)} files, {megabytes:.1f} MB")
    from medic.agent import firstpass

    compiled = firstpass.enabled()
    print(f"first pass: {'compiled (Hyperscan)' if compiled else 'pure Python (hyperscan not installed or off)'}")
    seconds: dict[str, list[float]] = {"medic scrub": [], "medic leak scan": [], "medic scrub + scan": [],
                                       "medic scrub + scan, pure-Python first pass": [],
                                       "medic scrub + scan, new process, nothing stored": [],
                                       "medic scrub + scan, new process, databases stored": [], "sos clean": []}
    stored = args.workdir / "hyperscan-stored"
    shutil.rmtree(stored, ignore_errors=True)
    for run in range(args.runs):
        seconds["medic scrub"].append(_medic_pass(texts, "scrub"))
        seconds["medic leak scan"].append(_medic_pass(texts, "scan"))
        seconds["medic scrub + scan"].append(_medic_pass(texts, "both"))
        if compiled:  # the fallback in the same run, for the ratio
            seconds["medic scrub + scan, pure-Python first pass"].append(_medic_pass(texts, "both", "python"))
            os.environ.pop("MEDIC_REDACT_ENGINE")
            # (a new process: imports and builds counted; "stored": its databases kept by an earlier process)
            empty = args.workdir / "hyperscan-empty"
            shutil.rmtree(empty, ignore_errors=True)
            seconds["medic scrub + scan, new process, nothing stored"].append(_fresh_pass(tree, empty))
            if not stored.exists():
                _fresh_pass(tree, stored)
            seconds["medic scrub + scan, new process, databases stored"].append(_fresh_pass(tree, stored))
        if not args.skip_sos:
            seconds["sos clean"].append(_sos_clean(tree, args.workdir)[0])
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in seconds.items() if v)
              + f"; load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}", flush=True)
    print("\n| tool | median s (CPU, 1 core) | MB/s per core | runs (s) |\n|---|---|---|---|")
    for label, values in seconds.items():
        if not values:
            continue
        median = statistics.median(values)
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {label} | {median:.2f} | {megabytes / median:.1f} | {runs} |")
    if args.skip_sos:
        return
    _print_recall(args.workdir)


if __name__ == "__main__":
    main()
