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

The configuration file may name them too (core/config.py knows the key ``server``; its contents are checked here)::

    server: {database: "postgresql://medic@127.0.0.1:5432/prefect", database_password_file: ~/.medic-db-pw}

Each setting is taken from the option, else the environment variable, else the configuration (a relative password
file is relative to the configuration file). A problem in the configuration names its file, line and column.
Nothing here imports Prefect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from medic.kernel import yamlload
from medic.kernel.errors import Issue, UsageError
from medic.plugins.server.settings import read_secret_file

SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
DRIVER = "postgresql+asyncpg"
URL_ENV = "PREFECT_API_DATABASE_CONNECTION_URL"
PASSWORD_ENV = "PREFECT_API_DATABASE_PASSWORD"  # noqa: S105 - a variable's name
DATABASE_ENV = "MEDIC_SERVER_DATABASE"
PASSWORD_FILE_ENV = "MEDIC_SERVER_DATABASE_PASSWORD_FILE"  # noqa: S105 - a variable's name
EXAMPLE = "postgresql://USER@127.0.0.1:5432/DB"
CONFIG_KEY = "server"
CONFIG_FIELDS = {"database": "database", "database_password_file": "database-password-file"}  # key -> option
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
    source: str = "--database"  # where the URL came from: the option, the variable or the configuration's line

    def describe(self) -> str:
        return (f"postgresql {self.user}@{self.host}:{self.port}/{self.name} (password: {self.password_source}; "
                f"from {self.source})")

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


@dataclass(frozen=True)
class Setting:
    value: str
    where: str  # for messages: "--database", "MEDIC_SERVER_DATABASE" or "FILE:LINE:COLUMN: server.database"
    configured: bool = False  # from the configuration file (the lowest precedence)


def from_options(url: str | None, password_file: str | None, config: dict[str, Any] | None = None,
                 config_file: str = "config.yaml") -> Database | None:
    """The database the options, else the environment, else the configuration name; None: Prefect's SQLite."""
    section = config_section(config or {}, config_file)
    db = _pick(url, "--database", DATABASE_ENV, section, "database", config_file)
    secret = _pick(password_file, "--database-password-file", PASSWORD_FILE_ENV, section, "database_password_file",
                   config_file)
    if db is None or db.value == "sqlite":
        # a configured password file goes with the configured database: an option or variable naming SQLite
        # overrides both; a password file with no database at all is a mistake wherever it was set
        if secret is not None and (not secret.configured or db is None):
            raise UsageError(f"{secret.where}: a database password file is set but no PostgreSQL database "
                             f"(--database, {DATABASE_ENV} or server.database in the configuration)")
        return None
    return parse(db.value, secret.value if secret else None, db.where, secret.where if secret else "")


def _pick(option: str | None, flag: str, variable: str, section: dict[str, Any], key: str, file: str
          ) -> Setting | None:
    if option:
        return Setting(option, flag)
    if os.environ.get(variable, "").strip():
        return Setting(os.environ[variable].strip(), variable)
    if key not in section:
        return None
    where = _at(section, key, file)
    value = str(section[key]).strip()
    if key == "database_password_file":  # relative to the configuration file, as a user reading it expects
        value = str(Path(file).expanduser().parent / Path(value).expanduser())
    return Setting(value, where, configured=True)


def config_section(config: dict[str, Any], file: str) -> dict[str, Any]:
    """The configuration's ``server:`` mapping, checked: known keys, each a non-empty string (exit 2 at its line)."""
    section = config.get(CONFIG_KEY)
    if section is None:
        return {}
    if not isinstance(section, dict):
        located = yamlload.load_file(Path(file)) if Path(file).is_file() else config  # load_config's copy: no marks
        raise UsageError(f"{_at(located, CONFIG_KEY, file)}: expected a mapping with "
                         f"{', '.join(CONFIG_FIELDS)}, e.g. {{database: \"{EXAMPLE}\"}}")
    for key, value in section.items():
        if key not in CONFIG_FIELDS:
            raise UsageError(f"{_at(section, key, file)}: unknown setting; expected one of "
                             f"{', '.join(f'{CONFIG_KEY}.{k}' for k in CONFIG_FIELDS)}")
        if not isinstance(value, str) or not value.strip():
            shown = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else repr(value)
            wanted = f"a URL such as {EXAMPLE}" if key == "database" else "the path of a file of yours, mode 0600"
            raise UsageError(f"{_at(section, key, file)}: expected a string ({wanted}), got {shown}")
    return section  # with its marks: messages about its values name their lines


def _at(container: Any, key: str, file: str) -> str:
    """``FILE:LINE:COLUMN: server.KEY``, where a message about that setting starts."""
    line, column = yamlload.mark_of(container, key) or (None, None)
    name = key if key == CONFIG_KEY else f"{CONFIG_KEY}.{key}"
    return str(Issue(name, file, line, column))


def parse(url: str, password_file: str | None, where: str = "--database",
          password_where: str = "--database-password-file") -> Database:  # noqa: S107 - an option's name
    """``url`` checked (``where``: the option, variable or configuration line it came from, for messages)."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:  # a port that is not a number
        raise UsageError(f"{where}: {exc}; expected {EXAMPLE}") from None
    if parts.password is not None:
        raise UsageError(f"{where}: the URL holds a password ({_shown(url)}): it would be seen on the command "
                         f"line, in the shell's history or in a shared configuration file; put it in a file of "
                         f"yours with mode 0600 (--database-password-file, server.database_password_file) or in "
                         f"~/.pgpass, and give the URL without it")
    if parts.scheme not in SCHEMES:
        raise UsageError(f"{where} {_shown(url)}: only PostgreSQL is supported besides Prefect's default "
                         f"SQLite; expected {EXAMPLE}")
    name = parts.path.lstrip("/")
    missing = [what for what, value in (("user", parts.username), ("host", parts.hostname), ("database", name))
               if not value]
    if missing or parts.query or "/" in name:
        raise UsageError(f"{where} {_shown(url)}: expected {EXAMPLE} (missing: {', '.join(missing) or 'none'}"
                         f"{'; no query options' if parts.query else ''})")
    assert parts.username is not None and parts.hostname is not None
    if password_file:
        password = read_secret_file(password_file, password_where, "the database password")
        return Database(parts.username, parts.hostname, port, name, password, f"{password_file} (0600)", where)
    return Database(parts.username, parts.hostname, port, name, None, _pgpass(), where)


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
