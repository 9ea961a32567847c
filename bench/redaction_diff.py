"""Differential check for speed work on the scrubber and the leak scan: same output as a reference copy.

Usage:
    git archive <commit> agent | tar -x -C /tmp/redbase/src         # the reference (e.g. main before the change)
    .venv/bin/python bench/redaction_diff.py --base /tmp/redbase/src/agent [--tree DIR] [--generated 30000]
    .venv/bin/python bench/redaction_diff.py --base /tmp/redbase/src/agent --tree DIR --time 5   # speed, A/B

The reference ``agent`` folder is imported under another name (``medic.agent`` rewritten to ``redbase_agent``
in a copy), so both run in this process on the same inputs. For each input it compares the scrubbed text,
the counts per rule, and the leak scan's hits (every field: rule, line, kind, excerpt, hashes) on the raw
and on the scrubbed text. Inputs: the bench tree (bench/redaction_bench.py's, if --tree is given), the
secret corpus for three seeds with its look-alikes, the leak corpus, every text file under /etc, /var/log,
tests/ and agent/, shuffles of test lines, and generated strings mixing keys, separators, quotes, tokens,
hashes, the long s and the Kelvin sign, CR and form feeds, and argv lists (scrubbed as values, their JSON
scanned). Exit 1 on the first differences (printed; --show N of them).
With --time, no comparison: both are timed on the tree in turn, in this process (CPU seconds, medians).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import random
import shutil
import statistics
import string
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load_base(agent: Path, work: Path) -> ModuleType:
    copy = work / "redbase_agent"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(agent, copy)
    for path in copy.rglob("*.py"):
        path.write_text(path.read_text().replace("medic.agent", "redbase_agent"))
    sys.path.insert(0, str(work))
    return importlib.import_module("redbase_agent.redact")


def _module(name: str, path: Path, package: bool = False) -> Any:
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py" if package else path, submodule_search_locations=[str(path)] if package else None)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _files(roots: list[Path], limit: int = 4_000_000) -> Iterator[tuple[str, str]]:
    for root in roots:
        for path in sorted(root.rglob("*")):
            try:
                data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
            except OSError:
                continue
            if data and b"\0" not in data[:4096] and len(data) < limit:
                yield str(path), data.decode("utf-8", "surrogateescape")


_KEYS = ["password", "Password", "PASSWORD", "pw", "pwd", "passwd", "pass", "secret", "client_secret", "token",
         "api_key", "apiKey", "X-Auth-Token", "Authorization", "auth", "session", "sessionid", "cookie", "key",
         "app_key", "db.password", "DB_PASSWORD", "ldap_default_authtok", "requirepass", "community", "pat",
         "license key", "Activation key", "CURLOPT_PASSWORD", "setPassword", "AccountKey", "sig", "dsn", "user",
         "name", "value", "host", "password_file", "token_ttl", "\u017fecret", "to\u212aen",
         "pa\u017f\u017fword", "--password", "-p", "-u", "mysql", "redis-cli", "sshpass", "ENV",
         "machine", "identified by", "bearer", "Basic"]
_SEPS = ["=", ": ", ":", " = ", " ", "\t", " => ", "=>", ":=", '": "', "', '", '("', ", ", "=\"", "='", ";", "&",
         "\r", "\f", "\n", "</", ">", " |", ": |\n  ", "\n  value: "]
_VALUES = ["hunter2", "S3cr3t!pass", "changeme", "${VAR}", "<your-token>", "****", "true", "5", "files", "x",
           "$6$saltsalt$" + "a" * 22, "{SSHA}abcdefghijklmnop", "*" + "0123456789ABCDEF" * 2 + "01234567",
           "AKIAABCDEFGHIJKLMNOP", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx"
           "In0.abcdefghijklmnop", "postgres://u:pw123@db:5432/x", "[REDACTED:password#1]", "'quoted val'",
           '"dq val"', "sk-" + "ab12" * 12, "ghp_" + "A1b2" * 9, "xoxb-123456789012-abcdefghij", "Kelvin"]


# (the long s and the Kelvin sign match s and k under (?i); the dotted I lower-cases to two characters)
_JOINERS = ["", " ", "\n", '"', "'", "(", ")", ",", "-", "\u017f", "\u212a", "\u0130", "\u00e9", "%", "+", "/", "=",
            "==", "*", "\t"]


def _random_token(rnd: random.Random) -> str:
    alphabet = rnd.choice([string.ascii_letters + string.digits, "0123456789abcdef", string.ascii_letters
                           + string.digits + "+/=_-.~", string.ascii_uppercase + string.digits])
    length = rnd.choice([8, 15, 16, 19, 20, 24, 32, 39, 40, 41, 64, rnd.randint(1, 90)])
    return "".join(rnd.choice(alphabet) for _ in range(length))


def _generated(count: int) -> Iterator[tuple[str, str]]:
    rnd = random.Random(20261206)
    for i in range(count):
        parts = []
        for _ in range(rnd.randint(1, 8)):
            kind = rnd.random()
            if kind < 0.35:
                parts.append(rnd.choice(_KEYS))
            elif kind < 0.65:
                parts.append(rnd.choice(_SEPS))
            elif kind < 0.85:
                parts.append(rnd.choice(_VALUES))
            else:
                parts.append(_random_token(rnd))
            if rnd.random() < 0.3:
                parts.append(rnd.choice(_JOINERS))
        yield f"generated-{i}", "".join(parts)


_PROGRAMS = ["mysql", "/usr/bin/mysqldump", "mariadb", "sshpass", "redis-cli", "mongo", "tool", "java", "curl", "ssh"]
_ARGS = ["-p", "-pS3cr3t!x", "-p[REDACTED:password#1]", "-p$MYSQL_PWD", "--password", "--db-password", "-u", "root",
         "-h", "db01", "--no-password", "-a", "--api-key", "--token=abc123XYZ987", "app", "2222", "-P", "3306",
         "hunter2", "[REDACTED:password#2]", "-", "changeme", "x"]


def _argvs(count: int) -> Iterator[tuple[str, list[Any]]]:
    """argv lists as a process probe reports them (scrubbed as values, scanned as their JSON)."""
    rnd = random.Random(20261206)
    for i in range(count):
        argv: list[Any] = [rnd.choice(_PROGRAMS)] + [rnd.choice(_ARGS) for _ in range(rnd.randint(0, 6))]
        if rnd.random() < 0.1:
            argv.append(rnd.choice([3306, None, 1.5]))
        yield f"argv-{i}", argv


def _shuffles(lines: list[str], count: int) -> Iterator[tuple[str, str]]:
    rnd = random.Random(7)
    for i in range(count):
        yield f"shuffle-{i}", "\n".join(rnd.sample(lines, min(len(lines), 200)))


def inputs(tree: Path | None, generated: int) -> Iterator[tuple[str, str | list[Any]]]:
    if tree is not None:
        yield from _files([tree], limit=1 << 40)
    corpus = _module("medic_secretcorpus", ROOT / "tests/agent/secretcorpus", package=True)
    for seed in (corpus.SEED, 1, 2):
        generated_corpus = corpus.generate(seed)
        for record in generated_corpus.secrets + generated_corpus.lookalikes:
            yield record.path.removesuffix(".gz"), corpus.text_of(record)
    leaks = _module("medic_leakcorpus", ROOT / "tests/agent/leakcorpus.py")
    for sample in leaks.samples():
        yield "", sample.text
    for name, text in leaks.LOOKALIKES:
        yield name, text
    test_lines: list[str] = []
    for name, text in _files([Path("/etc"), Path("/var/log"), ROOT / "tests", ROOT / "agent"]):
        yield name, text
        if name.endswith(".py") and "/tests/" in name:
            test_lines += text.splitlines()
    yield from _shuffles(test_lines, 300)
    yield from _generated(generated)
    yield from _argvs(generated // 3)


def _hits(hits: list[Any]) -> list[tuple[Any, ...]]:
    return [dataclasses.astuple(hit) for hit in hits]


def outcome(redact: ModuleType, name: str, text: str | list[Any]) -> tuple[Any, ...]:
    scrubber = redact.Scrubber()
    if isinstance(text, list):  # an argv list: scrubbed as a value, its JSON scanned raw and scrubbed
        value = scrubber.scrub_value(text)
        return (value, scrubber.summary(), _hits(redact.scan_text(json.dumps(text), name)),
                _hits(redact.scan_text(json.dumps(value), name)))
    try:
        out = scrubber.scrub_text(text, path=name)
    except redact.RedactionError as exc:
        return ("error", str(exc))
    return out, scrubber.summary(), _hits(redact.scan_text(text, name)), _hits(redact.scan_text(out, name))


def timing(base: ModuleType, current: ModuleType, tree: Path, rounds: int) -> None:
    """CPU seconds of scrub, scan and scrub then scan of the tree's files, the reference and this tree in turn."""
    texts = list(_files([tree], limit=1 << 40))
    size = sum(len(text.encode("utf-8", "surrogateescape")) for _, text in texts) / 1e6
    runs: dict[tuple[str, str], list[float]] = {}
    for number in range(rounds):
        for label, redact in (("base", base), ("now", current)):
            scrubber, started = redact.Scrubber(), time.process_time()
            for name, text in texts:
                scrubber.scrub_text(text, path=name)
            scrubbed = time.process_time()
            for name, text in texts:
                redact.scan_text(text, name)
            scanned, scrubber = time.process_time(), redact.Scrubber()
            for name, text in texts:
                redact.scan_text(scrubber.scrub_text(text, path=name), name)
            for part, seconds in (("scrub", scrubbed - started), ("scan", scanned - scrubbed),
                                  ("scrub + scan", time.process_time() - scanned)):
                runs.setdefault((label, part), []).append(seconds)
        print(f"round {number + 1}, load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"{size:.1f} MB; | part | base runs (s) | base MB/s | now runs (s) | now MB/s | speed-up |")
    for part in ("scrub", "scan", "scrub + scan"):
        before, after = runs[("base", part)], runs[("now", part)]
        print(f"| {part} | {', '.join(f'{x:.2f}' for x in before)} | {size / statistics.median(before):.1f} | "
              f"{', '.join(f'{x:.2f}' for x in after)} | {size / statistics.median(after):.1f} | "
              f"{statistics.median(before) / statistics.median(after):.2f}x |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the reference copy's agent folder")
    parser.add_argument("--tree", type=Path, help="bench/redaction_bench.py's tree (its --workdir/tree)")
    parser.add_argument("--generated", type=int, default=30_000)
    parser.add_argument("--show", type=int, default=10, help="stop after this many differences")
    parser.add_argument("--work", type=Path, default=Path("/tmp/redaction-diff"))
    parser.add_argument("--time", type=int, metavar="ROUNDS", help="time both on --tree instead (CPU s, medians)")
    args = parser.parse_args()
    base = _load_base(args.base, args.work)
    current = importlib.import_module("medic.agent.redact")
    if args.time:
        timing(base, current, args.tree, args.time)
        return 0
    started, count, differences = time.monotonic(), 0, 0
    for name, text in inputs(args.tree, args.generated):
        count += 1
        expected, got = outcome(base, name, text), outcome(current, name, text)
        if expected != got:
            differences += 1
            print(f"DIFFERENT: {name or '(no path)'} {text[:200]!r}")
            for label, a, b in zip(("scrubbed", "counts", "hits raw", "hits scrubbed"), expected, got, strict=True):
                if a != b:
                    print(f"  {label}:\n    base: {str(a)[:600]!r}\n    now:  {str(b)[:600]!r}")
            if differences >= args.show:
                break
    print(f"{count} inputs, {differences} different, {time.monotonic() - started:.0f} s")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
