"""The endpoint agent: collects a redacted, checksummed bundle (stdlib, PyYAML and psutil only)."""
