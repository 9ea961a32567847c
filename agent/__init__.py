"""The endpoint agent: collects a redacted, checksummed bundle (stdlib, PyYAML and psutil only)."""

__version__ = "0.1.0"
