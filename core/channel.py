"""Channels: where notifications go. Built-ins live in ``medic.plugins.channels``; others come as plugins.

A channel with ``durable = True`` is not called directly by a run: its messages go through the outbox
(:mod:`medic.core.outbox`), written before the first attempt and retried with backoff, so a receiver that is down
never delays or fails the run, and a restart resumes without duplicates (``Notification.id`` is stable).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from medic.kernel.errors import MedicError


@dataclass(frozen=True)
class Notification:
    event: str  # "run.finished", later "approval.requested", "change.rolled_back"...
    title: str
    status: str  # worst finding status of the run
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    # stable across retries and restarts: receivers deduplicate on it (webhook-id, e-mail Message-ID)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class DeliveryError(MedicError):
    """One failed delivery attempt. ``retryable``: try again later; ``gone``: the endpoint asked never to be
    called again (HTTP 410); ``retry_after``: seconds the receiver asked us to wait."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None, gone: bool = False
                 ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.gone = gone


class Channel(ABC):
    name: str = "channel"
    description: str = ""
    durable: bool = False  # True: delivered through the outbox with retries
    # the option ``--notify NAME:ARG`` fills: "path" unless a channel says otherwise (webhook: "url"), as plugins
    # written before channels declared it receive their argument as "path"
    arg_option: str | None = "path"

    def check_options(self, options: dict[str, Any]) -> None:
        """Raise UsageError naming what is missing or wrong, before any run starts (secrets resolvable, URL form).
        The default accepts any options: a channel without required options needs no check."""
        return None

    @abstractmethod
    def send(self, notification: Notification, options: dict[str, Any]) -> None:
        """Deliver one notification; raise MedicError (DeliveryError for a failed attempt) when it cannot."""
