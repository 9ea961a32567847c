"""Built-in backup providers: files, sqlite, postgres, command."""

from medic.plugins.change.providers.command import CommandProvider
from medic.plugins.change.providers.files import FilesProvider
from medic.plugins.change.providers.postgres import PostgresProvider
from medic.plugins.change.providers.sqlite import SqliteProvider

BUILTIN = (FilesProvider(), SqliteProvider(), PostgresProvider(), CommandProvider())
