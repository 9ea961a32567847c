"""Build the agent's redaction modules with mypyc, for bench/redaction_diff.py to check and time against the agent.

Usage:
    .venv/bin/python bench/redaction_mypyc.py --work /tmp/medic-redaction-mypyc       # a few minutes (C build)
    PYTHONPATH=/tmp/medic-redaction-mypyc .venv/bin/python bench/redaction_diff.py \\
        --base /tmp/medic-redaction-mypyc/redbase_agent --work /tmp/medic-redaction-mypyc-diff --tree TREE
    PYTHONPATH=... (the same) --time 7    # speed: compiled ("base" columns) beside the agent as it is ("now")

A measurement, not a feature: how far compiling the Python that runs per candidate (the checks after the first
pass) goes toward 20 MB/s. The copy is the agent as it is, renamed ``redbase_agent`` (redaction_diff.py's name
for its reference), with the modules below compiled in place; mypyc's shared library is written beside it, so
that folder goes on PYTHONPATH. Needs mypy (medic's dev extra) and a C compiler.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the modules that run per candidate (bench/README-redaction.md, session 14: where the time goes)
HOT = ["redact/text.py", "redact/linemarks.py", "redact/tokens.py", "redact/keys.py", "redact/leaks.py",
       "leakfind.py", "leakruns.py", "leakkeys.py", "leaktokens.py", "charruns.py", "wordtrie.py", "firstpass.py"]


def build(work: Path) -> Path:
    copy = work / "redbase_agent"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "agent", copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for path in copy.rglob("*.py"):
        path.write_text(path.read_text().replace("medic.agent", "redbase_agent"))
    subprocess.run([sys.executable, "-m", "mypyc", *(f"redbase_agent/{m}" for m in HOT)], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    built = sorted(p.name for p in copy.rglob("*.so"))
    if len(built) != len(HOT):
        raise SystemExit(f"mypyc built {len(built)} of {len(HOT)} modules: {built}")
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/medic-redaction-mypyc"))
    copy = build(parser.parse_args().work)
    print(f"compiled: {copy} ({len(HOT)} modules); put {copy.parent} on PYTHONPATH and give --base {copy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
