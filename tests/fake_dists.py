"""Installed distributions made on the fly: a module plus a ``.dist-info`` with entry points, on a temporary
``sys.path`` entry, so plugin and probe discovery read real ``importlib.metadata`` records."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path


def make_dist(root: Path, dist: str, module: str, source: str, *, group: str, entry: str | None = None,
              version: str = "1.2.3") -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry or module} = {module}\n")


def temporary_site(root: Path, module_prefix: str) -> Iterator[Path]:
    """Put ``root`` on sys.path for one test; forget the modules it imported (their names start with the prefix)."""
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith(module_prefix)]:
        del sys.modules[name]
