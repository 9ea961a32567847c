"""Channels: where notifications go (console, a JSON-lines file; e-mail, webhooks and chat come as plugins)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Notification:
    event: str  # "run_end", later "approval_needed", "rollback"...
    title: str
    status: str  # worst finding status of the run
    body: str
    data: dict[str, Any] = field(default_factory=dict)


class Channel(ABC):
    name: str = "channel"
    description: str = ""

    @abstractmethod
    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        """Deliver one notification; raise MedicError with a clear message when it cannot be delivered."""
