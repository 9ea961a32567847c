"""Record a probe command's real output as a parser fixture: runs the command here, stores argv, output and what
the parser makes of it (review ``expected`` before committing).

    .venv/bin/python tests/probes/capture.py PROBE CASE MODULE:COMMAND ['{"param": ...}'] [--note TEXT]

writes tests/probes/fixtures/PROBE/CASE.json. The command runs with LC_ALL=C, as the probes run it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from medic.kernel.probe import Command

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def resolve(ref: str) -> Command:
    module, _, name = ref.partition(":")
    command = getattr(importlib.import_module(module), name)
    if not isinstance(command, Command):
        raise SystemExit(f"{ref} is not a medic.kernel.probe.Command")
    return command


def capture(probe: str, case: str, ref: str, params: dict[str, Any], note: str) -> Path:
    command = resolve(ref)
    argv = command.argv(params)
    proc = subprocess.run(argv, capture_output=True, check=False, timeout=60, env={**os.environ, "LC_ALL": "C"})
    if proc.returncode != 0:  # dpkg-query exits 1 when a name is not installed: the output still counts
        print(f"note: {argv[0]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[:300]}")
    output = proc.stdout.decode(errors="replace")
    expected = json.loads(json.dumps(command.parse(output, params)))
    path = FIXTURES / probe / f"{case}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"probe": probe, "command": ref, "params": params, "argv": argv, "exit_code": proc.returncode,
           "source": note, "output": output, "expected": expected}
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("probe")
    ap.add_argument("case")
    ap.add_argument("command", help="MODULE:NAME of the Command")
    ap.add_argument("params", nargs="?", default="{}", help="the probe parameters as JSON")
    ap.add_argument("--note", default="captured on this project's Debian machine")
    args = ap.parse_args()
    print(capture(args.probe, args.case, args.command, json.loads(args.params), args.note))


if __name__ == "__main__":
    main()
