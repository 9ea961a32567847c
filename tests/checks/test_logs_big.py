"""A 200 MB log: scanned streaming, in bounded memory, with the same count as grep (marked slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medic.probes.logs import DEFAULT_PATTERN

SIZE = 200 * 1024 * 1024


@pytest.fixture(scope="session")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated once per session: a 1 MiB block of varied lines repeated (cheap to write)."""
    lines = []
    for i in range(9000):
        if i % 50 == 0:
            lines.append(
                f"2026-11-25T10:{i // 600 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z app01 svc[{i % 97}]: ERROR "
                f"upstream 10.0.{i % 256}.{i % 200} timed out after {i % 5000} ms (req {i * 7919:08x})"
            )
        else:
            lines.append(
                f"2026-11-25T10:{i // 600 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z app01 svc[{i % 97}]: INFO "
                f"request served path=/api/items/{i} status=200 in {i % 300} ms"
            )
    block = ("\n".join(lines) + "\n").encode()
    path = tmp_path_factory.mktemp("biglog") / "big.log"
    with open(path, "wb") as fh:
        for _ in range(SIZE // len(block) + 1):
            fh.write(block)
    return path


# Peak RSS from VmHWM: getrusage's ru_maxrss keeps the high-water mark of the process image before exec (here the
# whole pytest process when subprocess forks it), which says nothing about the scan.
SCAN = """
import json, sys
from medic.probes.logs import log_scan
out = log_scan(sys.argv[1], lines=int(sys.argv[2]), engine=sys.argv[3], top=3)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rss_mb": hwm / 1024, "matches":
out["matches"],
                  "lines": out["lines_scanned"], "top": out["top"]}))
"""


def _scan(path: Path, lines: int, engine: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(
        [sys.executable, "-c", SCAN, str(path), str(lines), engine],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.slow
def test_200mb_log_whole_file_bounded_memory(big_log: Path) -> None:
    grep = subprocess.run(["grep", "-ciE", DEFAULT_PATTERN, str(big_log)], capture_output=True, check=True)
    out = _scan(big_log, 0, "auto")
    assert out["matches"] == int(grep.stdout)
    with open(big_log, "rb") as fh:
        assert out["lines"] == sum(1 for _ in fh)
    assert out["rss_mb"] < 100, f"peak RSS {out['rss_mb']:.0f} MB"
    assert out["top"][0]["count"] == out["matches"]  # one message, numbers/ids/addresses folded
    assert "ERROR upstream <ip> timed out after <n> ms" in out["top"][0]["message"]


@pytest.mark.slow
def test_200mb_log_tail_reads_only_the_tail(big_log: Path) -> None:
    out = _scan(big_log, 10000, "python")  # the slow engine: fast here because only the tail is read
    assert out["lines"] == 10000 and 150 <= out["matches"] <= 250
    assert out["rss_mb"] < 100
