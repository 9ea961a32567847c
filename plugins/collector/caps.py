"""The bundle reader's caps on the collector: they follow collector.yaml (``max_member_size``,
``max_unpacked_size``, by default derived from ``max_bundle_size``: config.unpacked_caps), so a bundle the
collector accepts in size is not refused by the reader; ``medic bundles inspect`` keeps the kernel's defaults.
A bundle over a cap is refused with the collector.yaml key to raise."""

from __future__ import annotations

from medic.kernel.bundle import BundleError, BundleUnsafe, Limits
from medic.plugins.collector.config import CollectorConfig, unpacked_caps

# the reader's Limits field a refusal names -> the collector.yaml key that sets it (the others keep the kernel's)
CONFIG_KEYS = {"max_total_bytes": "max_unpacked_size", "max_stream_bytes": "max_unpacked_size",
               "max_member_bytes": "max_member_size"}


def bundle_limits(config: CollectorConfig) -> Limits:
    member, unpacked = unpacked_caps(config)
    return Limits(max_member_bytes=member, max_total_bytes=unpacked)


def config_key(exc: BundleError) -> str | None:
    """The collector.yaml key whose cap refused the bundle, if a configurable cap did."""
    return CONFIG_KEYS.get(exc.limit or "") if isinstance(exc, BundleUnsafe) else None


def cap_hint(exc: BundleError, config: CollectorConfig) -> str:
    """What to add to a refusal's detail: which collector.yaml key refused it and its value, or nothing."""
    key = config_key(exc)
    if key is None:
        return ""
    member, unpacked = unpacked_caps(config)
    value = member if key == "max_member_size" else unpacked
    return f" (the collector's {key} in collector.yaml is {value} bytes; its administrator can raise it)"
