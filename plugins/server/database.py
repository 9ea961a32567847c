"""``medic server start --database``: PostgreSQL for a server that several workers use at once.

Prefect's default SQLite database takes one writer at a time: with several workers its server answers "database
is locked" (503) under load. ``--database postgresql://USER@HOST[:PORT]/DB`` (or ``MEDIC_SERVER_DATABASE``)
hands the server ``PREFECT_API_DATABASE_CONNECTION_URL`` with Prefect's async driver (asyncpg, installed with
Prefect). The password never goes on a command line or into a message: a URL holding one is refused; it comes
from a file of this user with mode 0600 (``--database-password-file`` or ``MEDIC_SERVER_DATABASE_PASSWORD_FILE``),
handed over as ``PREFECT_API_DATABASE_PASSWORD`` (the URL names it as ``${PREFECT_API_DATABASE_PASSWORD}``,
Prefect's own template), or else from ``~/.pgpass`` (``PGPASSFILE``), which asyncpg reads itself. The non-secret
parts are also set as Prefect's ``PREFECT_SERVER_DATABASE_DRIVER/HOST/PORT/USER/NAME``, which its
``/admin/settings`` shows to clients: ``medic doctor server`` reports the database kind from them.
Nothing here imports Prefect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from medic.kernel.errors import UsageError
from medic.plugins.server.settings import read_secret_file

SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
DRIVER = "postgresql+asyncpg"
URL_ENV = "PREFECT_API_DATABASE_CONNECTION_URL"
PASSWORD_ENV = "PREFECT_API_DATABASE_PASSWORD"  # noqa: S105 - a variable's name
DATABASE_ENV = "MEDIC_SERVER_DATABASE"
PASSWORD_FILE_ENV = "MEDIC_SERVER_DATABASE_PASSWORD_FILE"  # noqa: S105 - a variable's name
EXAMPLE = "postgresql://USER@127.0.0.1:5432/DB"
# Prefect's SQLAlchemy pool is 5 + 10 connections with a 30 s wait: 4 workers on a loaded machine exhausted it
# (QueuePool limit ... reached: the server's event consumer died, heartbeats stopped being stored, and every
# shard looked silent). Defaults for the server, below PostgreSQL's 100 connections; the user's own win.
POOL_DEFAULTS = {"PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": "10",
                 "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW": "20",
                 "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_TIMEOUT": "120"}


@dataclass(frozen=True)
class Database:
    user: str
    host: str
    port: int
    name: str
    password: str | None  # from the 0600 file; None: ~/.pgpass or an authentication that needs none
    password_source: str  # for messages: "FILE (0600)", "~/.pgpass", "none"

    def describe(self) -> str:
        return f"postgresql {self.user}@{self.host}:{self.port}/{self.name} (password: {self.password_source})"

    def server_env(self) -> dict[str, str]:
        """The server's environment: the connection URL (password as Prefect's template) and its parts."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        secret = f":${{{PASSWORD_ENV}}}" if self.password is not None else ""
        env = {URL_ENV: f"{DRIVER}://{quote(self.user, safe='')}{secret}@{host}:{self.port}/"
                        f"{quote(self.name, safe='')}",
               "PREFECT_SERVER_DATABASE_DRIVER": DRIVER, "PREFECT_SERVER_DATABASE_HOST": self.host,
               "PREFECT_SERVER_DATABASE_PORT": str(self.port), "PREFECT_SERVER_DATABASE_USER": self.user,
               "PREFECT_SERVER_DATABASE_NAME": self.name}
        if self.password is not None:
            env[PASSWORD_ENV] = quote(self.password, safe="")  # Prefect pastes it into the URL as it is
        return env


def from_options(url: str | None, password_file: str | None) -> Database | None:
    """The database the options or the environment name; None: Prefect's default SQLite."""
    url = url or os.environ.get(DATABASE_ENV, "").strip()
    password_file = password_file or os.environ.get(PASSWORD_FILE_ENV, "").strip()
    if not url or url == "sqlite":
        if password_file:
            raise UsageError("a database password file is set but no PostgreSQL database (--database)")
        return None
    return parse(url, password_file or None)


def parse(url: str, password_file: str | None) -> Database:
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:  # a port that is not a number
        raise UsageError(f"--database: {exc}; expected {EXAMPLE}") from None
    if parts.password is not None:
        raise UsageError(f"--database: the URL holds a password ({_shown(url)}): it would be seen on the command "
                         f"line and in the shell's history; put it in a file of yours with mode 0600 "
                         f"(--database-password-file) or in ~/.pgpass, and give the URL without it")
    if parts.scheme not in SCHEMES:
        raise UsageError(f"--database {_shown(url)}: only PostgreSQL is supported besides Prefect's default "
                         f"SQLite; expected {EXAMPLE}")
    name = parts.path.lstrip("/")
    missing = [what for what, value in (("user", parts.username), ("host", parts.hostname), ("database", name))
               if not value]
    if missing or parts.query or "/" in name:
        raise UsageError(f"--database {_shown(url)}: expected {EXAMPLE} (missing: {', '.join(missing) or 'none'}"
                         f"{'; no query options' if parts.query else ''})")
    assert parts.username is not None and parts.hostname is not None
    if password_file:
        password = read_secret_file(password_file, "--database-password-file", "the database password")
        return Database(parts.username, parts.hostname, port, name, password, f"{password_file} (0600)")
    return Database(parts.username, parts.hostname, port, name, None, _pgpass())


def _pgpass() -> str:
    path = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    if not path.is_file():
        return "none given (no password file, no ~/.pgpass)"
    if path.stat().st_mode & 0o077:
        raise UsageError(f"{path}: mode {path.stat().st_mode & 0o777:04o}; PostgreSQL's clients ignore a password "
                         f"file others can read: chmod 600 {path}")
    return str(path)


def _shown(url: str) -> str:
    """The URL without any password in it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def kind(settings: dict[str, Any]) -> str:
    """What ``/admin/settings`` says of the server's database, for ``medic doctor server`` (no secret in it)."""
    db = ((settings.get("server") or {}).get("database") or {}) if isinstance(settings, dict) else {}
    if db.get("driver") == DRIVER:
        return f"postgresql {db.get('user')}@{db.get('host')}:{db.get('port') or 5432}/{db.get('name')}"
    if db.get("driver"):
        return str(db["driver"]).split("+")[0]
    return "sqlite (Prefect's default, unless the server was given a connection URL it does not show clients)"
