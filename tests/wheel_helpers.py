"""Building the two wheels of this repository, ``medic-agent`` (packaging/medic-agent) and ``medic``, and reading them.

The helpers read what a wheel ships from its RECORD, so the tests check the wheels as built, not a list kept by hand.
"""

from __future__ import annotations

import csv
import glob
import io
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Wheels:
    medic: Path
    agent: Path


def record(wheel: Path) -> list[str]:
    """Every path the wheel's RECORD lists (what pip installs and uninstalls)."""
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/RECORD")]
        rows = csv.reader(io.StringIO(zf.read(name).decode()))
        return [row[0] for row in rows if row]


def modules(wheel: Path) -> list[str]:
    """The dotted name of every Python module the wheel ships."""
    names = []
    for path in record(wheel):
        if path.endswith(".py") and ".dist-info/" not in path:
            parts = path.removesuffix(".py").split("/")
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def build_wheels(out: Path) -> Wheels:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(out), str(REPO / "packaging" / "medic-agent"), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (medic,) = out.glob("medic-*.whl")
    (agent,) = out.glob("medic_agent-*.whl")
    return Wheels(medic, agent)


def import_all_code(names: list[str], heavy: tuple[str, ...] = ()) -> str:
    """Python source that imports each module, then prints which of ``heavy`` got imported along the way."""
    return ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            f"print('IMPORTED', len({names!r}))\n"
            f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))\n")


def python39() -> str | None:
    """A working Python 3.9 (pyenv shims may name one that does not run)."""
    candidates = [shutil.which("python3.9"), *sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.9*/bin/python")))]
    for candidate in filter(None, candidates):
        out = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
                             capture_output=True, text=True, timeout=60)
        if out.stdout.strip() == "True":
            return candidate
    return None
