"""Is Prefect's default SQLite database already at this Prefect's newest migration? Then the temporary server may
start without its migration check.

On start, Prefect's server runs Alembic's ``upgrade head`` even on a database already there: it loads Alembic and
all 116 revision scripts into the server's process for good, about 8 MB of a cold run's memory (bench/README.md,
memory). medic tells the server to skip it only when it can see the answer itself, before Prefect is imported: no
database is configured anywhere Prefect reads settings from (environment, profiles, ``prefect.toml``, ``.env``,
``pyproject.toml``: a mention of "database" is enough to leave the server alone), the file
``PREFECT_HOME/prefect.db`` exists, and its ``alembic_version`` is exactly the heads of the migration scripts
installed with Prefect (a newer Prefect, an older database, a half-created one: the server migrates it as usual).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sqlite3
from pathlib import Path

_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"](\w+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.M)


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def default_database(home: Path) -> Path | None:
    """Prefect's SQLite file when no setting could name another database; None when one might."""
    if any("DATABASE" in key for key in os.environ if key.startswith("PREFECT_")):
        return None
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    for path in (profiles, Path("prefect.toml"), Path(".env"), Path("pyproject.toml")):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if "database" in path.read_text().lower():
                return None
    return home / "prefect.db"


def migration_heads() -> set[str]:
    """The newest revisions of the SQLite migration scripts installed with Prefect (read, not imported)."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        return set()
    versions = Path(spec.origin).parent / "server" / "database" / "_migrations" / "versions" / "sqlite"
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        text = script.read_text()
        revision, down = _REVISION.search(text), _DOWN.search(text)
        if revision is None or down is None:
            return set()  # a script this reader does not understand: let the server decide
        revisions.add(revision[1])
        parents.update(re.findall(r"['\"](\w+)['\"]", down[1]))
    return revisions - parents


def database_revisions(database: Path) -> set[str]:
    if not database.is_file():
        return set()
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as conn:
            return {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        return set()


def migrated() -> bool:
    """True when the temporary server's database is certainly at the installed Prefect's newest migration."""
    database = default_database(prefect_home())
    if database is None:
        return False
    found = database_revisions(database)
    return bool(found) and found == migration_heads()
