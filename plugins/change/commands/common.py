"""What the change commands share: the backup catalogue, and the installed providers and target kinds."""

from __future__ import annotations

from typing import Any

from medic.core.config import load_config
from medic.kernel.errors import UsageError
from medic.plugins.change.safety.backups import BackupProvider
from medic.plugins.change.safety.catalogue import Catalogue
from medic.plugins.change.safety.hosts import Hosts


def catalogue() -> tuple[Catalogue, dict[str, Any]]:
    config = load_config()
    return Catalogue.default(config), config


def installed() -> tuple[dict[str, BackupProvider], Hosts]:
    """The installed backup providers, and the hosts backups and runs were made on (reached again through
    the installed target kinds: an SSH host from its catalogue or journal description)."""
    from medic.core.session import Session

    registry = Session().registry
    table, kinds = registry.tables["backup_providers"], registry.tables["target_kinds"]
    return {n: table[n] for n in table}, Hosts({n: kinds[n].reopen for n in kinds if kinds[n].reopen})


def provider_of(providers: dict[str, BackupProvider], entry: dict[str, Any]) -> BackupProvider:
    provider = providers.get(entry["provider"])
    if provider is None:
        raise UsageError(f"backup {entry['id']} needs the {entry['provider']!r} backup provider, which is not "
                         f"installed; install the plugin that provides it")
    return provider
